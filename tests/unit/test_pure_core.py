"""The core is pure: its modules import no os, socket, subprocess or sys (design rule)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "slurmrest_stdio"
CORE = ["protocol.py", "app.py", "router.py", "codec.py", "errors.py", "config.py",
        *[str(p.relative_to(PACKAGE)) for p in sorted((PACKAGE / "auth").glob("*.py"))],
        *[str(p.relative_to(PACKAGE)) for p in sorted((PACKAGE / "api").rglob("*.py"))]]
FORBIDDEN = {"os", "socket", "subprocess", "sys", "select", "signal", "pty", "fcntl"}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
            if node.module == "slurmrest_stdio":
                names.update(f"slurmrest_stdio.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_list_is_not_empty() -> None:
    assert len(CORE) >= 10


@pytest.mark.parametrize("module", CORE)
def test_core_module_is_pure(module: str) -> None:
    names = imported(PACKAGE / module)
    assert not names & FORBIDDEN, f"{module} imports {sorted(names & FORBIDDEN)}"
    edge = {n for n in names if n.startswith(("slurmrest_stdio.io", "slurmrest_stdio.serve",
                                                  "slurmrest_stdio.backend.slurmcli",
                                                  "slurmrest_stdio.cli"))}
    assert not edge, f"{module} reaches into the I/O edge: {sorted(edge)}"


def test_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os.path\nfrom subprocess import run\n")
    assert imported(bad) >= {"os", "subprocess"}
