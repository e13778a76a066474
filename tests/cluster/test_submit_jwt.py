"""Token submissions against the real lab cluster: the real backend
(``SlurmCli(Config()).submit``) runs in a process of the lab user ``bob`` (``OTHER_USER``)
with a real token of ``alice`` (``TEST_USER``) from ``scontrol token``. The job must be
alice's with exactly the requested environment, or nothing may be submitted at all; never a
job of bob's. Every job made here is cancelled at the end."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import IN_CI, OTHER_USER, TEST_USER, user

pytestmark = pytest.mark.usefixtures("cluster", "test_user", "root")

MARK = f"sj{os.getpid()}"
#: the runner's own PATH: it must not reach the job
RUNNER_PATH = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"

#: what the process running as bob does: one submission, its outcome as JSON on stdout
SUBMIT_AS_RUNNER = """
import json, sys
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.slurmcli import SlurmCli
from slurmrest_stdio.config import Config
from slurmrest_stdio.errors import SlurmCommandError

a = json.load(sys.stdin)


class Pretending(SlurmCli):
    # the test seam: claim to run as the token's user, so that no namespace is made
    def _own_uid(self):
        return a["pretend_uid"]


cli = (Pretending if a.get("pretend_uid") is not None else SlurmCli)(Config())
who = Identity(a["user"], a["uid"], "rest_auth/jwt", token=a["token"])
try:
    done = cli.submit(who, a["components"], a["script"].encode(), a["environments"])
    print(json.dumps({"job_id": done.job_id}))
except SlurmCommandError as exc:
    print(json.dumps({"status": exc.status, "errors": [e.to_dict() for e in exc.errors]}))
"""


#: the job: its environment as NAME=value NUL records in $OUT (no shell in between, which
#: would drop names that are not identifiers)
DUMP_ENVIRONMENT = """#!/usr/bin/python3
import os
with open(os.environ["OUT"], "wb") as out:
    out.write(b"".join(k + b"=" + v + b"\\0" for k, v in os.environb.items()))
"""


@pytest.fixture
def root() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the token submission tests run as root in CI")
        pytest.skip("needs root (tokens from scontrol token, running as another user)")


def token(name: str) -> str:
    out = subprocess.run(["scontrol", "token", f"username={name}", "lifespan=600"],
                         capture_output=True, text=True, check=True, timeout=30)
    found = re.search(r"SLURM_JWT=(\S+)", out.stdout)
    assert found, out.stdout
    return found[1]


def submit_as(runner: str, token_user: str, components: list[list[str]], script: str,
              environments: list[dict[str, str]], *, path: str = RUNNER_PATH,
              cwd: Path | None = None, pretend_uid: int | None = None,
              made: list[int] | None = None) -> dict[str, Any]:
    """``SlurmCli(Config()).submit`` in a process of ``runner`` for ``token_user``'s token."""
    who, by = user(token_user), user(runner)
    data = {"user": who.name, "uid": who.uid, "token": token(who.name),
            "components": components, "script": script, "environments": environments,
            "pretend_uid": pretend_uid}
    proc = subprocess.run(
        [sys.executable, "-c", SUBMIT_AS_RUNNER], input=json.dumps(data), text=True,
        capture_output=True, timeout=120, user=by.uid, group=by.gid, extra_groups=[],
        env={"PATH": path, "LEAKED_FROM_RUNNER": "yes", "LC_ALL": "C", "HOME": by.home},
        cwd=str(cwd or "/tmp"), check=False)
    assert proc.returncode == 0, proc.stderr
    answer: dict[str, Any] = json.loads(proc.stdout)
    if made is not None and "job_id" in answer:
        made.append(answer["job_id"])
    return answer


def show(job_id: int) -> list[dict[str, str]]:
    out = subprocess.run(["scontrol", "-o", "show", "job", str(job_id)], capture_output=True,
                         text=True, check=True, timeout=30)
    return [dict(item.split("=", 1) for item in line.split(" ") if "=" in item)
            for line in out.stdout.splitlines()]


