"""rest_auth/jwt against the real lab cluster, with real tokens from ``scontrol token``.

The program runs as the lab user ``bob`` (``OTHER_USER``) on a pipe bob owns, so local
auth alone would make every request bob's; a request with alice's token must run as alice
instead (Slurm then refuses alice what only bob may do). The lab's HS256 key is SlurmUser's
(mode 0600), so bob cannot read it: signatures are left to slurmctld, and a token it
refuses becomes 401. One group of tests gives bob a readable copy of the key (through a
copy of slurm.conf naming it) so that early verification runs for real too.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    OTHER_USER,
    TEST_USER,
    Run,
    base_env,
    parse_responses,
    request,
    run_pipe,
    user,
)

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

PING = "/slurm/v0.0.38/ping"
JOBS = "/slurm/v0.0.38/jobs"
JOB = "/slurm/v0.0.38/job/"
#: who runs the program (the pipe's owner): never the token's user
RUNNER = OTHER_USER
#: a third lab user, for proxy mode run by someone who could not act alone
THIRD = "carol"
MARK = f"jwt{os.getpid()}"
CONF = os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")


def token(name: str, lifespan: int = 600) -> str:
    """A real token for ``name`` from slurmctld (asked as root)."""
    out = subprocess.run(["scontrol", "token", f"username={name}", f"lifespan={lifespan}"],
                         capture_output=True, text=True, check=True, timeout=30)
    m = re.search(r"SLURM_JWT=(\S+)", out.stdout)
    assert m, out
    return m[1]


def forge(tok: str) -> str:
    """The token with one character of its signature changed."""
    head, claims, sig = tok.split(".")
    i = len(sig) // 2
    return f"{head}.{claims}.{sig[:i]}{'A' if sig[i] != 'A' else 'B'}{sig[i + 1:]}"


def alg_none(tok: str) -> str:
    """The token's claims under ``{"alg": "none"}`` and no signature."""
    head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{head}.{tok.split('.')[1]}."


def serve(*requests: bytes, as_user: str = RUNNER, args: tuple[str, ...] = (),
          **env: str) -> tuple[Run, list[tuple[int, Any]]]:
    """Run the program as ``as_user`` on the requests; (run, [(status, body), ...]) with
    JSON bodies parsed and others as text."""
    run = run_pipe(b"".join(requests), as_user=as_user, args=args, env=base_env(**env))
    answers = []
    for resp in parse_responses(run.stdout):
        body: Any = resp.body.decode()
        if resp.content_type == "application/json":
            body = json.loads(resp.body)
        answers.append((resp.status, body))
    return run, answers


def one(*headers: str, method: str = "GET", path: str = PING, as_user: str = RUNNER,
        args: tuple[str, ...] = (), **env: str) -> tuple[int, Any, str]:
    run, answers = serve(request(method, path, *headers), as_user=as_user, args=args, **env)
    assert len(answers) == 1, run.stderr.decode()
    return *answers[0], run.stderr.decode()


def numbers(body: dict[str, Any]) -> list[int]:
    return [e["error_number"] for e in body["errors"]]


@pytest.fixture
def bobs_job() -> Iterator[int]:
    """A pending job of bob's (held, so it never runs), cancelled at the end."""
    u = user(RUNNER)
    out = subprocess.run(
        ["sbatch", "--parsable", "--hold", f"--job-name={MARK}", "--output=/dev/null",
         "--mem=10"], input="#!/bin/sh\nsleep 300\n", capture_output=True, text=True,
        check=True, timeout=60, user=u.uid, group=u.gid, extra_groups=[], cwd="/tmp")
    job_id = int(out.stdout.strip().split(";")[0])
    yield job_id
    subprocess.run(["scancel", str(job_id)], capture_output=True, check=False, timeout=30)


def job_exists(job_id: int) -> bool:
    out = subprocess.run(["squeue", "-h", "-j", str(job_id), "-o", "%i"], capture_output=True,
                         text=True, check=False, timeout=30)
    return out.stdout.strip() == str(job_id)


