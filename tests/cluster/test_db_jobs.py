"""GET /slurmdb/v0.0.38/jobs and job/{job_id} through the real program and real Slurm.

Two jobs are made for the module as the test user: one that runs and completes, one held
and cancelled before it ever ran (its accounting record has no start time). They stay in
the accounting database like every job does; nothing else is created. The expected
documents are ``sacct``'s own, run as the test user with the options the program should
use, so these tests check the filter mapping and the pass-through, and every real answer is
validated against our spec.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass

import pytest

from slurmrest_stdio.api.dbv0_0_38.jobs import EPOCH_START
from tests.cluster.reads import ask, body, validate
from tests.helpers import TEST_USER, slurm_up, user

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

DB = "/slurmdb/v0.0.38"
YAML = "application/x-yaml"


def as_test_user(*argv: str) -> bytes:
    u = user(TEST_USER)
    out = subprocess.run(list(argv), capture_output=True, check=True, timeout=60,
                         user=u.uid, group=u.gid, extra_groups=[], cwd="/",
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    return out.stdout


@dataclass(frozen=True)
class AccountedJobs:
    done: int
    never_ran: int


def _recorded(job_id: int, name: str, state: str) -> bool:
    """slurmdbd holds this job's final record. The name is checked too: a cluster whose
    controller state was reset hands out the same job ids again, and sacct shows the older
    job of that id until the new one reaches the database."""
    out = as_test_user("sacct", "-X", "-n", "-P", "-o", "JobName,State", f"--jobs={job_id}")
    return out.decode().strip().startswith(f"{name}|{state}")


def make_accounted_jobs() -> AccountedJobs:
    """A completed job and a job cancelled while held, both as the test user, waited for
    until slurmdbd has their final records."""
    done = int(as_test_user("sbatch", "--parsable", "--job-name=zt_dbjobs_done",
                            "--output=/dev/null", "--wrap=true").split(b";")[0])
    held = int(as_test_user("sbatch", "--parsable", "--hold", "--job-name=zt_dbjobs_held",
                            "--output=/dev/null", "--wrap=true").split(b";")[0])
    as_test_user("scancel", str(held))
    deadline = time.monotonic() + 90
    while not (_recorded(done, "zt_dbjobs_done", "COMPLETED")
               and _recorded(held, "zt_dbjobs_held", "CANCELLED")):
        assert time.monotonic() < deadline, "the test jobs never reached the database"
        time.sleep(1)
    return AccountedJobs(done, held)


_made: dict[str, AccountedJobs] = {}


@pytest.fixture
def jobs() -> AccountedJobs:
    """One pair of jobs per test session (tests only read them)."""
    if "jobs" not in _made:
        if not slurm_up():
            pytest.skip("no cluster")
        _made["jobs"] = make_accounted_jobs()
    return _made["jobs"]


def test_one_job_is_sacct_document(jobs: AccountedJobs) -> None:
    for job_id in (jobs.done, jobs.never_ran):
        same_as_sacct(f"{DB}/job/{job_id}", ("sacct", "--json", f"--jobs={job_id}"))
        resp, = ask(f"{DB}/job/{job_id}")
        validate(f"{DB}/job/{{job_id}}", resp)
        record, = body(resp)["jobs"]
        assert record["job_id"] == job_id
    never = body(ask(f"{DB}/job/{jobs.never_ran}")[0])["jobs"][0]
    assert never["name"] == "zt_dbjobs_held"
    assert never["state"]["current"] == "CANCELLED"


def same_as_sacct(path: str, argv: tuple[str, ...], accept: str | None = None) -> None:
    """Our answer is sacct's bytes (read again when slurmdbd was still finishing the
    record between the two reads)."""
    for attempt in range(3):
        resp, = ask(path, accept=accept)
        assert resp.status == 200
        if resp.body == as_test_user(*argv) or attempt == 2:
            break
        time.sleep(1)
    assert resp.body == as_test_user(*argv)


def test_one_job_in_yaml_is_sacct_yaml(jobs: AccountedJobs) -> None:
    same_as_sacct(f"{DB}/job/{jobs.done}", ("sacct", "--yaml", f"--jobs={jobs.done}"), YAML)


def test_filters_reach_sacct(jobs: AccountedJobs) -> None:
    both = f"{jobs.done},{jobs.never_ran}"
    paths = (f"{DB}/jobs?step={both}", f"{DB}/jobs?step={both}&skip_steps=true",
             f"{DB}/jobs?step={both}&state=CANCELLED",
             f"{DB}/jobs?step={both}&job_name=zt_dbjobs_done&account=research")
    listed, alloc, cancelled, named = ask(*paths)
    for resp in (listed, alloc, cancelled, named):
        assert resp.status == 200
        validate(f"{DB}/jobs", resp)
    same_as_sacct(paths[0], ("sacct", "--json", f"--jobs={both}"))
    assert sorted(j["job_id"] for j in body(listed)["jobs"]) == sorted(
        [jobs.done, jobs.never_ran])
    assert all(j["steps"] == [] for j in body(alloc)["jobs"])
    assert any(j["steps"] for j in body(listed)["jobs"])
    assert [j["job_id"] for j in body(cancelled)["jobs"]] == [jobs.never_ran]
    assert [j["job_id"] for j in body(named)["jobs"]] == [jobs.done]


def test_filters_done_on_saccts_document(jobs: AccountedJobs) -> None:
    both = f"{jobs.done}%2C{jobs.never_ran}"
    names = "job_name=zt_dbjobs_done%2Czt_dbjobs_held"
    paths = (f"{DB}/jobs?step={both}", f"{DB}/jobs?step={both}&reason=None",
             f"{DB}/jobs?step={both}&reason=9999", f"{DB}/jobs?step={both}&constraints=%25",
             f"{DB}/jobs?step={both}&exit_code=7&reservation=maint",
             f"{DB}/jobs?{names}&submit_time=2020-01-01",
             f"{DB}/jobs?{names}&submit_time=2020-01-01&end_time=now")
    answers = ask(*paths)
    for resp in answers:
        assert resp.status == 200
    for resp in answers[:5]:  # (older jobs of those names may lack what the spec wants)
        validate(f"{DB}/jobs", resp)
    listed, reason_none, no_reason, any_constraints, _ignored, submitted, windowed = (
        body(resp) for resp in answers)
    assert [j["job_id"] for j in reason_none["jobs"]] == [
        j["job_id"] for j in listed["jobs"] if j["state"]["reason"] == "None"]
    assert (no_reason["jobs"], [e["error_number"] for e in no_reason["errors"]]) == ([], [9003])
    assert any_constraints == listed  # every record matches '%' (written again like json-c)
    assert answers[3].body == answers[0].body
    assert answers[4].body == answers[0].body  # checked, then without effect in slurmdbd
    ids = {jobs.done, jobs.never_ran}
    assert ids <= {j["job_id"] for j in submitted["jobs"]}
    assert all(j["steps"] == [] for j in submitted["jobs"])  # no step window end
    assert any(j["steps"] for j in windowed["jobs"] if j["job_id"] == jobs.done)


def test_whole_history_without_query_is_truncated() -> None:
    full = json.loads(as_test_user("sacct", "--json", f"--starttime={EPOCH_START}"))
    resp, = ask(f"{DB}/jobs")
    assert resp.status == 200
    validate(f"{DB}/jobs", resp)
    records = {j["job_id"]: j for j in body(resp)["jobs"]}
    assert all(j["time"]["start"] is not None for j in records.values())
    never_started = [j for j in full["jobs"]
                     if j["time"]["start"] is None and j["job_id"] in records]
    for job in never_started:
        times = records[job["job_id"]]["time"]
        assert times["start"] == times["end"] == job["time"]["end"]
    assert len(full["jobs"]) >= len(records)


def test_errors(jobs: AccountedJobs) -> None:
    unknown, bad_value, bad_id, missing = ask(
        f"{DB}/jobs?nosuch=1", f"{DB}/jobs?start_time=bogus", f"{DB}/job/abc",
        f"{DB}/job/4294967294")
    for resp, source in ((unknown, "nosuch"), (bad_value, "start_time"), (bad_id, "job_id")):
        assert resp.status == 400
        err, = body(resp)["errors"]
        assert (err["error_number"], err["source"]) == (9000, source)
        validate(f"{DB}/jobs", resp)
    assert missing.status == 200
    assert body(missing)["jobs"] == []
    assert [e["error_number"] for e in body(missing)["errors"]] == [9003]