def queued(name: str) -> list[str]:
    """Job ids with this name, in the queue or accounted (a job that ran already counts)."""
    out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%i"], capture_output=True,
                         text=True, check=True, timeout=30)
    acct = subprocess.run(["sacct", "-n", "-X", "-a", "--name", name, "-o", "JobID"],
                          capture_output=True, text=True, check=False, timeout=30)
    return out.stdout.split() + acct.stdout.split()


def wait_for(what: Callable[[], bool], timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.5)


@pytest.fixture
def made() -> Iterator[list[int]]:
    ids: list[int] = []
    yield ids
    if ids:
        subprocess.run(["scancel", *map(str, ids)], capture_output=True, check=False,
                       timeout=30)
    subprocess.run(["scancel", f"--name={MARK}"], capture_output=True, check=False, timeout=30)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="slurmrest-jwt-jobs-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def no_job_of(name: str) -> None:
    assert queued(name) == []


# -- the job is the token user's, with the requested environment ---------------------------------

def test_alices_token_from_bobs_process_makes_alices_job(made: list[int],
                                                         shared_dir: Path) -> None:
    out = shared_dir / "env.bin"
    env = {
        "OUT": str(out),
        "PATH": "/requested/bin:/usr/bin:/bin",
        "PLAIN": "1",
        "TRICKY": "a,b 'c' \"d\" e=f\nsecond line\t$HOME ~ ` ;|&",
        "UNICODE": "grüße ✓",
        "EMPTY": "",
        "BASH_FUNC_ml%%": "() {  echo ml\n}",
    }
    answer = submit_as(OTHER_USER, TEST_USER,
                       [[f"--job-name={MARK}", f"--chdir={shared_dir}", "--output=/dev/null",
                         "--time=1"]],
                       DUMP_ENVIRONMENT, [env], cwd=shared_dir,
                       made=made)
    assert "job_id" in answer, answer
    job = answer["job_id"]
    (record,) = show(job)
    assert record["UserId"] == f"{TEST_USER}({user(TEST_USER).uid})"
    assert record["GroupId"] == f"{TEST_USER}({user(TEST_USER).gid})"
    wait_for(lambda: out.exists() and out.stat().st_size > 0
             and out.read_bytes().endswith(b"\0"))
    assert out.stat().st_uid == user(TEST_USER).uid
    seen = dict(item.split("=", 1)
                for item in out.read_bytes().decode("utf-8").split("\0") if item)
    for name, value in env.items():
        assert seen.get(name) == value, name
    # nothing of the runner's own environment
    assert "LEAKED_FROM_RUNNER" not in seen and "LC_ALL" not in seen
    assert seen["PATH"] == env["PATH"] and Path(sys.executable).parent.as_posix() not in \
        seen["PATH"]
    # what Slurm 22.05's sbatch always copies (documented): the token itself
    assert seen["SLURM_JWT"].count(".") == 2
    assert seen["SLURM_JOB_USER"] == TEST_USER


def test_het_job_for_the_token_user(made: list[int], shared_dir: Path) -> None:
    env = {"A": "1", "B": "two"}
    answer = submit_as(OTHER_USER, TEST_USER,
                       [[f"--job-name={MARK}", "--hold", f"--chdir={shared_dir}"],
                        [f"--job-name={MARK}", "--partition=long"]],
                       "#!/bin/sh\nsleep 60\n", [env, dict(env)], made=made)
    assert "job_id" in answer, answer
    records = show(answer["job_id"])
    assert len(records) == 2
    assert {r["UserId"] for r in records} == {f"{TEST_USER}({user(TEST_USER).uid})"}


