"""Every conformance test needs the lab cluster, the test users and Debian's slurmrestd."""

from __future__ import annotations

import os

import pytest

from tests.conformance.harness import SLURMRESTD
from tests.helpers import OTHER_USER, have_user


@pytest.fixture(autouse=True)
def _both_programs(cluster: None, test_user: str) -> None:
    """Through the shared fixtures: a missing cluster skips locally and fails in CI. What
    the lab script always provides besides (slurmrestd, the second user) must be there."""
    assert os.access(SLURMRESTD, os.X_OK), f"{SLURMRESTD} is missing (package slurmrestd)"
    assert have_user(OTHER_USER), f"the lab user {OTHER_USER!r} is missing"
