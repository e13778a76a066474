"""The privilege model on the real process: -u/-g, the refused identities, become_user.

The proof is read where the kernel keeps it: ``/proc/<pid>/status`` of the running program
(Uid, Gid, Groups, NoNewPrivs, CapPrm, CapEff), read while it waits for its next request,
plus its session id. The program is started as root (as xinetd or systemd would) and the
connection is made by the test user.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slurmrest_stdio.config import AUTH_PLUGINS
from slurmrest_stdio.serve import ExitCode
from tests.helpers import (
    IN_CI,
    OTHER_USER,
    TEST_USER,
    User,
    acting_as,
    base_env,
    have_user,
    program,
    user,
)
from tests.integration.support import (
    NOPE,
    NOT_FOUND_TEXT,
    PING,
    Outcome,
    Session,
    assert_error_response,
    assert_no_traceback,
    finish,
    get,
    has_complete_response,
    imported_modules,
    owned_pty,
    pipe_session,
    python_module_command,
    read_available,
    read_to_eof,
    socketpair_as,
)

LOCAL = ["-a", "rest_auth/local"]
BECOME = "become_user"


@pytest.fixture
def root() -> None:
    """These tests start the program as root, as a super-server does."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the privilege tests must run as root in CI")
        pytest.skip("the privilege tests need root")


@pytest.fixture
def alice(root: None, test_user: str) -> User:
    return user(test_user)


def slurm_user_name() -> str:
    conf = Path(os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")).read_text()
    for line in conf.splitlines():
        if line.strip().lower().startswith("slurmuser="):
            return line.split("=", 1)[1].split()[0]
    return "root"


@pytest.fixture
def slurm(root: None) -> User:
    """SlurmUser of the lab cluster (``slurm``): an account, not root."""
    name = slurm_user_name()
    if name == "root" or not have_user(name):
        message = f"a SlurmUser account other than root (slurm.conf names {name!r})"
        if IN_CI:
            pytest.fail(f"{message} is required in CI")
        pytest.skip(f"{message} is not available")
    return user(name)


# -- reading the kernel's view -------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """The identity lines of /proc/<pid>/status."""

    uids: tuple[int, ...]  # real, effective, saved, filesystem
    gids: tuple[int, ...]
    groups: frozenset[int]
    no_new_privs: int
    cap_permitted: int
    cap_effective: int
    session: int

    @classmethod
    def of(cls, pid: int) -> Status:
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return cls(
            uids=tuple(int(v) for v in fields["Uid"].split()),
            gids=tuple(int(v) for v in fields["Gid"].split()),
            groups=frozenset(int(v) for v in fields["Groups"].split()),
            no_new_privs=int(fields["NoNewPrivs"]),
            cap_permitted=int(fields["CapPrm"], 16),
            cap_effective=int(fields["CapEff"], 16),
            session=os.getsid(pid),
        )

    def assert_dropped_to(self, u: User, gid: int, groups: Sequence[int], pid: int) -> None:
        assert self.uids == (u.uid,) * 4, self
        assert self.gids == (gid,) * 4, self
        assert self.groups == frozenset(groups), self
        assert self.no_new_privs == 1, self
        assert self.cap_permitted == 0 and self.cap_effective == 0, self
        assert self.session == pid, "a new session: no controlling terminal of the starter"


def status_when(pid: int, ready: Callable[[Status], bool] | None = None,
                timeout: float = 10.0) -> Status:
    """The status once ``ready(status)`` holds (or at once without ``ready``)."""
    deadline = time.monotonic() + timeout
    while True:
        status = Status.of(pid)
        if ready is None or ready(status):
            return status
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.02)


def login_groups(u: User) -> list[int]:
    return os.getgrouplist(u.name, u.gid)


# -- starting the program as root ----------------------------------------------------------------


def start(stdin: Any, stdout: Any, args: Sequence[str], *, env: dict[str, str] | None = None,
          extra_groups: Sequence[int] | None = None,
          command: Sequence[str] | None = None) -> subprocess.Popen[bytes]:
    """The program as root (with ``extra_groups`` as its supplementary groups if given)."""
    return subprocess.Popen(
        [*(command or [program()]), *args], stdin=stdin, stdout=stdout,
        stderr=subprocess.PIPE, env=base_env() if env is None else env, cwd="/",
        extra_groups=None if extra_groups is None else list(extra_groups),
    )


