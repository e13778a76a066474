"""Throwaway accounting objects for the slurmdb tests (cluster and conformance layers).

Each fixture adds its object with ``sacctmgr -i`` as root and removes it afterwards, also
when the test failed. Names start with ``zt_`` so that a leftover is easy to recognise;
the lab's own objects (cluster ``lab``, QOS normal/high) are never touched.
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def zt_qos() -> Iterator[str]:
    name = "zt_obj_q"
    subprocess.run(["sacctmgr", "-i", "add", "qos", name, *ZT_QOS_SETTINGS],
                   capture_output=True, check=True, timeout=60)
    try:
        yield name
    finally:
        subprocess.run(["sacctmgr", "-i", "delete", "qos", "where", f"name={name}"],
                       capture_output=True, check=False, timeout=60)


@pytest.fixture
def zt_doomed_qos() -> Iterator[str]:
    """A bare throwaway QOS for a delete test (removed afterwards if still there)."""
    name = "zt_obj_d"
    subprocess.run(["sacctmgr", "-i", "add", "qos", name], capture_output=True, check=True,
                   timeout=60)
    try:
        yield name
    finally:
        subprocess.run(["sacctmgr", "-i", "delete", "qos", "where", f"name={name}"],
                       capture_output=True, check=False, timeout=60)


@pytest.fixture
def zt_cluster() -> Iterator[str]:
    """A throwaway cluster (never ``lab``), removed afterwards if still there."""
    name = "zt_obj_c"
    subprocess.run(["sacctmgr", "-i", "add", "cluster", name], capture_output=True,
                   check=True, timeout=60)
    try:
        yield name
    finally:
        subprocess.run(["sacctmgr", "-i", "delete", "cluster", "where", f"name={name}"],
                       capture_output=True, check=False, timeout=60)


@pytest.fixture
def zt_wckey() -> Iterator[str]:
    """A throwaway wckey of alice's (her other wckeys are left alone)."""
    name = "zt_obj_w"
    subprocess.run(["sacctmgr", "-i", "add", "user", TEST_USER, f"wckeys={name}"],
                   capture_output=True, check=True, timeout=60)
    try:
        yield name
    finally:
        subprocess.run(["sacctmgr", "-i", "delete", "user", "where", f"wckeys={name}"],
                       capture_output=True, check=False, timeout=60)
