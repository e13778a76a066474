"""GET jobs, job/{job_id}, nodes, node/{node_name} through the real program against the lab
cluster: Slurm's own ``squeue --json`` / ``sinfo --json`` bytes, the single-job and
single-node picks, 304 through libslurm, and the responses against our OpenAPI schemas.

The jobs are held (they never run) except one small array that must run so that its
tasks get records of their own; every job is cancelled at the end.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from slurmrest_stdio import codec
from tests.cluster.reads import SPEC, ask
from tests.helpers import (
    OTHER_USER,
    TEST_USER,
    ParsedResponse,
    parse_responses,
    request,
    run_pipe,
    unreachable_slurm_conf,
    user,
)

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

V = "/slurm/v0.0.38"
#: attempts at comparing with Slurm's own output taken a moment later (other tests may
#: submit or end jobs in between; a real difference shows up every time)
ATTEMPTS = 4


def as_user(name: str, *argv: str, stdin: str | None = None) -> str:
    """Run a Slurm command as ``name`` (in /tmp, a directory every user can enter)."""
    u = user(name)
    out = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=True,
                         timeout=60, user=u.uid, group=u.gid, extra_groups=[], cwd="/tmp")
    return out.stdout


def sbatch(name: str, *options: str, script: str = "#!/bin/sh\nsleep 600\n") -> int:
    return int(as_user(name, "sbatch", "--parsable", "--output=/dev/null", *options,
                       stdin=script).strip().split(";")[0])


@dataclass(frozen=True)
class LabJobs:
    """Jobs of every kind that GET job/{job_id} treats differently."""

    plain: int  # alice's, held
    bobs: int  # bob's, held
    held_array: int  # alice's --array=0-3, held: one record for four tasks
    het: int  # alice's two-component heterogeneous job, held (leader id; +1 is the other)
    running_array: int  # alice's --array=0-1, running: a record per task

    def all(self) -> list[int]:
        return [self.plain, self.bobs, self.held_array, self.het, self.running_array]


def squeue_json(name: str = TEST_USER) -> dict[str, Any]:
    data = json.loads(as_user(name, "squeue", "--json"))
    assert isinstance(data, dict)
    return data


def submit_lab_jobs() -> LabJobs:
    """Submit the jobs of :class:`LabJobs` and wait until the running array's tasks have
    records of their own. Call :func:`cancel` with the result."""
    jobs = LabJobs(
        plain=sbatch(TEST_USER, "--hold", "--job-name=reads-plain", "--mem=10"),
        bobs=sbatch(OTHER_USER, "--hold", "--job-name=reads-bob", "--mem=10"),
        held_array=sbatch(TEST_USER, "--hold", "--job-name=reads-array", "--array=0-3",
                          "--mem=10"),
        het=sbatch(TEST_USER, "--hold", "--job-name=reads-het", "-n1", "--mem=10", ":",
                   "-n2", "--partition=long", "--mem=10"),
        running_array=sbatch(TEST_USER, "--job-name=reads-run", "--array=0-1", "-n1",
                             "--mem=50", "--time=10"),
    )
    deadline = time.monotonic() + 90
    while True:
        tasks = [j for j in squeue_json()["jobs"]
                 if j["array_job_id"] == jobs.running_array and j["job_state"] == "RUNNING"]
        if len(tasks) == 2:
            return jobs
        if time.monotonic() > deadline:
            cancel(jobs)
            raise AssertionError(f"array {jobs.running_array} did not start: {tasks}")
        time.sleep(0.5)


def cancel(jobs: LabJobs) -> None:
    subprocess.run(["scancel", *map(str, jobs.all())], check=False, timeout=60)


@pytest.fixture(scope="module")
def lab_jobs() -> Iterator[LabJobs]:
    jobs = submit_lab_jobs()
    try:
        yield jobs
    finally:
        cancel(jobs)


def one(path: str, accept: str | None = None) -> ParsedResponse:
    (resp,) = ask(path, accept=accept)
    return resp


def data(resp: ParsedResponse) -> dict[str, Any]:
    assert resp.content_type is not None
    fmt = codec.body_format(resp.content_type)
    assert fmt is not None, resp.content_type
    body = codec.decode(resp.body, fmt)
    assert isinstance(body, dict)
    return body


def job_ids(resp: ParsedResponse) -> list[int]:
    return [j["job_id"] for j in data(resp)["jobs"]]


def eventually(check: Callable[[], None]) -> None:
    """``check`` passes on one of :data:`ATTEMPTS` tries (see there why)."""
    for attempt in range(ATTEMPTS):
        try:
            check()
            return
        except AssertionError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(1)


# -- GET jobs ---------------------------------------------------------------------------------

def test_jobs_are_squeues_bytes(lab_jobs: LabJobs) -> None:
    def check() -> None:
        resp = one(f"{V}/jobs")
        theirs = as_user(TEST_USER, "squeue", "--json").encode()
        assert resp.status == 200 and resp.content_type == "application/json"
        assert resp.body == theirs

    eventually(check)
    listed = job_ids(one(f"{V}/jobs"))
    # bob's job too: slurmctld lists every user's jobs (no PrivateData in the lab)
    assert set(lab_jobs.all()) | {lab_jobs.het + 1} <= set(listed)


def test_jobs_in_yaml_are_squeues_yaml(lab_jobs: LabJobs) -> None:
    """YAML is asked of Slurm, not converted: slurmrestd's YAML says null where its JSON
    says "" (a string Slurm does not have)."""
    def check() -> None:
        for media in ("application/x-yaml", "text/yaml", "application/yaml"):
            resp = one(f"{V}/jobs/", accept=media)
            assert resp.status == 200 and resp.content_type == media
            assert resp.body == as_user(TEST_USER, "squeue", "--yaml").encode()

    eventually(check)
    as_yaml = data(one(f"{V}/jobs", accept="text/yaml"))
    listed = [j for j in as_yaml["jobs"] if j["job_id"] == lab_jobs.plain]
    assert listed and listed[0]["admin_comment"] is None


# -- GET job/{job_id} -------------------------------------------------------------------------

def records(jobs: list[dict[str, Any]], *wanted: int) -> list[dict[str, Any]]:
    by_id = {j["job_id"]: j for j in jobs}
    return [by_id[i] for i in wanted]


def test_one_job_of_each_kind(lab_jobs: LabJobs) -> None:
    run = lab_jobs.running_array
    run_tasks = [j for j in squeue_json()["jobs"] if j["array_job_id"] == run]
    task_of = {j["job_id"]: j["array_task_id"] for j in run_tasks}
    (other,) = set(task_of) - {run}
    expected = {
        str(lab_jobs.plain): [lab_jobs.plain],
        f"00{lab_jobs.plain}": [lab_jobs.plain],
        str(lab_jobs.bobs): [lab_jobs.bobs],
        str(lab_jobs.held_array): [lab_jobs.held_array],
        str(lab_jobs.het): [lab_jobs.het, lab_jobs.het + 1],
        f"{lab_jobs.het}%2B1": [lab_jobs.het + 1],
        str(lab_jobs.het + 1): [lab_jobs.het + 1],
        # the array's own record (its last task by now), then the other task's
        str(run): [run, other],
        f"{run}_{task_of[other]}": [other],
        f"{run}_{task_of[run]}": [run, other],
        str(other): [other],
    }

    def check() -> None:
        paths = [f"{V}/job/{job_id}" for job_id in expected]
        responses = ask(*paths)
        everything = squeue_json()["jobs"]
        for (job_id, want), resp in zip(expected.items(), responses, strict=True):
            assert resp.status == 200, (job_id, resp.body[:500])
            assert data(resp)["errors"] == []
            assert data(resp)["jobs"] == records(everything, *want), job_id

    eventually(check)


def test_the_jobs_records_are_the_same_bytes_as_in_the_list(lab_jobs: LabJobs) -> None:
    resp = one(f"{V}/job/{lab_jobs.het}")
    listed = json.loads(as_user(TEST_USER, "squeue", "--json"))
    listed["jobs"] = records(listed["jobs"], lab_jobs.het, lab_jobs.het + 1)
    assert resp.body == codec.dump_json(listed).encode()


def squeue_yaml() -> dict[str, Any]:
    data = codec.decode(as_user(TEST_USER, "squeue", "--yaml").encode(), "yaml")
    assert isinstance(data, dict)
    return data


def test_one_job_in_yaml(lab_jobs: LabJobs) -> None:
    run = lab_jobs.running_array
    expected = {
        str(lab_jobs.het): [lab_jobs.het, lab_jobs.het + 1],
        str(lab_jobs.plain): [lab_jobs.plain],
        str(run): [j["job_id"] for j in data(one(f"{V}/job/{run}"))["jobs"]],
    }
    task_record = expected[str(run)][-1]
    task = next(j["array_task_id"] for j in squeue_json()["jobs"] if j["job_id"] == task_record)
    expected[f"{run}_{task}"] = [task_record]

    def check() -> None:
        responses = ask(*(f"{V}/job/{job_id}" for job_id in expected), accept="text/yaml")
        everything = squeue_yaml()["jobs"]
        for (job_id, want), resp in zip(expected.items(), responses, strict=True):
            assert resp.status == 200 and resp.content_type == "text/yaml", job_id
            assert resp.body.startswith(b"%YAML 1.1\n--- !!map\n"), job_id
            assert data(resp)["jobs"] == records(everything, *want), job_id

    eventually(check)


def test_a_held_array_task_has_no_record_of_its_own(lab_jobs: LabJobs) -> None:
    resp = one(f"{V}/job/{lab_jobs.held_array}_1")
    assert resp.status == 400
    assert data(resp)["errors"] == [{
        "description": f"Unable to find JobId={lab_jobs.held_array}_1", "error_number": 9002,
        "error": "Jobs description entry not found, empty or not dictionary or list",
        "source": "_handle_job_get"}]
    assert "jobs" not in data(resp)


def test_an_unknown_job_is_500_and_a_bad_id_400(lab_jobs: LabJobs) -> None:
    unknown, bad = ask(f"{V}/job/4000000000", f"{V}/job/abc")
    assert unknown.status == 500
    assert data(unknown)["errors"] == [{
        "description": "Unable to find JobId=4000000000", "error_number": 2017,
        "error": "Invalid job id specified", "source": "slurm_load_job"}]
    assert data(unknown)["jobs"] == []
    assert bad.status == 400 and data(bad)["errors"][0]["error_number"] == 9002


# -- update_time: 304 through libslurm ---------------------------------------------------------

def test_update_time_in_the_future_is_304_and_in_the_past_200(lab_jobs: LabJobs) -> None:
    future = int(time.time()) + 86400
    responses = ask(f"{V}/jobs?update_time={future}", f"{V}/jobs?update_time=1",
                    f"{V}/nodes?update_time={future}", f"{V}/nodes?update_time=1",
                    f"{V}/job/{lab_jobs.plain}?update_time={future}")
    assert [r.status for r in responses] == [304, 200, 304, 200, 200]
    assert responses[0].body == responses[2].body == b""
    assert responses[0].content_type is None
    assert lab_jobs.plain in job_ids(responses[1])
    assert len(data(responses[3])["nodes"]) >= 1


def test_update_time_not_a_number_is_400() -> None:
    for path, key in (("jobs", "jobs"), ("nodes", "nodes")):
        resp = one(f"{V}/{path}?update_time=soon")
        assert resp.status == 400 and resp.content_type == "application/json"
        assert data(resp)[key] == []
        assert data(resp)["errors"][0]["error_number"] == 9000


# -- GET nodes, node/{node_name} ---------------------------------------------------------------

def sinfo_json() -> dict[str, Any]:
    data = json.loads(as_user(TEST_USER, "sinfo", "--json"))
    assert isinstance(data, dict)
    return data


def test_nodes_are_sinfos_bytes() -> None:
    def check() -> None:
        resp = one(f"{V}/nodes")
        assert resp.status == 200 and resp.content_type == "application/json"
        assert resp.body == as_user(TEST_USER, "sinfo", "--json").encode()

    eventually(check)

    def check_yaml() -> None:
        resp = one(f"{V}/nodes", accept="application/x-yaml")
        assert resp.body == as_user(TEST_USER, "sinfo", "--yaml").encode()

    eventually(check_yaml)


def test_one_node_by_name_and_by_host_name() -> None:
    nodes = sinfo_json()["nodes"]
    first, last = nodes[0], nodes[-1]
    on_host = next(n for n in nodes if n["hostname"] == last["hostname"])

    def check() -> None:
        by_name, by_host, by_slash = ask(f"{V}/node/{last['name']}",
                                         f"{V}/node/{last['hostname']}",
                                         f"{V}/node/{first['name']}/")
        current = {n["name"]: n for n in sinfo_json()["nodes"]}
        assert by_name.status == by_host.status == by_slash.status == 200
        assert data(by_name)["nodes"] == [current[last["name"]]]
        assert data(by_host)["nodes"] == [current[on_host["name"]]]
        assert data(by_slash)["nodes"] == [current[first["name"]]]

    eventually(check)


def test_one_node_in_yaml() -> None:
    last = sinfo_json()["nodes"][-1]["name"]

    def check() -> None:
        resp = one(f"{V}/node/{last}", accept="text/yaml")
        assert resp.status == 200 and resp.body.startswith(b"%YAML 1.1\n")
        listed = codec.decode(as_user(TEST_USER, "sinfo", "--yaml").encode(), "yaml")
        assert data(resp)["nodes"] == [n for n in listed["nodes"] if n["name"] == last]

    eventually(check)


def test_an_unknown_node_is_500() -> None:
    resp = one(f"{V}/node/no-such-node")
    assert resp.status == 500
    assert data(resp)["nodes"] == []
    assert data(resp)["errors"] == [{
        "description": "Unable to find node no-such-node", "error_number": 2018,
        "error": "Invalid node name specified", "source": "slurm_load_node_single"}]


# -- the responses against our OpenAPI document ------------------------------------------------

def _draft4(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema draft 4 says it."""
    if isinstance(schema, dict):
        out = {k: _draft4(v) for k, v in schema.items()}
        if out.pop("nullable", False):
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(schema, list):
        return [_draft4(v) for v in schema]
    return schema


