"""GET jobs, job/{job_id}, nodes, node/{node_name}: the handlers with a fake backend, and the
pure parts of the real backend (document checks, picking one job or node)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from slurmrest_stdio import codec
from slurmrest_stdio.api.v0_0_38.jobs import ArrayTask, parse_job_id
from slurmrest_stdio.api.values import guess_value, path_text
from slurmrest_stdio.app import Exchange
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import SlurmYaml
from slurmrest_stdio.backend.cli_jobs import (
    JobsCli,
    read_document,
    read_yaml_document,
    select_job,
    valid_job_number,
    yaml_records,
)
from slurmrest_stdio.backend.cli_nodes import NodesCli, select_node
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.config import Config
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Request
from tests.helpers import parse_responses, request
from tests.unit.fakes import VERSION, FakeBackend, make_app, talk

META = {
    "plugin": {"type": "openapi/v0.0.38", "name": "Slurm OpenAPI v0.0.38"},
    "Slurm": {"version": {"major": VERSION.major, "micro": VERSION.micro,
                          "minor": VERSION.minor}, "release": VERSION.release},
}
ALICE = Identity("alice", 1001, "rest_auth/local")
JOBS = "/slurm/v0.0.38/jobs"
NODES = "/slurm/v0.0.38/nodes"


def job(job_id: int, *, array_job_id: int = 0, task: int | None = None, het: int = 0,
        offset: int = 0, name: str = "j") -> dict[str, Any]:
    return {"account": "research", "array_job_id": array_job_id, "array_task_id": task,
            "het_job_id": het, "het_job_offset": offset, "job_id": job_id, "name": name,
            "billable_tres": 1.0, "command": "/home/alice/run.sh", "time_limit": None}


#: slurmctld's list order: a plain job, a held array (one record), a split array whose
#: record 30 is its last task, a heterogeneous job and one of bob's jobs
ALL_JOBS = [
    job(11, name="plain"),
    job(13, array_job_id=13, name="held array"),
    job(31, array_job_id=30, task=0), job(32, array_job_id=30, task=1),
    job(33, array_job_id=30, task=2), job(30, array_job_id=30, task=3),
    job(40, het=40, offset=0), job(41, het=40, offset=1), job(42, het=40, offset=2),
    job(50, name="bob's"),
]
ALL_NODES = [
    {"name": "n1", "hostname": "vm", "cpu_load": 12, "tres_weighted": 0.0, "owner": None},
    {"name": "n2", "hostname": "vm", "cpu_load": 3, "tres_weighted": 0.0, "owner": None},
    {"name": "gpu1", "hostname": "gpuhost", "cpu_load": 0, "tres_weighted": 4.5,
     "owner": None},
]


def document(key: str, records: list[dict[str, Any]],
             errs: Sequence[dict[str, Any]] = ()) -> bytes:
    return codec.dump_json({"meta": META, "errors": list(errs), key: records}).encode()


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "!!null null"
    if isinstance(value, bool):
        return f"!!bool {str(value).lower()}"
    if isinstance(value, int):
        return f"!!int {value}"
    if isinstance(value, float):
        return f"!!float {value:f}"
    text = str(value)
    if text and text.replace("-", "").replace("_", "").isalnum():
        return f"!!str {text}"
    quoted = text.replace("'", "''").replace("\n", "\n\n    ")
    return f"!!str '{quoted}'"


def _yaml_lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines += [f"{pad}!!str {key}: !!map", *_yaml_lines(item, indent + 2)]
        elif isinstance(item, list):
            if not item:
                lines.append(f"{pad}!!str {key}: !!seq []")
                continue
            lines.append(f"{pad}!!str {key}: !!seq")
            for entry in item:
                if isinstance(entry, dict):
                    inner = _yaml_lines(entry, indent + 2)
                    lines += [f"{pad}- !!map", *inner]
                else:
                    lines.append(f"{pad}- {_yaml_scalar(entry)}")
        else:
            lines.append(f"{pad}!!str {key}: {_yaml_scalar(item)}")
    return lines


def slurm_yaml(key: str, records: list[dict[str, Any]],
               errs: Sequence[dict[str, Any]] = ()) -> bytes:
    """A document laid out like ``squeue --yaml`` / ``sinfo --yaml`` print them."""
    lines = ["%YAML 1.1", "--- !!map", "!!str meta: !!map", *_yaml_lines(META, 2)]
    lines += _yaml_lines({"errors": list(errs)}, 0) + _yaml_lines({key: records}, 0)
    return ("\n".join(lines) + "\n...\n").encode()


@dataclass
class ReadsBackend(FakeBackend):
    """Slurm as ``squeue --json`` / ``sinfo --json`` and libslurm show it."""

    jobs: list[dict[str, Any]] = field(default_factory=lambda: list(ALL_JOBS))
    nodes: list[dict[str, Any]] = field(default_factory=lambda: list(ALL_NODES))
    changed: bool = True
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def changed_since(self, kind: str, update_time: int, who: Identity) -> bool:
        self.asked.append(("changed_since", kind, str(update_time), who.user))
        return self.changed

    def jobs_json(self, who: Identity, job_id: str | None = None) -> bytes:
        self.asked.append(("jobs_json", str(job_id)))
        if self.fail is not None:
            raise self.fail
        if job_id is None:
            return document("jobs", self.jobs)
        assert valid_job_number(job_id), job_id
        picked = select_job(self.jobs, int(job_id))
        if not picked:
            raise SlurmCommandError([SlurmError("Invalid job id specified", 2017,
                                                f"Unable to find JobId={job_id}",
                                                "slurm_load_job")])
        return document("jobs", picked)

    def nodes_json(self, who: Identity, node_name: str | None = None) -> bytes:
        self.asked.append(("nodes_json", str(node_name)))
        if self.fail is not None:
            raise self.fail
        if node_name is None:
            return document("nodes", self.nodes)
        node = select_node(self.nodes, node_name)
        if node is None:
            raise SlurmCommandError([SlurmError("Invalid node name specified", 2018,
                                                f"Unable to find node {node_name}",
                                                "slurm_load_node_single")])
        return document("nodes", [node])


@dataclass
class YamlReadsBackend(ReadsBackend):
    """... that also prints slurmrestd's YAML, as the real backend does."""

    def jobs_yaml(self, who: Identity, job_id: str | None = None) -> bytes:
        picked = json.loads(self.jobs_json(who, job_id))["jobs"]
        self.asked[-1] = ("jobs_yaml", str(job_id))
        return slurm_yaml("jobs", picked)

    def nodes_yaml(self, who: Identity, node_name: str | None = None) -> bytes:
        picked = json.loads(self.nodes_json(who, node_name))["nodes"]
        self.asked[-1] = ("nodes_yaml", str(node_name))
        return slurm_yaml("nodes", picked)


