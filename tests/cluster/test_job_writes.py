"""Submitting, changing, holding, releasing, signalling and cancelling jobs through the real
program against the real lab cluster; what Slurm then reports (scontrol, squeue, sacct) must
be exactly what was asked for. Every job made here is cancelled at the end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.config import OPENAPI_PLUGINS
from tests.helpers import OTHER_USER, TEST_USER, parse_responses, request, run_pipe

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

SUBMIT = "/slurm/v0.0.38/job/submit"
JOB = "/slurm/v0.0.38/job/"
MARK = f"jw{os.getpid()}"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))


def call(method: str, path: str, body: Any = None, *, as_user: str = TEST_USER,
         content_type: str = "application/json", raw: bytes | None = None,
         accept: str | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    headers = [f"Content-Type: {content_type}"] if data else []
    if method == "POST" and not data:
        headers.append("Content-Length: 0")
    if accept:
        headers.append(f"Accept: {accept}")
    run = run_pipe(request(method, path, *headers, body=data), as_user=as_user)
    (resp,) = parse_responses(run.stdout)
    if resp.content_type == "application/x-yaml":
        from ruamel.yaml import YAML

        return resp.status, YAML(typ="safe", pure=True).load(resp.body.decode())
    if resp.content_type == "application/json":
        return resp.status, json.loads(resp.body)
    return resp.status, resp.body.decode()


def numbers(body: dict[str, Any]) -> list[int]:
    return [e["error_number"] for e in body["errors"]]


def show(job_id: int | str) -> dict[str, str]:
    """``scontrol -o show job`` of one record (as root), fields with spaceless values."""
    out = subprocess.run(["scontrol", "-o", "show", "job", str(job_id)], capture_output=True,
                         text=True, check=True, timeout=30)
    first = out.stdout.splitlines()[0]
    return dict(item.split("=", 1) for item in first.split(" ") if "=" in item)


def show_all(job_id: int | str) -> list[str]:
    out = subprocess.run(["scontrol", "-o", "show", "job", str(job_id)], capture_output=True,
                         text=True, check=False, timeout=30)
    return out.stdout.splitlines() if out.returncode == 0 else []


def squeue_names(name: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%i"], capture_output=True,
                         text=True, check=True, timeout=30)
    return out.stdout.split()


def wait_for(what: Callable[[], bool], timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.5)


def state(job_id: int | str) -> str:
    return show(job_id)["JobState"]


def env_vars(job_id: int | str) -> str:
    out = subprocess.run(["sacct", "-j", str(job_id), "--env-vars"], capture_output=True,
                         text=True, check=True, timeout=30)
    return out.stdout


@pytest.fixture
def made() -> Iterator[list[int]]:
    """Job ids to cancel at the end, whatever happened."""
    ids: list[int] = []
    yield ids
    if ids:
        subprocess.run(["scancel", *map(str, ids)], capture_output=True, check=False,
                       timeout=30)
    subprocess.run(["scancel", f"--name={MARK}"], capture_output=True, check=False, timeout=30)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the test user can write job output to."""
    path = Path(tempfile.mkdtemp(prefix="slurmrest-jobs-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def submit(made: list[int], job: dict[str, Any] | list[dict[str, Any]],
           script: str = "#!/bin/sh\nsleep 300\n", **kw: Any) -> tuple[int, dict[str, Any]]:
    key = "jobs" if isinstance(job, list) else "job"
    status, body = call("POST", SUBMIT, {key: job, "script": script}, **kw)
    if isinstance(body, dict) and isinstance(body.get("job_id"), int):
        made.append(body["job_id"])
    return status, body


def validate(body: Any, name: str) -> None:
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{name}",
                               "components": SPEC["components"]})


# -- a plain job from submission to cancellation ---------------------------------------------------

