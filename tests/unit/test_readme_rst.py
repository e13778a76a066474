"""README.rst is valid reStructuredText: a broken table or literal would render as garbage."""

from __future__ import annotations

import io

import docutils.core

from tests.helpers import ROOT


def test_readme_renders_without_warnings() -> None:
    report = io.StringIO()
    docutils.core.publish_string(
        (ROOT / "README.rst").read_text(), writer="null",
        settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": report},
    )
    assert report.getvalue() == ""