def get(path: str, backend: ReadsBackend | None = None, accept: str | None = None) -> Exchange:
    headers = (("accept", accept),) if accept else ()
    return make_app(backend or ReadsBackend()).handle(Request("GET", path, headers))


def body(ex: Exchange) -> dict[str, Any]:
    data = json.loads(ex.response.body)
    assert isinstance(data, dict)
    return data


def ids(ex: Exchange) -> list[int]:
    return [j["job_id"] for j in body(ex)["jobs"]]


def error(description: str, number: int, text: str, source: str) -> dict[str, Any]:
    return {"description": description, "error_number": number, "error": text, "source": source}


# -- GET jobs / nodes: Slurm's bytes, passed through ------------------------------------------

@pytest.mark.parametrize(("path", "key", "records"),
                         [(JOBS, "jobs", ALL_JOBS), (NODES, "nodes", ALL_NODES)])
def test_collections_are_slurms_bytes(path: str, key: str, records: list[Any]) -> None:
    for variant in (path, path + "/"):
        ex = get(variant)
        assert ex.response.status == 200 and ex.response.content_type == "application/json"
        assert ex.response.body == document(key, records)


@pytest.mark.parametrize("media", ["application/x-yaml", "text/yaml", "application/yaml"])
def test_yaml_is_slurms_own_when_the_backend_prints_it(media: str) -> None:
    assert isinstance(YamlReadsBackend(), SlurmYaml)
    assert not isinstance(ReadsBackend(), SlurmYaml)
    for path, key, records, name in ((JOBS, "jobs", ALL_JOBS, None),
                                     (NODES, "nodes", ALL_NODES, None),
                                     ("/slurm/v0.0.38/job/40", "jobs", ALL_JOBS[6:9], "40"),
                                     ("/slurm/v0.0.38/node/vm", "nodes", ALL_NODES[:1], "vm")):
        backend = YamlReadsBackend()
        ex = get(path, backend, accept=media)
        assert ex.response.status == 200 and ex.response.content_type == media
        assert ex.response.body == slurm_yaml(key, records)
        assert backend.asked == [(f"{key}_yaml", str(name))]


