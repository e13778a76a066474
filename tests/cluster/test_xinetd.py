"""contrib/xinetd/slurmrest-stdio under Debian's real xinetd, over real TCP.

The contrib stanza itself is used, with only what a test must change substituted: a free
port on 127.0.0.1, the lab user ``bob`` instead of ``slurmrest``, a one-second idle
timeout, limits high enough for the concurrency test, and the most verbose logging the
program has, aimed at stderr (which under xinetd is the client's socket: the program
must refuse to write there, so every byte on the wire is HTTP). xinetd runs in the
foreground with its own pid file and is stopped by that pid.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import re
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import OTHER_USER, ROOT, ParsedResponse, parse_responses, program, request

XINETD = "/usr/sbin/xinetd"
STANZA = ROOT / "contrib" / "xinetd" / "slurmrest-stdio"
INSTALLED = "/usr/local/bin/slurmrest-stdio"
PING = "/slurm/v0.0.38/ping"
JOBS = "/slurm/v0.0.38/jobs"
SPEC = "/openapi.json"
#: the program runs as this lab user; the token's user (alice) is who the requests are
RUNNER = OTHER_USER
TOKEN_USER = "alice"
IDLE = 1.0
DEADLINE = 20.0

pytestmark = [
    pytest.mark.usefixtures("cluster", "test_user"),
    pytest.mark.skipif(not Path(XINETD).exists() or os.geteuid() != 0,
                       reason="needs Debian's xinetd and root"),
]


# -- the configuration under test ----------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def set_attribute(stanza: str, name: str, value: str) -> str:
    """``name = value`` in place of the stanza's line for ``name`` (commented out or not)."""
    pattern = re.compile(rf"(?m)^\t#?{re.escape(name)}\s+[+]?=.*$")
    assert pattern.search(stanza), f"the contrib stanza has no {name} line"
    return pattern.sub(lambda _: f"\t{name} = {value}", stanza, count=1)


def xinetd_config(port: int, log: Path) -> str:
    """The contrib stanza with the test's substitutions, after a minimal defaults section."""
    stanza = STANZA.read_text()
    server = INSTALLED if Path(INSTALLED).exists() else program()
    env = "SLURMRESTD_DEBUG=10 SLURMRESTD_DEBUG_STDERR=debug"
    if os.environ.get("SLURM_CONF"):
        env += f" SLURM_CONF={os.environ['SLURM_CONF']}"
    for name, value in [
        ("port", str(port)),
        ("bind", "127.0.0.1"),
        ("user", RUNNER),
        ("group", RUNNER),
        ("server", server),
        ("server_args", f"-a rest_auth/jwt --idle-timeout {IDLE:g} --read-timeout 30"),
        ("env", env),
        ("instances", "200"),
        ("per_source", "200"),
        ("cps", "1000 1"),
    ]:
        stanza = set_attribute(stanza, name, value)
    defaults = (
        "defaults\n{\n"
        f"\tlog_type = FILE {log}\n"
        "\tlog_on_success = PID HOST EXIT DURATION\n"
        "\tlog_on_failure = HOST\n"
        "}\n\n"
    )
    return defaults + stanza


@dataclass
class Xinetd:
    pid: int
    port: int
    #: the service's log (START/EXIT lines); xinetd's own messages go to ``daemon_log``
    log: Path
    daemon_log: Path
    proc: subprocess.Popen[bytes]

    def children(self) -> set[int]:
        """Live (non-zombie) processes whose parent is xinetd."""
        return children_of(self.pid)

    def exit_status(self, pid: int, timeout: float = 5.0) -> int:
        """The server's exit status, from xinetd's EXIT line for ``pid``."""
        pattern = re.compile(rf"EXIT: slurmrest-stdio status=(-?\d+) pid={pid}\b")
        found: list[int] = []

        def logged() -> bool:
            m = pattern.search(self.log.read_text(errors="replace"))
            if m:
                found.append(int(m[1]))
            return bool(m)

        assert wait_for(logged, timeout), f"no EXIT for pid {pid}\n{self.diagnostics()}"
        return found[0]

    def diagnostics(self) -> str:
        texts = [p.read_text(errors="replace") if p.exists() else ""
                 for p in (self.daemon_log, self.log)]
        return f"xinetd:\n{texts[0][-3000:]}\nservice:\n{texts[1][-3000:]}"


