"""Throwaway accounting objects for the slurmdb tests (cluster and conformance layers).

Each fixture adds its object with ``sacctmgr -i`` as root and removes it afterwards, also
when the test failed. Names start with ``zt_`` so that a leftover is easy to recognise;
the lab's own objects (cluster ``lab``, QOS normal/high) are never touched.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.helpers import TEST_USER

#: a throwaway QOS with every limit slurmrestd prints set
ZT_QOS_SETTINGS = (
    "description=zt_test", "flags=DenyOnLimit,NoDecay,PartitionTimeLimit",
    "preempt=normal,high", "preemptmode=suspend,gang", "preemptexempttime=1-00:00:10",
    "gracetime=90", "grpjobs=5", "grpjobsaccrue=3", "grptres=cpu=8,mem=2G",
    "grptresrunmins=cpu=1000", "grpwall=2-00:00:00", "limitfactor=2.5", "maxjobspa=4",
    "maxjobspu=2", "maxjobsaccruepa=6", "maxjobsaccruepu=7", "maxsubmitjobspa=9",
    "maxsubmitjobspu=8", "maxtresmins=cpu=600", "maxtrespa=cpu=6", "maxtres=cpu=4,node=2",
    "maxtrespernode=cpu=2", "maxtrespu=cpu=3,license/fluent=1", "maxtresrunminspa=cpu=700",
    "maxtresrunminspu=cpu=500", "maxwall=1:30:00", "minpriothresh=10", "mintres=cpu=1",
    "priority=7", "usagefactor=0.5", "usagethreshold=0.25")


def sacctmgr(*argv: str, check: bool = True) -> str:
    """What ``sacctmgr <argv...>`` (run as root) printed on its standard output; with
    ``check``, a failure raises."""
    return subprocess.run(["sacctmgr", *argv], check=check, capture_output=True,
                          text=True, timeout=60).stdout


@contextlib.contextmanager
def added(name: str, add: tuple[str, ...], delete: tuple[str, ...]) -> Iterator[str]:
    """``sacctmgr -i <add...>``, yield ``name``, then ``sacctmgr -i <delete...>`` (also
    when the test failed, and harmless when the test already removed it)."""
    subprocess.run(["sacctmgr", "-i", *add], capture_output=True, check=True, timeout=60)
    try:
        yield name
    finally:
        subprocess.run(["sacctmgr", "-i", *delete], capture_output=True, check=False,
                       timeout=60)


@contextlib.contextmanager
def removed_after(*delete: str, clusters: tuple[str, ...] = ()) -> Iterator[None]:
    """Run the test body, then ``sacctmgr -i <delete...>`` (also when it failed); for
    ``clusters``, drop the tables slurmdbd leaves behind too."""
    try:
        yield
    finally:
        subprocess.run(["sacctmgr", "-i", *delete], capture_output=True, check=False,
                       timeout=60)
        drop_cluster_tables(*clusters)


def drop_cluster_tables(*names: str) -> None:
    """slurmdbd 22.05 leaves a removed cluster's job script and environment tables
    behind: drop those of our throwaway clusters (best effort, as root, local MariaDB)."""
    tables = ", ".join(f"`{n}_{kind}_table`" for n in names if n.startswith("zt_obj_")
                       for kind in ("job_env", "job_script"))
    if tables and shutil.which("mysql"):
        subprocess.run(["mysql", "slurm_acct_db", "-e", f"drop table if exists {tables}"],
                       capture_output=True, check=False, timeout=60)


@pytest.fixture(scope="module")
def zt_qos() -> Iterator[str]:
    """A throwaway QOS with every limit slurmrestd prints set."""
    with added("zt_obj_q", ("add", "qos", "zt_obj_q", *ZT_QOS_SETTINGS),
               ("delete", "qos", "where", "name=zt_obj_q")) as name:
        yield name


@pytest.fixture
def zt_doomed_qos() -> Iterator[str]:
    """A bare throwaway QOS for a delete test."""
    with added("zt_obj_d", ("add", "qos", "zt_obj_d"),
               ("delete", "qos", "where", "name=zt_obj_d")) as name:
        yield name


@pytest.fixture
def zt_cluster() -> Iterator[str]:
    """A throwaway cluster (never ``lab``)."""
    with added("zt_obj_c", ("add", "cluster", "zt_obj_c"),
               ("delete", "cluster", "where", "name=zt_obj_c")) as name:
        yield name


@pytest.fixture
def zt_wckey() -> Iterator[str]:
    """A throwaway wckey of the test user's (their other wckeys are left alone)."""
    with added("zt_obj_w", ("add", "user", TEST_USER, "wckeys=zt_obj_w"),
               ("delete", "user", "where", "wckeys=zt_obj_w")) as name:
        yield name