def test_an_array_task_in_yaml_is_looked_up_then_loaded_as_yaml() -> None:
    backend = YamlReadsBackend()
    ex = get("/slurm/v0.0.38/job/30_1", backend, accept="text/yaml")
    assert ex.response.body == slurm_yaml("jobs", [ALL_JOBS[3]])
    assert backend.asked == [("jobs_json", "30"), ("jobs_yaml", "32")]
    ex = get("/slurm/v0.0.38/job/30_7", backend, accept="text/yaml")
    assert ex.response.status == 400
    assert codec.decode(ex.response.body, "yaml")["errors"][0]["error_number"] == 9002


def test_yaml_errors_are_our_envelope() -> None:
    backend = YamlReadsBackend()
    ex = get("/slurm/v0.0.38/job/99", backend, accept="text/yaml")
    assert ex.response.status == 500
    assert codec.decode(ex.response.body, "yaml") == {"meta": META, "errors": [error(
        "Unable to find JobId=99", 2017, "Invalid job id specified", "slurm_load_job")],
        "jobs": []}
    ex = get("/slurm/v0.0.38/node/nx", backend, accept="text/yaml")
    assert ex.response.status == 500
    assert codec.decode(ex.response.body, "yaml")["nodes"] == []


@pytest.mark.parametrize("media", ["application/x-yaml", "text/yaml"])
def test_collections_in_yaml_converted_from_json(media: str) -> None:
    for path, key, records in ((JOBS, "jobs", ALL_JOBS), (NODES, "nodes", ALL_NODES)):
        ex = get(path, accept=media)
        assert ex.response.status == 200 and ex.response.content_type == media
        assert codec.decode(ex.response.body, "yaml") == {"meta": META, "errors": [],
                                                          key: records}


def test_collection_failure_is_the_envelope_with_an_empty_list() -> None:
    backend = ReadsBackend(fail=SlurmCommandError(
        [SlurmError("Unspecified error", -1, "Failed while looking for jobs",
                    "slurm_load_jobs")]))
    for path, key in ((JOBS, "jobs"), (NODES, "nodes")):
        ex = get(path, backend)
        assert ex.response.status == 500
        assert body(ex) == {"meta": META, "errors": [error(
            "Failed while looking for jobs", -1, "Unspecified error", "slurm_load_jobs")],
            key: []}


def test_a_request_fed_byte_by_byte() -> None:
    data = request("GET", JOBS + "?update_time=5") + request("GET", "/slurm/v0.0.38/job/41")
    code, out = talk(data, bytewise=True, backend=ReadsBackend())
    first, second = parse_responses(out)
    assert code == 0 and first.status == 200 and second.status == 200
    assert [j["job_id"] for j in json.loads(second.body)["jobs"]] == [41]


