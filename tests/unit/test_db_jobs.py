"""slurmdb accounting jobs (GET jobs, GET job/{job_id}): filters -> sacct options, the
handlers with a fake backend, the sacct backend with canned output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from slurmrest_stdio.api.dbv0_0_38.jobs import (
    EPOCH_START,
    REASONS,
    AfterSacct,
    QueryError,
    filter_document,
    filter_yaml,
    mysql_number,
    sacct_options,
    sacct_plan,
    truncate_like_slurmdbd,
    truncate_yaml_like_slurmdbd,
)
from slurmrest_stdio.app import Exchange
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.cli_dbjobs import DbJobsCli
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.codec import dump_json
from slurmrest_stdio.config import Config
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import FakeBackend, make_app

ALICE = Identity("alice", 1001, "rest_auth/local")
DB = "/slurmdb/v0.0.38"
START = f"--starttime={EPOCH_START}"
META = {
    "plugin": {"type": "openapi/dbv0.0.38", "name": "Slurm OpenAPI DB v0.0.38"},
    "Slurm": {"version": {"major": 22, "micro": 8, "minor": 5}, "release": "22.05.8"},
}


def job(job_id: int, start: int | None, end: int, state: str = "COMPLETED") -> dict[str, Any]:
    return {"job_id": job_id, "state": {"current": state, "reason": "None"},
            "time": {"elapsed": 0 if start is None else max(end - start, 0), "end": end,
                     "start": start, "submission": 100}}


def document(*jobs: dict[str, Any], errors: Sequence[dict[str, Any]] = ()) -> bytes:
    return dump_json({"meta": META, "errors": list(errors), "jobs": list(jobs)}).encode()


def q(text: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(text, keep_blank_values=True)


# -- filters -> sacct options -----------------------------------------------------------------

@pytest.mark.parametrize(("query", "options"), [
    ("account=research", ["--accounts=research", START]),
    ("ACCOUNT=research,physics", ["--accounts=research,physics", START]),
    ("account=a&account=b", ["--accounts=a,b", START]),
    ("association=2", ["--associations=2", START]),
    ("cluster=lab", ["--clusters=lab", START]),
    ("format=jobid", ["--format=jobid", START]),
    ("group=alice", ["--group=alice", START]),
    ("groups=1001", ["--group=1001", START]),
    ("job_name=hello", ["--name=hello", START]),
    ("partition=debug", ["--partition=debug", START]),
    ("qos=normal", ["--qos=normal", START]),
    ("state=CD,failed,3", ["--state=CD,failed,3", START]),
    ("wckey=projx", ["--wckeys=projx", START]),
    ("node=n1", ["--nodelist=n1", START]),
    ("start_time=today", ["--starttime=today"]),
    ("start_time=2026-11-22T00:00:00&end_time=now",
     ["--starttime=2026-11-22T00:00:00", "--endtime=now"]),
    ("end_time=now-2days", ["--endtime=now-2days", START]),
    ("step=955.batch,967_1,973%2B0", ["--jobs=955.batch,967_1,973+0"]),
    ("skip_steps=true", ["--allocations", START]),
    ("skip_steps=false", [START]),
    ("skip_steps=maybe", [START]),
    ("disable_wait_for_result=true", [START]),
    ("cpus_min=2", ["--ncpus=2-2147483647", START]),
    ("cpus_max=4", ["--ncpus=0-4", START]),
    ("cpus_min=2&cpus_max=4&nodes_max=1", ["--ncpus=2-4", "--nnodes=0-1", START]),
    ("nodes_min=0", [START]),
    ("exit_code=5", [START]),
    ("reservation=maint,other", [START]),
    ("reason=None&constraints=big", [START]),
    ("submit_time=2026-11-20", ["--starttime=2026-11-20", "--endtime=9999-12-31T23:59:59",
                                "--state=PD,R,S,CD,CA,F,TO,NF,PR,BF,DL,OOM,RQ,RS,RV"]),
    ("submit_time=today&end_time=now", ["--starttime=today", "--endtime=now"]),
    ("submit_time=today&end_time=now&state=CD",
     ["--starttime=today", "--endtime=now", "--state=CD"]),
    ("submit_time=today&step=5", ["--jobs=5"]),
    ("submit_time=today&state=CD", ["--state=CD"]),
])
def test_filters_become_sacct_options(query: str, options: list[str]) -> None:
    got = sacct_options(q(query))
    assert sorted(got) == sorted(options)
    assert all(o.startswith("--") for o in got)


@pytest.mark.parametrize(("query", "source", "description"), [
    ("foo=1", "foo", "Unknown Query field: foo"),
    ("account=x&Bogus=1", "Bogus", "Unknown Query field: Bogus"),
    ("submit_time=bogus", "submit_time", "Unable to parse time format"),
    ("submit_time=today&start_time=today", "start_time", "mutually exclusive"),
    ("start_time=today&SUBMIT_TIME=today", "submit_time", "mutually exclusive"),
    ("submit_time=today&step=5&end_time=now", "submit_time", "step and end_time"),
    ("exit_code=x", "exit_code", "must be an integer"),
    ("exit_code=true", "exit_code", "must be an integer"),
    ("reason=", "reason", "Unable to parse CSV list"),
    ("reservation=a b", "reservation", "Unable to parse CSV list"),
    ("constraints=a'b", "constraints", "Unable to parse CSV list"),
    ("start_time=bogus", "start_time", "Unable to parse time format"),
    ("end_time=--help", "end_time", "Unable to parse time format"),
    ("state=BOGUS", "state", "Unable to parse CSV list"),
    ("account=", "account", "Unable to parse CSV list"),
    ("account=a b", "account", "Unable to parse CSV list"),
    ("account=a'b", "account", "Unable to parse CSV list"),
    ("cpus_min=x", "cpus_min", "must be an integer"),
    ("nodes_max=-1", "nodes_max", "must be an integer"),
    ("nodes_max=99999999999", "nodes_max", "must be an integer"),
    ("step=abc", "step", "Unable to parse job/step format"),
    ("node=a b", "node", "format must be a string"),
])
def test_bad_filters_are_refused_with_their_name(query: str, source: str,
                                                 description: str) -> None:
    with pytest.raises(QueryError) as info:
        sacct_options(q(query))
    err = info.value.error
    assert (err.error_number, err.source) == (9000, source)
    assert description in err.description


# -- handlers ---------------------------------------------------------------------------------

@dataclass
class DbJobsBackend(FakeBackend):
    body: bytes = b""
    yaml: bytes = b""
    asked: list[tuple[tuple[str, ...], str]] = field(default_factory=list)

    def db_jobs(self, who: Identity, options: Sequence[str], fmt: str = "json") -> bytes:
        assert who.user == "alice"
        self.asked.append((tuple(options), fmt))
        if self.fail:
            raise self.fail
        return self.yaml if fmt == "yaml" else self.body


def get(path: str, backend: DbJobsBackend, *headers: tuple[str, str]) -> Exchange:
    return make_app(backend).handle(Request("GET", path, tuple(headers)))


def test_jobs_with_filters_are_sacct_bytes_unchanged() -> None:
    body = document(job(5, None, 200))
    backend = DbJobsBackend(body=body)
    ex = get(f"{DB}/jobs?account=research&skip_steps=1", backend)
    assert ex.response.status == 200
    assert ex.response.body == body
    assert backend.asked == [(("--accounts=research", "--allocations", START), "json")]


def test_jobs_yaml_is_sacct_yaml() -> None:
    backend = DbJobsBackend(yaml=b"%YAML 1.1\n--- !!map\n...\n")
    ex = get(f"{DB}/jobs?account=research", backend, ("accept", "application/x-yaml"))
    assert (ex.response.status, ex.response.body) == (200, backend.yaml)
    assert backend.asked[0][1] == "yaml"


def test_jobs_without_query_are_truncated_like_slurmdbd(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: 1000.5)
    backend = DbJobsBackend(body=document(
        job(7, 150, 0, "RUNNING"), job(6, None, 300, "CANCELLED"), job(6, 120, 130),
        job(5, 110, 2000), job(4, 0, 0, "PENDING")))
    ex = get(f"{DB}/jobs", backend)
    assert ex.response.status == 200
    jobs = json.loads(ex.response.body)["jobs"]
    assert [(j["job_id"], j["time"]["start"], j["time"]["end"]) for j in jobs] == [
        (7, 150, 1000), (6, 300, 300), (5, 110, 1000), (4, 1000, 1000)]
    assert backend.asked == [((START,), "json")]


def test_truncation_keeps_resize_records() -> None:
    doc = {"jobs": [job(3, 10, 20), job(3, 5, 20, "RESIZING")]}
    truncate_like_slurmdbd(doc, 100)
    assert len(doc["jobs"]) == 2


YAML_DOC = b"""%YAML 1.1
--- !!map
!!str meta: !!map
  !!str plugin: !!map
    !!str type: !!str openapi/dbv0.0.38
