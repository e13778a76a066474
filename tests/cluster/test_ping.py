"""GET /slurm/v0.0.38/ping through the real program against the real lab cluster."""

from __future__ import annotations

import ast
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    TEST_USER,
    parse_responses,
    program,
    request,
    run_pipe,
    unreachable_slurm_conf,
    user,
)

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

PING = request("GET", "/slurm/v0.0.38/ping")


def as_test_user(*argv: str, env: dict[str, str] | None = None) -> str:
    u = user(TEST_USER)
    out = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=60,
                         user=u.uid, group=u.gid, extra_groups=[], env=env, cwd="/")
    return out.stdout


def test_ping_reports_what_scontrol_sees() -> None:
    run = run_pipe(PING)
    assert run.returncode == 0, run.stderr
    (resp,) = parse_responses(run.stdout)
    assert resp.status == 200 and resp.content_type == "application/json"
    body = json.loads(resp.body)
    expected = [
        {"hostname": m[2], "ping": m[3], "status": 0 if m[3] == "UP" else -1, "mode": m[1]}
        for m in re.finditer(r"Slurmctld\((\S+)\) at (\S+) is (UP|DOWN)",
                             as_test_user("scontrol", "ping"))
    ]
    assert body["pings"] == expected and expected
    release = as_test_user("scontrol", "--version").split()[-1]
    assert body["meta"]["Slurm"]["release"] == release
    major, minor, micro = (int(x) for x in release.split("-")[0].split("."))
    assert body["meta"]["Slurm"]["version"] == {"major": major, "micro": micro, "minor": minor}
    assert body["errors"] == []
    assert f"user={TEST_USER} status=200" in run.stderr.decode()


def test_head_ping_has_the_get_headers_and_no_body() -> None:
    run = run_pipe(request("HEAD", "/slurm/v0.0.38/ping") + PING)
    head, get = parse_responses(run.stdout, head=1)
    assert head.status == get.status == 200
    assert head.body == b"" and int(head.header("content-length") or 0) == len(get.body)


@pytest.fixture
def unreachable_conf() -> Iterator[Path]:
    with unreachable_slurm_conf() as conf:
        yield conf


def test_unreachable_controller_is_slurmrestds_500_envelope(unreachable_conf: Path) -> None:
    run = run_pipe(PING, args=["-f", str(unreachable_conf)])
    (resp,) = parse_responses(run.stdout)
    assert resp.status == 500 and resp.content_type == "application/json"
    body = json.loads(resp.body)
    assert "pings" not in body
    assert body["errors"] == [{"description": "slurmctld config is unable to load",
                               "error_number": -1, "error": "Unspecified error",
                               "source": "slurm_load_ctl_conf"}]


def test_missing_slurm_conf_fails_fast_with_a_complete_response() -> None:
    run = run_pipe(PING, args=["-f", "/nonexistent/slurm.conf"], timeout=20)
    (resp,) = parse_responses(run.stdout)
    assert resp.status == 500 and b"/nonexistent/slurm.conf does not exist" in resp.body
    assert run.returncode == 0



#: what a ping must not pay for at start-up (each costs milliseconds to import)
NOT_FOR_A_PING = ("click", "jsonschema", "ruamel", "jwt", "logging.handlers", "ctypes",
                  "slurmrest_stdio.api.dbv0_0_38.jobs", "slurmrest_stdio.api.dbv0_0_38.accounts",
                  "slurmrest_stdio.api.v0_0_38.jobs", "slurmrest_stdio.api.v0_0_38.submit",
                  "slurmrest_stdio.backend.cli_submit", "slurmrest_stdio.backend.cli_dbjobs")


def test_a_ping_imports_only_what_it_needs() -> None:
    """Start-up is the hot path of a per-connection server: a ping leaves out the modules
    it does not use. The program runs in-process under the installed Python, which then
    lists ``sys.modules`` instead of exiting."""
    python = Path(program()).with_name("python")
    code = ("import sys; sys.argv = ['slurmrest-stdio']; from slurmrest_stdio import launch; "
            "launch.exit_now = lambda code: sys.stderr.write(f'MODULES {sorted(sys.modules)}'); "
            "launch.main()")
    run = run_pipe(PING, command=[str(python), "-c", code])
    assert [r.status for r in run.responses] == [200], run.stderr
    loaded = set(ast.literal_eval(run.stderr.decode().rpartition("MODULES ")[2]))
    assert {"h11", "slurmrest_stdio.api.v0_0_38.diag"} <= loaded
    unwanted = {m for m in loaded for prefix in NOT_FOR_A_PING
                if m == prefix or m.startswith(prefix + ".")}
    assert not unwanted, sorted(unwanted)