# -- update_time ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "kind"), [(JOBS, "jobs"), (NODES, "nodes")])
def test_unchanged_since_update_time_is_304_without_body(path: str, kind: str) -> None:
    backend = ReadsBackend(changed=False)
    ex = get(path + "?update_time=1795409990", backend)
    assert (ex.response.status, ex.response.body) == (304, b"")
    assert backend.asked == [("changed_since", kind, "1795409990", "alice")]
    backend = ReadsBackend(changed=True)
    ex = get(path + "?update_time=1", backend)
    assert ex.response.status == 200
    assert backend.asked[0] == ("changed_since", kind, "1", "alice")


def test_no_update_time_asks_nothing_but_the_data() -> None:
    backend = ReadsBackend(changed=False)
    assert get(JOBS + "?other=1", backend).response.status == 200
    assert backend.asked == [("jobs_json", "None")]


@pytest.mark.parametrize(("query", "asked"), [
    ("update_time=17", 17),
    ("update_time=%2B17", 17),
    ("update_time=-1", -1),
    ("update_time=17.5", 18),  # slurmrestd rounds a decimal, half to even
    ("update_time=18.5", 18),
    ("update_time=1&update_time=99", 99),  # the last one counts
    ("update_time=99999999999999999999", 2**63 - 1),
    ("update_time=1.0e400", -(2**63)),
])
def test_update_time_is_read_like_slurmrestd(query: str, asked: int) -> None:
    backend = ReadsBackend(changed=False)
    assert get(f"{JOBS}?{query}", backend).response.status == 304
    assert backend.asked == [("changed_since", "jobs", str(asked), "alice")]


@pytest.mark.parametrize("value", ["abc", "", "yes", "off", "1e5", "12abc", " 5", "1_000"])
def test_update_time_not_a_number_is_400_naming_it(value: str) -> None:
    for path, key in ((JOBS, "jobs"), (NODES, "nodes")):
        backend = ReadsBackend()
        ex = get(f"{path}?update_time={value.replace(' ', '%20')}", backend)
        assert ex.response.status == 400 and ex.response.content_type == "application/json"
        data = body(ex)
        assert data[key] == [] and backend.asked == []
        (err,) = data["errors"]
        assert err["error_number"] == 9000 and err["source"] == "update_time"
        assert err["description"] == f"update_time must be Unix seconds, not {value!r}"


def test_bare_update_time_is_400_too() -> None:
    ex = get(JOBS + "?update_time")
    assert ex.response.status == 400 and body(ex)["jobs"] == []


# -- GET job/{job_id} -----------------------------------------------------------------------

@pytest.mark.parametrize(("job_id", "expected"), [
    ("11", [11]),
    ("0011", [11]),
    ("%2011", [11]),  # strtol skips leading white space
    ("%2B11", [11]),
    ("13", [13]),
    ("30", [30, 33, 32, 31]),  # the array's own record, then its tasks, newest first
    ("31", [31]),
    ("30_3", [30, 33, 32, 31]),  # the task in the array's own record: the whole array
    ("30_1", [32]),
    ("40", [40, 41, 42]),  # a heterogeneous job: every component
    ("41", [41]),
    ("40%2B2", [42]),  # component by offset
    ("38%2B3", [41]),  # slurmrestd adds without checking that 38 leads anything
    ("50", [50]),
    ("10.6", [11]),  # slurmrestd's type guessing rounds decimals
    ("1.1e1", [11]),
    ("-4294967285", [11]),  # a job id is unsigned 32-bit: it wraps
    ("4294967307", [11]),
])
def test_one_job(job_id: str, expected: list[int]) -> None:
    ex = get(f"/slurm/v0.0.38/job/{job_id}")
    assert ex.response.status == 200, ex.response.body
    assert ids(ex) == expected
    assert body(ex)["errors"] == [] and body(ex)["meta"] == META


def test_one_job_bytes_are_slurms_shape() -> None:
    ex = get("/slurm/v0.0.38/job/41")
    assert ex.response.body == document("jobs", [ALL_JOBS[7]])
    ex = get("/slurm/v0.0.38/job/41", accept="application/x-yaml")
    assert codec.decode(ex.response.body, "yaml")["jobs"] == [ALL_JOBS[7]]


