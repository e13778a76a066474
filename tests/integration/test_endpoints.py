"""What stdin/stdout can be: pipes, a pty, a regular file, sockets, systemd's fd 3.

Each test hands the real program real fds and checks who it took the client to be:
an authenticated client gets 200/404, anyone else 401 ``Authentication failure``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from slurmrest_stdio.serve import ExitCode
from tests.helpers import program, user
from tests.integration.support import (
    AUTH_FAILURE,
    NOPE,
    NOT_FOUND_TEXT,
    PING,
    SPEC,
    Outcome,
    Session,
    assert_error_response,
    assert_no_traceback,
    finish,
    get,
    get_close,
    has_complete_response,
    owned_pty,
    pipe_session,
    pty_session,
    read_to_eof,
    socket_session,
    socketpair_as,
    spawn,
)

# -- pipes ----------------------------------------------------------------------------------


def test_distinct_pipes_for_stdin_and_stdout(cluster: None, test_user: str) -> None:
    with pipe_session() as s:
        assert s.read_fd != s.write_fd
        s.send(get(PING) + get(NOPE))
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    first, second = out.responses()
    assert first.status == 200
    assert first.content_type == "application/json"
    assert b'"ping": "UP"' in first.body
    assert_error_response(second, 404, NOT_FOUND_TEXT)
    assert any(f"user={test_user}" in line for line in out.log_lines())


def test_pipe_made_by_another_user_is_refused(test_user: str, other_user: str) -> None:
    with pipe_session(maker=other_user) as s:
        s.send(get(NOPE))
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 401, AUTH_FAILURE)


# -- a pty ---------------------------------------------------------------------------------


def test_pty_as_stdin_and_stdout(cluster: None, test_user: str) -> None:
    with pty_session(stdout_is_pty=True) as s:
        s.send(get_close(PING))
        s.read_until(has_complete_response)
        out = s.finish()
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert resp.status == 200
    assert b'"pings"' in resp.body


def test_pty_stdin_disables_timeouts(test_user: str) -> None:
    """A person at a terminal sets their own pace: no idle or read timeout on a tty."""
    with pty_session(stdout_is_pty=False, args=["--idle-timeout", "0.2",
                                                "--read-timeout", "0.2"]) as s:
        assert s.quiet_for(0.6), "idle timeout fired on a tty"
        whole = get_close(NOPE)
        s.send(whole[:10])
        assert s.quiet_for(0.6), "read timeout fired on a tty"
        assert s.proc.poll() is None
        s.send(whole[10:])
        s.read_until(has_complete_response)
        out = s.finish()
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)


@pytest.mark.parametrize(("owner", "mode"), [
    pytest.param("other", 0o620, id="owned-by-another-user"),
    pytest.param("self", 0o622, id="writable-by-others"),
])
def test_pty_not_ours_alone_is_refused(test_user: str, other_user: str, owner: str,
                                       mode: int) -> None:
    master, slave = owned_pty(other_user if owner == "other" else test_user)
    os.fchmod(slave, mode)
    try:
        proc = spawn(slave, slave)
    finally:
        os.close(slave)
    session = Session(proc, master, master, owned=[master])
    try:
        session.send(get_close(SPEC))
        session.read_until(has_complete_response)
        out = session.finish()
    finally:
        session.close()
    (resp,) = out.responses()
    assert_error_response(resp, 401, AUTH_FAILURE)


# -- a named pipe ------------------------------------------------------------------------------


def test_fifo_owned_by_us(tmp_path: Path, test_user: str) -> None:
    fifo = tmp_path / "requests.fifo"
    os.mkfifo(fifo, 0o600)
    u = user(test_user)
    os.chown(fifo, u.uid, u.gid)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(fifo, os.O_WRONLY)
    os.set_blocking(reader, True)
    try:
        proc = spawn(reader, subprocess.PIPE)
    finally:
        os.close(reader)
    os.write(writer, get(SPEC) + get(NOPE))
    os.close(writer)
    stdout, err = proc.communicate(timeout=15)
    out = Outcome(proc.returncode, stdout, err.decode())
    assert out.returncode == 0, out.stderr
    assert out.statuses() == [200, 404]


# -- a regular file --------------------------------------------------------------------------


def _run_with_file(tmp_path: Path, data: bytes, owner: str, mode: int) -> Outcome:
    path = tmp_path / "requests.http"
    path.write_bytes(data)
    u = user(owner)
    os.chown(path, u.uid, u.gid)
    os.chmod(path, mode)
    with open(path, "rb") as stdin:
        proc = spawn(stdin, subprocess.PIPE)
        out, err = proc.communicate(timeout=15)
    return Outcome(proc.returncode, out, err.decode())


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o400])
def test_regular_file_owned_by_us_without_other_bits(tmp_path: Path, test_user: str,
                                                      mode: int) -> None:
    out = _run_with_file(tmp_path, get(SPEC) + get(NOPE), test_user, mode)
    assert out.returncode == 0, out.stderr
    spec, missing = out.responses()
    assert spec.status == 200
    assert spec.content_type == "application/json"
    assert_error_response(missing, 404, NOT_FOUND_TEXT)


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602, 0o4600, 0o2600])
def test_regular_file_open_to_others_or_setid_is_refused(tmp_path: Path, test_user: str,
                                                         mode: int) -> None:
    out = _run_with_file(tmp_path, get(NOPE), test_user, mode)
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 401, AUTH_FAILURE)


def test_regular_file_owned_by_another_user_is_refused(tmp_path: Path, test_user: str,
                                                       other_user: str) -> None:
    out = _run_with_file(tmp_path, get(SPEC), other_user, 0o600)
    (resp,) = out.responses()
    assert_error_response(resp, 401, AUTH_FAILURE)


# -- unix sockets ---------------------------------------------------------------------------


def test_unix_socketpair_from_same_user(test_user: str) -> None:
    with socket_session(maker=test_user) as s:
        s.send(get(SPEC) + get(NOPE))
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    spec, missing = out.responses()
    assert spec.status == 200
    assert_error_response(missing, 404, NOT_FOUND_TEXT)


def test_unix_socketpair_ping(cluster: None, test_user: str) -> None:
    with socket_session(maker=test_user) as s:
        s.send(get(PING))
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert resp.status == 200
    assert b'"ping": "UP"' in resp.body


def test_unix_socketpair_from_another_user_is_refused(test_user: str, other_user: str) -> None:
    with socket_session(maker=other_user) as s:
        s.send(get(SPEC))
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 401, AUTH_FAILURE)


def test_socket_on_stdin_but_not_on_stdout_is_refused(test_user: str) -> None:
    ours, theirs = socketpair_as(test_user)
    out_r, out_w = os.pipe()
    try:
        proc = spawn(theirs, out_w)
        theirs.close()
        os.close(out_w)
        code, err = finish(proc)
        written = read_to_eof(out_r)
        ours.shutdown(socket.SHUT_WR)
        on_socket = read_to_eof(ours.fileno())
    finally:
        ours.close()
        os.close(out_r)
    assert code == ExitCode.STARTUP
    assert "STDIN and STDOUT must be the same socket" in err
    assert written == b""
    assert on_socket == b""
    assert_no_traceback(err)


# -- TCP --------------------------------------------------------------------------------------


def test_tcp_connection_needs_jwt(test_user: str) -> None:
    """Local auth says nothing about a TCP peer; with no JWT plugin that is 401, also for
    a path that does not exist (authentication comes before routing)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname()[:2], timeout=15)
        accepted, _ = server.accept()
    try:
        proc = spawn(accepted, accepted)
        accepted.close()
        session = Session(proc, client.fileno(), client.fileno(), sock=client)
        session.send(get(SPEC) + get(NOPE))
        session.close_input()
        out = session.finish()
    finally:
        client.close()
    assert out.returncode == 0, out.stderr
    first, second = out.responses()
    assert_error_response(first, 401, AUTH_FAILURE)
    assert_error_response(second, 401, AUTH_FAILURE)


