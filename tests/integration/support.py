"""Integration helpers: start the real program on real fds and talk to it.

Everything here uses the OS for real: ``os.pipe()``, ``socket.socketpair()``, a pty, a TCP
connection, an inherited fd 3. The program runs as the unprivileged test user (alice); the
fds that decide who the client is are made to belong to the user the test names, through
``tests.helpers.acting_as`` (pipes, sockets) or ``fchown`` (pty, files).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import select
import socket
import subprocess
import sys
import time
import tty
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tests.helpers import (
    TEST_USER,
    ParsedResponse,
    acting_as,
    base_env,
    parse_responses,
    program,
    request,
    user,
)

PING = "/slurm/v0.0.38/ping"
#: a path that needs no Slurm and answers 200 once the client is authenticated
SPEC = "/openapi.json"
#: a path that does not exist: 404 once authenticated, 401 otherwise
NOPE = "/nope"
NOT_FOUND_TEXT = b"Unable find requested URL. Please view /openapi/v3 for API reference."
AUTH_FAILURE = b"Authentication failure"

#: generous bound for any one conversation; a hang fails the test instead of the suite
DEADLINE = 15.0


def get(path: str, *headers: str, version: str = "1.1") -> bytes:
    return request("GET", path, *headers, version=version)


def get_close(path: str, *headers: str) -> bytes:
    """A GET that asks the program to close afterwards (it then exits on its own)."""
    return request("GET", path, *headers, "Connection: close")


# -- starting the program ------------------------------------------------------------------

def spawn(
    stdin: Any,
    stdout: Any,
    stderr: Any = subprocess.PIPE,
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    as_user: str | None = TEST_USER,
    command: Sequence[str] | None = None,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start the program (or ``command`` + ``args``) with the given stdio, as ``as_user``.

    ``as_user=None`` keeps the current user (root in CI), for the start-up refusals.
    """
    env = base_env() if env is None else env
    argv = [*(command if command is not None else [program()]), *args]
    extra: dict[str, Any] = {}
    if as_user is not None:
        u = user(as_user)
        env = {**env, "HOME": u.home, "USER": u.name}
        extra = {"user": u.uid, "group": u.gid, "extra_groups": []}
    return subprocess.Popen(
        argv, stdin=stdin, stdout=stdout, stderr=stderr, env=env, cwd="/",
        pass_fds=tuple(pass_fds), **extra,
    )


def python_module_command(*python_options: str) -> list[str]:
    """``python [options] -m slurmrest_stdio`` with the venv's interpreter."""
    return [sys.executable, *python_options, "-m", "slurmrest_stdio"]


# -- reading -----------------------------------------------------------------------------

def read_available(fd: int, timeout: float) -> bytes | None:
    """One read of up to 64 KiB; b"" at EOF (or EIO: a pty whose other side is gone);
    None when nothing arrives within ``timeout`` seconds."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    if not poller.poll(max(timeout, 0.0) * 1000):
        return None
    try:
        return os.read(fd, 65536)
    except OSError as exc:
        if exc.errno == errno.EIO:
            return b""
        raise


def read_to_eof(fd: int, timeout: float = DEADLINE) -> bytes:
    """Everything until EOF; fails the test when EOF does not come within ``timeout``."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        chunk = read_available(fd, deadline - time.monotonic())
        if chunk is None:
            raise AssertionError(f"no EOF within {timeout}s; got so far {bytes(data)!r}")
        if not chunk:
            return bytes(data)
        data += chunk


@dataclass
class Outcome:
    """How a conversation ended: exit status, bytes of the connection, stderr text."""

    returncode: int
    output: bytes
    stderr: str

    def responses(self, head: int = 0) -> list[ParsedResponse]:
        """All responses; every output byte must belong to a complete response."""
        return parse_responses(self.output, strict=True, head=head)

    def statuses(self, head: int = 0) -> list[int]:
        return [r.status for r in self.responses(head)]

    def log_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("slurmrest-stdio[")]


