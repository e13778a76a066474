"""contrib/systemd-socket: the unit files pass ``systemd-analyze verify``, and the program
works under Debian's real ``systemd-socket-activate --accept`` (systemd's own ``Accept=yes``
machinery, usable without systemd as PID 1) in both of systemd's hand-over styles:
``--inetd`` (``StandardInput=socket``: the connection on fds 0/1) and ``LISTEN_FDS=1``
(the connection on fd 3, for this process only: ``LISTEN_PID``).

TCP: the program runs as the lab user bob (as ``User=`` would make it) and clients bring
real tokens. UNIX socket: local authentication by the kernel's peer credentials, either
served as one user (``-u alice -g alice`` from root) or as whoever connects
(``SLURMRESTD_SECURITY=become_user`` from root, as ``slurmrest-stdio-local@.service``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.cluster.systemd_support import (
    ACTIVATE,
    ANALYZE,
    Activator,
    activated,
    exchange,
    free_port,
    read_responses,
    read_to_eof,
    token,
)
from tests.helpers import (
    OTHER_USER,
    ROOT,
    TEST_USER,
    base_env,
    parse_responses,
    program,
    request,
    user,
)

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

UNITS = ROOT / "contrib" / "systemd-socket"
INSTALLED = "/usr/local/bin/slurmrest-stdio"
PING = "/slurm/v0.0.38/ping"
JOBS = "/slurm/v0.0.38/jobs"
NOPE = "/nope"
#: the TCP service user (the lab's bob stands in for the units' slurmrest)
RUNNER = OTHER_USER
MODES = ["inetd", "listen_fds"]


@pytest.fixture(autouse=True, scope="module")
def _tools() -> None:
    for tool in (ACTIVATE, ANALYZE):
        if not os.access(tool, os.X_OK):
            pytest.fail(f"{tool} is missing (Debian's systemd package; tools/slurm-lab/setup.sh)")


@pytest.fixture(scope="module")
def alice_token() -> str:
    return token(TEST_USER)


def auth(tok: str) -> str:
    return f"Authorization: Bearer {tok}"


def tcp(mode: str, *args: str, **setenv: str) -> Iterator[Activator]:
    """The program behind a TCP activator run as RUNNER, JWT only (the TCP unit's
    ExecStart)."""
    with activated(f"127.0.0.1:{free_port()}", [program(), "-a", "rest_auth/jwt", *args],
                   inetd=mode == "inetd", as_user=RUNNER, setenv=setenv) as act:
        yield act


@pytest.fixture(params=MODES)
def service(request: pytest.FixtureRequest) -> Iterator[Activator]:
    yield from tcp(request.param)


@pytest.fixture(params=MODES)
def idle_service(request: pytest.FixtureRequest) -> Iterator[Activator]:
    yield from tcp(request.param, "--idle-timeout", "1")


# -- the unit files ---------------------------------------------------------------------

def unit_copies(tmp: Path, exec_path: str) -> Path:
    """Copies of the unit files whose ExecStart names an installed program."""
    for src in UNITS.iterdir():
        (tmp / src.name).write_text(src.read_text().replace(INSTALLED, exec_path))
    return tmp


def verify(directory: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANALYZE, "verify", "--man=no", *names], cwd=directory,
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**base_env(), "SYSTEMD_LOG_LEVEL": "notice"})


PAIRS = [("slurmrest-stdio.socket", "slurmrest-stdio@.service"),
         ("slurmrest-stdio-local.socket", "slurmrest-stdio-local@.service")]


def test_unit_files_are_the_expected_ones() -> None:
    assert sorted(p.name for p in UNITS.iterdir()) == sorted(n for pair in PAIRS for n in pair)
    for _, service_unit in PAIRS:
        assert f"ExecStart={INSTALLED} " in (UNITS / service_unit).read_text()


@pytest.mark.parametrize("pair", PAIRS, ids=["tcp", "local"])
def test_units_pass_systemd_analyze_verify(tmp_path: Path, pair: tuple[str, str]) -> None:
    unit_copies(tmp_path, program())
    done = verify(tmp_path, *pair)
    # verify warns about a directive it ignores but still exits 0: warnings fail too
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.parametrize("breakage", ["bad value", "unknown directive", "missing program"])
def test_verify_catches_broken_units(tmp_path: Path, breakage: str) -> None:
    """The check above can fail: the same copies, each broken in one way."""
    exec_path = "/nonexistent/slurmrest-stdio" if breakage == "missing program" else program()
    unit_copies(tmp_path, exec_path)
    unit = tmp_path / "slurmrest-stdio@.service"
    text = unit.read_text()
    if breakage == "bad value":
        text = text.replace("NoNewPrivileges=yes", "NoNewPrivileges=perhaps")
    elif breakage == "unknown directive":
        text = text.replace("PrivateTmp=yes", "PrivateTmpp=yes")
    unit.write_text(text)
    done = verify(tmp_path, *PAIRS[0])
    assert done.returncode != 0 or done.stdout + done.stderr != ""


def test_memory_deny_write_execute(alice_token: str) -> None:
    """MemoryDenyWriteExecute=yes: the program, ctypes included (the -u/-g switch and the
    jobs' update_time check use it), works where no memory may be writable and executable.
    The kernel's own PR_SET_MDWE (kept across exec) stands in for systemd's seccomp filter."""
    launcher = (
        "import ctypes, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "if libc.prctl(65, 1, 0, 0, 0):\n"  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
        "    raise SystemExit('PR_SET_MDWE: ' + os.strerror(ctypes.get_errno()))\n"
        "os.execv(sys.argv[1], sys.argv[1:])\n"
    )
    probe = subprocess.run(
        [sys.executable, "-c", launcher, sys.executable, "-c",
         "import mmap; mmap.mmap(-1, 4096, prot=7)"],
        capture_output=True, timeout=30, check=False)
    assert b"PermissionError" in probe.stderr, "PR_SET_MDWE did not take effect"
    payload = (request("GET", PING, auth(alice_token))
               + request("GET", f"{JOBS}?update_time=1", auth(alice_token)))
    with tempfile.TemporaryFile() as src:
        src.write(payload)
        src.seek(0)
        done = subprocess.run(
            [sys.executable, "-c", launcher, program(), "-u", TEST_USER, "-g", TEST_USER],
            stdin=src, capture_output=True, timeout=60, check=False, env=base_env(), cwd="/")
    assert done.returncode == 0, done.stderr
    assert [r.status for r in parse_responses(done.stdout)] == [200, 200]


# -- TCP with tokens -----------------------------------------------------------------------

def test_token_ping_and_no_token(service: Activator, alice_token: str) -> None:
    [ok] = exchange(service, request("GET", PING, auth(alice_token)))
    assert ok.status == 200 and b'"ping": "UP"' in ok.body
    [refused] = exchange(service, request("GET", PING))
    assert refused.status == 401
    log = service.log_text()
    assert "user=alice status=200" in log


def test_pipelined_keep_alive(service: Activator, alice_token: str) -> None:
    with service.connect() as sock:
        sock.sendall(request("GET", PING, auth(alice_token))
                     + request("GET", NOPE, auth(alice_token))
                     + request("GET", PING, f"X-SLURM-USER-TOKEN: {alice_token}"))
        first = read_responses(sock, 3)
        assert [r.status for r in first] == [200, 404, 200]
        # still open: one more request on the same connection, then the program closes
        sock.sendall(request("GET", NOPE, auth(alice_token), "Connection: close"))
        rest = parse_responses(read_to_eof(sock))
    assert [r.status for r in rest] == [404]
    assert service.wait_no_children() == []


def test_fifty_concurrent_connections(service: Activator, alice_token: str) -> None:
    def one(i: int) -> tuple[int, bytes]:
        [resp] = exchange(service, request("GET", PING, auth(alice_token),
                                           f"X-Request: {i}"))
        return resp.status, resp.body

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one, range(50)))
    assert [status for status, _ in answers] == [200] * 50
    assert all(b'"ping": "UP"' in body for _, body in answers)
    assert service.wait_no_children(10) == []


def test_idle_client_gets_408_and_close(idle_service: Activator) -> None:
    started = time.monotonic()
    with idle_service.connect() as sock:
        responses = parse_responses(read_to_eof(sock))
    assert [r.status for r in responses] == [408]
    assert time.monotonic() - started < 10
    assert idle_service.wait_no_children() == []


def test_client_leaving_mid_request_leaves_no_process(service: Activator) -> None:
    with service.connect() as sock:
        sock.sendall(b"GET /slurm/v0.0.38/ping HTTP/1.1\r\nHost: x\r\n")
        assert service.wait_children() != []
    assert service.wait_no_children() == []
    assert "Traceback" not in service.log_text()


# -- UNIX socket, local authentication --------------------------------------------------

@pytest.fixture
def socket_dir() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="slurmrest-sock-"))
    tmp.chmod(0o755)  # every user must reach the socket, as in /run/slurmrest-stdio
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp)


@pytest.mark.parametrize("mode", MODES)
def test_local_auth_as_one_user(socket_dir: Path, mode: str) -> None:
    """Served as alice: alice's connection needs no token; bob's and root's are 401."""
    with activated(str(socket_dir / "s.sock"),
                   [program(), "-u", TEST_USER, "-g", TEST_USER, "-a", "rest_auth/local"],
                   inetd=mode == "inetd") as act:
        assert [r.status for r in exchange(act, request("GET", PING), user(TEST_USER))] \
            == [200]
        assert [r.status for r in exchange(act, request("GET", PING), user(OTHER_USER))] \
            == [401]
        assert [r.status for r in exchange(act, request("GET", PING))] == [401]
        assert act.wait_no_children() == []


@pytest.mark.parametrize("mode", MODES)
def test_become_user_serves_each_peer_as_itself(socket_dir: Path, mode: str) -> None:
    """As slurmrest-stdio-local@.service: started as root, each connection becomes its
    peer; a root peer is refused before anything is read."""
    with activated(str(socket_dir / "s.sock"), [program(), "-a", "rest_auth/local"],
                   inetd=mode == "inetd",
                   setenv={"SLURMRESTD_SECURITY": "become_user"}) as act:
        alice = exchange(act, request("GET", PING) + request("GET", JOBS), user(TEST_USER))
        assert [r.status for r in alice] == [200, 200]
        assert b'"jobs": [' in alice[1].body
        bob = exchange(act, request("GET", PING), user(OTHER_USER))
        assert [r.status for r in bob] == [200]
        with act.connect() as sock:  # root: refused at start-up, nothing read or written
            sock.sendall(request("GET", PING))
            try:
                answer = read_to_eof(sock)
            except ConnectionResetError:  # our request was never read
                answer = b""
        assert answer == b""
        assert act.wait_no_children() == []
        log = act.log_text()
    assert f"GET {PING} HTTP/1.1 user={TEST_USER} status=200" in log
    assert f"GET {JOBS} HTTP/1.1 user={TEST_USER} status=200" in log
    assert f"GET {PING} HTTP/1.1 user={OTHER_USER} status=200" in log
    assert "should not be run as the root user" in log