def test_plain_job_submit_update_hold_release_cancel(made: list[int],
                                                     shared_dir: Path) -> None:
    status, body = submit(made, {
        "environment": {"A": "1"}, "name": MARK, "comment": "first comment",
        "time_limit": 7, "partition": "debug", "account": "research", "qos": "high",
        "licenses": "fluent:1", "wckey": "projx", "memory_per_cpu": 100, "cpus_per_task": 2,
        "tasks": 1, "nodes": [1], "exclusive": "user", "nice": 10, "requeue": False,
        "current_working_directory": str(shared_dir),
        "standard_output": f"{shared_dir}/o-%j.txt", "standard_error": f"{shared_dir}/e.txt",
        "standard_input": "/dev/null", "begin_time": "now+1hour", "hold": True,
        "mail_type": "END", "dependency": "", "open_mode": "truncate",
    })
    assert status == 200, body
    validate(body, "v0.0.38_job_submission_response")
    assert numbers(body) == [2042] and body["step_id"] == "BATCH"
    job = body["job_id"]
    rec = show(job)
    expected = {
        "JobName": MARK, "UserId": f"{TEST_USER}(1001)", "TimeLimit": "00:07:00",
        "Partition": "debug", "Account": "research", "QOS": "high",
        "Licenses": "fluent:1", "WCKey": "projx", "MinMemoryCPU": "100M", "CPUs/Task": "2",
        "NumTasks": "1", "NumNodes": "1-1", "OverSubscribe": "USER", "Nice": "10",
        "Requeue": "0", "WorkDir": str(shared_dir), "StdOut": f"{shared_dir}/o-{job}.txt",
        "StdErr": f"{shared_dir}/e.txt", "StdIn": "/dev/null", "JobState": "PENDING",
        "Reason": "JobHeldUser", "Priority": "0", "MailType": "END",
    }
    assert {k: rec.get(k) for k in expected} == expected
    assert "Comment=first comment " in show_all(job)[0]

    # squeue --json sees it the same way
    out = subprocess.run(["squeue", "--json"], capture_output=True, check=True, timeout=30)
    (record,) = [j for j in json.loads(out.stdout)["jobs"] if j["job_id"] == job]
    assert (record["name"], record["comment"], record["time_limit"], record["qos"]) == (
        MARK, "first comment", 7, "high")

    # (not Nice here: Slurm recomputes a held job's priority when its nice value changes,
    # which leaves it neither held nor releasable)
    status, body = call("POST", JOB + str(job), {"comment": "second comment", "time_limit": 3})
    assert (status, body["errors"]) == (200, [])
    validate(body, "v0.0.38_job_control_response")
    assert show(job)["TimeLimit"] == "00:03:00"
    assert "Comment=second comment " in show_all(job)[0]

    status, body = call("POST", JOB + str(job), {"hold": False})  # release
    assert (status, body["errors"]) == (200, [])
    rec = show(job)
    assert rec["Reason"] in ("None", "BeginTime") and rec["Priority"] != "0"

    status, body = call("POST", JOB + str(job), {"hold": True})
    assert (status, body["errors"]) == (200, [])
    assert (show(job)["Reason"], show(job)["Priority"]) == ("JobHeldUser", "0")

    status, body = call("DELETE", JOB + str(job))
    assert (status, body["errors"]) == (200, [])
    validate(body, "v0.0.38_job_control_response")
    assert state(job) == "CANCELLED"
    wait_for(lambda: "CANCELLED" in subprocess.run(
        ["sacct", "-n", "-X", "-j", str(job), "-o", "state"], capture_output=True, text=True,
        check=True, timeout=30).stdout)
    # cancelling what has ended is not an error, signalling it neither
    assert call("DELETE", JOB + str(job))[0] == 200
    assert call("DELETE", JOB + f"{job}?signal=USR1")[0] == 200