@pytest.mark.parametrize(("job_id", "shown"), [
    ("abc", "abc"), ("0", "0"), ("-0", "0"), ("11abc", "11abc"), ("13_0", "13_0"),
    ("13_", "13_"), ("11_0", "11_0"), ("30_9", "30_9"), ("30_x", "30_x"), ("_1", "_1"),
    ("11%20", "11 "), ("yes", "true"), ("OFF", "false"), ("1e3", "1e3"), ("-.", "-."),
    (".4", "0"), ("-9223372036854775809", "-9223372036854775808"), ("%2B", "+"),
    ("11%2Bx", "11+x"), ("%C3%A9", "\u00e9"), ("%FE", "\ufffd"),
])
def test_an_id_that_names_no_job_is_400_without_asking_slurm(job_id: str, shown: str) -> None:
    backend = ReadsBackend()
    ex = get(f"/slurm/v0.0.38/job/{job_id}", backend)
    assert ex.response.status == 400 and ex.response.content_type == "application/json"
    assert body(ex) == {"meta": META, "errors": [error(
        f"Unable to find JobId={shown}", 9002,
        "Jobs description entry not found, empty or not dictionary or list",
        "_handle_job_get")]}
    assert all(call[0] != "jobs_json" for call in backend.asked) or "_" in job_id


@pytest.mark.parametrize(("job_id", "shown"), [
    ("99999", "99999"), ("-1", "-1"), ("-1.5", "-2"), ("4294967295", "4294967295"),
    ("99999999999999999999", "9223372036854775807"), ("12%2B-1", "12+-1"),
    ("99999.5", "100000"),
])
def test_an_unknown_job_is_500_with_an_empty_list(job_id: str, shown: str) -> None:
    ex = get(f"/slurm/v0.0.38/job/{job_id}")
    assert ex.response.status == 500
    assert body(ex) == {"meta": META, "errors": [error(
        f"Unable to find JobId={shown}", 2017, "Invalid job id specified", "slurm_load_job")],
        "jobs": []}


def test_a_failed_load_names_the_job_as_asked() -> None:
    backend = ReadsBackend(fail=SlurmCommandError(
        [SlurmError("Unspecified error", -1, "Failed while looking for jobs",
                    "slurm_load_jobs")]))
    ex = get("/slurm/v0.0.38/job/0011", backend)
    assert ex.response.status == 500
    assert body(ex)["errors"] == [error("Unable to find JobId=11", -1, "Unspecified error",
                                        "slurm_load_job")]
    assert body(ex)["jobs"] == []
    # an array task whose array cannot be loaded names no job
    ex = get("/slurm/v0.0.38/job/30_1", backend)
    assert ex.response.status == 400 and body(ex)["errors"][0]["error_number"] == 9002
    # a failure that is not Slurm's keeps its own words
    backend.fail = SlurmCommandError(
        [SlurmError("Socket timed out on send/recv operation", 5004,
                    "squeue did not finish within 60 seconds", "squeue")], status=504)
    ex = get("/slurm/v0.0.38/job/11", backend)
    assert ex.response.status == 504
    assert body(ex)["errors"][0]["description"] == "squeue did not finish within 60 seconds"


def test_the_backend_only_ever_gets_job_numbers() -> None:
    backend = ReadsBackend()
    for job_id in ("0011", "%2011", "40%2B2", "30_1", "10.6", "-4294967285"):
        get(f"/slurm/v0.0.38/job/{job_id}", backend)
    asked = [call[1] for call in backend.asked if call[0] == "jobs_json"]
    assert asked == ["11", "11", "42", "30", "11", "11"]


# -- GET node/{node_name} -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "found"), [
    ("n1", "n1"), ("n2", "n2"), ("gpu1", "gpu1"), ("vm", "n1"), ("gpuhost", "gpu1"),
])
def test_one_node(name: str, found: str) -> None:
    ex = get(f"/slurm/v0.0.38/node/{name}")
    assert ex.response.status == 200
    assert ex.response.body == document("nodes", [n for n in ALL_NODES if n["name"] == found])