# -- tokens Slurm accepts -----------------------------------------------------------------------

@pytest.mark.parametrize("style", ["name+token", "token", "bearer"])
def test_a_valid_token_in_every_header_style_runs_as_its_user(style: str) -> None:
    tok = token(TEST_USER)
    headers = {
        "name+token": (f"X-SLURM-USER-NAME: {TEST_USER}", f"X-SLURM-USER-TOKEN: {tok}"),
        "token": (f"x-slurm-user-token: {tok}",),
        "bearer": (f"Authorization: Bearer {tok}",),
    }[style]
    run, answers = serve(request("GET", PING, *headers), request("GET", JOBS, *headers))
    assert [status for status, _ in answers] == [200, 200], run.stderr
    assert answers[0][1]["pings"][0]["ping"] == "UP"
    assert answers[1][1]["errors"] == []
    log = run.stderr.decode()
    assert f"user={TEST_USER} status=200" in log and f"user={RUNNER}" not in log


def test_alices_token_cannot_cancel_bobs_job_though_bob_runs_the_program(bobs_job: int) -> None:
    status, body, log = one(f"X-SLURM-USER-TOKEN: {token(TEST_USER)}", method="DELETE",
                            path=f"{JOB}{bobs_job}")
    assert status == 500, log
    assert numbers(body) == [2002]  # Access/permission denied: alice's, not a token problem
    assert job_exists(bobs_job)


def test_without_a_token_the_default_chain_falls_back_to_local_auth() -> None:
    status, _, log = one()
    assert status == 200 and f"user={RUNNER} status=200" in log


def test_jwt_only_without_a_token_is_401() -> None:
    status, body, _ = one(args=("-a", "rest_auth/jwt"))
    assert (status, body) == (401, "Authentication failure")


# -- tokens refused early, with the reason ------------------------------------------------------

def test_expired_token_is_401_before_slurm_is_asked() -> None:
    tok = token(TEST_USER, lifespan=1)
    time.sleep(2.1)
    status, body, log = one(f"X-SLURM-USER-TOKEN: {tok}", path=JOBS)
    assert (status, body) == (401, "Authentication failure: token expired"), log
    assert "in the past" in log


def test_alg_none_token_is_401() -> None:
    status, body, _ = one(f"X-SLURM-USER-TOKEN: {alg_none(token(TEST_USER))}")
    assert (status, body) == (401, "Authentication failure: token algorithm not accepted")


def test_user_name_header_naming_someone_else_is_401_for_an_ordinary_token() -> None:
    status, body, log = one(f"X-SLURM-USER-NAME: {RUNNER}",
                            f"X-SLURM-USER-TOKEN: {token(TEST_USER)}")
    assert status == 401
    assert body == "Authentication failure: the token's user may not act for another user"
    assert f"{TEST_USER} named {RUNNER}" in log


def test_token_header_and_bearer_together_is_401() -> None:
    tok = token(TEST_USER)
    status, body, _ = one(f"X-SLURM-USER-TOKEN: {tok}", f"Authorization: Bearer {tok}")
    assert status == 401 and "not both" in body


# -- a token only slurmctld can judge --------------------------------------------------------

@pytest.mark.parametrize("path", [PING, JOBS])
def test_forged_signature_is_401_with_slurms_errors(path: str) -> None:
    status, body, log = one(f"X-SLURM-USER-TOKEN: {forge(token(TEST_USER))}", path=path)
    assert status == 401, log
    assert numbers(body)[0] == 1007
    assert body["errors"][0]["source"] == "rest_auth/jwt"


# -- proxy mode ---------------------------------------------------------------------------------

@pytest.mark.parametrize("proxy", ["slurm", "root"])
def test_root_or_slurmuser_token_acts_for_the_named_user(proxy: str, bobs_job: int) -> None:
    tok = token(proxy)
    named = (f"X-SLURM-USER-NAME: {TEST_USER}", f"X-SLURM-USER-TOKEN: {tok}")
    run, answers = serve(request("GET", PING, *named),
                         request("DELETE", f"{JOB}{bobs_job}", *named))
    assert answers[0][0] == 200, run.stderr
    # acting as alice, not as the all-powerful proxy: Slurm refuses alice bob's job
    assert answers[1][0] == 500 and numbers(answers[1][1]) == [2002]
    assert job_exists(bobs_job)
    log = run.stderr.decode()
    assert f"{proxy} acts for {TEST_USER}" in log and f"user={TEST_USER} status=200" in log


