"""Stdout is the connection: logs never go there, whatever fd 2 is.

xinetd hands the client's socket over as fd 0, 1 *and* 2; a shell user may write
``2>&1``. In both cases a log line on stderr would corrupt the HTTP stream, so the program
must notice that fd 2 is the connection and log elsewhere (syslog) or nowhere.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

import pytest

from slurmrest_stdio.serve import ExitCode
from tests.helpers import acting_as, base_env, program, user
from tests.integration.support import (
    NOPE,
    NOT_FOUND_TEXT,
    SPEC,
    Outcome,
    assert_error_response,
    get,
    has_complete_response,
    owned_pty,
    read_available,
    read_to_eof,
    socket_session,
    spawn,
)

#: requests that make the program log at several levels: info (served), warning (a fatal
#: protocol error) -- and, with SLURMRESTD_DEBUG=debug, the connection description
NOISY = get(SPEC) + get(NOPE) + b"GET /x HTTP/1.1\r\nBad Header Line\r\n\r\n"
SYSLOG_PRESENT = os.path.exists("/dev/log")


def quiet_env(**extra: str) -> dict[str, str]:
    """base_env() without SLURMRESTD_DEBUG_STDERR: where logs go is the program's choice."""
    env = base_env(SLURMRESTD_DEBUG="debug", **extra)
    env.pop("SLURMRESTD_DEBUG_STDERR", None)
    return env


def check_only_http(raw: bytes) -> None:
    """The NOISY conversation: 200, 404, then a complete 400, and not one byte more."""
    out = Outcome(0, raw, "")
    spec, missing, bad = out.responses()
    assert spec.status == 200
    assert_error_response(missing, 404, NOT_FOUND_TEXT)
    assert_error_response(bad, 400)
    assert b"slurmrest-stdio[" not in raw


def noisy_conversation(test_user: str) -> tuple[subprocess.Popen[bytes], bytes, bytes]:
    """NOISY through the program on a pipe ``test_user`` owns, stdout and stderr pipes."""
    with acting_as(user(test_user)):
        r, w = os.pipe()
    try:
        proc = spawn(r, subprocess.PIPE, env=quiet_env())
    finally:
        os.close(r)
    os.write(w, NOISY)
    os.close(w)
    out, err = proc.communicate(timeout=15)
    return proc, out, err


def test_stderr_pipe_without_syslog_gets_logs_but_stdout_does_not(test_user: str) -> None:
    proc, out, err = noisy_conversation(test_user)
    assert proc.returncode == ExitCode.PROTOCOL
    check_only_http(out)
    if not SYSLOG_PRESENT:  # then stderr (safe: a separate pipe) is the fallback
        text = err.decode()
        assert "GET /openapi.json" in text
        assert "400" in text


def test_syslog_gets_the_log_lines_at_daemon_priorities(test_user: str) -> None:
    """With a syslog socket, the lines go there (facility daemon, ident with the PID):
    here a datagram socket of our own stands in for the syslog daemon at /dev/log."""
    if SYSLOG_PRESENT:
        pytest.skip("this host's syslog daemon owns /dev/log")
    daemon = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    lines = []
    try:
        daemon.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        proc, out, err = noisy_conversation(test_user)
        daemon.settimeout(0.5)
        with contextlib.suppress(TimeoutError):
            while True:
                lines.append(daemon.recv(65536))
    finally:
        daemon.close()
        os.unlink("/dev/log")
    assert proc.returncode == ExitCode.PROTOCOL and err == b""
    check_only_http(out)
    served = [ln for ln in lines if b"GET /openapi.json" in ln]
    assert served and served[0].startswith(b"<30>")  # daemon (3) * 8 + info (6)
    assert f"slurmrest-stdio[{proc.pid}]: ".encode() in served[0]
    assert any(ln.startswith(b"<28>") for ln in lines)  # the fatal 400 is a warning


