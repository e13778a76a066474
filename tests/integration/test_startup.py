"""Start-up of the real process: refusals (exit 1), usage errors (exit 2), listing modes,
and the slurmrestd options that are accepted but do not apply to one connection."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from slurmrest_stdio import __version__
from slurmrest_stdio.serve import ExitCode
from tests.helpers import TEST_USER, acting_as, base_env, program, user
from tests.integration.support import (
    NOPE,
    NOT_FOUND_TEXT,
    PING,
    SPEC,
    Outcome,
    assert_error_response,
    assert_no_traceback,
    get,
    pipe_session,
    spawn,
)

STARTUP_REFUSED = ExitCode.STARTUP
USAGE = ExitCode.USAGE


def run_cli(*args: str, env: dict[str, str] | None = None, as_user: str | None = TEST_USER,
            stdin_data: bytes | None = None) -> Outcome:
    """Run the program with ``args``; stdin is an empty pipe of the user (or ``stdin_data``),
    stdout and stderr are captured."""
    owner = user(as_user) if as_user is not None else None
    if owner is not None:
        with acting_as(owner):
            r, w = os.pipe()
    else:
        r, w = os.pipe()
    try:
        proc = spawn(r, subprocess.PIPE, args=args, env=env, as_user=as_user)
    finally:
        os.close(r)
    os.write(w, stdin_data or b"")
    os.close(w)
    out, err = proc.communicate(timeout=15)
    return Outcome(proc.returncode, out, err.decode("utf-8", "replace"))


# -- refusals ------------------------------------------------------------------------------


def test_root_is_refused(test_user: str) -> None:
    out = run_cli(as_user=None, stdin_data=get(NOPE))
    assert out.returncode == STARTUP_REFUSED
    assert "should not be run as the root user" in out.stderr
    assert "disable_user_check" in out.stderr
    assert out.output == b""
    assert_no_traceback(out.stderr)


def test_root_with_disable_user_check_serves(test_user: str) -> None:
    env = base_env(SLURMRESTD_SECURITY="disable_user_check")
    out = run_cli(as_user=None, env=env, stdin_data=get(NOPE))
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)


def test_root_group_is_refused(test_user: str) -> None:
    u = user(test_user)
    with acting_as(u):
        r, w = os.pipe()
    try:
        proc = subprocess.Popen(
            [program()], stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=base_env(), cwd="/", user=u.uid, group=0, extra_groups=[],
        )
    finally:
        os.close(r)
    os.close(w)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == STARTUP_REFUSED
    assert "root group" in err.decode()
    assert out == b""


def test_slurm_user_is_refused(cluster: None) -> None:
    """SlurmUser (``slurm`` in the lab) is refused like root; 22.05 meant to, but checked
    before reading slurm.conf."""
    conf = Path(os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")).read_text()
    slurm_user = next(
        line.split("=", 1)[1].split()[0]
        for line in conf.splitlines() if line.strip().lower().startswith("slurmuser=")
    )
    out = run_cli(as_user=slurm_user, stdin_data=get(NOPE))
    assert out.returncode == STARTUP_REFUSED
    assert "SlurmUser" in out.stderr
    assert out.output == b""


def test_unknown_security_value_is_refused(test_user: str) -> None:
    env = base_env(SLURMRESTD_SECURITY="disable_user_check,no_such_thing")
    out = run_cli(env=env, stdin_data=get(NOPE))
    assert out.returncode == STARTUP_REFUSED
    line = next(li for li in out.log_lines() if "SLURMRESTD_SECURITY" in li)
    assert "no_such_thing" in line
    assert "disable_user_check" in line  # the known values are listed
    assert out.output == b""
    assert_no_traceback(out.stderr)


def test_become_user_needs_root(test_user: str) -> None:
    """become_user switches to each connection's peer, so it must start as root (the
    rest of the mode is covered in test_privileges.py)."""
    env = base_env(SLURMRESTD_SECURITY="become_user")
    out = run_cli("-a", "rest_auth/local", env=env, stdin_data=get(NOPE))
    assert out.returncode == STARTUP_REFUSED
    assert "become_user must be started as root" in out.stderr
    assert out.output == b""


def test_known_security_values_are_accepted(test_user: str) -> None:
    env = base_env(SLURMRESTD_SECURITY="disable_unshare_files, disable_unshare_sysv")
    out = run_cli(env=env, stdin_data=get(NOPE))
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)


def test_drop_to_user_and_group_as_root(test_user: str) -> None:
    """``-u``/``-g``: started as root it serves as alice, so root's own pipe is now
    someone else's and local auth refuses it."""
    out = run_cli("-u", test_user, "-g", test_user, as_user=None, stdin_data=get(NOPE))
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 401)
    assert f"user={test_user}" not in out.stderr


