"""Run the program the way a systemd socket unit does, with Debian's real
``systemd-socket-activate`` (the tool that implements ``Accept=yes`` outside PID 1), and
talk to it over real TCP and UNIX sockets.

Every activator is started in the foreground with its pid kept; :func:`activated` stops it
and any connection process it left, by pid, when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ParsedResponse, User, acting_as, base_env, parse_responses, user

ACTIVATE = "/usr/bin/systemd-socket-activate"
ANALYZE = "/usr/bin/systemd-analyze"
#: generous bound for one conversation; a hang fails the test instead of the suite
DEADLINE = 20.0


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def children_of(pid: int) -> list[int]:
    """Processes (zombies included) whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class Activator:
    """A running ``systemd-socket-activate --accept`` and where it listens."""

    proc: subprocess.Popen[bytes]
    log: Path
    address: tuple[str, int] | str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def connect(self, as_user: User | None = None) -> socket.socket:
        """A connected client socket; on a UNIX socket ``as_user``'s credentials are the
        ones the kernel records (SO_PEERCRED is taken at connect time)."""
        if isinstance(self.address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(DEADLINE)
            ctx = acting_as(as_user) if as_user else contextlib.nullcontext()
            with ctx:
                sock.connect(self.address)
            return sock
        sock = socket.create_connection(self.address, timeout=DEADLINE)
        return sock

    def children(self) -> list[int]:
        return children_of(self.proc.pid)

    def wait_no_children(self, timeout: float = 5.0) -> list[int]:
        """The connection processes still there after up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := self.children()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left

    def wait_children(self, timeout: float = 5.0) -> list[int]:
        """Wait until at least one connection process runs."""
        deadline = time.monotonic() + timeout
        while not (found := self.children()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return found


@contextlib.contextmanager
def activated(
    listen: str,
    command: Sequence[str],
    *,
    inetd: bool,
    as_user: str | None = None,
    setenv: dict[str, str] | None = None,
) -> Iterator[Activator]:
    """``systemd-socket-activate --accept [--inetd] -l LISTEN -E ... COMMAND``, as
    ``as_user`` (None: root); a UNIX socket is made every user's to connect to (as
    ``SocketMode=0666`` makes it). The children's environment is exactly
    ``-E``'s: the activator passes nothing else on, like systemd."""
    child_env = {k: v for k, v in base_env().items() if k != "LANG"}
    child_env.update(setenv or {})
    argv = [ACTIVATE, "--accept", "-l", listen]
    if inetd:
        argv.append("--inetd")
    for name, value in child_env.items():
        argv += ["-E", f"{name}={value}"]
    argv += list(command)
    run_as = user(as_user) if as_user is not None else None
    with tempfile.TemporaryDirectory(prefix="slurmrest-activate-") as tmp:
        log = Path(tmp) / "activate.log"
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file,
                env=base_env(), cwd="/",
                user=run_as.uid if run_as else None, group=run_as.gid if run_as else None,
                extra_groups=[] if run_as else None,
            )
        address: tuple[str, int] | str
        if listen.startswith("/"):
            address = listen
        else:
            host, _, port = listen.rpartition(":")
            address = (host, int(port))
        act = Activator(proc, log, address)
        try:
            deadline = time.monotonic() + DEADLINE
            while "Listening on" not in act.log_text():
                assert proc.poll() is None, f"activator exited: {act.log_text()}"
                assert time.monotonic() < deadline, "activator never listened"
                time.sleep(0.02)
            if isinstance(address, str):
                # what SocketMode=0666 does: who connects is the kernel's answer, not the
                # file's mode (the activator makes its socket its owner's only)
                os.chmod(address, 0o666)
            yield act
        finally:
            for pid in act.children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


# -- talking ------------------------------------------------------------------------------

def read_responses(sock: socket.socket, count: int) -> list[ParsedResponse]:
    """Read until ``count`` complete responses have arrived (and not a byte more is
    needed); fails on EOF or timeout before that."""
    data = b""
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            got = parse_responses(data, strict=True)
            if len(got) >= count:
                return got
        except AssertionError:
            pass  # a response is still arriving
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        chunk = sock.recv(65536)
        assert chunk, f"EOF after {data!r}"
        data += chunk


def read_to_eof(sock: socket.socket) -> bytes:
    """Everything until the program closes the connection."""
    data = b""
    sock.settimeout(DEADLINE)
    while chunk := sock.recv(65536):
        data += chunk
    return data


def exchange(act: Activator, payload: bytes, as_user: User | None = None) -> list[ParsedResponse]:
    """One connection: send ``payload``, half-close, read every response to EOF."""
    with act.connect(as_user) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        return parse_responses(read_to_eof(sock), strict=True)


def token(name: str, lifespan: int = 600) -> str:
    """A real token for ``name`` from slurmctld (asked as root)."""
    out = subprocess.run(["scontrol", "token", f"username={name}", f"lifespan={lifespan}"],
                         capture_output=True, text=True, check=True, timeout=30)
    m = re.search(r"SLURM_JWT=(\S+)", out.stdout)
    assert m, out
    return m[1]
