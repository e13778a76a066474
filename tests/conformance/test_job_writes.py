"""POST job/submit, POST job/{job_id}, DELETE job/{job_id}: slurmrest-stdio against Debian's
slurmrestd, the same request bytes to both.

A submission makes one job per program: the answers are compared by status, keys and value
types (job ids differ), the errors by Slurm's number and text, and the two jobs as Slurm
reports them (scontrol) field by field. Updates and signals go to one job both programs
may touch, so their answers can be compared byte for byte -- except the description of a
failed update, where slurmrestd names its connection and we name the job
(``job_write_errors``). Every job made here is cancelled at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.differences import ref
from tests.conformance.harness import (
    Case,
    Conversation,
    Program,
    converse,
    converse_both,
    load_body,
    media_type,
    run_case,
)
from tests.helpers import OTHER_USER, TEST_USER, ParsedResponse, request

SUBMIT = "/slurm/v0.0.38/job/submit"
JOB = "/slurm/v0.0.38/job/"
MARK = f"jwc{os.getpid()}"
SCRIPT = "#!/bin/sh\nsleep 300\n"
HELD = (2042, "Job is in held state, pending scheduler release")
#: what both programs' jobs must agree on (scontrol -o show job fields)
FIELDS = ("JobName", "UserId", "Account", "QOS", "WCKey", "JobState", "Reason", "Priority",
          "Requeue", "TimeLimit", "Partition", "NumNodes", "NumCPUs", "NumTasks", "CPUs/Task",
          "MinMemoryNode", "MinMemoryCPU", "OverSubscribe", "Licenses", "WorkDir", "StdOut",
          "StdErr", "StdIn", "MailType", "ArrayTaskId", "ArrayTaskThrottle", "Nice",
          "HetJobOffset")


def post(path: str, body: Any, content_type: str = "application/json") -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request("POST", path, f"Content-Type: {content_type}", body=data)


def only(conv: Conversation) -> ParsedResponse:
    assert len(conv.responses) == 1, conv.describe()
    assert not conv.quirks, conv.describe()
    return conv.responses[0]


def body_of(resp: ParsedResponse) -> dict[str, Any]:
    data: dict[str, Any] = load_body(resp)
    return data


def shape(value: Any) -> Any:
    """Keys (in order) and value types, without the values."""
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def slurm_errors(body: dict[str, Any]) -> list[tuple[int, str]]:
    """(number, text) of each error that carries a number: slurmrestd's submission errors
    say ``error_code`` where the rest say ``error_number`` (``job_write_errors``)."""
    out = []
    for err in body["errors"]:
        number = err.get("error_number", err.get("error_code"))
        if number is not None:
            out.append((number, err.get("error", "")))
    return out


def records(job_id: int) -> list[dict[str, str]]:
    out = subprocess.run(["scontrol", "-o", "show", "job", str(job_id)], capture_output=True,
                         text=True, check=True, timeout=30)
    return [dict(item.split("=", 1) for item in line.split(" ") if "=" in item)
            for line in out.stdout.splitlines()]


def same_jobs(mine: int, yours: int, ignore: tuple[str, ...] = ()) -> None:
    """The two programs' jobs, field by field as scontrol shows them (job ids in values,
    such as the default output file's, masked; a node count range "1-1", as sbatch leaves
    it, is the count "1" that slurmrestd leaves)."""
    ours, theirs = records(mine), records(yours)
    assert len(ours) == len(theirs)

    def fields(rec: dict[str, str]) -> dict[str, str | None]:
        own = rec["JobId"]
        out = {f: (v.replace(own, "<id>") if v else v)
               for f in FIELDS if f not in ignore for v in [rec.get(f)]}
        count = out.get("NumNodes") or ""
        low, _, high = count.partition("-")
        if low == high:
            out["NumNodes"] = low
        return out

    for a, b in zip(ours, theirs, strict=True):
        assert fields(a) == fields(b)


@pytest.fixture
def made() -> Iterator[list[int]]:
    ids: list[int] = []
    yield ids
    subprocess.run(["scancel", *map(str, ids)], capture_output=True, check=False, timeout=30)
    subprocess.run(["scancel", f"--name={MARK}"], capture_output=True, check=False, timeout=30)


def both_submit(made: list[int], data: bytes) -> tuple[ParsedResponse, ParsedResponse]:
    ours, theirs = converse_both(data)
    mine, yours = only(ours), only(theirs)
    for resp in (mine, yours):
        if media_type(resp) in ("application/json", "application/x-yaml"):
            job = body_of(resp).get("job_id")
            if isinstance(job, int):
                made.append(job)
    return mine, yours


@pytest.fixture
def held_job(made: list[int]) -> int:
    """A held job of the test user, for both programs to update and signal."""
    out = subprocess.run(
        ["sbatch", "--parsable", "--hold", f"--job-name={MARK}", "--output=/dev/null"],
        input=SCRIPT, capture_output=True, text=True, check=True, timeout=30,
        user=TEST_USER, group=TEST_USER, extra_groups=[], cwd="/tmp")
    job = int(out.stdout.strip())
    made.append(job)
    return job


# -- submissions that both programs accept: the same answers, the same jobs -----------------------

ENV = {"A": "1", "B": "two words"}
ACCEPTED = [
    ("held_plain", {"job": {
        "environment": ENV, "name": MARK, "hold": True, "comment": "same", "time_limit": 7,
        "partition": "debug", "account": "research", "qos": "high", "wckey": "projx",
        "licenses": "fluent:1", "memory_per_node": 100, "tasks": 2, "cpus_per_task": 1,
        "nodes": [1, 1], "exclusive": "user", "current_working_directory": "/tmp",
        "standard_output": "/dev/null", "standard_error": "/dev/null",
        "standard_input": "/dev/null", "mail_type": "END", "nice": 5}}),
    ("held_array", {"job": {"environment": ENV, "name": MARK, "hold": True,
                            "array": "0-3%2", "memory_per_cpu": 50}}),
    ("held_het", {"jobs": [
        {"environment": {"A": "first"}, "name": MARK, "partition": "debug", "time_limit": 2},
        {"environment": {"B": "second"}, "name": MARK, "partition": "long", "hold": True,
         "time_limit": 3}]}),
    ("begin_later", {"job": {"environment": ENV, "name": MARK, "begin_time": "now+1hour",
                             "standard_output": "/dev/null"}}),
]


@pytest.mark.parametrize(("name", "payload"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_accepted_submissions(made: list[int], name: str, payload: dict[str, Any]) -> None:
    mine, yours = both_submit(made, post(SUBMIT, {"script": SCRIPT, **payload}))
    assert mine.status == yours.status == 200, (mine.body, yours.body)
    assert media_type(mine) == media_type(yours) == "application/json"
    ours, theirs = body_of(mine), body_of(yours)
    assert slurm_errors(ours) == slurm_errors(theirs)
    assert shape({k: v for k, v in ours.items() if k != "errors"}) == shape(
        {k: v for k, v in theirs.items() if k != "errors"})
    assert (ours["step_id"], ours["job_submit_user_msg"]) == (
        theirs["step_id"], theirs["job_submit_user_msg"])
    assert ours["meta"] == theirs["meta"]
    if slurm_errors(theirs):
        assert slurm_errors(theirs) == [HELD]
        ref("job_write_errors")  # their held error says error_code, without description
    # a job that is not held: its priority and reason are the scheduler's, at its own time
    ignore: tuple[str, ...] = () if payload.get("job", {}).get("hold") else (
        "Reason", "Priority")
    if "jobs" in payload:
        ref("sbatch_submission")  # sbatch's hold holds every component of the job
        ignore = ("Reason", "Priority")
    same_jobs(ours["job_id"], theirs["job_id"], ignore)


def test_yaml_submission(made: list[int]) -> None:
    data = (f"job:\n  environment:\n    A: 1\n  name: {MARK}\n  hold: true\n"
            "  time_limit: 4\nscript: \"#!/bin/sh\\ntrue\\n\"\n").encode()
    mine, yours = both_submit(made, post(SUBMIT, data, "application/x-yaml"))
    assert mine.status == yours.status == 200
    ours, theirs = body_of(mine), body_of(yours)
    assert slurm_errors(ours) == slurm_errors(theirs) == [HELD]
    same_jobs(ours["job_id"], theirs["job_id"])


# -- submissions that both refuse ------------------------------------------------------------------

REFUSED: list[tuple[str, bytes, int, int]] = [
    ("empty_body", request("POST", SUBMIT, "Content-Length: 0"), 500, 2009),
    ("empty_object", post(SUBMIT, {}), 500, 2009),
    ("no_script", post(SUBMIT, {"job": {"environment": ENV}}), 500, 2009),
    ("no_job", post(SUBMIT, {"script": SCRIPT}), 400, 9002),
    ("job_not_an_object", post(SUBMIT, {"script": SCRIPT, "job": "x"}), 400, 9002),
    ("no_environment", post(SUBMIT, {"script": SCRIPT, "job": {"name": MARK}}), 400, 2127),
    ("empty_environment", post(SUBMIT, {"script": SCRIPT, "job": {"environment": {}}}),
     400, 2127),
    ("unknown_property", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "bogus": 1}}), 400, 9001),
    ("disabled_property", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "cpu_binding": "cores"}}), 400, 9001),
    ("bad_time_limit", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "time_limit": "abc"}}), 400, 9001),
    ("bad_priority", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "priority": "0"}}), 400, 9001),
    ("second_component_without_environment", post(SUBMIT, {"script": SCRIPT, "jobs": [
        {"environment": ENV, "name": MARK}, {"name": MARK}]}), 400, 2127),
    ("second_component_unparsable", post(SUBMIT, {"script": SCRIPT, "jobs": [
        {"environment": ENV, "name": MARK}, {"environment": ENV, "nice": "x"}]}), 400, 9001),
    ("account_not_allowed", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "name": MARK, "account": "physics"}}), 500, 2045),
    ("partition_unknown", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "name": MARK, "partition": "nope"}}), 500, 2000),
    ("qos_unknown", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "name": MARK, "qos": "nope"}}), 500, 2066),
    ("qos_not_allowed", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "name": MARK, "qos": "high", "account": "physics"}}), 500, 2045),
    ("het_second_refused", post(SUBMIT, {"script": SCRIPT, "jobs": [
        {"environment": ENV, "name": MARK, "hold": True},
        {"environment": ENV, "name": MARK, "account": "physics"}]}), 500, 2045),
    ("dependency_malformed", post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "name": MARK, "dependency": "garbage"}}), 500, 2038),
]


@pytest.mark.parametrize(("name", "data", "status", "number"), REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_refused_submissions(made: list[int], name: str, data: bytes, status: int,
                             number: int) -> None:
    ref("job_write_errors")  # the same Slurm errors, in the envelope's one shape
    mine, yours = both_submit(made, data)
    assert mine.status == yours.status == status, (mine.body, yours.body)
    ours, theirs = body_of(mine), body_of(yours)
    assert number in [n for n, _ in slurm_errors(ours)]
    assert number in [n for n, _ in slurm_errors(theirs)]
    if status == 500:  # Slurm's own refusal: exactly the same error
        assert slurm_errors(ours) == slurm_errors(theirs)
    assert "job_id" not in ours and "job_id" not in theirs
    assert ours["meta"] == theirs["meta"]
    # nothing at all was submitted, not even part of a heterogeneous job
    out = subprocess.run(["squeue", "-h", f"--name={MARK}"], capture_output=True,
                         text=True, check=True, timeout=30)
    assert out.stdout == ""


def test_unparsable_body_is_400_for_both() -> None:
    for data in (post(SUBMIT, b"{"), post(JOB + "1", b'{"comment": ')):
        mine, yours = (only(c) for c in converse_both(data))
        assert mine.status == yours.status == 400
        assert media_type(mine) == media_type(yours) == "text/plain"


# -- updates and signals of one job ---------------------------------------------------------------

def exact(name: str, data: bytes, status: int, as_user: str = TEST_USER) -> None:
    run_case(Case(name, data, (status,), as_user=as_user))


def same_update_answer(data: bytes, status: int, as_user: str = TEST_USER) -> None:
    """Statuses and errors alike, but for the description (``job_write_errors``)."""
    ours, theirs = converse_both(data, as_user=as_user)
    mine, yours = only(ours), only(theirs)
    assert mine.status == yours.status == status, (mine.body, yours.body)
    strip = [{k: v for k, v in e.items() if k != "description"}
             for e in body_of(mine)["errors"]]
    assert strip == [{k: v for k, v in e.items() if k != "description"}
                     for e in body_of(yours)["errors"]]
    if body_of(mine)["errors"]:
        ref("job_write_errors")


def test_updates(held_job: int) -> None:
    job = held_job
    exact("update_comment", post(JOB + str(job), {"comment": "both", "time_limit": 5}), 200)
    assert records(job)[0]["TimeLimit"] == "00:05:00"
    exact("update_qos", post(JOB + str(job), {"qos": "high"}), 200)
    assert records(job)[0]["QOS"] == "high"
    exact("update_nothing", post(JOB + str(job), {}), 200)
    exact("update_yaml", post(JOB + str(job), b"comment: from yaml\ntime_limit: 4\n",
                              "application/x-yaml"), 200)
    assert records(job)[0]["TimeLimit"] == "00:04:00"
    exact("update_release", post(JOB + str(job), {"hold": False}), 200)
    assert records(job)[0]["Priority"] != "0"
    exact("update_hold", post(JOB + str(job), {"hold": True}), 200)
    assert (records(job)[0]["Priority"], records(job)[0]["Reason"]) == ("0", "JobHeldUser")
    same_update_answer(post(JOB + str(job), {"time_limit": 99999}), 500)
    same_update_answer(post(JOB + str(job), {"partition": "nope"}), 500)
    same_update_answer(post(JOB + str(job), {"account": "physics"}), 500)
    same_update_answer(post(JOB + str(job), {"priority": "5"}), 500)
    same_update_answer(post(JOB + str(job), {"comment": "bob"}), 500, as_user=OTHER_USER)
    same_update_answer(post(JOB + f"{job}_1", {"comment": "x"}), 200)
    for bad in ("99999999", "abc", "0", "-1", "0099999999"):
        same_update_answer(post(JOB + bad, {"comment": "x"}), 500)
    assert records(job)[0]["QOS"] == "high"


def test_signals_and_cancel(held_job: int) -> None:
    job = held_job
    for bad in ("99999999", "abc", "0", "-1", f"{job}.batch", "1e3"):
        exact(f"delete_{bad}", request("DELETE", JOB + bad), 500)
        exact(f"signal_{bad}", request("DELETE", JOB + f"{bad}?signal=USR1"), 500)
    exact("delete_unknown_yaml", request("DELETE", JOB + "99999999",
                                         "Accept: application/x-yaml"), 500)
    for sig in ("FOO", "0", "99", "64", "-1", "USR1x"):
        exact(f"bad_signal_{sig}", request("DELETE", JOB + f"{job}?signal={sig}"), 400)
    for sig in ("USR1", "SIGUSR1", "usr2", "10", "TERM"):
        # a pending job takes no signal but KILL
        exact(f"pending_{sig}", request("DELETE", JOB + f"{job}?signal={sig}"), 500)
    exact("delete_other_user", request("DELETE", JOB + str(job)), 500, as_user=OTHER_USER)
    exact("signal_other_user", request("DELETE", JOB + f"{job}?signal=USR1"), 500,
          as_user=OTHER_USER)
    assert records(job)[0]["JobState"] == "PENDING"
    # the first to arrive cancels it, the other finds it ended: both answer 200
    exact("cancel", request("DELETE", JOB + str(job)), 200)
    assert records(job)[0]["JobState"] == "CANCELLED"
    exact("cancel_again", request("DELETE", JOB + f"{job}?signal=KILL"), 200)
    exact("signal_ended", request("DELETE", JOB + f"{job}?signal=USR1"), 200)
    exact("cancel_empty_signal", request("DELETE", JOB + f"{job}?signal="), 200)


def sbatch_as_user(*options: str) -> int:
    out = subprocess.run(["sbatch", "--parsable", *options], input=SCRIPT, capture_output=True,
                         text=True, check=True, timeout=30, user=TEST_USER, group=TEST_USER,
                         extra_groups=[], cwd="/tmp")
    return int(out.stdout.strip())


def test_signals_to_parts_of_jobs(made: list[int]) -> None:
    het = sbatch_as_user("--hold", f"--job-name={MARK}", "--output=/dev/null", ":",
                         f"--job-name={MARK}")
    array = sbatch_as_user("--hold", f"--job-name={MARK}", "--output=/dev/null",
                           "--array=0-3")
    made.extend([het, array])
    for target in (f"{het}%2B1", f"{het}%2B0", f"{het}%2B7", str(het), f"{array}_1",
                   f"{array}_9", f"{array}_%5B1-2%5D"):
        for query in ("?signal=USR1", "?signal=TERM"):
            exact(f"signal_part_{target}{query}", request("DELETE", JOB + target + query), 500)
    ref("job_write_errors")  # slurmrestd reports an error after a successful task update
    ours, theirs = converse_both(post(JOB + f"{array}_1", {"comment": "one task"}))
    assert only(ours).status == only(theirs).status == 200
    assert body_of(only(ours))["errors"] == []
    assert body_of(only(theirs))["errors"] == [
        {"description": "job array update from fd:0->fd:1 failed", "source": "_parse_job_list"}]
    same_update_answer(post(JOB + f"{het}%2B1", {"comment": "one component"}), 200)
    exact("cancel_component", request("DELETE", JOB + f"{het}%2B1"), 500)
    exact("cancel_task", request("DELETE", JOB + f"{array}_1"), 200)
    exact("cancel_het", request("DELETE", JOB + f"{het}%2B0"), 200)
    assert all(r["JobState"] == "CANCELLED" for r in records(het))


# -- where we answer differently on purpose ----------------------------------------------------

def test_strict_properties_on_submission(made: list[int]) -> None:
    ref("job_properties_strict")
    for extra in ({"exclusive": "true"}, {"begin_time": 1999999999}, {"nodes": [1]},
                  {"requeue": False}):
        mine, yours = both_submit(made, post(SUBMIT, {"script": SCRIPT, "job": {
            "environment": ENV, "name": MARK, "hold": True, **extra}}))
        if "requeue" in extra:
            # slurmrestd sets requeue whatever the value; we do what was asked
            assert mine.status == yours.status == 200
            assert records(body_of(mine)["job_id"])[0]["Requeue"] == "0"
            assert records(body_of(yours)["job_id"])[0]["Requeue"] == "1"
        else:  # the spec's own values, which slurmrestd's parser does not take
            assert (mine.status, yours.status) == (200, 400), (extra, yours.body)
    # types: slurmrestd turns strings into numbers and numbers into strings, we refuse
    mine, yours = both_submit(made, post(SUBMIT, {"script": SCRIPT, "job": {
        "environment": ENV, "name": MARK, "hold": True, "time_limit": "5"}}))
    assert (mine.status, yours.status) == (400, 200)
    assert "job.time_limit" in body_of(mine)["errors"][0]["description"]


def test_strict_properties_on_update(held_job: int) -> None:
    ref("job_properties_strict")
    job = held_job
    bodies: list[Any] = [{"bogus": 1}, {"comment": 5}, {"standard_error": "/tmp/x"},
                         {"environment": {"A": "B"}}, [], {"Comment": "x"}]
    for body in bodies:
        ours = only(converse(Program.OURS, post(JOB + str(job), body)))
        theirs = only(converse(Program.THEIRS, post(JOB + str(job), body)))
        assert (ours.status, theirs.status) == (400, 200), body
    # a new name: slurmrestd drops it without a word, we apply it
    theirs = only(converse(Program.THEIRS, post(JOB + str(job), {"name": "renamed"})))
    assert theirs.status == 200 and records(job)[0]["JobName"] == MARK
    ours = only(converse(Program.OURS, post(JOB + str(job), {"name": "renamed"})))
    assert ours.status == 200 and records(job)[0]["JobName"] == "renamed"


def test_what_sbatch_changes(made: list[int]) -> None:
    ref("sbatch_submission")
    job = {"environment": ENV, "name": MARK, "hold": True}
    for script, extra in (("echo no interpreter line\n", {}),
                          ("#!/bin/sh\r\necho dos\r\n", {}),
                          (SCRIPT, {"environment": {"DISPLAY": ":0"}})):
        mine, yours = both_submit(made, post(SUBMIT, {"script": script,
                                                      "job": {**job, **extra}}))
        assert (mine.status, yours.status) == (400, 200), script
        assert body_of(mine)["errors"][0]["error_number"] == 9001
    # script arguments: refused here; slurmrestd submits the job, then crashes (SIGSEGV)
    # without answering
    data = post(SUBMIT, {"script": SCRIPT, "job": {**job, "argv": ["prog", "a"]}})
    ours, theirs = converse_both(data)
    assert only(ours).status == 400
    assert theirs.responses == [] and theirs.returncode < 0, theirs.describe()
    # an #SBATCH directive applies for us; slurmrestd reads nothing from the script
    mine, yours = both_submit(made, post(SUBMIT, {
        "script": "#!/bin/sh\n#SBATCH --comment=from-script\ntrue\n", "job": job}))
    assert mine.status == yours.status == 200
    comments = [records(body_of(r)["job_id"])[0].get("Comment") for r in (mine, yours)]
    assert comments == ["from-script", None]


def test_signal_values_that_are_no_signal(made: list[int]) -> None:
    ref("signal_values")
    ids = []
    for _ in range(2):
        out = subprocess.run(["sbatch", "--parsable", "--hold", f"--job-name={MARK}"],
                             input=SCRIPT, capture_output=True, text=True, check=True,
                             timeout=30, user=TEST_USER, group=TEST_USER, extra_groups=[],
                             cwd="/tmp")
        ids.append(int(out.stdout))
    made.extend(ids)
    for value in ("2.5", "yes"):
        ours = only(converse(Program.OURS, request("DELETE", JOB + f"{ids[0]}?signal={value}")))
        assert ours.status == 400
        assert records(ids[0])[0]["JobState"] == "PENDING"
    theirs = only(converse(Program.THEIRS, request("DELETE", JOB + f"{ids[1]}?signal=2.5")))
    assert theirs.status == 200  # slurmrestd takes it for KILL
    assert records(ids[1])[0]["JobState"] == "CANCELLED"