@contextlib.contextmanager
def root_on_pipe(args: Sequence[str], *, maker: str = TEST_USER,
                 env: dict[str, str] | None = None,
                 extra_groups: Sequence[int] | None = None) -> Iterator[Session]:
    """Started as root; stdin is a pipe ``maker`` made, stdout a pipe we read."""
    with acting_as(user(maker)):
        in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        proc = start(in_r, out_w, args, env=env, extra_groups=extra_groups)
    finally:
        os.close(in_r)
        os.close(out_w)
    session = Session(proc, in_w, out_r, owned=[in_w, out_r])
    try:
        yield session
    finally:
        session.close()


@contextlib.contextmanager
def root_on_socket(args: Sequence[str], *, maker: str | None = TEST_USER,
                   env: dict[str, str] | None = None,
                   command: Sequence[str] | None = None) -> Iterator[Session]:
    """Started as root on one end of a socketpair made as ``maker`` (None: as root)."""
    ours, theirs = socketpair_as(maker) if maker else socket.socketpair()
    try:
        proc = start(theirs, theirs, args, env=env, command=command)
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


def become_env(*extra: str) -> dict[str, str]:
    return base_env(SLURMRESTD_SECURITY=",".join((BECOME, *extra)))


def one_request(s: Session, request: bytes) -> tuple[Status, Outcome]:
    """Send one request, read its response, take the status while the program waits for
    the next request, then end the conversation."""
    s.send(request)
    s.read_until(has_complete_response)
    status = Status.of(s.proc.pid)
    s.close_input()
    return status, s.finish()


def assert_refused(out: Outcome, *reasons: str) -> None:
    """Exit 1, nothing on the connection, and the reason in a logged fatal line."""
    assert out.returncode == ExitCode.STARTUP, out.stderr
    assert out.output == b""
    fatal = [line for line in out.log_lines() if "fatal:" in line]
    assert fatal, out.stderr
    for reason in reasons:
        assert reason in fatal[0], fatal[0]
    assert_no_traceback(out.stderr)


def refused_on_pipe(args: Sequence[str], *, maker: str = TEST_USER,
                    env: dict[str, str] | None = None) -> Outcome:
    with root_on_pipe(args, maker=maker, env=env) as s:
        s.close_input()
        return s.finish()


# -- -u / -g ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["user-and-group", "user-alone", "numeric"])
def test_drop_to_user(alice: User, how: str) -> None:
    args = {
        "user-and-group": ["-u", alice.name, "-g", alice.name],
        "user-alone": ["-u", alice.name],
        "numeric": ["-u", str(alice.uid), "-g", str(alice.gid)],
    }[how]
    with root_on_pipe([*args, *LOCAL]) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)  # local auth: the pipe is alice's
    # -u/-g name a service identity: that uid and gid, no supplementary groups at all
    status.assert_dropped_to(alice, alice.gid, [], s.proc.pid)
    assert any(f"serving as {alice.name} (uid {alice.uid}" in li for li in out.log_lines())
    assert any(f"user={alice.name} status=404" in li for li in out.log_lines())


def test_drop_clears_the_starters_groups(alice: User) -> None:
    """A root with supplementary groups (root, adm) keeps none of them, even with -u alone
    (slurmrestd 22.05 dropped groups only when -g was given)."""
    with root_on_pipe(["-u", alice.name, *LOCAL], extra_groups=[0, 4]) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    status.assert_dropped_to(alice, alice.gid, [], s.proc.pid)
    # the control: without -u the same start keeps those groups (root on purpose)
    env = base_env(SLURMRESTD_SECURITY="disable_user_check")
    with root_on_pipe(LOCAL, maker="root", env=env, extra_groups=[0, 4]) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    assert status.groups == {0, 4}


def test_drop_without_unsharing(alice: User) -> None:
    env = base_env(SLURMRESTD_SECURITY="disable_unshare_files,disable_unshare_sysv")
    with root_on_pipe(["-u", alice.name, *LOCAL], env=env) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    status.assert_dropped_to(alice, alice.gid, [], s.proc.pid)