@pytest.mark.parametrize(("name", "shown"), [
    ("nx", "nx"), ("N1", "N1"), ("yes", "yes"), ("n%5B1-2%5D", "n[1-2]"), ("%FF%FE", "\ufffd"),
    ("%E2%82%AC", "\u20ac"),
])
def test_an_unknown_node_is_500_with_an_empty_list(name: str, shown: str) -> None:
    ex = get(f"/slurm/v0.0.38/node/{name}")
    if name == "%FF%FE":  # %FF is refused by the router, as slurmrestd does
        assert ex.response.status == 400
        return
    assert ex.response.status == 500
    assert body(ex) == {"meta": META, "errors": [error(
        f"Unable to find node {shown}", 2018, "Invalid node name specified",
        "slurm_load_node_single")], "nodes": []}


def test_a_single_localhost_node_answers_to_any_name() -> None:
    only = [{"name": "localhost", "hostname": "box"}]
    assert select_node(only, "whatever") == only[0]
    assert select_node([*only, {"name": "n2", "hostname": "box"}], "whatever") is None


# -- the pure parts -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("", None), ("y", True), ("Yes", True), ("TRUE", True), ("t", True), ("oN", True),
    ("n", False), ("NO", False), ("f", False), ("False", False), ("off", False),
    ("12", 12), ("-0", 0), ("+7", 7), ("0011", 11), ("1.5", 1.5), (".5", 0.5), ("5.", 5.0),
    ("1.5e2", 150.0), ("1e5", "1e5"), ("abc", "abc"), ("-.", "-."), ("null", "null"),
    ("yess", "yess"), ("~", "~"),
])
def test_guess_value(text: str, value: object) -> None:
    assert guess_value(text) == value and type(guess_value(text)) is type(value)


@pytest.mark.parametrize(("segment", "text"), [
    ("11", "11"), ("0011", "11"), ("yes", "true"), ("2.5", "2"), ("3.5", "4"), (".5", "0"),
    ("n1", "n1"), ("13_2", "13_2"), ("-0", "0"), ("1.0e400", "-9223372036854775808"),
])
def test_path_text(segment: str, text: str) -> None:
    assert path_text(segment) == text


@pytest.mark.parametrize(("text", "ref"), [
    ("11", 11), (" \t11", 11), ("+11", 11), ("-1", 2**32 - 1), ("4294967296", 0),
    ("13_2", ArrayTask(13, 2)), ("13_", ArrayTask(13, 0)), ("13_-1", ArrayTask(13, 65535)),
    ("13_ 2", ArrayTask(13, 2)), ("13_65538", ArrayTask(13, 2)), ("_2", ArrayTask(0, 2)),
    ("13_2x", 0), ("13+2", 15), ("13+", 13), ("13+-1", 13 + 65535), ("4294967295+1", 0),
    ("abc", 0), ("", 0), ("11 ", 0), ("11.0", 0), ("1e3", 0), ("+", 0), ("13__2", 0),
])
def test_parse_job_id(text: str, ref: int | ArrayTask) -> None:
    assert parse_job_id(text) == ref


def test_select_job() -> None:
    def picked(job_id: int) -> list[int]:
        return [j["job_id"] for j in select_job(ALL_JOBS, job_id)]

    assert picked(11) == [11] and picked(13) == [13] and picked(99) == [] and picked(0) == []
    assert picked(30) == [30, 33, 32, 31] and picked(32) == [32]
    assert picked(40) == [40, 41, 42] and picked(42) == [42]
    # an array whose own record is gone still answers with its tasks
    assert [j["job_id"] for j in select_job(ALL_JOBS[2:5], 30)] == [33, 32, 31]


def test_valid_job_number() -> None:
    assert valid_job_number("1") and valid_job_number("4294967295")
    for bad in ("0", "4294967296", "-1", "+1", " 1", "1_2", "\u0661", "", "--jobs=1"):
        assert not valid_job_number(bad)