def test_proxy_mode_works_for_someone_who_could_not_act_alone(bobs_job: int) -> None:
    """carol runs the program with SlurmUser's token naming bob: bob's job is cancelled,
    which neither carol (the process) nor a forged proxy could do."""
    named = (f"X-SLURM-USER-NAME: {RUNNER}", f"X-SLURM-USER-TOKEN: {forge(token('slurm'))}")
    status, body, _ = one(*named, as_user=THIRD)
    assert status == 401 and "may not act" in body
    assert job_exists(bobs_job)
    named = (f"X-SLURM-USER-NAME: {RUNNER}", f"X-SLURM-USER-TOKEN: {token('slurm')}")
    status, body, log = one(*named, method="DELETE", path=f"{JOB}{bobs_job}", as_user=THIRD)
    assert status == 200, log
    end = time.monotonic() + 30
    while job_exists(bobs_job):
        assert time.monotonic() < end, "bob's job was not cancelled"
        time.sleep(0.5)


# -- the key readable by the process: verification before anything runs ------------------------

@pytest.fixture(scope="module")
def readable_key() -> Iterator[str]:
    """A copy of slurm.conf whose jwt_key names a copy of the key that bob can read.
    Commands still work: they read the same cluster from the copy, and slurmctld has the
    real key."""
    u = user(RUNNER)
    tmp = Path(tempfile.mkdtemp(prefix="slurmrest-jwt-"))
    try:
        tmp.chmod(0o755)
        key = tmp / "jwt_hs256.key"
        shutil.copyfile("/etc/slurm/jwt_hs256.key", key)
        os.chown(key, u.uid, u.gid)
        key.chmod(0o600)
        text = Path(CONF).read_text()
        text, count = re.subn(r"(?mi)^AuthAltParameters=.*$",
                              f"AuthAltParameters=jwt_key={key}", text)
        assert count == 1, "the lab slurm.conf names its jwt_key"
        conf = tmp / "slurm.conf"
        conf.write_text(text)
        conf.chmod(0o644)
        yield str(conf)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_with_the_key_a_valid_token_is_verified_and_runs(readable_key: str) -> None:
    status, body, log = one(f"X-SLURM-USER-TOKEN: {token(TEST_USER)}", path=JOBS,
                            SLURM_CONF=readable_key, SLURMRESTD_DEBUG_STDERR="debug")
    assert status == 200 and body["errors"] == [], log
    assert f"token of {TEST_USER}, signature verified" in log


def test_with_the_key_a_forged_token_is_401_before_anything_runs(readable_key: str) -> None:
    status, body, log = one(f"X-SLURM-USER-TOKEN: {forge(token(TEST_USER))}", path=JOBS,
                            SLURM_CONF=readable_key)
    assert (status, body) == (401, "Authentication failure: invalid token signature"), log


def test_with_the_key_a_token_signed_by_another_key_is_401(readable_key: str) -> None:
    import jwt as pyjwt

    tok = pyjwt.encode({"sun": TEST_USER, "exp": int(time.time()) + 60}, b"z" * 32)
    status, body, _ = one(f"X-SLURM-USER-TOKEN: {tok}", SLURM_CONF=readable_key)
    assert (status, body) == (401, "Authentication failure: invalid token signature")


def test_with_the_key_proxy_mode_still_goes_through_slurm(readable_key: str) -> None:
    named = (f"X-SLURM-USER-NAME: {TEST_USER}", f"X-SLURM-USER-TOKEN: {token('slurm')}")
    status, _, log = one(*named, SLURM_CONF=readable_key)
    assert status == 200 and f"slurm acts for {TEST_USER}" in log, log