COMPONENTS = _draft4(SPEC["components"])


def response_schema(path: str, status: int) -> dict[str, Any]:
    content = SPEC["paths"][path]["get"]["responses"][str(status)]["content"]
    return {"$ref": content["application/json"]["schema"]["$ref"], "components": COMPONENTS}


def test_real_responses_fit_the_spec(lab_jobs: LabJobs) -> None:
    cases = [
        (f"{V}/jobs", "/slurm/v0.0.38/jobs"),
        (f"{V}/jobs?update_time=soon", "/slurm/v0.0.38/jobs"),
        (f"{V}/job/{lab_jobs.het}", "/slurm/v0.0.38/job/{job_id}"),
        (f"{V}/job/{lab_jobs.running_array}", "/slurm/v0.0.38/job/{job_id}"),
        (f"{V}/job/4000000000", "/slurm/v0.0.38/job/{job_id}"),
        (f"{V}/job/abc", "/slurm/v0.0.38/job/{job_id}"),
        (f"{V}/nodes", "/slurm/v0.0.38/nodes"),
        (f"{V}/nodes?update_time=soon", "/slurm/v0.0.38/nodes"),
        (f"{V}/node/n1", "/slurm/v0.0.38/node/{node_name}"),
        (f"{V}/node/no-such-node", "/slurm/v0.0.38/node/{node_name}"),
    ]
    responses = ask(*(path for path, _ in cases))
    for (_, template), resp in zip(cases, responses, strict=True):
        jsonschema.validate(data(resp), response_schema(template, resp.status))
    # the running array's tasks carry job_resources, so that part was checked too
    assert any("job_resources" in j for j in data(responses[3])["jobs"])
    # and nothing Slurm prints is left undocumented
    schemas = SPEC["components"]["schemas"]
    job_keys = set(schemas["v0.0.38_job_response_properties"]["properties"])
    node_keys = set(schemas["v0.0.38_node"]["properties"])
    assert {k for j in data(responses[0])["jobs"] for k in j} <= job_keys
    assert {k for n in data(responses[6])["nodes"] for k in n} <= node_keys
    resources = [j["job_resources"] for j in data(responses[3])["jobs"]]
    assert {k for r in resources for k in r} <= set(
        schemas["v0.0.38_job_resources"]["properties"])