# -- the real backend, with Slurm's output given --------------------------------------------

class CannedCli(JobsCli, NodesCli):
    """The real backend's operations on canned command output."""

    def __init__(self, out: Outcome) -> None:
        super().__init__(Config(), environ={"PATH": "/nonexistent"})
        self.out = out
        self.argvs: list[list[str]] = []

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.argvs.append(list(argv))
        return self.out


def test_backend_passes_squeue_and_sinfo_through_untouched() -> None:
    jobs = document("jobs", ALL_JOBS)
    cli = CannedCli(Outcome(0, jobs, b""))
    assert cli.jobs_json(ALICE) is jobs
    nodes = document("nodes", ALL_NODES)
    cli = CannedCli(Outcome(0, nodes, b""))
    assert cli.nodes_json(ALICE) is nodes
    assert cli.argvs == [["sinfo", "--json"]]


def test_backend_picks_one_job_or_node_without_client_text_in_argv() -> None:
    cli = CannedCli(Outcome(0, document("jobs", ALL_JOBS), b""))
    assert cli.jobs_json(ALICE, "30") == document("jobs", select_job(ALL_JOBS, 30))
    with pytest.raises(SlurmCommandError) as info:
        cli.jobs_json(ALICE, "99")
    assert info.value.status == 500
    assert info.value.errors == [SlurmError("Invalid job id specified", 2017,
                                            "Unable to find JobId=99", "slurm_load_job")]
    with pytest.raises(ValueError, match="not a job number"):
        cli.jobs_json(ALICE, "--all")
    assert cli.argvs == [["squeue", "--json"]] * 2
    cli = CannedCli(Outcome(0, document("nodes", ALL_NODES), b""))
    assert cli.nodes_json(ALICE, "gpuhost") == document("nodes", [ALL_NODES[2]])
    with pytest.raises(SlurmCommandError) as info:
        cli.nodes_json(ALICE, "-n1")
    assert info.value.errors[0].error_number == 2018
    assert cli.argvs == [["sinfo", "--json"]] * 2


def test_read_document_reports_the_errors_inside() -> None:
    squeue = document("jobs", [], [error("Failed while looking for jobs", -1,
                                         "Unspecified error", "slurm_load_jobs")])
    with pytest.raises(SlurmCommandError) as info:
        read_document(Outcome(0, squeue, b""), "slurm_load_jobs", "x")
    assert info.value.status == 500
    assert info.value.errors == [SlurmError("Unspecified error", -1,
                                            "Failed while looking for jobs",
                                            "slurm_load_jobs")]
    # sinfo writes {"error", "errno"}: the envelope fields are filled in
    sinfo = document("nodes", [], [{"error": "Unspecified error", "errno": -1}])
    with pytest.raises(SlurmCommandError) as info:
        read_document(Outcome(0, sinfo, b""), "slurm_load_node", "no nodes")
    assert info.value.errors == [SlurmError("Unspecified error", -1, "no nodes",
                                            "slurm_load_node")]


def test_read_document_refuses_what_is_not_a_document() -> None:
    with pytest.raises(SlurmCommandError) as info:
        read_document(Outcome(1, b"", b"squeue: error: Invalid user: nobody\n"), "src", "d")
    assert info.value.errors[0].description == "Invalid user: nobody"
    assert info.value.errors[0].source == "src"
    for junk in (b"{not json", b'{"meta": {}}', b'{"errors": 3}'):
        with pytest.raises(SlurmCommandError) as info:
            read_document(Outcome(0, junk, b""), "src", "d")
        assert "unreadable output of src" in info.value.errors[0].description
    # a document whose errors are empty but written another way is still fine
    compact = b'{"meta": {}, "errors": [], "jobs": []}'
    assert read_document(Outcome(0, compact, b""), "src", "d") == compact