@pytest.mark.parametrize(("args", "reason"), [
    pytest.param(["-u", "root"], "should not be run as the root user", id="user-root"),
    pytest.param(["-g", "root"], "should not be run as the root user", id="group-alone"),
    pytest.param(["-u", "{alice}", "-g", "root"], "should not be run with the root group",
                 id="group-root"),
    pytest.param(["-u", "nobody"], "should not be run as nobody", id="user-nobody"),
    pytest.param(["-u", "{alice}", "-g", "nogroup"], "should not be run with the nobody group",
                 id="group-nogroup"),
    pytest.param(["-u", "65534", "-g", "{alice}"], "should not be run as nobody",
                 id="uid-65534"),
])
def test_refused_identities(alice: User, args: list[str], reason: str) -> None:
    argv = [a.format(alice=alice.name) for a in args]
    out = refused_on_pipe([*argv, *LOCAL])
    assert_refused(out, reason, "SLURMRESTD_SECURITY=disable_user_check overrides this")


@pytest.mark.parametrize("args", [["-u", "{slurm}"], ["-u", "{alice}", "-g", "{slurm}"]],
                         ids=["user-slurm", "group-slurm"])
def test_slurm_user_is_refused(alice: User, slurm: User, args: list[str]) -> None:
    argv = [a.format(alice=alice.name, slurm=slurm.name) for a in args]
    out = refused_on_pipe([*argv, *LOCAL])
    assert_refused(out, "SlurmUser", f"({slurm.name})", "disable_user_check")


@pytest.mark.parametrize(("args", "maker", "gid"), [
    pytest.param(["-u", "nobody"], "nobody", None, id="nobody"),
    pytest.param(["-u", "{alice}", "-g", "root"], TEST_USER, 0, id="root-group"),
])
def test_disable_user_check_overrides(alice: User, args: list[str], maker: str,
                                      gid: int | None) -> None:
    argv = [a.format(alice=alice.name) for a in args]
    target = user(maker)
    env = base_env(SLURMRESTD_SECURITY="disable_user_check")
    with root_on_pipe([*argv, *LOCAL], maker=maker, env=env) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)
    status.assert_dropped_to(target, target.gid if gid is None else gid, [], s.proc.pid)


def test_unprivileged_drop_to_oneself_works(test_user: str) -> None:
    """-u naming the user we already are needs no privilege; the hardening still applies."""
    with pipe_session(args=["-u", test_user, *LOCAL]) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    u = user(test_user)
    status.assert_dropped_to(u, u.gid, [], s.proc.pid)


#: A shell's job on a terminal: a session owning the pty (argv[1], fd) as its controlling
#: terminal, and the program in its own foreground process group, which it leads (so
#: setsid() is refused and the terminal must be given up another way). Prints its pid.
_SHELL_JOB = r"""
import os, signal, sys
tty_fd = int(sys.argv[1])
os.setsid()
os.close(os.open(os.ttyname(tty_fd), os.O_RDWR))  # becomes the controlling terminal
child = os.fork()
if child == 0:
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.setpgid(0, 0)
    os.tcsetpgrp(tty_fd, os.getpgrp())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.dup2(tty_fd, 0)
    os.dup2(tty_fd, 1)
    os.execv(sys.argv[2], sys.argv[2:])
print(child, flush=True)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
"""


def controlling_tty(pid: int) -> int:
    """tty_nr of /proc/<pid>/stat: 0 when the process has no controlling terminal."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[4])


def test_drop_gives_up_the_starters_terminal(alice: User) -> None:
    """A process group leader on root's terminal (``slurmrest-stdio -u alice`` typed at a
    root shell) cannot start a new session; it gives the terminal up instead, so alice's
    process cannot push input into root's terminal. It still serves on that terminal."""
    master, slave = owned_pty(alice.name)
    launcher = subprocess.Popen(
        [sys.executable, "-c", _SHELL_JOB, str(slave), program(), "-u", alice.name, *LOCAL],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=base_env(), cwd="/", pass_fds=[slave],
    )
    os.close(slave)
    pid = 0
    with launcher:
        try:
            assert launcher.stdout is not None
            pid = int(launcher.stdout.readline())
            status = status_when(pid, lambda st: st.uids[0] == alice.uid)
            os.write(master, get(NOPE))
            answer = read_to_eof_or_response(master)
            tty_nr = controlling_tty(pid)
            os.write(master, get(NOPE, "Connection: close"))  # then it exits
            code, err = finish(launcher)
        finally:
            if launcher.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    if pid:
                        os.kill(pid, signal.SIGKILL)
                launcher.kill()
            os.close(master)
    assert code == 0, err
    assert tty_nr == 0, "the terminal was given up"
    assert status.session != pid  # setsid() was refused: it leads its process group
    assert b" 404 " in answer


