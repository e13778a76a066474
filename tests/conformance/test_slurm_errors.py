"""Slurm failing under both programs: the same status and the same envelope errors."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.harness import Case, run_case
from tests.helpers import request


@pytest.fixture
def unreachable_conf() -> Iterator[str]:
    """slurm.conf with the controller on a port nothing listens on, readable by the test
    user (pytest's tmp_path is private to root)."""
    text = Path("/etc/slurm/slurm.conf").read_text()
    with tempfile.TemporaryDirectory(prefix="slurmrest-conformance-") as tmp:
        Path(tmp).chmod(0o755)
        conf = Path(tmp) / "slurm.conf"
        conf.write_text(re.sub(r"(?m)^SlurmctldPort=\d+", "SlurmctldPort=6899", text))
        conf.chmod(0o644)
        yield str(conf)


def test_ping_with_the_controller_unreachable(unreachable_conf: str) -> None:
    ours, _ = run_case(Case("ping_controller_unreachable",
                            request("GET", "/slurm/v0.0.38/ping"), (500,),
                            env=(("SLURM_CONF", unreachable_conf),)))
    assert b'"source": "slurm_load_ctl_conf"' in ours.responses[0].body