def test_update_renames_and_moves_a_job(made: list[int]) -> None:
    status, body = submit(made, {"environment": {"A": "1"}, "name": MARK, "hold": True})
    job = body["job_id"]
    status, body = call("POST", JOB + str(job), {
        "name": "--wrap=id", "partition": "long", "time_limit": 20, "qos": "normal",
        "licenses": "matlab:1", "nodes": [1, 2]})
    assert (status, body["errors"]) == (200, []), body
    rec = show(job)
    assert (rec["JobName"], rec["Partition"], rec["TimeLimit"], rec["QOS"], rec["Licenses"]) == (
        "--wrap=id", "long", "00:20:00", "normal", "matlab:1")
    assert rec["NumNodes"].startswith("1")
    # what Slurm refuses comes back with Slurm's error and changes nothing
    status, body = call("POST", JOB + str(job), {"account": "physics"})
    assert status == 500 and numbers(body) == [2045]
    status, body = call("POST", JOB + str(job), {"partition": "nope"})
    assert status == 500 and numbers(body) == [2000]
    assert show(job)["Partition"] == "long"


def test_environment_is_exactly_what_was_given(made: list[int], shared_dir: Path) -> None:
    env = {"GREETING": "hello world", "MULTI": "line one\nline two", "NUM": 7,
           "WITH_EQUALS": "a=b=c", "UNICODE": "\u00e9t\u00e9"}
    status, body = submit(made, {
        "environment": env, "name": MARK, "standard_output": f"{shared_dir}/env-%j.txt",
        "current_working_directory": str(shared_dir)}, script="#!/bin/sh\nenv\n")
    assert status == 200, body
    job = body["job_id"]
    wait_for(lambda: state(job) in ("COMPLETED", "FAILED", "CANCELLED"))
    assert state(job) == "COMPLETED"
    printed = (shared_dir / f"env-{job}.txt").read_text()
    names = {line.split("=", 1)[0] for line in printed.splitlines() if "=" in line}
    assert "GREETING=hello world\n" in printed and "NUM=7\n" in printed
    assert "MULTI=line one\nline two\n" in printed and "WITH_EQUALS=a=b=c\n" in printed
    assert "UNICODE=\u00e9t\u00e9\n" in printed
    # nothing of ours (nor of the program's own environment) reached the job
    for leaked in ("PATH", "LC_ALL", "LANG", "HOME", "USER", "SLURM_JWT",
                   "SLURMRESTD_DEBUG_STDERR"):
        assert leaked not in names, leaked
    # the environment Slurm stored is the one given, plus what sbatch adds
    wait_for(lambda: "SLURM_SUBMIT_HOST=" in env_vars(job), 60)  # slurmdbd lags behind
    stored = env_vars(job)
    given = {"GREETING", "MULTI", "NUM", "WITH_EQUALS", "UNICODE"}
    stored_names = {ln.split("=", 1)[0] for ln in stored.splitlines()[2:] if "=" in ln}
    assert stored_names - given == {"SLURM_PRIO_PROCESS", "SLURM_SUBMIT_DIR",
                                    "SLURM_SUBMIT_HOST", "SLURM_UMASK"}
    assert given <= stored_names


def test_array_job(made: list[int]) -> None:
    status, body = submit(made, {"environment": {"A": "1"}, "name": MARK, "array": "0-3%2",
                                 "hold": True})
    assert status == 200 and numbers(body) == [2042]
    job = body["job_id"]
    assert show(job)["ArrayTaskId"] == "0-3%2"
    status, body = call("POST", JOB + str(job), {"array": "%1"})
    assert status == 200 and body["errors"] == []
    assert show(job)["ArrayTaskThrottle"] == "1"
    # one task on its own, then the rest
    status, body = call("DELETE", JOB + f"{job}_2")
    assert status == 200, body
    # a pending task that is cancelled leaves the array's set of tasks
    wait_for(lambda: show(job)["ArrayTaskId"] == "0-1,3%1")
    status, body = call("DELETE", JOB + str(job))
    assert status == 200
    wait_for(lambda: squeue_names(MARK) == [])