!!str errors: !!seq []
!!str jobs: !!seq
- !!str account: !!str research
  !!str job_id: !!int 6
  !!str state: !!map
    !!str current: !!str CANCELLED
  !!str time: !!map
    !!str elapsed: !!int 0
    !!str end: !!int 300
    !!str start: !!null null
    !!str system: !!map
      !!str seconds: !!int 0
- !!str account: !!str research
  !!str job_id: !!int 6
  !!str time: !!map
    !!str end: !!int 130
    !!str start: !!int 120
- !!str account: !!str research
  !!str job_id: !!int 7
  !!str time: !!map
    !!str elapsed: !!int 5
    !!str end: !!int 0
    !!str start: !!int 150
...
"""


def test_yaml_truncation_edits_only_the_times() -> None:
    out = truncate_yaml_like_slurmdbd(YAML_DOC, 1000)
    assert out == YAML_DOC.replace(
        b"    !!str start: !!null null\n", b"    !!str start: !!int 300\n",
    ).replace(
        b"- !!str account: !!str research\n  !!str job_id: !!int 6\n  !!str time: !!map\n"
        b"    !!str end: !!int 130\n    !!str start: !!int 120\n", b"",
    ).replace(b"    !!str end: !!int 0\n", b"    !!str end: !!int 1000\n")


def test_jobs_query_errors_are_400_without_asking_slurm() -> None:
    backend = DbJobsBackend()
    ex = get(f"{DB}/jobs?nosuch=1", backend)
    assert ex.response.status == 400
    body = json.loads(ex.response.body)
    assert list(body) == ["meta", "errors"]  # as slurmrestd: no jobs list
    assert body["errors"] == [{"description": "Unknown Query field: nosuch",
                               "error_number": 9000,
                               "error": "Query empty or not RFC7320 compliant",
                               "source": "nosuch"}]
    assert body["meta"]["plugin"]["type"] == "openapi/dbv0.0.38"
    assert backend.asked == []


def test_jobs_failure_is_500_with_slurms_errors() -> None:
    fail = SlurmCommandError([SlurmError("Unable to contact slurm controller", 1007,
                                         "x", "slurmdb_jobs_get")])
    ex = get(f"{DB}/jobs?account=a", DbJobsBackend(fail=fail))
    assert ex.response.status == 500
    assert json.loads(ex.response.body)["errors"][0]["error_number"] == 1007


@pytest.mark.parametrize(("segment", "jobs_option"), [
    ("955", "--jobs=955"), ("967_1", "--jobs=967_1"), ("973%2B0", "--jobs=973+0"),
    ("955.batch", "--jobs=955.batch"), ("0", "--jobs=0"), ("955%2C958", "--jobs=955,958"),
])
def test_one_job_asks_sacct_for_that_id(segment: str, jobs_option: str) -> None:
    body = document(job(955, 1, 2))
    backend = DbJobsBackend(body=body)
    ex = get(f"{DB}/job/{segment}", backend)
    assert (ex.response.status, ex.response.body) == (200, body)
    assert backend.asked == [((jobs_option,), "json")]


@pytest.mark.parametrize("segment", ["abc", "-1", "1%2C", "%20", "1.x", "--help", "955_%5B1-2%5D"])
def test_an_id_that_names_no_job_is_400(segment: str) -> None:
    backend = DbJobsBackend()
    ex = get(f"{DB}/job/{segment}", backend)
    assert ex.response.status == 400
    err = json.loads(ex.response.body)["errors"][0]
    assert err["error_number"] == 9000 and err["source"] == "job_id"
    assert backend.asked == []


# -- the sacct backend ------------------------------------------------------------------------

class CannedSacct(DbJobsCli):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(Config(), environ={})
        self.outcome = outcome
        self.argvs: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        assert who == ALICE and stdin is None
        self.argvs.append(tuple(argv))
        return self.outcome


def test_backend_runs_sacct_and_keeps_documents_with_errors() -> None:
    nothing = document(errors=[{"description": "Nothing found", "error_number": 9003,
                                "error": "Nothing found with query",
                                "source": "slurmdb_jobs_get"}])
    cli = CannedSacct(Outcome(0, nothing, b""))
    assert cli.db_jobs(ALICE, ["--jobs=99999999"]) == nothing
    assert cli.argvs == [("sacct", "--json", "--jobs=99999999")]
    cli.outcome = Outcome(0, b"%YAML 1.1\n", b"")
    cli.db_jobs(ALICE, ["--allocations"], "yaml")
    assert cli.argvs[-1] == ("sacct", "--yaml", "--allocations")


def test_backend_refuses_what_is_not_an_option() -> None:
    cli = CannedSacct(Outcome(0, b"{}", b""))
    for bad in (["955"], ["-j955"], ["--jobs=1\n2"], ["--Jobs=1"]):
        with pytest.raises(ValueError):
            cli.db_jobs(ALICE, bad)
    with pytest.raises(ValueError):
        cli.db_jobs(ALICE, [], "xml")
    assert cli.argvs == []


def test_backend_failure_becomes_slurm_error() -> None:
    cli = CannedSacct(Outcome(1, b"", b"sacct: error: Problem talking to the database: "
                                      b"Connection refused\n"))
    with pytest.raises(SlurmCommandError) as info:
        cli.db_jobs(ALICE, [START])
    assert info.value.status == 500
    assert info.value.errors[0].source == "slurmdb_jobs_get"


# -- filters done on sacct's document ---------------------------------------------------------

def test_after_sacct_is_what_the_query_asks() -> None:
    assert not sacct_plan(q("account=a&exit_code=1&reservation=r"))[1].needed
    after = sacct_plan(q("reason=None,5&constraints=a,b_c&submit_time=today"))[1]
    assert (after.reasons, after.constraints, after.no_steps, after.nothing) == (
        (0.0, 5.0), ("a", "b_c"), True, False)
    assert sacct_plan(q("constraints=big%26ssd|gpu"))[1].constraints == ("big&ssd|gpu",)
    assert not sacct_plan(q("submit_time=today&end_time=now"))[1].no_steps
    assert sacct_plan(q("submit_time=today&state=CD"))[1].nothing


@pytest.mark.parametrize(("text", "number"), [
    ("5", 5.0), (" 12abc", 12.0), ("None", 0.0), ("-3", -3.0), ("1e1", 10.0), (".5x", 0.5),
])
def test_reason_values_read_like_mysql(text: str, number: float) -> None:
    assert mysql_number(text) == number


def test_reasons_are_slurms_numbers() -> None:
    assert len(REASONS) == 199
    assert (REASONS[0], REASONS[2], REASONS[16], REASONS[198]) == (
        "None", "Dependency", "JobHeldUser", "ReservationDeleted")


def with_(job_id: int, reason: str = "None", constraints: str = "") -> dict[str, Any]:
    record = job(job_id, 1, 2)
    record["state"]["reason"] = reason
    record["constraints"] = constraints
    record["steps"] = [{"step": 1}]
    return record


@pytest.mark.parametrize(("after", "kept"), [
    (AfterSacct(reasons=(0.0,)), [1, 4]),
    (AfterSacct(reasons=(16.0, 2.0)), [2, 3]),
    (AfterSacct(reasons=(6.0,)), [5]),  # PartitionDown is printed for 6 and 19
    (AfterSacct(reasons=(19.0,)), [5]),
    (AfterSacct(constraints=("BIG",)), [1, 3]),
    (AfterSacct(constraints=("big", "ssd")), [3]),
    (AfterSacct(constraints=("b_g",)), [1, 3]),
    (AfterSacct(constraints=("big%ssd",)), [3]),
    (AfterSacct(constraints=("G&S",)), [3]),
    (AfterSacct(constraints=("",)), [2, 4, 5]),
    (AfterSacct(reasons=(0.0,), constraints=("big",)), [1]),
])
def test_records_kept_like_slurmdbd(after: AfterSacct, kept: list[int]) -> None:
    doc: dict[str, Any] = {"meta": META, "errors": [], "jobs": [
        with_(1, constraints="big"), with_(2, "JobHeldUser"),
        with_(3, "Dependency", "big&ssd"), with_(4), with_(5, "PartitionDown")]}
    filter_document(doc, after)
    assert [j["job_id"] for j in doc["jobs"]] == kept
    assert doc["errors"] == []
    assert all(j["steps"] == [{"step": 1}] for j in doc["jobs"])


NOTHING = {"description": "Nothing found", "error_number": 9003,
           "error": "Nothing found with query", "source": "slurmdb_jobs_get"}


def test_no_record_left_is_slurmdbds_nothing_found() -> None:
    doc: dict[str, Any] = {"meta": META, "errors": [], "jobs": [with_(1)]}
    filter_document(doc, AfterSacct(reasons=(5.0,)))
    assert doc == {"meta": META, "errors": [NOTHING], "jobs": []}
    doc = {"meta": META, "errors": [NOTHING], "jobs": []}
    filter_document(doc, AfterSacct(nothing=True))
    assert doc["errors"] == [NOTHING]


def test_submit_time_without_end_has_no_steps() -> None:
    doc: dict[str, Any] = {"meta": META, "errors": [], "jobs": [with_(1), with_(2)]}
    filter_document(doc, AfterSacct(no_steps=True))
    assert [j["steps"] for j in doc["jobs"]] == [[], []]


FILTER_YAML = b"""%YAML 1.1
--- !!map
!!str meta: !!map
  !!str plugin: !!map
    !!str type: !!str openapi/dbv0.0.38
