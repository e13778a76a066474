"""GET /slurmdb/v0.0.38/jobs and job/{job_id}: slurmrest-stdio against Debian's slurmrestd.

The accounting records are the same for both programs at the same moment, so bodies must be
the same bytes, JSON and YAML alike (both programs' YAML is Slurm's own here). Jobs made
for the test (a completed one and one cancelled while held, see the cluster test) give
answers that cannot move between the two reads; whole-history answers can (other jobs
finish meanwhile) and are tried again.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.cluster.test_db_jobs import AccountedJobs, jobs  # noqa: F401 (fixture)
from tests.conformance.differences import ref
from tests.conformance.harness import Case, Conversation, converse_both, load_body, run_case
from tests.helpers import ParsedResponse, request

DB = "/slurmdb/v0.0.38"
YAML = "Accept: application/x-yaml"
ATTEMPTS = 3


def get(path: str, *headers: str) -> bytes:
    return request("GET", path, *headers)


def same_bytes(path: str, *headers: str) -> tuple[Conversation, Conversation]:
    """Both answer 200 with the same bytes (read again when the data moved meanwhile)."""
    for attempt in range(ATTEMPTS):
        ours, theirs = run_case(Case(path, get(path, *headers), (200,)))
        if ours.responses[0].body == theirs.responses[0].body or attempt == ATTEMPTS - 1:
            break
        time.sleep(0.5)
    assert ours.responses[0].body == theirs.responses[0].body, path
    return ours, theirs


def only(conv: Conversation) -> ParsedResponse:
    assert len(conv.responses) == 1, conv.describe()
    return conv.responses[0]


def body(conv: Conversation) -> dict[str, Any]:
    data: dict[str, Any] = load_body(only(conv))
    return data


@pytest.mark.parametrize("query", [
    "step={both}", "step={both}&skip_steps=true", "step={done}.batch",
    "step={both}&account=research&job_name=zt_dbjobs_done",
    "step={both}&ACCOUNT=research&Cluster=lab", "step={both}&groups=1001",
    "step={both}&state=CD&start_time=2020-01-01", "step={both}&nodes_max=1&cpus_min=1",
    "step={both}&disable_wait_for_result=true", "step={both}&partition=nope",
    "step={both}&exit_code=3", "step={both}&reservation=maint%2Cother",
    "step={both}&constraints=zzz", "step={both}&constraints=%25",
    "step={both}&CONSTRAINTS=big", "step={both}&reason=None", "step={both}&reason=16%2C5",
    "step={both}&reason=JobHeldUser&constraints=%25",
    "step={both}&submit_time=2020-01-01", "step={both}&submit_time=now&skip_steps=1",
    "job_name=zt_dbjobs_done%2Czt_dbjobs_held&submit_time=2020-01-01",
    "job_name=zt_dbjobs_done&submit_time=2020-01-01&end_time=now",
    "job_name=zt_dbjobs_held&submit_time=2020-01-01&state=CA",
    "job_name=zt_dbjobs_held&submit_time=2020-01-01&state=CA&end_time=now",
])
def test_filtered_jobs_are_the_same_bytes(jobs: AccountedJobs, query: str) -> None:  # noqa: F811
    both = f"{jobs.done}%2C{jobs.never_ran}"
    same_bytes(f"{DB}/jobs?" + query.format(both=both, done=jobs.done))


@pytest.mark.parametrize("query", [
    "step={both}&reason=None", "step={both}&constraints=zzz",
    "job_name=zt_dbjobs_done%2Czt_dbjobs_held&submit_time=2020-01-01",
])
def test_filtered_jobs_in_yaml_are_the_same_bytes(jobs: AccountedJobs,  # noqa: F811
                                                   query: str) -> None:
    both = f"{jobs.done}%2C{jobs.never_ran}"
    same_bytes(f"{DB}/jobs?" + query.format(both=both), YAML)


def test_one_job_is_the_same_bytes(jobs: AccountedJobs) -> None:  # noqa: F811
    for job_id in (jobs.done, jobs.never_ran):
        same_bytes(f"{DB}/job/{job_id}")
        same_bytes(f"{DB}/job/{job_id}", YAML)
    same_bytes(f"{DB}/job/{jobs.done}%2C{jobs.never_ran}")
    same_bytes(f"{DB}/job/{jobs.done}.batch")


def test_unknown_job_is_200_with_slurms_error() -> None:
    ours, _ = same_bytes(f"{DB}/job/4294967294")
    assert body(ours)["jobs"] == []
    assert [e["error_number"] for e in body(ours)["errors"]] == [9003]


@pytest.mark.parametrize("path", [
    f"{DB}/jobs", f"{DB}/jobs/", f"{DB}/jobs?account=research", f"{DB}/jobs?state=CD",
    f"{DB}/jobs?start_time=today&end_time=now", f"{DB}/jobs?association=2",
])
def test_whole_history_is_the_same_bytes(path: str) -> None:
    same_bytes(path)


def test_whole_history_yaml_is_the_same_bytes() -> None:
    same_bytes(f"{DB}/jobs", YAML)
    same_bytes(f"{DB}/jobs?account=research", YAML)


# -- deliberate differences -----------------------------------------------------------------

@pytest.mark.parametrize(("query", "source", "description"), [
    ("nosuch=1", "nosuch", "Unknown Query field"),
    ("start_time=bogus", "start_time", "Unable to parse time format"),
    ("cpus_min=x", "cpus_min", "must be an integer"),
    ("state=BOGUS", "state", "Unable to parse CSV list"),
    ("submit_time=today&start_time=today", "start_time",
     "start_time and submit_time are mutually exclusive"),
    ("exit_code=x", "exit_code", "must be an integer"),
])
def test_query_errors_are_400_naming_the_filter(query: str, source: str,
                                                description: str) -> None:
    ref("db_jobs_query_errors")
    ours, theirs = converse_both(get(f"{DB}/jobs?{query}"))
    assert only(ours).status == 400
    assert only(theirs).status == 500
    mine, = body(ours)["errors"]
    yours, = body(theirs)["errors"]
    assert (mine["error_number"], mine["source"]) == (9000, source)
    assert mine["description"].startswith(description)
    assert yours["error_number"] == 9000 and yours["description"] == description
    assert list(body(ours)) == list(body(theirs)) == ["meta", "errors"]


def test_group_filter(jobs: AccountedJobs) -> None:  # noqa: F811
    ref("db_jobs_group_filter")
    both = f"step={jobs.done}%2C{jobs.never_ran}"
    ours, theirs = converse_both(get(f"{DB}/jobs?{both}&group=alice"))
    assert only(theirs).status == 500
    assert body(theirs)["errors"][0]["description"] == "Unknown Query field"
    assert only(ours).status == 200
    assert {j["job_id"] for j in body(ours)["jobs"]} == {jobs.done, jobs.never_ran}
    ours, theirs = converse_both(get(f"{DB}/jobs?{both}&groups=alice"))
    assert only(theirs).status == only(ours).status == 200
    assert body(theirs)["jobs"] == []  # the name is compared with group ids as is
    assert {j["job_id"] for j in body(ours)["jobs"]} == {jobs.done, jobs.never_ran}


def test_submit_time_with_step_and_end_time_is_400(jobs: AccountedJobs) -> None:  # noqa: F811
    ref("db_jobs_unsupported_filters")
    query = f"step={jobs.done}&submit_time=2020-01-01&end_time=now"
    ours, theirs = converse_both(get(f"{DB}/jobs?{query}"))
    assert only(theirs).status == 200
    assert [j["job_id"] for j in body(theirs)["jobs"]] == [jobs.done]
    assert only(ours).status == 400
    err, = body(ours)["errors"]
    assert (err["error_number"], err["source"]) == (9000, "submit_time")


@pytest.mark.parametrize("segment", ["abc", "1.x"])
def test_bad_job_id_is_400_where_slurmrestd_dies(segment: str) -> None:
    ref("db_job_bad_id")
    ours, theirs = converse_both(get(f"{DB}/job/{segment}"))
    assert theirs.responses == [] and theirs.raw == b""
    assert only(ours).status == 400
    err, = body(ours)["errors"]
    assert (err["error_number"], err["source"]) == (9000, "job_id")