def test_heterogeneous_job(made: list[int], shared_dir: Path) -> None:
    status, body = submit(made, [
        {"environment": {"FIRST": "1"}, "name": f"{MARK}", "nodes": [1], "time_limit": 2,
         "current_working_directory": str(shared_dir), "standard_output": "/dev/null"},
        {"environment": {"SECOND": "2"}, "name": f"{MARK}", "nodes": [1], "time_limit": 2,
         "partition": "long"},
    ], script="#!/bin/sh\nsleep 2\n")
    assert status == 200 and body["errors"] == [], body
    job = body["job_id"]
    records = show_all(job)
    assert len(records) == 2
    assert "HetJobOffset=0" in records[0] and "Partition=debug" in records[0]
    assert "HetJobOffset=1" in records[1] and "Partition=long" in records[1]
    wait_for(lambda: all("JobState=COMPLETED" in ln for ln in show_all(job)))
    wait_for(lambda: env_vars(job).count("SLURM_SUBMIT_HOST=") == 2, 60)
    stored = env_vars(job)
    first, second = stored.split(f"Environment used for {job}+1")
    assert "FIRST=1" in first and "SECOND" not in first
    assert "SECOND=2" in second and "FIRST" not in second


def test_held_het_job_update_and_cancel(made: list[int]) -> None:
    status, body = submit(made, [{"environment": {"A": "1"}, "name": MARK},
                                 {"environment": {"B": "1"}, "name": MARK, "hold": True}])
    assert status == 200 and numbers(body) == [2042]
    job = body["job_id"]
    status, body = call("POST", JOB + f"{job}%2B1", {"comment": "second part"})
    assert status == 200, body
    assert "Comment=second part " in show_all(job)[1]
    status, body = call("DELETE", JOB + str(job))
    assert status == 200
    wait_for(lambda: all("JobState=CANCELLED" in ln for ln in show_all(job)))


def test_a_het_job_slurm_refuses_in_part_submits_nothing(made: list[int]) -> None:
    name = f"{MARK}-partial"
    status, body = submit(made, [{"environment": {"A": "1"}, "name": name, "hold": True},
                                 {"environment": {"A": "1"}, "name": name,
                                  "account": "physics"}])
    assert status == 500 and numbers(body) == [2045], body
    assert "job_id" not in body
    assert squeue_names(name) == []
    # and one the request itself gets wrong does not even reach Slurm
    status, body = submit(made, [{"environment": {"A": "1"}, "name": name, "hold": True},
                                 {"environment": {"A": "1"}, "name": name, "nodes": "x\n"}])
    assert status == 400 and "jobs[1].nodes" in body["errors"][0]["description"]
    assert squeue_names(name) == []


# -- hostile values ---------------------------------------------------------------------------

def test_hostile_values_do_nothing_unexpected(made: list[int]) -> None:
    script = ("#!/bin/bash\n# \u00e9\u4e2d \t\x01\x7f $(id) `id` ; | & > < \\ ' \"\n"
              "#SBATCH --comment=from-script\necho \"$@\"\n")
    status, body = submit(made, {"environment": {"A": "--export=ALL"}, "name": "--wrap=id",
                                 "comment": "-x --hold ; id", "hold": True}, script=script)
    assert status == 200, body
    job = body["job_id"]
    assert show(job)["JobName"] == "--wrap=id"
    assert "Comment=-x --hold ; id " in show_all(job)[0]
    out = subprocess.run(["scontrol", "write", "batch_script", str(job), "-"],
                         capture_output=True, check=True, timeout=30)
    assert out.stdout == script.encode()
    # values starting with "-" are values: here a partition that does not exist
    name = f"{MARK}-dash"
    status, body = submit(made, {"environment": {"A": "1"}, "name": name, "partition": "-p"})
    assert status == 500 and numbers(body) == [2000]
    # no NUL in a script, line breaks only where Slurm keeps them
    for job_body, script in (({"name": name}, "#!/bin/sh\n\x00\n"),
                             ({"name": name, "comment": "a\nb"}, "#!/bin/sh\n"),
                             ({"name": name, "bogus": 1}, "#!/bin/sh\n"),
                             ({"name": name, "time_limit": 10**20}, "#!/bin/sh\n")):
        status, body = submit(made, {"environment": {"A": "1"}, **job_body}, script=script)
        assert status == 400, body
    assert squeue_names(name) == []