def read_to_eof_or_response(fd: int) -> bytes:
    data = b""
    deadline = time.monotonic() + 10
    while not has_complete_response(data):
        assert time.monotonic() < deadline, data
        chunk = read_available(fd, deadline - time.monotonic())
        assert chunk, data
        data += chunk
    return data


# -- the hardening costs nothing when it is not used --------------------------------------------


def traced_imports(args: Sequence[str]) -> tuple[Outcome, set[str]]:
    with tempfile.TemporaryFile() as err_file:
        command = python_module_command("-X", "importtime")
        with pipe_session(command=command, stderr=err_file, args=args) as s:
            s.send(get(NOPE, "Connection: close"))
            out = s.finish()
        err_file.seek(0)
        stderr = err_file.read().decode("utf-8", "replace")
    return Outcome(out.returncode, out.output, stderr), imported_modules(stderr)


def test_plain_start_loads_no_ctypes(test_user: str) -> None:
    out, modules = traced_imports(LOCAL)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "slurmrest_stdio.io.privileges" in modules
    assert "ctypes" not in modules


def test_drop_loads_ctypes(test_user: str) -> None:
    """The converse, so the test above can fail."""
    out, modules = traced_imports(["-u", test_user, *LOCAL])
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ctypes" in modules


# -- become_user --------------------------------------------------------------------------------


@pytest.mark.parametrize("peer", [TEST_USER, OTHER_USER])
def test_become_user_takes_the_peers_identity(root: None, test_user: str, peer: str) -> None:
    if not have_user(peer):
        pytest.skip(f"no user {peer}")
    u = user(peer)
    with root_on_socket(LOCAL, maker=peer, env=become_env()) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert_error_response(resp, 404, NOT_FOUND_TEXT)  # local auth accepts: same uid now
    status.assert_dropped_to(u, u.gid, login_groups(u), s.proc.pid)
    lines = out.log_lines()
    assert any(f"become_user: now serving peer {peer} (uid {u.uid}" in li for li in lines)
    assert any(f"user={peer} status=404" in li for li in lines)


def test_become_user_switches_before_the_first_request(alice: User) -> None:
    with root_on_socket(LOCAL, maker=alice.name, env=become_env()) as s:
        status = status_when(s.proc.pid, lambda st: st.uids[0] == alice.uid)
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    assert out.output == b""
    status.assert_dropped_to(alice, alice.gid, login_groups(alice), s.proc.pid)


def test_become_user_runs_slurm_as_the_peer(cluster: None, alice: User) -> None:
    with root_on_socket(LOCAL, maker=alice.name, env=become_env()) as s:
        s.send(get(PING, "Connection: close"))
        out = s.finish()
    assert out.returncode == 0, out.stderr
    (resp,) = out.responses()
    assert resp.status == 200, resp.body
    assert b'"UP"' in resp.body
    assert any(f"GET {PING} HTTP/1.1 user={alice.name} status=200" in li
               for li in out.log_lines())


def test_become_user_refuses_a_root_peer(root: None) -> None:
    with root_on_socket(LOCAL, maker=None, env=become_env()) as s:
        out = s.finish()
    assert_refused(out, "become_user: refusing peer root (uid 0", "root user",
                   "disable_user_check overrides this")


def test_become_user_refuses_a_slurm_user_peer(slurm: User) -> None:
    with root_on_socket(LOCAL, maker=slurm.name, env=become_env()) as s:
        out = s.finish()
    assert_refused(out, f"refusing peer {slurm.name}", "SlurmUser")


@pytest.mark.parametrize("security", [(), ("disable_user_check",)])
def test_become_user_refuses_a_nobody_peer(root: None, security: tuple[str, ...]) -> None:
    """Even with disable_user_check: SO_PEERCRED's nobody names no one."""
    with root_on_socket(LOCAL, maker="nobody", env=become_env(*security)) as s:
        out = s.finish()
    assert_refused(out, "become_user: refusing peer uid 65534", "nobody")


def test_become_user_root_peer_with_disable_user_check(root: None) -> None:
    """The override is explicit: a root peer then gets a root server (it was root anyway)."""
    with root_on_socket(LOCAL, maker=None, env=become_env("disable_user_check")) as s:
        status, out = one_request(s, get(NOPE))
    assert out.returncode == 0, out.stderr
    assert_error_response(out.responses()[0], 404, NOT_FOUND_TEXT)
    assert status.uids == (0,) * 4 and status.no_new_privs == 1