def children_of(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[1] == str(parent) and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


@pytest.fixture(scope="module")
def xinetd() -> Iterator[Xinetd]:
    with tempfile.TemporaryDirectory(prefix="slurmrest-xinetd-") as tmp:
        port = free_port()
        log = Path(tmp) / "xinetd.log"
        conf = Path(tmp) / "xinetd.conf"
        pidfile = Path(tmp) / "xinetd.pid"
        daemon_log = Path(tmp) / "xinetd-daemon.log"
        conf.write_text(xinetd_config(port, log))
        out = (Path(tmp) / "xinetd.out").open("wb")
        proc = subprocess.Popen(
            [XINETD, "-dontfork", "-stayalive", "-pidfile", str(pidfile),
             "-filelog", str(daemon_log), "-f", str(conf)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd="/",
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
        )
        out.close()
        server = Xinetd(proc.pid, port, log, daemon_log, proc)
        try:
            if not wait_for(lambda: _accepts(port) or proc.poll() is not None, 10):
                raise AssertionError("xinetd never listened\n" + server.diagnostics())
            assert proc.poll() is None, (Path(tmp) / "xinetd.out").read_text()
            # the probe connections above started servers that see EOF and exit
            wait_for(lambda: not server.children(), 10)
            yield server
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            # servers outlive xinetd (they are their own processes): end ours by pid
            for pid in children_of(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def alice_token() -> str:
    out = subprocess.run(
        ["scontrol", "token", f"username={TOKEN_USER}", "lifespan=600"],
        capture_output=True, text=True, check=True, timeout=30,
    )
    m = re.search(r"SLURM_JWT=(\S+)", out.stdout)
    assert m, out
    return m[1]


def auth(token: str) -> dict[str, str]:
    return {"X-SLURM-USER-NAME": TOKEN_USER, "X-SLURM-USER-TOKEN": token}


def auth_lines(token: str) -> list[str]:
    return [f"{k}: {v}" for k, v in auth(token).items()]


# -- raw TCP -------------------------------------------------------------------------------

def connect(server: Xinetd) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)


def read_to_eof(sock: socket.socket, timeout: float = DEADLINE) -> bytes:
    data = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no EOF within {timeout}s; got {bytes(data)!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            return bytes(data)
        data += chunk


def exchange(server: Xinetd, raw: bytes) -> list[ParsedResponse]:
    """Send ``raw`` in one write, read until the server closes, parse every byte."""
    with connect(server) as sock:
        sock.sendall(raw)
        data = read_to_eof(sock)
    return parse_responses(data, strict=True)


def http_get(server: Xinetd, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=DEADLINE)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


# -- the tests -----------------------------------------------------------------------------

def test_the_contrib_stanza_is_what_xinetd_was_given(xinetd: Xinetd) -> None:
    """xinetd parsed the stanza without complaint (it logs problems to its log)."""
    text = xinetd.daemon_log.read_text(errors="replace")
    assert "Started working: 1 available service" in text, xinetd.diagnostics()
    assert not re.search(r"(?i)\b(bad|unknown|error|missing)\b", text), xinetd.diagnostics()


def test_a_token_is_served_and_no_token_is_401(xinetd: Xinetd, alice_token: str) -> None:
    status, ctype, body = http_get(xinetd, PING, auth(alice_token))
    assert status == 200, (body, xinetd.diagnostics())
    assert ctype == "application/json"
    assert json.loads(body)["pings"][0]["ping"] == "UP"

    status, ctype, body = http_get(xinetd, JOBS, {"Authorization": f"Bearer {alice_token}"})
    assert status == 200, body
    assert ctype == "application/json"
    assert isinstance(json.loads(body)["jobs"], list)

    status, _, body = http_get(xinetd, PING, {})
    assert status == 401, body
    assert body.startswith(b"Authentication failure")


def test_pipelined_requests_are_answered_in_order_on_one_connection(
    xinetd: Xinetd, alice_token: str,
) -> None:
    creds = auth_lines(alice_token)
    raw = (request("GET", PING, *creds)
           + request("GET", "/nope", *creds)
           + request("GET", SPEC, *creds, "Connection: close"))
    responses = exchange(xinetd, raw)
    assert [r.status for r in responses] == [200, 404, 200]
    assert b'"pings"' in responses[0].body
    assert responses[1].content_type == "text/plain"
    assert json.loads(responses[2].body)["openapi"].startswith("3.")
    assert responses[2].header("connection") == "close"


def test_fifty_concurrent_connections_are_all_answered(
    xinetd: Xinetd, alice_token: str,
) -> None:
    creds = auth_lines(alice_token)
    start = threading.Barrier(50, timeout=DEADLINE)

    def one(i: int) -> list[int]:
        path = PING if i % 10 == 0 else SPEC
        with connect(xinetd) as sock:
            start.wait()
            sock.sendall(request("GET", path, *creds, "Connection: close"))
            responses = parse_responses(read_to_eof(sock, 45), strict=True)
        body = json.loads(responses[0].body)
        assert ("pings" in body) if path == PING else ("openapi" in body), body
        return [r.status for r in responses]

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50), timeout=60))
    assert results == [[200]] * 50, xinetd.diagnostics()


def test_an_idle_client_gets_408_from_the_program_and_the_connection_closes(
    xinetd: Xinetd, alice_token: str,
) -> None:
    assert wait_for(lambda: not xinetd.children(), 10), "servers of earlier tests linger"
    with connect(xinetd) as sock:
        started = time.monotonic()
        assert wait_for(lambda: len(xinetd.children()) == 1, 5), xinetd.diagnostics()
        (child,) = xinetd.children()
        silent = read_to_eof(sock, 10)
        waited = time.monotonic() - started
    (resp,) = parse_responses(silent, strict=True)
    assert resp.status == 408
    assert resp.header("connection") == "close"
    assert IDLE * 0.8 <= waited < IDLE + 5
    assert xinetd.exit_status(child) == 0, "an idle timeout is a clean end"

    # after a request the idle timeout starts again
    with connect(xinetd) as sock:
        sock.sendall(request("GET", SPEC, *auth_lines(alice_token)))
        answered = read_to_eof(sock, 15)
    assert [r.status for r in parse_responses(answered, strict=True)] == [200, 408]