def test_other_users_and_unknown_jobs(made: list[int]) -> None:
    status, body = submit(made, {"environment": {"A": "1"}, "name": MARK, "hold": True})
    job = body["job_id"]
    status, body = call("POST", JOB + str(job), {"comment": "bob was here"},
                        as_user=OTHER_USER)
    assert status == 500 and numbers(body) == [2010]
    status, body = call("DELETE", JOB + str(job), as_user=OTHER_USER)
    assert status == 500 and body["errors"] == [{
        "description": f"unable to kill JobId={job} with signal 9: Access/permission denied",
        "error_number": 2002, "error": "Access/permission denied", "source": "slurm_kill_job"}]
    status, body = call("DELETE", JOB + f"{job}?signal=USR1", as_user=OTHER_USER)
    assert status == 500 and numbers(body) == [2002]
    assert "bob" not in " ".join(show_all(job)) and state(job) == "PENDING"
    # a pending job cannot take a signal other than KILL: answered at once
    started = time.monotonic()
    status, body = call("DELETE", JOB + f"{job}?signal=USR1")
    assert status == 500 and numbers(body) == [2020]
    assert time.monotonic() - started < 10
    for bad in ("99999999", "abc", "0", f"{job}.batch"):
        status, body = call("POST", JOB + bad, {"comment": "x"})
        assert status == 500 and numbers(body) == [2017], (bad, body)
        status, body = call("DELETE", JOB + bad)
        assert status == 500 and numbers(body) == [2017], (bad, body)
        status, body = call("DELETE", JOB + f"{bad}?signal=USR1")
        assert status == 500 and numbers(body) == [2017], (bad, body)
    status, body = call("DELETE", JOB + f"{job}?signal=NOPE")
    assert status == 400 and numbers(body) == [9000]
    assert state(job) == "PENDING"


def test_a_signal_reaches_the_running_script(made: list[int], shared_dir: Path) -> None:
    marker = shared_dir / "got-usr1"
    script = (f"#!/bin/bash\ntrap 'echo usr1 > {marker}; exit 0' USR1\n"
              "for i in $(seq 600); do sleep 0.2; done\n")
    status, body = submit(made, {"environment": {"A": "1"}, "name": MARK, "time_limit": 5,
                                 "standard_output": "/dev/null"}, script=script)
    assert status == 200
    job = body["job_id"]
    wait_for(lambda: state(job) == "RUNNING")
    time.sleep(1)  # let bash set its trap
    status, body = call("DELETE", JOB + f"{job}?signal=SIGUSR1")
    assert (status, body["errors"]) == (200, [])
    wait_for(marker.exists, 30)
    wait_for(lambda: state(job) == "COMPLETED", 30)


def test_yaml_submission_and_answer(made: list[int]) -> None:
    yaml_body = (f"job:\n  environment:\n    A: 1\n  name: {MARK}\n  hold: true\n"
                 "  time_limit: 4\nscript: |\n  #!/bin/sh\n  true\n").encode()
    status, body = call("POST", SUBMIT, raw=yaml_body, content_type="application/x-yaml",
                        accept="application/x-yaml")
    assert status == 200, body
    made.append(body["job_id"])
    validate(body, "v0.0.38_job_submission_response")
    assert show(body["job_id"])["TimeLimit"] == "00:04:00"


def test_error_answers_validate_against_the_spec(made: list[int]) -> None:
    for method, path, payload in (
        ("POST", SUBMIT, {}),
        ("POST", SUBMIT, {"script": "#!/bin/sh\n"}),
        ("POST", SUBMIT, {"script": "#!/bin/sh\n", "job": {"environment": {"A": "1"},
                                                            "account": "physics"}}),
        ("POST", JOB + "99999999", {"comment": "x"}),
        ("DELETE", JOB + "99999999", None),
        ("DELETE", JOB + "1?signal=NOPE", None),
    ):
        status, body = call(method, path, payload)
        assert status in (400, 500)
        name = ("v0.0.38_job_submission_response" if path == SUBMIT
                else "v0.0.38_job_control_response")
        validate(body, name)