def finish(proc: subprocess.Popen[bytes], timeout: float = DEADLINE) -> tuple[int, str]:
    """Wait for the program; return its exit status and stderr (decoded)."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(
            f"the program did not exit within {timeout}s; stderr: {err!r}"
        ) from None
    return proc.returncode, (err or b"").decode("utf-8", "replace")


class Session:
    """A running program and our end of its connection (write side and read side)."""

    def __init__(self, proc: subprocess.Popen[bytes], write_fd: int, read_fd: int, *,
                 sock: socket.socket | None = None, owned: Sequence[int] = ()) -> None:
        self.proc = proc
        self.write_fd = write_fd
        self.read_fd = read_fd
        self.sock = sock
        self.received = bytearray()
        self._owned = list(owned)
        self._input_open = True

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.write_fd, view):]

    def send_slowly(self, data: bytes, pieces: int, pause: float) -> None:
        """``data`` in ``pieces`` separate writes with ``pause`` seconds between them."""
        step = max(1, -(-len(data) // pieces))
        for start in range(0, len(data), step):
            self.send(data[start:start + step])
            time.sleep(pause)

    def close_input(self) -> None:
        """EOF for the program: close our write end (shut down writing on a socket)."""
        if not self._input_open:
            return
        self._input_open = False
        if self.sock is not None:
            self.sock.shutdown(socket.SHUT_WR)
        elif self.write_fd != self.read_fd:
            os.close(self.write_fd)
            self._owned.remove(self.write_fd)

    def stop_reading(self) -> None:
        """Close our read end: the program's next write fails (EPIPE on a pipe)."""
        os.close(self.read_fd)
        self._owned.remove(self.read_fd)

    def read_until(self, done: Callable[[bytes], bool], timeout: float = DEADLINE) -> bytes:
        """Read until ``done(everything received so far)``; fail on EOF or timeout first."""
        deadline = time.monotonic() + timeout
        while not done(bytes(self.received)):
            chunk = read_available(self.read_fd, deadline - time.monotonic())
            if chunk is None:
                raise AssertionError(f"timed out; received {bytes(self.received)!r}")
            if not chunk:
                raise AssertionError(f"EOF too early; received {bytes(self.received)!r}")
            self.received += chunk
        return bytes(self.received)

    def quiet_for(self, seconds: float) -> bool:
        """True when nothing at all arrives for ``seconds`` (the program stays silent)."""
        return read_available(self.read_fd, seconds) is None

    def finish(self, timeout: float = DEADLINE) -> Outcome:
        """Read the connection to EOF, then reap the program."""
        self.received += read_to_eof(self.read_fd, timeout)
        code, err = finish(self.proc, timeout)
        return Outcome(code, bytes(self.received), err)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.communicate(timeout=5)
        for fd in self._owned:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._owned.clear()
        if self.sock is not None:
            self.sock.close()


def has_complete_response(data: bytes) -> bool:
    """True when ``data`` holds at least one whole final response."""
    try:
        return any(r.status >= 200 for r in parse_responses(data, strict=True))
    except AssertionError:
        return False


@contextlib.contextmanager
def pipe_session(*, args: Sequence[str] = (), env: dict[str, str] | None = None,
                 maker: str = TEST_USER, stderr: Any = subprocess.PIPE,
                 command: Sequence[str] | None = None,
                 pass_fds: Sequence[int] = ()) -> Iterator[Session]:
    """stdin and stdout are two distinct pipes; the stdin pipe belongs to ``maker``;
    the program runs as the test user."""
    with acting_as(user(maker)):
        in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        proc = spawn(in_r, out_w, stderr, args=args, env=env, command=command,
                     pass_fds=pass_fds)
    finally:
        os.close(in_r)
        os.close(out_w)
    session = Session(proc, in_w, out_r, owned=[in_w, out_r])
    try:
        yield session
    finally:
        session.close()


def socketpair_as(owner: str) -> tuple[socket.socket, socket.socket]:
    """A connected AF_UNIX pair whose SO_PEERCRED names ``owner``."""
    with acting_as(user(owner)):
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


@contextlib.contextmanager
def socket_session(*, maker: str = TEST_USER, args: Sequence[str] = (),
                   env: dict[str, str] | None = None, stderr_too: bool = False,
                   as_user: str | None = TEST_USER) -> Iterator[Session]:
    """The program's fd 0 and 1 (and 2 with ``stderr_too``, as xinetd does) are one end
    of a socketpair made while acting as ``maker``; we hold the other end."""
    ours, theirs = socketpair_as(maker)
    try:
        proc = spawn(theirs, theirs, theirs if stderr_too else subprocess.PIPE,
                     args=args, env=env, as_user=as_user)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    session = Session(proc, ours.fileno(), ours.fileno(), sock=ours)
    try:
        yield session
    finally:
        session.close()


def owned_pty(owner: str) -> tuple[int, int]:
    """(master, slave) of a raw-mode pty whose slave belongs to ``owner``, mode 0620."""
    master, slave = os.openpty()
    u = user(owner)
    os.fchown(slave, u.uid, u.gid)
    os.fchmod(slave, 0o620)
    # raw: no echo, no CR/LF translation, bytes pass unchanged in both directions
    tty.setraw(slave)
    return master, slave


@contextlib.contextmanager
def pty_session(*, stdout_is_pty: bool, args: Sequence[str] = ()) -> Iterator[Session]:
    """stdin is a pty; stdout is the same pty or a separate pipe."""
    master, slave = owned_pty(TEST_USER)
    owned = [master]
    read_fd = master
    out_w = slave
    if not stdout_is_pty:
        read_fd, out_w = os.pipe()
        owned.append(read_fd)
    try:
        proc = spawn(slave, out_w, args=args)
    finally:
        os.close(slave)
        if out_w != slave:
            os.close(out_w)
    session = Session(proc, master, read_fd, owned=owned)
    try:
        yield session
    finally:
        session.close()


# -- assertions -----------------------------------------------------------------------------

def assert_error_response(resp: ParsedResponse, status: int, text: bytes | None = None) -> None:
    """A complete, plain error answer: the status, text/plain, a non-empty body whose
    length is exactly Content-Length (the strict parser already checked the framing)."""
    assert resp.status == status, (resp.status, resp.body)
    assert resp.content_type == "text/plain"
    assert resp.header("content-length") == str(len(resp.body))
    assert resp.body, "error responses carry a short explanation"
    assert b"Traceback" not in resp.body
    if text is not None:
        assert resp.body == text


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


_IMPORT_LINE = re.compile(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s*(\S+)\s*$")


def imported_modules(stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` lines."""
    return {m.group(1) for line in stderr.splitlines() if (m := _IMPORT_LINE.match(line))}