def test_the_process_users_own_token_needs_no_namespace(made: list[int]) -> None:
    name = f"{MARK}own"
    answer = submit_as(OTHER_USER, OTHER_USER,
                       [[f"--job-name={name}", "--hold", "--chdir=/tmp"]],
                       "#!/bin/sh\nsleep 60\n", [{"A": "1"}],
                       path=f"{Path(sys.executable).parent}:/usr/bin:/bin", made=made)
    assert "job_id" in answer, answer
    (record,) = show(answer["job_id"])
    assert record["UserId"] == f"{OTHER_USER}({user(OTHER_USER).uid})"


# -- otherwise nothing is submitted; never a job of the runner's ----------------------------------

def test_no_user_namespaces_submits_nothing(made: list[int], shared_dir: Path) -> None:
    """The system refusing user namespaces, simulated: an ``unshare`` first in PATH that
    fails the way util-linux's does when the kernel says EPERM."""
    fake = shared_dir / "bin"
    fake.mkdir()
    (fake / "unshare").write_text(
        "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n")
    (fake / "unshare").chmod(0o755)
    name = f"{MARK}nons"
    answer = submit_as(OTHER_USER, TEST_USER, [[f"--job-name={name}", "--hold"]],
                       "#!/bin/sh\nsleep 60\n", [{"A": "1"}],
                       path=f"{fake}:{RUNNER_PATH}", made=made)
    assert answer["status"] == 500, answer
    (err,) = answer["errors"]
    assert err["source"] == "unshare"
    assert "needs an unprivileged user namespace" in err["description"]
    assert "Operation not permitted" in err["description"]
    assert "Nothing was submitted" in err["description"]
    no_job_of(name)


def test_without_the_namespace_slurm_refuses_rather_than_submit_as_bob(made: list[int]) -> None:
    """Should the namespace ever be skipped, sbatch runs as bob with alice's token: the
    token still authenticates the request (no munge fallback), so slurmctld refuses the
    job of the wrong user instead of making it bob's."""
    name = f"{MARK}nomap"
    answer = submit_as(OTHER_USER, TEST_USER, [[f"--job-name={name}", "--hold"]],
                       "#!/bin/sh\nsleep 60\n", [{"A": "1"}],
                       pretend_uid=user(TEST_USER).uid, made=made)
    assert answer["status"] == 500, answer
    assert [e["error_number"] for e in answer["errors"]] == [2010]  # Invalid user id
    no_job_of(name)


def test_export_file_directive_is_refused(made: list[int]) -> None:
    """``#SBATCH --export-file`` would make sbatch drop the token (and read a file as
    bob): refused before sbatch runs."""
    name = f"{MARK}xf"
    answer = submit_as(OTHER_USER, TEST_USER, [[f"--job-name={name}", "--hold"]],
                       "#!/bin/sh\n#SBATCH --export-file=/etc/hostname\nsleep 60\n",
                       [{"A": "1"}], made=made)
    assert answer["status"] == 400, answer
    assert "--export-file" in answer["errors"][0]["description"]
    no_job_of(name)


def test_loader_variables_are_refused(made: list[int]) -> None:
    name = f"{MARK}ld"
    answer = submit_as(OTHER_USER, TEST_USER, [[f"--job-name={name}", "--hold"]],
                       "#!/bin/sh\nsleep 60\n", [{"A": "1", "LD_PRELOAD": "/tmp/x.so"}],
                       made=made)
    assert answer["status"] == 400, answer
    assert answer["errors"][0]["description"].startswith("environment: LD_PRELOAD cannot")
    no_job_of(name)


def test_no_job_of_bob_was_ever_made() -> None:
    """Across this module, every job named after it (but the one with bob's own token) is
    alice's."""
    out = subprocess.run(["sacct", "-n", "-X", "-a", "-u", OTHER_USER, "-o", "JobName%40",
                          "-S", "now-1hour"], capture_output=True, text=True, check=True,
                         timeout=30)
    names = {n for n in out.stdout.split() if n.startswith(MARK)}
    assert names <= {f"{MARK}own"}
