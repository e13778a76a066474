"""README.rst's examples are run, so that they cannot drift from what the program does."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, TEST_USER, program, user

README = (ROOT / "README.rst").read_text()


def console_blocks() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$`` line of a console block."""
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"\.\. code-block:: console\n\n((?:    .*\n|\n)+)", README):
        lines = [ln[4:] for ln in block.rstrip("\n").split("\n")]
        for line in lines:
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples:
                examples[-1][1].append("" if line == "<BLANKLINE>" else line)
    return examples


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; ``...`` inside a line matches any text, a line of only ``...`` any
    number of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    if not actual:
        return False
    pattern = ".*".join(re.escape(part) for part in head.split("..."))
    return re.fullmatch(pattern, actual[0]) is not None and matches(rest, actual[1:])


EXAMPLES = console_blocks()


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3
    assert matches(["a...", "...", "z"], ["abc", "x", "y", "z"])
    assert not matches(["a...", "z"], ["abc", "x", "z"])


@pytest.fixture(scope="module")
def no_demo_job() -> None:
    """The job examples find "their" job by the name demo: start without a leftover."""
    subprocess.run(["scancel", f"--user={TEST_USER}", "--name=demo"], check=False,
                   capture_output=True, timeout=60)


@pytest.mark.usefixtures("cluster", "test_user", "no_demo_job")
@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c[:60] for c, _ in EXAMPLES])
def test_readme_example(command: str, expected: list[str]) -> None:
    u = user(TEST_USER)
    env = {"PATH": f"{Path(program()).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    out = subprocess.run(["sh", "-c", command], capture_output=True, check=False, env=env,
                         user=u.uid, group=u.gid, extra_groups=[], cwd="/", timeout=60)
    actual = out.stdout.decode().replace("\r\n", "\n").split("\n")
    if actual and actual[-1] == "":
        actual.pop()
    assert matches(expected, actual), "\n".join(actual)


def test_quick_start_commands_are_the_scripts_ci_runs() -> None:
    quick = re.search(r"Quick start\n=+\n(.*?)\nUsing it\n", README, re.S)
    assert quick
    commands = re.findall(r"::\n\n    (\S.*)\n", quick.group(1))
    assert commands == ["tools/quickstart.sh", "tools/run-tests.sh"]
    for command in commands:
        assert os.access(ROOT / command, os.X_OK)
    assert "tools/run-tests.sh" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.usefixtures("cluster", "test_user")
def test_quick_start_runs_end_to_end() -> None:
    if os.geteuid() != 0:
        pytest.skip("the quick start is for root")
    with tempfile.TemporaryDirectory(prefix="slurmrest-quickstart-") as tmp:
        Path(tmp).chmod(0o755)
        (Path(tmp) / "bin").mkdir(mode=0o755)
        env = {**os.environ, "SLURMREST_STDIO_VENV": f"{tmp}/venv",
               "SLURMREST_STDIO_BIN": f"{tmp}/bin", "QUICKSTART_USER": TEST_USER}
        out = subprocess.run(["bash", str(ROOT / "tools/quickstart.sh")], capture_output=True,
                             text=True, env=env, check=False, timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.count("HTTP/1.1 200 OK") >= 3
        assert "HTTP/1.1 404 Not Found" in out.stdout
        assert f"slurmrest-stdio answered as {TEST_USER}" in out.stdout
