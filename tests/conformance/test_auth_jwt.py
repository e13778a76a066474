"""rest_auth/jwt: the same request bytes, with real tokens, to both programs in JWT mode.

slurmrestd runs as its quick-start says (``SLURM_JWT=daemon slurmrestd -a rest_auth/jwt``),
we run with ``-a rest_auth/jwt``; both as the lab user bob on a pipe bob owns, so that
local authentication could only ever have made the requests bob's. The harness's own
runner is for local auth (it forbids SLURM_JWT), so this module starts both programs
itself and then compares with the harness.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from typing import Any

import pytest

from tests.conformance.cases import PING
from tests.conformance.differences import ref
from tests.conformance.harness import (
    SLURMRESTD,
    TIMEOUT,
    Case,
    Conversation,
    Mode,
    Program,
    compare,
    compare_bodies,
    load_body,
    media_type,
    parse_tolerant,
)
from tests.helpers import (
    OTHER_USER,
    TEST_USER,
    ParsedResponse,
    acting_as,
    base_env,
    parse_responses,
    program,
    request,
    user,
)

JOBS = "/slurm/v0.0.38/jobs"
RUNNER = OTHER_USER
#: the jobs list may change between two runs (other tests submit and cancel)
ATTEMPTS = 4


def token(name: str, lifespan: int = 600) -> str:
    out = subprocess.run(["scontrol", "token", f"username={name}", f"lifespan={lifespan}"],
                         capture_output=True, text=True, check=True, timeout=30)
    m = re.search(r"SLURM_JWT=(\S+)", out.stdout)
    assert m, out
    return m[1]


def forge(tok: str) -> str:
    head, claims, sig = tok.split(".")
    i = len(sig) // 2
    return f"{head}.{claims}.{sig[:i]}{'A' if sig[i] != 'A' else 'B'}{sig[i + 1:]}"


def _argv_env(prog: Program) -> tuple[list[str], dict[str, str]]:
    u = user(RUNNER)
    if prog is Program.THEIRS:
        env = {k: v for k, v in base_env().items() if k in ("PATH", "SLURM_CONF")}
        return [SLURMRESTD, "-a", "rest_auth/jwt"], {**env, "SLURM_JWT": "daemon"}
    return [program(), "-a", "rest_auth/jwt"], {**base_env(), "HOME": u.home, "USER": u.name}


def _start(prog: Program, data: bytes) -> subprocess.Popen[bytes]:
    """``prog`` in JWT mode as bob, reading ``data`` from a pipe bob owns."""
    u = user(RUNNER)
    argv, env = _argv_env(prog)
    with acting_as(u):
        read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(argv, stdin=read_end, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, user=u.uid, group=u.gid,
                                extra_groups=[], cwd="/")
    finally:
        os.close(read_end)
    os.write(write_end, data)  # a few KiB at most: the pipe takes it whole
    os.close(write_end)
    return proc


def _finish(prog: Program, data: bytes, proc: subprocess.Popen[bytes]) -> Conversation:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"{prog.value} did not finish within {TIMEOUT}s") from None
    quirks: list[str] = []
    if prog is Program.OURS:
        responses = parse_responses(out, strict=True)
    else:
        responses, quirks = parse_tolerant(out)
    return Conversation(prog, data, proc.returncode, out, err, responses, quirks)


def converse_both(data: bytes) -> tuple[Conversation, Conversation]:
    """(ours, theirs) for ``data``, both in JWT mode as bob, started at the same moment."""
    started = [(prog, _start(prog, data)) for prog in (Program.OURS, Program.THEIRS)]
    done = [_finish(prog, data, proc) for prog, proc in started]
    return done[0], done[1]


def converse_alone(prog: Program, data: bytes) -> Conversation:
    """``prog`` alone in JWT mode as bob (for changes the two programs must not race)."""
    return _finish(prog, data, _start(prog, data))


def alone(prog: Program, data: bytes) -> ParsedResponse:
    """The one answer of ``prog`` alone in JWT mode as bob."""
    conv = converse_alone(prog, data)
    assert len(conv.responses) == 1, conv.describe()
    return conv.responses[0]


def as_admin(method: str, path: str, body: Any = None, who: str = "slurm") -> bytes:
    """One request with a token of the accounting administrator ``who`` (JSON ``body``)."""
    headers = named(who, token(who))
    if body is None:
        return request(method, path, *headers)
    return request(method, path, "Content-Type: application/json", *headers,
                   body=json.dumps(body).encode())


def only(conv: Conversation) -> ParsedResponse:
    assert len(conv.responses) == 1, conv.describe()
    return conv.responses[0]


def get(path: str, *headers: str) -> bytes:
    return request("GET", path, *headers)


def named(who: str, tok: str) -> tuple[str, str]:
    return f"X-SLURM-USER-NAME: {who}", f"X-SLURM-USER-TOKEN: {tok}"


# -- the same answers -----------------------------------------------------------------------

def run_case(case: Case) -> None:
    for attempt in range(ATTEMPTS):
        ours, theirs = converse_both(case.request)
        try:
            compare(case, ours, theirs)
            return
        except AssertionError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(1)


def test_valid_token_ping() -> None:
    run_case(Case("jwt_ping", get(PING, *named(TEST_USER, token(TEST_USER))), (200,)))


def test_valid_token_jobs() -> None:
    run_case(Case("jwt_jobs", get(JOBS, *named(TEST_USER, token(TEST_USER))), (200,)))


def test_missing_token_is_401_for_both() -> None:
    run_case(Case("jwt_missing", get(PING), (401,)))


@pytest.mark.parametrize("proxy", ["slurm", "root"])
def test_proxy_mode_for_a_slurmuser_or_root_token(proxy: str) -> None:
    run_case(Case(f"jwt_proxy_{proxy}", get(PING, *named(TEST_USER, token(proxy))), (200,)))


# -- deliberate differences ------------------------------------------------------------------

def test_expired_token() -> None:
    ref("jwt_refused_401")
    tok = token(TEST_USER, lifespan=1)
    time.sleep(2.1)
    ours, theirs = converse_both(get(JOBS, *named(TEST_USER, tok)))
    mine, yours = only(ours), only(theirs)
    assert (mine.status, mine.body) == (401, b"Authentication failure: token expired")
    assert yours.status == 500 and media_type(yours) == "application/json"
    assert load_body(yours)["errors"], theirs.describe()


@pytest.mark.parametrize("path", [PING, JOBS])
def test_forged_token(path: str) -> None:
    ref("jwt_refused_401")
    ours, theirs = converse_both(get(path, *named(TEST_USER, forge(token(TEST_USER)))))
    mine, yours = only(ours), only(theirs)
    assert (mine.status, yours.status) == (401, 500), f"{ours.describe()}\n{theirs.describe()}"
    assert media_type(mine) == media_type(yours) == "application/json"
    body: dict[str, Any] = load_body(mine)
    first = body["errors"].pop(0)
    assert (first["error_number"], first["source"]) == (1007, "rest_auth/jwt")
    # the rest is slurmrestd's answer
    assert body == load_body(yours)


def test_alg_none_token() -> None:
    ref("jwt_refused_401")
    head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    tok = f"{head}.{token(TEST_USER).split('.')[1]}."
    ours, theirs = converse_both(get(PING, *named(TEST_USER, tok)))
    assert only(ours).status == 401
    assert only(theirs).status == 500


def test_ordinary_token_naming_another_user() -> None:
    ref("jwt_refused_401")
    ours, theirs = converse_both(get(PING, *named(RUNNER, token(TEST_USER))))
    mine = only(ours)
    assert mine.status == 401 and b"may not act for another user" in mine.body
    assert only(theirs).status == 500


@pytest.mark.parametrize("style", ["token_alone", "bearer"])
def test_token_alone_and_bearer(style: str) -> None:
    ref("jwt_headers_23_02")
    tok = token(TEST_USER)
    header = {"token_alone": f"X-SLURM-USER-TOKEN: {tok}",
              "bearer": f"Authorization: Bearer {tok}"}[style]
    ours, theirs = converse_both(get(PING, header))
    assert only(theirs).status == 401, theirs.describe()
    assert only(ours).status == 200, ours.describe()
    # ...with the body slurmrestd gives when it does take the token
    _, reference = converse_both(get(PING, *named(TEST_USER, tok)))
    compare_bodies(only(ours), only(reference), Mode.BODY)


@pytest.mark.parametrize(("headers", "reason"), [
    ((f"X-SLURM-USER-NAME: {TEST_USER}",), b"X-SLURM-USER-NAME without a token"),
    (("X-SLURM-USER-TOKEN: a.b.c", "Authorization: Bearer a.b.c"), b"not both"),
], ids=["name_only", "token_and_bearer"])
def test_reject_reason(headers: tuple[str, ...], reason: bytes) -> None:
    ref("jwt_reject_reason")
    ours, theirs = converse_both(get(PING, *headers))
    mine, yours = only(ours), only(theirs)
    assert (mine.status, yours.status) == (401, 401)
    assert media_type(mine) == media_type(yours) == "text/plain"
    assert yours.body == b"Authentication failure"
    assert mine.body.startswith(b"Authentication failure: ") and reason in mine.body