# -- systemd socket activation (LISTEN_FDS) -------------------------------------------------

#: Put the connection on fd 3, set LISTEN_FDS/LISTEN_PID as systemd does (LISTEN_PID is the
#: pid of the process that will serve; exec keeps it), then exec the program.
_SYSTEMD_EXEC = r"""
import os, sys
fd, count, pid_mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ["LISTEN_FDS"] = count
os.environ["LISTEN_PID"] = str(os.getpid()) if pid_mode == "self" else pid_mode
os.execv(sys.argv[4], sys.argv[4:])
"""


def _systemd_start(sock: socket.socket, stdin: object, stdout: object, *, count: str = "1",
                   pid_mode: str = "self") -> subprocess.Popen[bytes]:
    fd = sock.fileno()
    command = [sys.executable, "-c", _SYSTEMD_EXEC, str(fd), count, pid_mode, program()]
    return spawn(stdin, stdout, command=command, pass_fds=[fd])


def test_listen_fds_serves_fd_3(test_user: str) -> None:
    ours, theirs = socketpair_as(test_user)
    out_r, out_w = os.pipe()
    try:
        proc = _systemd_start(theirs, subprocess.DEVNULL, out_w)
        theirs.close()
        os.close(out_w)
        session = Session(proc, ours.fileno(), ours.fileno(), sock=ours)
        session.send(get(SPEC) + get(NOPE))
        session.close_input()
        out = session.finish()
        stdout = read_to_eof(out_r)
    finally:
        ours.close()
        os.close(out_r)
    assert out.returncode == 0, out.stderr
    spec, missing = out.responses()
    assert spec.status == 200
    assert_error_response(missing, 404, NOT_FOUND_TEXT)
    assert stdout == b"", "the answer belongs on fd 3, not stdout"


def test_listen_fds_for_another_pid_is_ignored(test_user: str) -> None:
    """LISTEN_PID names another process (here: this test process): stdin is served and
    fd 3 is left alone."""
    ours, theirs = socketpair_as(test_user)
    fd = theirs.fileno()
    command = [sys.executable, "-c", _SYSTEMD_EXEC, str(fd), "1", str(os.getpid()), program()]
    try:
        with pipe_session(command=command, pass_fds=[fd]) as s:
            theirs.close()
            s.send(get(NOPE))
            s.close_input()
            out = s.finish()
        ours.shutdown(socket.SHUT_WR)
        on_socket = read_to_eof(ours.fileno())
    finally:
        ours.close()
        theirs.close()
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)
    assert on_socket == b"", "fd 3 must be left alone when LISTEN_PID is not ours"


def test_listen_fds_other_than_one_is_refused(test_user: str) -> None:
    ours, theirs = socketpair_as(test_user)
    try:
        proc = _systemd_start(theirs, subprocess.DEVNULL, subprocess.PIPE, count="2")
        out, err = proc.communicate(timeout=15)
    finally:
        theirs.close()
        ours.close()
    assert proc.returncode == ExitCode.STARTUP
    assert "LISTEN_FDS=2" in err.decode()
    assert out == b""