!!str errors: !!seq []
!!str jobs: !!seq
- !!map
  !!str constraints: !!str big
  !!str job_id: !!int 1
  !!str state: !!map
    !!str current: !!str COMPLETED
    !!str reason: !!str None
  !!str steps: !!seq
  - !!map
    !!str step: !!map
      !!str id: !!str 1.batch
  !!str wckey: !!map
    !!str wckey: !!str projx
- !!map
  !!str constraints: !!str
  !!str job_id: !!int 2
  !!str state: !!map
    !!str current: !!str CANCELLED
    !!str reason: !!str JobHeldUser
  !!str steps: !!seq []
  !!str wckey: !!map
    !!str wckey: !!str projx
...
"""


def test_yaml_records_are_picked_on_slurms_text() -> None:
    out = filter_yaml(FILTER_YAML, AfterSacct(reasons=(16.0,)))
    start = FILTER_YAML.index(b"- !!map\n  !!str constraints: !!str\n")
    assert out == FILTER_YAML[:FILTER_YAML.index(b"\n- !!map") + 1] + FILTER_YAML[start:]
    assert filter_yaml(FILTER_YAML, AfterSacct(constraints=("BIG",))) == \
        FILTER_YAML[:start] + b"...\n"


def test_yaml_steps_are_emptied() -> None:
    out = filter_yaml(FILTER_YAML, AfterSacct(no_steps=True))
    assert out.count(b"!!str steps: !!seq []\n") == 2
    assert b"1.batch" not in out
    assert out.replace(b"  !!str steps: !!seq []\n", b"") == FILTER_YAML.replace(
        b"  !!str steps: !!seq\n  - !!map\n    !!str step: !!map\n"
        b"      !!str id: !!str 1.batch\n", b"").replace(b"  !!str steps: !!seq []\n", b"")


def test_yaml_with_no_record_left() -> None:
    out = filter_yaml(FILTER_YAML, AfterSacct(reasons=(99.0,)))
    assert out.endswith(b"!!str errors: !!seq\n- !!map\n"
                        b"  !!str description: !!str Nothing found\n"
                        b"  !!str error_number: !!int 9003\n"
                        b"  !!str error: !!str Nothing found with query\n"
                        b"  !!str source: !!str slurmdb_jobs_get\n"
                        b"!!str jobs: !!seq []\n...\n")


def test_filtered_jobs_are_written_again_like_json_c() -> None:
    body = document(with_(1), with_(2, "JobHeldUser"))
    backend = DbJobsBackend(body=body)
    ex = get(f"{DB}/jobs?reason=16%2C99&account=research", backend)
    assert ex.response.status == 200
    assert ex.response.body == document(with_(2, "JobHeldUser"))
    assert backend.asked == [(("--accounts=research", START), "json")]


def test_filtered_jobs_in_yaml() -> None:
    backend = DbJobsBackend(yaml=FILTER_YAML)
    ex = get(f"{DB}/jobs?constraints=big", backend, ("accept", "application/x-yaml"))
    assert ex.response.status == 200
    assert b"!!int 1\n" in ex.response.body and b"!!int 2\n" not in ex.response.body
    assert backend.asked == [((START,), "yaml")]


def test_submit_time_with_state_and_no_end_asks_for_no_job() -> None:
    backend = DbJobsBackend(body=document(errors=[NOTHING]))
    ex = get(f"{DB}/jobs?submit_time=today&state=CD", backend)
    assert json.loads(ex.response.body)["jobs"] == []
    assert json.loads(ex.response.body)["errors"] == [NOTHING]
    assert backend.asked == [(("--jobs=4294967294",), "json")]
