"""Shared test helpers: run the real program, own fds as a test user, parse raw HTTP.

Tests run as root in CI (the cluster script needs root), but the program refuses root,
so it runs as the unprivileged lab user ``alice`` (``TEST_USER``) and the fds it gets are
made to belong to that user, exactly as they would under xinetd or a user's own pipe.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TEST_USER = os.environ.get("SLURMREST_TEST_USER", "alice")
OTHER_USER = os.environ.get("SLURMREST_TEST_OTHER_USER", "bob")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent


def program() -> str:
    """The installed ``slurmrest-stdio`` next to the running Python (the venv's)."""
    found = Path(sys.executable).with_name("slurmrest-stdio")
    if found.exists():
        return str(found)
    path = shutil.which("slurmrest-stdio")
    assert path, "slurmrest-stdio is not installed"
    return path


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str


def user(name: str = TEST_USER) -> User:
    pw = pwd.getpwnam(name)
    return User(name, pw.pw_uid, pw.pw_gid, pw.pw_dir)


def have_user(name: str = TEST_USER) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def acting_as(u: User) -> Iterator[None]:
    """Temporarily take ``u``'s effective ids, so that pipes and socket credentials made
    meanwhile belong to ``u`` (root only; a no-op when already ``u``)."""
    if os.geteuid() == u.uid:
        yield
        return
    os.setegid(u.gid)
    os.seteuid(u.uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment for the program: no LISTEN_*, no SLURM_JWT, logs to stderr."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "SLURMRESTD_DEBUG_STDERR": "info",
    }
    if "SLURM_CONF" in os.environ:
        env["SLURM_CONF"] = os.environ["SLURM_CONF"]
    env.update(extra)
    return env


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes
    responses: list[ParsedResponse] = field(default_factory=list)


def run_pipe(
    data: bytes,
    *,
    as_user: str | None = TEST_USER,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 60,
    command: Sequence[str] | None = None,
) -> Run:
    """Pipe ``data`` into the program as ``as_user`` through a pipe that user owns, the way
    ``printf ... | slurmrest-stdio`` works in that user's shell. ``as_user=None`` runs as
    the current user (with the root check disabled when that is root). ``command``
    replaces the installed program (``args`` are still appended)."""
    env = base_env() if env is None else env
    argv = [*(command or [program()]), *args]
    if as_user is None:
        if os.geteuid() == 0:
            env = {**env, "SLURMRESTD_SECURITY": "disable_user_check"}
        pr, pw = os.pipe()
        proc = subprocess.Popen(argv, stdin=pr, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        os.close(pr)
        os.write(pw, data)
        os.close(pw)
        out, err = proc.communicate(timeout=timeout)
        return Run(proc.returncode, out, err, parse_responses(out, strict=False))
    u = user(as_user)
    with acting_as(u):
        pr, pw = os.pipe()
    try:
        proc = subprocess.Popen(
            argv, stdin=pr, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**env, "HOME": u.home, "USER": u.name}, user=u.uid, group=u.gid,
            extra_groups=[], cwd="/",
        )
    finally:
        os.close(pr)
    with contextlib.suppress(BrokenPipeError):
        os.write(pw, data)
    os.close(pw)
    out, err = proc.communicate(timeout=timeout)
    return Run(proc.returncode, out, err, parse_responses(out, strict=False))


# -- a strict parser for what the program writes ------------------------------------------

@dataclass
class ParsedResponse:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")


_STATUS = re.compile(rb"HTTP/(1\.[01]) (\d{3}) ([^\r\n]*)\r\n")


def parse_responses(raw: bytes, *, strict: bool = True, head: int = 0) -> list[ParsedResponse]:
    """Split ``raw`` into responses; with ``strict`` every byte must belong to a complete
    response (status line, CRLF headers, blank line, exactly Content-Length body).
    ``head`` counts responses (from the start) that answer HEAD and so carry no body."""
    out: list[ParsedResponse] = []
    pos = 0
    while pos < len(raw):
        m = _STATUS.match(raw, pos)
        if not m:
            if strict:
                raise AssertionError(f"not a status line at byte {pos}: {raw[pos:pos + 60]!r}")
            break
        end = raw.find(b"\r\n\r\n", m.end() - 2)
        if end < 0:
            if strict:
                raise AssertionError(f"headers never end: {raw[pos:pos + 200]!r}")
            break
        headers = []
        for line in raw[m.end():end].split(b"\r\n"):
            if not line:
                continue
            name, sep, value = line.partition(b":")
            assert sep, f"malformed header line {line!r}"
            headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
        status = int(m.group(2))
        body_start = end + 4
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), None)
        if status < 200 or status in (204, 304) or len(out) < head:
            length = 0 if length is None or len(out) < head or status < 200 else length
        if length is None:
            length = 0
        body = raw[body_start:body_start + length]
        if strict and len(body) != length:
            raise AssertionError(f"body cut short: {len(body)} of {length} bytes")
        out.append(ParsedResponse(m.group(1).decode(), status, m.group(3).decode("latin-1"),
                                  headers, body))
        pos = body_start + length
    return out


def request(method: str, path: str, *headers: str, body: bytes = b"",
            version: str = "1.1") -> bytes:
    """Raw request bytes; Content-Length is added when there is a body."""
    lines = [f"{method} {path} HTTP/{version}", *headers]
    if body and not any(h.lower().startswith(("content-length:", "transfer-encoding:"))
                        for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def slurm_up() -> bool:
    """True when the lab cluster answers ``scontrol ping``."""
    try:
        out = subprocess.run(["scontrol", "ping"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"is UP" in out.stdout


@contextlib.contextmanager
def unreachable_slurm_conf() -> Iterator[Path]:
    """A copy of the cluster's slurm.conf whose controller port nothing listens on, in a
    directory every user can read (pytest's tmp_path is private to root)."""
    text = Path(os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")).read_text()
    with tempfile.TemporaryDirectory(prefix="slurmrest-test-") as tmp:
        Path(tmp).chmod(0o755)
        conf = Path(tmp) / "slurm.conf"
        conf.write_text(re.sub(r"(?m)^SlurmctldPort=\d+", "SlurmctldPort=6899", text))
        conf.chmod(0o644)
        yield conf