def test_backend_yaml_is_slurms_text_cut_to_the_records_picked() -> None:
    odd = [*ALL_JOBS, job(60, name="two\nlines\n- !!map"), job(61, name="it's")]
    cli = CannedCli(Outcome(0, slurm_yaml("jobs", odd), b""))
    assert cli.jobs_yaml(ALICE) == slurm_yaml("jobs", odd)
    for job_id in (11, 30, 31, 40, 41, 60, 61):
        assert cli.jobs_yaml(ALICE, str(job_id)) == slurm_yaml("jobs", select_job(odd, job_id))
    with pytest.raises(SlurmCommandError) as info:
        cli.jobs_yaml(ALICE, "99")
    assert info.value.errors[0].description == "Unable to find JobId=99"
    with pytest.raises(ValueError, match="not a job number"):
        cli.jobs_yaml(ALICE, "-1")
    assert cli.argvs == [["squeue", "--yaml"]] * 9
    nodes: list[dict[str, Any]] = [*ALL_NODES, {"name": "odd'name", "hostname": "x y"}]
    cli = CannedCli(Outcome(0, slurm_yaml("nodes", nodes), b""))
    for name, index in (("n2", 1), ("gpuhost", 2), ("vm", 0), ("odd'name", 3), ("x y", 3)):
        assert cli.nodes_yaml(ALICE, name) == slurm_yaml("nodes", [nodes[index]]), name
    with pytest.raises(SlurmCommandError) as info:
        cli.nodes_yaml(ALICE, "n9")
    assert info.value.errors[0].error_number == 2018
    assert cli.argvs[-1] == ["sinfo", "--yaml"]


def test_backend_yaml_of_an_empty_list() -> None:
    cli = CannedCli(Outcome(0, slurm_yaml("jobs", []), b""))
    assert b"!!str jobs: !!seq []\n" in cli.jobs_yaml(ALICE)
    with pytest.raises(SlurmCommandError):
        cli.jobs_yaml(ALICE, "1")


def test_read_yaml_document() -> None:
    failed = slurm_yaml("jobs", [], [error("Failed while looking for jobs", -1,
                                           "Unspecified error", "slurm_load_jobs")])
    with pytest.raises(SlurmCommandError) as info:
        read_yaml_document(Outcome(0, failed, b""), "slurm_load_jobs", "x")
    assert info.value.errors == [SlurmError("Unspecified error", -1,
                                            "Failed while looking for jobs",
                                            "slurm_load_jobs")]
    sinfo = slurm_yaml("nodes", [], [{"error": "Unspecified error", "errno": -1}])
    with pytest.raises(SlurmCommandError) as info:
        read_yaml_document(Outcome(0, sinfo, b""), "slurm_load_node", "no nodes")
    assert info.value.errors == [SlurmError("Unspecified error", -1, "no nodes",
                                            "slurm_load_node")]
    for junk in (b"%YAML 1.1\n--- [", b"%YAML 1.1\n--- !!seq []\n"):
        with pytest.raises(SlurmCommandError) as info:
            read_yaml_document(Outcome(0, junk, b""), "src", "d")
        assert "unreadable output of src" in info.value.errors[0].description
    with pytest.raises(SlurmCommandError):
        read_yaml_document(Outcome(1, b"", b"error: nope\n"), "src", "d")


def test_yaml_records_refuses_another_layout() -> None:
    with pytest.raises(ValueError, match="no jobs list"):
        yaml_records(b"%YAML 1.1\n--- !!map\n!!str nodes: !!seq []\n", "jobs")
    with pytest.raises(ValueError, match="does not start with a record"):
        yaml_records(b"%YAML 1.1\n--- !!map\n!!str jobs: !!seq\n  - x\n", "jobs")
    broken = b"%YAML 1.1\n--- !!map\n!!str errors: !!seq []\n!!str jobs: !!seq\n  x\n"
    cli = CannedCli(Outcome(0, broken, b""))
    with pytest.raises(SlurmCommandError) as info:
        cli.jobs_yaml(ALICE, "5")
    assert "unreadable output of squeue --yaml" in info.value.errors[0].description