@pytest.mark.parametrize(("how", "status"), [("close", 3), ("reset", 5)])
def test_a_client_that_leaves_mid_request_leaves_no_process(
    xinetd: Xinetd, how: str, status: int,
) -> None:
    """FIN: the request was cut short (3; the 400 goes nowhere). RST: the 400 cannot even
    be written (5). Either way the process is gone at once, not after the read timeout."""
    assert wait_for(lambda: not xinetd.children(), 10), "servers of earlier tests linger"
    sock = connect(xinetd)
    try:
        # half a request: the program waits for the rest (read timeout 30 s, not idle)
        sock.sendall(b"POST /slurm/v0.0.38/job/submit HTTP/1.1\r\nContent-Length: 500\r\n\r\n{")
        assert wait_for(lambda: len(xinetd.children()) == 1, 10), xinetd.diagnostics()
        (child,) = xinetd.children()
        time.sleep(0.3)
        assert child in xinetd.children(), "the server must still wait for the request"
        if how == "reset":
            # linger on, 0 s: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
    # well within the 30 s read timeout: the process noticed the client is gone
    assert wait_for(lambda: child not in xinetd.children() and not Path(f"/proc/{child}").exists(),
                    5), f"pid {child} is still there"
    assert xinetd.exit_status(child) == status


def test_only_http_is_ever_written_to_the_socket(xinetd: Xinetd, alice_token: str) -> None:
    """The stanza's server logs at debug level and asks for stderr, and stderr is the
    socket: errors, refusals and successes alike leave nothing but HTTP on the wire."""
    creds = auth_lines(alice_token)
    conversations = [
        request("GET", PING, *creds) + request("GET", "/x", "Connection: close"),
        request("GET", JOBS, "X-SLURM-USER-TOKEN: not.a.token", "Connection: close"),
        b"GARBAGE\r\n\r\n",
        request("GET", SPEC, *creds, version="2.0"),
        request("POST", "/slurm/v0.0.38/job/submit", *creds, "Content-Type: application/json",
                body=b"{}") + request("GET", SPEC, *creds, "Connection: close"),
    ]
    expected = [[200, 401], [401], [400], [505], [500, 200]]
    for raw, statuses in zip(conversations, expected, strict=True):
        responses = exchange(xinetd, raw)
        assert [r.status for r in responses] == statuses, (raw, responses)
        for r in responses:
            assert b"slurmrest-stdio[" not in r.body
            assert b"Traceback" not in r.body


def test_the_server_runs_as_the_stanza_user_with_no_groups(xinetd: Xinetd) -> None:
    assert wait_for(lambda: not xinetd.children(), 10), "servers of earlier tests linger"
    with connect(xinetd) as sock:
        assert wait_for(lambda: len(xinetd.children()) == 1, 10), xinetd.diagnostics()
        (child,) = xinetd.children()
        # xinetd forks, sets the ids, then executes the server: look once it has
        assert wait_for(lambda: b"slurmrest-stdio" in Path(f"/proc/{child}/cmdline").read_bytes(),
                        5)
        text = Path(f"/proc/{child}/status").read_text()
        sock.sendall(request("GET", SPEC, "Connection: close"))
        (resp,) = parse_responses(read_to_eof(sock), strict=True)
    assert resp.status == 401  # no token, and local authentication never applies to TCP
    ids = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    pw = pwd.getpwnam(RUNNER)
    assert ids["Uid"].split() == [str(pw.pw_uid)] * 4
    assert ids["Gid"].split() == [str(pw.pw_gid)] * 4
    assert ids["Groups"].strip() == ""


# -- README's curl examples, run against this very xinetd ---------------------------------

def readme_curl_lines() -> list[str]:
    text = (ROOT / "README.rst").read_text()
    section = text[text.index("\nxinetd\n------\n"):text.index("\nsystemd socket activation\n")]
    return [line.strip() for line in section.splitlines() if line.strip().startswith("curl ")]


def test_readme_curl_examples_work_against_the_stanza(xinetd: Xinetd, alice_token: str) -> None:
    lines = readme_curl_lines()
    assert len(lines) == 3
    env = {"USER": TOKEN_USER, "SLURM_JWT": alice_token}
    outputs = []
    for line in lines:
        # expand the two variables ourselves and split like a shell: no shell runs
        argv = [
            re.sub(r"\$(\w+)", lambda m: env[m[1]], word).replace(
                "localhost:6820", f"127.0.0.1:{xinetd.port}")
            for word in shlex.split(line)
        ]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        assert out.returncode == 0, (argv[0], out.stderr)
        outputs.append(out.stdout)
    assert json.loads(outputs[0])["pings"][0]["ping"] == "UP"
    assert isinstance(json.loads(outputs[1])["jobs"], list)
    assert outputs[2] == "401\n"