def test_a_wrong_type_fails_the_schema(lab_jobs: LabJobs) -> None:
    """The converse of the test above, so that it can fail."""
    body = data(one(f"{V}/job/{lab_jobs.plain}"))
    body["jobs"][0]["job_id"] = str(body["jobs"][0]["job_id"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, response_schema("/slurm/v0.0.38/job/{job_id}", 200))


# -- no controller -------------------------------------------------------------------------------

@pytest.fixture
def unreachable_conf() -> Iterator[Path]:
    with unreachable_slurm_conf() as conf:
        yield conf


def test_unreachable_controller(unreachable_conf: Path) -> None:
    run = run_pipe(request("GET", f"{V}/jobs") + request("GET", f"{V}/node/n1"),
                   args=["-f", str(unreachable_conf)], timeout=120)
    jobs, node = parse_responses(run.stdout)
    assert jobs.status == node.status == 500
    assert data(jobs)["jobs"] == [] and data(node)["nodes"] == []
    assert data(jobs)["errors"] == [{
        "description": "Failed while looking for jobs", "error_number": -1,
        "error": "Unspecified error", "source": "slurm_load_jobs"}]
    assert data(node)["errors"] == [{
        "description": "Unable to load node information", "error_number": -1,
        "error": "Unspecified error", "source": "slurm_load_node"}]