@pytest.mark.parametrize("kind", ["pipe", "file", "tty"])
def test_become_user_refuses_non_socket_input(alice: User, kind: str,
                                              tmp_path: Path) -> None:
    if kind == "pipe":
        out = refused_on_pipe(LOCAL, env=become_env())
        assert_refused(out, "only unix socket connections", "(fifo)")
        return
    if kind == "file":
        path = tmp_path / "requests.http"
        path.write_bytes(get(NOPE))
        os.chown(path, alice.uid, alice.gid)
        path.chmod(0o600)
        with open(path, "rb") as stdin:
            proc = start(stdin, subprocess.PIPE, LOCAL, env=become_env())
            stdout, stderr = proc.communicate(timeout=15)
        out = Outcome(proc.returncode, stdout, stderr.decode())
        assert_refused(out, "only unix socket connections", "(reg)")
        return
    master, slave = owned_pty(alice.name)
    try:
        proc = start(slave, slave, LOCAL, env=become_env())
        os.close(slave)
        code, err = finish(proc)
        output = read_to_eof(master)
    finally:
        os.close(master)
    assert_refused(Outcome(code, output, err), "only unix socket connections", "(chr)")


def test_become_user_refuses_tcp(root: None) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname()[:2], timeout=15)
        accepted, _ = server.accept()
    try:
        proc = start(accepted, accepted, LOCAL, env=become_env())
        accepted.close()
        code, err = finish(proc)
        client.shutdown(socket.SHUT_WR)
        output = read_to_eof(client.fileno())
    finally:
        client.close()
    assert_refused(Outcome(code, output, err), "only unix socket connections", "(tcp)")


#: run() with a Config that has the JWT plugin in its chain, whatever the CLI accepts today
_RUN_WITH_JWT = """
import sys
from slurmrest_stdio import serve
from slurmrest_stdio.config import Config
sys.exit(serve.run(Config(auth_types=("rest_auth/local", "rest_auth/jwt"),
                          security=frozenset({"become_user"}), log_stderr_level=20)))
"""


def test_become_user_refuses_the_jwt_plugin(alice: User) -> None:
    with root_on_socket([], maker=alice.name, env=become_env(),
                        command=[sys.executable, "-c", _RUN_WITH_JWT]) as s:
        out = s.finish()
    assert_refused(out, "rest_auth/jwt cannot be used in SLURMRESTD_SECURITY=become_user")


@pytest.mark.skipif("rest_auth/jwt" not in AUTH_PLUGINS, reason="no rest_auth/jwt plugin")
@pytest.mark.parametrize("args", [["-a", "rest_auth/jwt,rest_auth/local"], []],
                         ids=["explicit", "default-chain"])
def test_become_user_refuses_the_jwt_plugin_from_the_command_line(alice: User,
                                                                  args: list[str]) -> None:
    """Like slurmrestd: without -a every plugin is loaded, JWT included, so become_user
    needs ``-a rest_auth/local``."""
    with root_on_socket(args, maker=alice.name, env=become_env()) as s:
        out = s.finish()
    assert_refused(out, "rest_auth/jwt cannot be used", "-a rest_auth/local")


def test_become_user_with_user_option_is_refused(alice: User) -> None:
    with root_on_socket(["-u", alice.name, *LOCAL], maker=alice.name, env=become_env()) as s:
        out = s.finish()
    assert_refused(out, "cannot be combined with -u/-g")


def test_become_user_needs_root(test_user: str) -> None:
    with acting_as(user(test_user)):
        ours, theirs = socket.socketpair()
    u = user(test_user)
    try:
        proc = subprocess.Popen(
            [program(), *LOCAL], stdin=theirs.fileno(), stdout=theirs.fileno(),
            stderr=subprocess.PIPE,
            env=become_env(), cwd="/", user=u.uid, group=u.gid, extra_groups=[],
        )
        theirs.close()
        code, err = finish(proc)
        ours.shutdown(socket.SHUT_WR)
        output = read_to_eof(ours.fileno())
    finally:
        ours.close()
    assert_refused(Outcome(code, output, err), "become_user must be started as root",
                   f"uid {u.uid}")
