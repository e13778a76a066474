"""Slurm failing under both programs: the same status and the same envelope errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.harness import Case, run_case
from tests.helpers import request, unreachable_slurm_conf


@pytest.fixture
def unreachable_conf() -> Iterator[str]:
    with unreachable_slurm_conf() as conf:
        yield str(conf)


def test_ping_with_the_controller_unreachable(unreachable_conf: str) -> None:
    ours, _ = run_case(Case("ping_controller_unreachable",
                            request("GET", "/slurm/v0.0.38/ping"), (500,),
                            env=(("SLURM_CONF", unreachable_conf),)))
    assert b'"source": "slurm_load_ctl_conf"' in ours.responses[0].body
