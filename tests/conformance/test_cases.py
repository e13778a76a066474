"""The conformance table (``cases.py``): the same bytes to both programs, alike answers."""

from __future__ import annotations

import pytest

from tests.conformance.cases import CASES
from tests.conformance.harness import Case, run_case


def test_case_names_are_unique() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_conforms(case: Case) -> None:
    run_case(case)
