"""Markers and the rule that in CI nothing that needs the cluster may skip."""

from __future__ import annotations

import pytest

from tests.helpers import IN_CI, TEST_USER, have_user, slurm_up

#: fixtures for throwaway accounting objects (slurmdb tests)
pytest_plugins = ["tests.accounting"]

_cluster_state: dict[str, bool] = {}


def _require(what: str, ok: bool) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (run tools/slurm-lab/setup.sh)")
    pytest.skip(f"{what} is not available (run tools/slurm-lab/setup.sh as root)")


@pytest.fixture
def cluster() -> None:
    """The real single-host Slurm cluster; fails in CI when it is not up."""
    if "up" not in _cluster_state:
        _cluster_state["up"] = slurm_up()
    _require("the lab Slurm cluster", _cluster_state["up"])


@pytest.fixture
def test_user() -> str:
    """The unprivileged user the program runs as (the lab's alice)."""
    _require(f"the unprivileged test user {TEST_USER!r}", have_user(TEST_USER))
    return TEST_USER


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/tests/cluster/" in path:
            item.add_marker(pytest.mark.cluster)
        if "/tests/conformance/" in path:
            item.add_marker(pytest.mark.conformance)