def test_drop_to_user_serves_that_users_pipe(test_user: str) -> None:
    u = user(test_user)
    with acting_as(u):
        r, w = os.pipe()
    try:
        proc = spawn(r, subprocess.PIPE, args=["-u", test_user, "-g", test_user],
                     as_user=None)
    finally:
        os.close(r)
    os.write(w, get(NOPE))
    os.close(w)
    out, err = proc.communicate(timeout=15)
    result = Outcome(proc.returncode, out, err.decode())
    assert result.returncode == 0, result.stderr
    (resp,) = result.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)
    assert f"user={test_user}" in result.stderr


def test_unprivileged_user_cannot_switch_user(test_user: str, other_user: str) -> None:
    out = run_cli("-u", other_user, stdin_data=get(NOPE))
    assert out.returncode == STARTUP_REFUSED
    assert "cannot change" in out.stderr
    assert out.output == b""


# -- listing modes and usage -----------------------------------------------------------------


def test_version(test_user: str) -> None:
    out = run_cli("-V")
    assert out.returncode == 0
    assert out.output.decode().strip() == f"slurmrest-stdio {__version__}"


def test_auth_plugin_list(test_user: str) -> None:
    out = run_cli("-a", "list")
    assert out.returncode == 0
    assert out.output.decode().split() == ["rest_auth/jwt", "rest_auth/local"]


def test_openapi_plugin_list(test_user: str) -> None:
    out = run_cli("-s", "list")
    assert out.returncode == 0
    assert "openapi/v0.0.38" in out.output.decode().split()


def test_generate_openapi_spec(test_user: str) -> None:
    out = run_cli("--generate-openapi-spec")
    assert out.returncode == 0, out.stderr
    spec = json.loads(out.output)
    assert spec["openapi"].startswith("3.")
    assert PING in spec["paths"]
    assert "get" in spec["paths"][PING]


def test_help(test_user: str) -> None:
    out = run_cli("-h")
    assert out.returncode == 0
    assert b"Usage:" in out.output


@pytest.mark.parametrize("args", [
    pytest.param(["--no-such-option"], id="unknown-option"),
    pytest.param(["-a", "rest_auth/nope"], id="unknown-auth-plugin"),
    pytest.param(["-s", "openapi/v9.9.9"], id="unknown-openapi-plugin"),
    pytest.param(["--max-header-bytes", "10"], id="header-limit-too-small"),
    pytest.param(["--idle-timeout", "-1"], id="negative-timeout"),
    pytest.param(["-u", "no-such-user-here"], id="unknown-user"),
])
def test_usage_errors_exit_2(test_user: str, args: list[str]) -> None:
    out = run_cli(*args, stdin_data=get(NOPE))
    assert out.returncode == USAGE, out.stderr
    assert out.output == b"", "usage errors must not write into the connection"
    assert "Error" in out.stderr


def test_bad_debug_level_is_a_usage_error(test_user: str) -> None:
    out = run_cli(env=base_env(SLURMRESTD_DEBUG="loud"), stdin_data=get(NOPE))
    assert out.returncode == USAGE
    assert out.output == b""


@pytest.mark.parametrize(("args", "notice"), [
    pytest.param(["localhost:6820"], "listen addresses localhost:6820 ignored", id="listen"),
    pytest.param(["unix:/run/slurmrestd.sock", "0.0.0.0:6820"],
                 "listen addresses unix:/run/slurmrestd.sock 0.0.0.0:6820 ignored",
                 id="two-listen"),
    pytest.param(["-t", "8"], "-t ignored", id="threads"),
    pytest.param(["--max-connections", "16"], "--max-connections ignored", id="max-conn"),
])
def test_slurmrestd_daemon_options_are_accepted_with_a_notice(
    test_user: str, args: list[str], notice: str
) -> None:
    with pipe_session(args=args) as s:
        s.send(get(SPEC) + get(NOPE))
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    assert [r.status for r in out.responses()] == [200, 404]
    assert any(notice in line for line in out.log_lines()), out.stderr