def test_stderr_same_pipe_as_stdout_gets_no_logs(test_user: str) -> None:
    """``slurmrest-stdio 2>&1``: fd 2 is the connection's pipe, even if
    SLURMRESTD_DEBUG_STDERR asks for logs on stderr."""
    with acting_as(user(test_user)):
        in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    env = base_env(SLURMRESTD_DEBUG="debug", SLURMRESTD_DEBUG_STDERR="debug")
    try:
        proc = spawn(in_r, out_w, out_w, env=env)
    finally:
        os.close(in_r)
        os.close(out_w)
    os.write(in_w, NOISY)
    os.close(in_w)
    raw = read_to_eof(out_r)
    os.close(out_r)
    assert proc.wait(timeout=15) == ExitCode.PROTOCOL
    check_only_http(raw)


def test_stderr_tty_gets_human_logs(test_user: str) -> None:
    """Interactive mode: stderr is a terminal (not the connection) -> readable log lines
    there; stdout still carries only HTTP."""
    master, slave = owned_pty(test_user)
    with acting_as(user(test_user)):
        r, w = os.pipe()
    try:
        proc = spawn(r, subprocess.PIPE, slave, env=quiet_env())
    finally:
        os.close(r)
        os.close(slave)
    try:
        os.write(w, get(SPEC) + get(NOPE))
        os.close(w)
        out, _ = proc.communicate(timeout=15)
        logged = b""
        while (chunk := read_available(master, 0.5)):
            logged += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0
    assert [r.status for r in Outcome(0, out, "").responses()] == [200, 404]
    assert b"GET /nope" in logged
    assert b"INFO" in logged  # the human format: time, level, message


@pytest.mark.parametrize("debug_stderr", ["", "debug"])
def test_xinetd_style_socket_on_0_1_2_carries_only_http(test_user: str,
                                                        debug_stderr: str) -> None:
    env = quiet_env()
    if debug_stderr:
        env["SLURMRESTD_DEBUG_STDERR"] = debug_stderr
    with socket_session(stderr_too=True, env=env) as s:
        s.send(NOISY)
        s.close_input()
        out = s.finish()
    assert out.returncode == ExitCode.PROTOCOL
    check_only_http(out.output)


def test_xinetd_style_idle_timeout_carries_only_http(test_user: str) -> None:
    with socket_session(stderr_too=True, env=quiet_env(), args=["--idle-timeout", "0.3"]) as s:
        s.read_until(has_complete_response)
        s.close_input()  # the program lingers for our EOF after its last response
        out = s.finish(timeout=10)
    assert out.returncode == 0
    (resp,) = out.responses()
    assert_error_response(resp, 408)


@pytest.mark.parametrize(("as_root", "extra"), [
    pytest.param(False, {"SLURMRESTD_SECURITY": "bogus"}, id="unknown-security"),
    pytest.param(True, {}, id="root"),
])
def test_xinetd_style_startup_refusal_writes_nothing(test_user: str, as_root: bool,
                                                     extra: dict[str, str]) -> None:
    with socket_session(stderr_too=True, env=quiet_env(**extra),
                        as_user=None if as_root else test_user) as s:
        out = s.finish()
    assert out.returncode == ExitCode.STARTUP
    assert out.output == b"", "a refusal must not write its reason into the connection"


@pytest.mark.parametrize("args", [
    pytest.param(["--no-such-option"], id="unknown-option"),
    pytest.param(["-a", "rest_auth/nope"], id="unknown-plugin"),
])
def test_xinetd_style_usage_error_writes_nothing(test_user: str, args: list[str]) -> None:
    """A misconfigured server_args must not send click's usage text to every client."""
    with socket_session(stderr_too=True, env=quiet_env(), args=args) as s:
        out = s.finish()
    assert out.returncode == ExitCode.USAGE
    assert out.output == b"", f"usage text written into the connection: {out.output!r}"


def test_stderr_closed_still_serves(test_user: str) -> None:
    """fd 2 closed (some super-servers do that): serve anyway, log nowhere, no crash."""
    wrapper = [sys.executable, "-c",
               "import os, sys; os.close(2); os.execv(sys.argv[1], sys.argv[1:])"]
    with acting_as(user(test_user)):
        r, w = os.pipe()
    try:
        proc = spawn(r, subprocess.PIPE, subprocess.DEVNULL, command=[*wrapper, program()],
                     env=quiet_env())
    finally:
        os.close(r)
    os.write(w, NOISY)
    os.close(w)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == ExitCode.PROTOCOL
    check_only_http(out)
