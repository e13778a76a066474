"""Fixtures of the integration tests: the second unprivileged user (bob)."""

from __future__ import annotations

import pytest

from tests.helpers import IN_CI, OTHER_USER, have_user


@pytest.fixture
def other_user(test_user: str) -> str:
    """A second unprivileged user (the lab's bob), who must not be taken for alice."""
    if not have_user(OTHER_USER):
        message = f"the second test user {OTHER_USER!r} (tools/slurm-lab/setup.sh creates it)"
        if IN_CI:
            pytest.fail(f"{message} is required in CI")
        pytest.skip(f"{message} is not available")
    return OTHER_USER
