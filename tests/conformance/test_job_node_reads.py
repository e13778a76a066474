"""GET jobs, job/{job_id}, nodes, node/{node_name}: the same bytes to slurmrest-stdio and to
Debian's slurmrestd, on the lab cluster with jobs of every kind (alice's and bob's, a held
array, a running array whose tasks have records of their own, a heterogeneous job).

Both programs run at the same moment, so the data is the same and the bodies are compared
byte for byte (YAML as data). Other tests may submit or end jobs meanwhile: a case on
changing data is run again (a few times at most) before a difference counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.test_job_node_reads import (
    LabJobs,
    cancel,
    sinfo_json,
    squeue_json,
    submit_lab_jobs,
)
from tests.conformance.cases import get
from tests.conformance.differences import ref
from tests.conformance.harness import (
    Case,
    Conversation,
    Program,
    compare,
    converse_both,
    load_body,
    media_type,
    run_case,
    start,
)
from tests.helpers import unreachable_slurm_conf

V = "/slurm/v0.0.38"
ATTEMPTS = 4
YAML = "application/x-yaml"


@pytest.fixture(scope="module")
def lab_jobs() -> Iterator[LabJobs]:
    jobs = submit_lab_jobs()
    try:
        yield jobs
    finally:
        cancel(jobs)


def accept(path: str, media: str) -> bytes:
    return get(path, f"Accept: {media}")


def future() -> int:
    return int(time.time()) + 86400


#: (name, case builder): the job ids exist only once the module's jobs are submitted
CaseMaker = Callable[[LabJobs], Case]


def _task_record(jobs: LabJobs) -> int:
    """The job id of the running array's task that is not the array's own record."""
    (other,) = {j["job_id"] for j in squeue_json()["jobs"]
                if j["array_job_id"] == jobs.running_array} - {jobs.running_array}
    assert isinstance(other, int)
    return other


def _task_number(jobs: LabJobs, job_id: int) -> int:
    (task,) = {j["array_task_id"] for j in squeue_json()["jobs"] if j["job_id"] == job_id}
    assert isinstance(task, int)
    return task


CASES: list[tuple[str, CaseMaker]] = [
    # -- the whole list -------------------------------------------------------------------
    ("jobs", lambda j: Case("jobs", get(f"{V}/jobs"), (200,))),
    ("jobs_slash", lambda j: Case("jobs_slash", get(f"{V}/jobs/"), (200,))),
    ("jobs_x_yaml", lambda j: Case("jobs_x_yaml", accept(f"{V}/jobs", YAML), (200,))),
    ("jobs_text_yaml", lambda j: Case("jobs_text_yaml", accept(f"{V}/jobs", "text/yaml"),
                                      (200,))),
    ("jobs_query_ignored", lambda j: Case("jobs_query_ignored", get(f"{V}/jobs?x=1"), (200,))),
    ("jobs_update_time_future", lambda j: Case(
        "jobs_update_time_future", get(f"{V}/jobs?update_time={future()}"), (304,))),
    ("jobs_update_time_decimal_future", lambda j: Case(
        "jobs_update_time_decimal_future", get(f"{V}/jobs?update_time={future()}.4"), (304,))),
    ("jobs_update_time_last_counts", lambda j: Case(
        "jobs_update_time_last_counts",
        get(f"{V}/jobs?update_time=1&update_time={future()}"), (304,))),
    ("jobs_update_time_past", lambda j: Case(
        "jobs_update_time_past", get(f"{V}/jobs?update_time=1"), (200,))),
    ("jobs_update_time_negative", lambda j: Case(
        "jobs_update_time_negative", get(f"{V}/jobs?update_time=-1"), (200,))),
    ("jobs_update_time_future_yaml", lambda j: Case(
        "jobs_update_time_future_yaml", accept(f"{V}/jobs?update_time={future()}", YAML),
        (304,))),
    # -- one job ----------------------------------------------------------------------------
    ("job_plain", lambda j: Case("job_plain", get(f"{V}/job/{j.plain}"), (200,))),
    ("job_plain_slash", lambda j: Case("job_plain_slash", get(f"{V}/job/{j.plain}/"), (200,))),
    ("job_plain_yaml", lambda j: Case("job_plain_yaml", accept(f"{V}/job/{j.plain}", YAML),
                                      (200,))),
    ("job_of_another_user", lambda j: Case("job_of_another_user", get(f"{V}/job/{j.bobs}"),
                                           (200,))),
    ("job_held_array", lambda j: Case("job_held_array", get(f"{V}/job/{j.held_array}"),
                                      (200,))),
    ("job_held_array_task", lambda j: Case(
        "job_held_array_task", get(f"{V}/job/{j.held_array}_2"), (400,))),
    ("job_het", lambda j: Case("job_het", get(f"{V}/job/{j.het}"), (200,))),
    ("job_het_yaml", lambda j: Case("job_het_yaml", accept(f"{V}/job/{j.het}", "text/yaml"),
                                    (200,))),
    ("job_het_offset", lambda j: Case("job_het_offset", get(f"{V}/job/{j.het}%2B1"), (200,))),
    ("job_het_component", lambda j: Case("job_het_component", get(f"{V}/job/{j.het + 1}"),
                                         (200,))),
    ("job_het_bad_offset", lambda j: Case(
        "job_het_bad_offset", get(f"{V}/job/{j.het}%2B-1"), (500,))),
    ("job_running_array", lambda j: Case(
        "job_running_array", get(f"{V}/job/{j.running_array}"), (200,))),
    ("job_running_array_own_task", lambda j: Case(
        "job_running_array_own_task",
        get(f"{V}/job/{j.running_array}_{_task_number(j, j.running_array)}"), (200,))),
    ("job_running_array_other_task", lambda j: Case(
        "job_running_array_other_task",
        get(f"{V}/job/{j.running_array}_{_task_number(j, _task_record(j))}"), (200,))),
    ("job_running_task_record", lambda j: Case(
        "job_running_task_record", get(f"{V}/job/{_task_record(j)}"), (200,))),
    ("job_zero_padded", lambda j: Case("job_zero_padded", get(f"{V}/job/000{j.plain}"),
                                       (200,))),
    ("job_leading_space", lambda j: Case("job_leading_space", get(f"{V}/job/%20{j.plain}"),
                                         (200,))),
    ("job_decimal", lambda j: Case("job_decimal", get(f"{V}/job/{j.plain}.4"), (200,))),
    ("job_update_time_ignored", lambda j: Case(
        "job_update_time_ignored", get(f"{V}/job/{j.plain}?update_time={future()}"), (200,))),
    ("job_unknown", lambda j: Case("job_unknown", get(f"{V}/job/4000000000"), (500,))),
    ("job_unknown_yaml", lambda j: Case("job_unknown_yaml", accept(f"{V}/job/4000000000", YAML),
                                        (500,))),
    ("job_negative", lambda j: Case("job_negative", get(f"{V}/job/-7"), (500,))),
    ("job_too_large", lambda j: Case("job_too_large", get(f"{V}/job/99999999999999999999"),
                                     (500,))),
    ("job_zero", lambda j: Case("job_zero", get(f"{V}/job/0"), (400,))),
    ("job_minus_zero", lambda j: Case("job_minus_zero", get(f"{V}/job/-0"), (400,))),
    ("job_word", lambda j: Case("job_word", get(f"{V}/job/abc"), (400,))),
    ("job_word_yaml", lambda j: Case("job_word_yaml", accept(f"{V}/job/abc", "text/yaml"),
                                     (400,))),
    ("job_boolean", lambda j: Case("job_boolean", get(f"{V}/job/Yes"), (400,))),
    ("job_trailing_space", lambda j: Case("job_trailing_space", get(f"{V}/job/{j.plain}%20"),
                                          (400,))),
    ("job_not_an_array", lambda j: Case("job_not_an_array", get(f"{V}/job/{j.plain}_0"),
                                        (400,))),
    ("job_exponent", lambda j: Case("job_exponent", get(f"{V}/job/1e3"), (400,))),
    # -- nodes ----------------------------------------------------------------------------
    ("nodes", lambda j: Case("nodes", get(f"{V}/nodes"), (200,))),
    ("nodes_yaml", lambda j: Case("nodes_yaml", accept(f"{V}/nodes", YAML), (200,))),
    ("nodes_update_time_future", lambda j: Case(
        "nodes_update_time_future", get(f"{V}/nodes?update_time={future()}"), (304,))),
    ("nodes_update_time_past", lambda j: Case(
        "nodes_update_time_past", get(f"{V}/nodes?update_time=1"), (200,))),
    # only the first node: slurmrestd gives every other node the first one's partitions
    # (test_one_node_has_its_own_partitions)
    ("node", lambda j: Case("node", get(f"{V}/node/{_first_node()}"), (200,))),
    ("node_slash", lambda j: Case("node_slash", get(f"{V}/node/{_first_node()}/"), (200,))),
    ("node_yaml", lambda j: Case("node_yaml", accept(f"{V}/node/{_first_node()}", "text/yaml"),
                                 (200,))),
    ("node_by_host_name", lambda j: Case("node_by_host_name", get(f"{V}/node/{_host()}"),
                                         (200,))),
    ("node_update_time_ignored", lambda j: Case(
        "node_update_time_ignored", get(f"{V}/node/{_first_node()}?update_time={future()}"),
        (200,))),
    # -- several on one connection --------------------------------------------------------
    ("pipelined", lambda j: Case(
        "pipelined",
        get(f"{V}/jobs") + get(f"{V}/job/{j.het}") + get(f"{V}/nodes")
        + get(f"{V}/node/{_first_node()}")
        + get(f"{V}/jobs?update_time={future()}") + get(f"{V}/job/abc"),
        (200, 200, 200, 200, 304, 400))),
]


def _nodes() -> list[dict[str, Any]]:
    nodes = sinfo_json()["nodes"]
    assert isinstance(nodes, list) and nodes
    return nodes


def _first_node() -> str:
    name = _nodes()[0]["name"]
    assert isinstance(name, str)
    return name


def _host() -> str:
    """A host name whose first node is the first node of all (see "node" above)."""
    host = _nodes()[0]["hostname"]
    assert isinstance(host, str)
    return host


def test_case_names_are_unique() -> None:
    names = [name for name, _ in CASES]
    assert len(names) == len(set(names))


def run_again_on_difference(make: Callable[[], Case]) -> tuple[Conversation, Conversation]:
    """:func:`run_case` until it passes, :data:`ATTEMPTS` times at most (the data may have
    changed between two snapshots; a real difference repeats)."""
    for attempt in range(ATTEMPTS):
        try:
            return run_case(make())
        except AssertionError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("name", "make"), CASES, ids=[name for name, _ in CASES])
def test_conforms(name: str, make: CaseMaker, lab_jobs: LabJobs) -> None:
    ours, _ = run_again_on_difference(lambda: make(lab_jobs))
    assert ours.statuses, name


def test_the_lists_hold_every_kind_of_job(lab_jobs: LabJobs) -> None:
    """The list cases above compared something: every job of the fixture is in it."""
    ours, theirs = run_again_on_difference(lambda: Case("jobs", get(f"{V}/jobs"), (200,)))
    listed = {j["job_id"] for j in load_body(ours.responses[0])["jobs"]}
    assert set(lab_jobs.all()) | {lab_jobs.het + 1, _task_record(lab_jobs)} <= listed
    assert ours.responses[0].body == theirs.responses[0].body


# -- deliberate differences -------------------------------------------------------------------

def body_without_errors(resp: Any) -> tuple[dict[str, Any], list[Any]]:
    data = load_body(resp)
    assert isinstance(data, dict)
    errs = data.pop("errors")
    assert isinstance(errs, list)
    return data, errs


@pytest.mark.parametrize(("name", "media"), [("nx", None), ("yes", None), ("N1", YAML)])
def test_unknown_node_error_shape(name: str, media: str | None) -> None:
    ref("job_node_reads")
    path = f"{V}/node/{name}"
    ours, theirs = converse_both(get(path) if media is None else accept(path, media))
    (mine,), (yours,) = ours.responses, theirs.responses
    assert mine.status == yours.status == 500
    assert media_type(mine) == media_type(yours)
    mine_data, mine_errors = body_without_errors(mine)
    yours_data, yours_errors = body_without_errors(yours)
    assert mine_data == yours_data and mine_data["nodes"] == []
    assert yours_errors == [{"error": "Invalid node name specified", "errno": 2018}]
    assert mine_errors == [{"description": f"Unable to find node {name}", "error_number": 2018,
                            "error": "Invalid node name specified",
                            "source": "slurm_load_node_single"}]


@pytest.mark.parametrize(("path", "key"), [
    (f"{V}/jobs?update_time=abc", "jobs"), (f"{V}/jobs?update_time=", "jobs"),
    (f"{V}/jobs?update_time=yes", "jobs"), (f"{V}/jobs?update_time=1e3", "jobs"),
    (f"{V}/nodes?update_time=soon", "nodes"),
])
def test_update_time_not_a_number_says_why(path: str, key: str) -> None:
    ref("job_node_reads")
    ours, theirs = converse_both(get(path))
    (mine,), (yours,) = ours.responses, theirs.responses
    assert mine.status == yours.status == 400
    assert media_type(mine) == media_type(yours) == "application/json"
    mine_data, mine_errors = body_without_errors(mine)
    yours_data, yours_errors = body_without_errors(yours)
    assert mine_data == yours_data and mine_data[key] == []
    assert yours_errors == []
    value = path.split("=", 1)[1]
    assert mine_errors == [{"description": f"update_time must be Unix seconds, not {value!r}",
                            "error_number": 9000,
                            "error": "Query empty or not RFC7320 compliant",
                            "source": "update_time"}]


@pytest.mark.parametrize("media", [None, YAML])
def test_one_node_has_its_own_partitions(media: str | None) -> None:
    ref("job_node_reads")
    nodes = _nodes()
    first, last = nodes[0], nodes[-1]
    assert first["partitions"] != last["partitions"], "the lab's nodes n1 and n4 differ"

    def check() -> None:
        path = f"{V}/node/{last['name']}"
        ours, theirs = converse_both(get(path) if media is None else accept(path, media))
        (mine,), (yours,) = ours.responses, theirs.responses
        assert mine.status == yours.status == 200
        assert media_type(mine) == media_type(yours)
        mine_data, yours_data = load_body(mine), load_body(yours)
        assert mine_data["nodes"][0]["partitions"] == last["partitions"]
        assert yours_data["nodes"][0]["partitions"] == first["partitions"]
        for data in (mine_data, yours_data):
            data["nodes"][0]["partitions"] = "<masked>"
        assert mine_data == yours_data

    for attempt in range(ATTEMPTS):
        try:
            check()
            return
        except AssertionError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(1)


@pytest.fixture
def unreachable_conf() -> Iterator[Path]:
    with unreachable_slurm_conf() as conf:
        yield conf


def test_unreachable_controller(unreachable_conf: Path) -> None:
    """GET jobs answers the same bytes (squeue runs slurmrestd's own handler); the node
    error has our shape. (One request per conversation: slurmrestd closes after an error.)"""
    env = (("SLURM_CONF", str(unreachable_conf)),)
    running = [start(prog, get(path), env=env)
               for path in (f"{V}/jobs", f"{V}/node/n1")
               for prog in (Program.OURS, Program.THEIRS)]
    ours_jobs, theirs_jobs, ours_node, theirs_node = (r.finish() for r in running)
    compare(Case("unreachable_jobs", get(f"{V}/jobs"), (500,)), ours_jobs, theirs_jobs)
    (mine,), (yours,) = ours_node.responses, theirs_node.responses
    assert mine.status == yours.status == 500
    ref("job_node_reads")
    mine_data, mine_errors = body_without_errors(mine)
    yours_data, yours_errors = body_without_errors(yours)
    assert mine_data == yours_data and mine_data["nodes"] == []
    assert yours_errors == [{"error": "Unspecified error", "errno": -1}]
    assert [(e["error"], e["error_number"]) for e in mine_errors] == [("Unspecified error", -1)]
