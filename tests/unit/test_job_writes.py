"""Writing jobs, without Slurm: POST job/submit, POST job/{job_id}, DELETE job/{job_id}.

The operations are driven through the real app with a fake backend that records what it
is asked; the real backend's pure parts (argv, the environment descriptor, reading
sbatch's/scontrol's/scancel's answers) are driven with fake command outcomes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.api.v0_0_38 import job_control, job_properties
from slurmrest_stdio.app import Exchange
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend import cli_jobcontrol, cli_submit
from slurmrest_stdio.backend.base import SubmitResult
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.backend.slurmcli import SlurmCli
from slurmrest_stdio.config import OPENAPI_PLUGINS, Config
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import FakeBackend, make_app, talk

SUBMIT = "/slurm/v0.0.38/job/submit"
JOB = "/slurm/v0.0.38/job/"
SCRIPT = "#!/bin/sh\necho hi\n"
ENV = {"A": "1"}
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))
ALICE = Identity("alice", 1001, "rest_auth/local")


@dataclass
class Recorder(FakeBackend):
    """Records the write operations; fails with ``fail_with`` when set."""

    submitted: list[tuple[list[list[str]], bytes, list[dict[str, str]]]] = field(
        default_factory=list)
    updates: list[tuple[str, list[str]]] = field(default_factory=list)
    signals: list[tuple[str, str | None]] = field(default_factory=list)
    fail_with: SlurmCommandError | None = None
    result: SubmitResult = field(default_factory=lambda: SubmitResult(42, "BATCH", ""))

    def submit(self, who: Identity, components: Sequence[Sequence[str]], script: bytes,
               environments: Sequence[Mapping[str, str]]) -> SubmitResult:
        self.submitted.append(([list(c) for c in components], script,
                               [dict(e) for e in environments]))
        if self.fail_with:
            raise self.fail_with
        return self.result

    def update_job(self, who: Identity, job_id: str, settings: Sequence[str]) -> None:
        self.updates.append((job_id, list(settings)))
        if self.fail_with:
            raise self.fail_with

    def signal_job(self, who: Identity, job_id: str, signal: str | None) -> None:
        self.signals.append((job_id, signal))
        if self.fail_with:
            raise self.fail_with


def call(method: str, path: str, body: Any = None, *, backend: Recorder | None = None,
         raw: bytes | None = None, content_type: str = "application/json") -> Exchange:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    headers = (("content-type", content_type),) if data else ()
    return make_app(backend or Recorder()).handle(Request(method, path, headers, data))


def body_of(ex: Exchange) -> dict[str, Any]:
    assert ex.response.content_type == "application/json", ex.response.body
    result: dict[str, Any] = json.loads(ex.response.body)
    return result


def submit(job: dict[str, Any] | None = None, *, backend: Recorder | None = None,
           script: str = SCRIPT, **extra: Any) -> Exchange:
    payload: dict[str, Any] = {"script": script, **extra}
    if job is not None:
        payload["job"] = {"environment": ENV, **job}
    return call("POST", SUBMIT, payload, backend=backend)


def numbers(ex: Exchange) -> list[int]:
    return [e["error_number"] for e in body_of(ex)["errors"]]


def descriptions(ex: Exchange) -> str:
    return "\n".join(e["description"] for e in body_of(ex)["errors"])


def schema(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}


# -- submit: the answer -------------------------------------------------------------------------

def test_submit_answers_like_slurmrestd() -> None:
    rec = Recorder()
    ex = submit({"name": "x"}, backend=rec)
    assert ex.response.status == 200
    body = body_of(ex)
    assert list(body) == ["meta", "errors", "job_id", "step_id", "job_submit_user_msg"]
    assert (body["errors"], body["job_id"], body["step_id"], body["job_submit_user_msg"]) == (
        [], 42, "BATCH", "")
    jsonschema.validate(body, schema("v0.0.38_job_submission_response"))
    ((options,), script, envs) = rec.submitted[0]
    assert options == ["--job-name=x"] and script == SCRIPT.encode() and envs == [ENV]


def test_a_held_job_is_reported_as_slurmrestd_does() -> None:
    ex = submit({"hold": True})
    assert ex.response.status == 200
    (err,) = body_of(ex)["errors"]
    assert (err["error_number"], err["error"]) == (
        2042, "Job is in held state, pending scheduler release")
    assert body_of(ex)["job_id"] == 42


def test_yaml_body_and_yaml_answer() -> None:
    rec = Recorder()
    body = (b"job:\n  environment:\n    A: 1\n    B: two\n  time_limit: 5\n"
            b"script: |\n  #!/bin/sh\n  true\n")
    ex = make_app(rec).handle(Request("POST", SUBMIT, (
        ("content-type", "application/x-yaml"), ("accept", "application/x-yaml")), body))
    assert ex.response.status == 200 and ex.response.content_type == "application/x-yaml"
    assert b"job_id: 42\n" in ex.response.body
    (options,), script, envs = rec.submitted[0]
    assert "--time=5" in options and envs == [{"A": "1", "B": "two"}]
    assert script == b"#!/bin/sh\ntrue\n"


def test_bytewise_request_gives_the_same_answer() -> None:
    payload = json.dumps({"script": SCRIPT, "job": {"environment": ENV}}).encode()
    data = (f"POST {SUBMIT} HTTP/1.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
    whole = talk(data, backend=Recorder())[1]
    assert talk(data, bytewise=True, backend=Recorder())[1] == whole
    assert b"HTTP/1.1 200 " in whole and b'"job_id": 42' in whole


def test_slurm_refusal_is_passed_on() -> None:
    err = SlurmError("Invalid account or account/partition combination specified", 2045,
                     "Batch job submission failed: ...", "slurm_submit_batch_job")
    ex = submit({"account": "physics"}, backend=Recorder(fail_with=SlurmCommandError([err])))
    assert ex.response.status == 500 and numbers(ex) == [2045]
    jsonschema.validate(body_of(ex), schema("v0.0.38_job_submission_response"))


# -- submit: every property ---------------------------------------------------------------------

SBATCH_CASES: list[tuple[str, Any, list[str]]] = [
    ("account", "research", ["--account=research"]),
    ("account_gather_frequency", "task=30", ["--acctg-freq=task=30"]),
    ("array", "0-3%2", ["--array=0-3%2"]),
    ("batch_features", "fast", ["--batch=fast"]),
    ("begin_time", 1999999999, ["--begin=uts1999999999"]),
    ("begin_time", "now+1hour", ["--begin=now+1hour"]),
    ("burst_buffer", "bb", ["--bb=bb"]),
    ("cluster_constraint", "x", ["--cluster-constraint=x"]),
    ("comment", "hello world", ["--comment=hello world"]),
    ("constraints", "a&b", ["--constraint=a&b"]),
    ("container", "/c", ["--container=/c"]),
    ("core_specification", 0, ["--core-spec=0"]),
    ("cores_per_socket", 2, ["--cores-per-socket=2"]),
    ("cpu_binding_hint", "nomultithread", ["--hint=nomultithread"]),
    ("cpu_frequency", "low", ["--cpu-freq=low"]),
    ("cpus_per_gpu", 2, ["--cpus-per-gpu=2"]),
    ("cpus_per_gpu", "2", ["--cpus-per-gpu=2"]),
    ("cpus_per_task", 3, ["--cpus-per-task=3"]),
    ("current_working_directory", "/tmp", ["--chdir=/tmp"]),
    ("deadline", "now+2hours", ["--deadline=now+2hours"]),
    ("delay_boot", 5, ["--delay-boot=5"]),
    ("dependency", "afterok:1", ["--dependency=afterok:1"]),
    ("distribution", "cyclic", ["--distribution=cyclic"]),
    ("exclusive", "true", ["--exclusive"]),
    ("exclusive", "exclusive", ["--exclusive"]),
    ("exclusive", "user", ["--exclusive=user"]),
    ("exclusive", "mcs", ["--exclusive=mcs"]),
    ("exclusive", "oversubscribe", ["--oversubscribe"]),
    ("exclusive", "false", []),
    ("get_user_environment", True, ["--get-user-env"]),
    ("get_user_environment", False, []),
    ("gres", "gpu:1", ["--gres=gpu:1"]),
    ("gres_flags", "enforce-binding", ["--gres-flags=enforce-binding"]),
    ("gpu_binding", "closest", ["--gpu-bind=closest"]),
    ("gpu_frequency", "high", ["--gpu-freq=high"]),
    ("gpus", "2", ["--gpus=2"]),
    ("gpus_per_node", "1", ["--gpus-per-node=1"]),
    ("gpus_per_socket", "1", ["--gpus-per-socket=1"]),
    ("gpus_per_task", "1", ["--gpus-per-task=1"]),
    ("hold", True, ["--hold"]),
    ("hold", False, []),
    ("kill_on_invalid_dependency", True, ["--kill-on-invalid-dep=yes"]),
    ("kill_on_invalid_dependency", False, ["--kill-on-invalid-dep=no"]),
    ("licenses", "matlab:1", ["--licenses=matlab:1"]),
    ("mail_type", "END", ["--mail-type=END"]),
    ("mail_user", "a@b", ["--mail-user=a@b"]),
    ("mcs_label", "grp", ["--mcs-label=grp"]),
    ("memory_binding", "local", ["--mem-bind=local"]),
    ("memory_per_cpu", 100, ["--mem-per-cpu=100"]),
    ("memory_per_gpu", 100, ["--mem-per-gpu=100"]),
    ("memory_per_node", 200, ["--mem=200"]),
    ("minimum_cpus_per_node", 2, ["--mincpus=2"]),
    ("minimum_nodes", True, ["--use-min-nodes"]),
    ("name", "n", ["--job-name=n"]),
    ("nice", -5, ["--nice=-5"]),
    ("no_kill", True, ["--no-kill"]),
    ("nodes", [2], ["--nodes=2"]),
    ("nodes", [1, 3], ["--nodes=1-3"]),
    ("nodes", "2-4", ["--nodes=2-4"]),
    ("open_mode", "truncate", ["--open-mode=truncate"]),
    ("oversubscribe", True, ["--oversubscribe"]),
    ("oversubscribe", False, []),
    ("partition", "long", ["--partition=long"]),
    ("prefer", "fast", ["--prefer=fast"]),
    ("priority", 10, ["--priority=10"]),
    ("priority", "TOP", ["--priority=TOP"]),
    ("qos", "high", ["--qos=high"]),
    ("requeue", True, ["--requeue"]),
    ("requeue", False, ["--no-requeue"]),
    ("reservation", "maint", ["--reservation=maint"]),
    ("signal", "B:USR1@60", ["--signal=B:USR1@60"]),
    ("sockets_per_node", 1, ["--sockets-per-node=1"]),
    ("spread_job", True, ["--spread-job"]),
    ("standard_error", "/tmp/e", ["--error=/tmp/e"]),
    ("standard_input", "/dev/null", ["--input=/dev/null"]),
    ("standard_output", "/tmp/o-%j", ["--output=/tmp/o-%j"]),
    ("tasks", 4, ["--ntasks=4"]),
    ("tasks_per_core", 1, ["--ntasks-per-core=1"]),
    ("tasks_per_node", 2, ["--ntasks-per-node=2"]),
    ("tasks_per_socket", 2, ["--ntasks-per-socket=2"]),
    ("thread_specification", 1, ["--thread-spec=1"]),
    ("threads_per_core", 1, ["--threads-per-core=1"]),
    ("time_limit", 0, ["--time=0"]),
    ("time_limit", 30, ["--time=30"]),
    ("time_minimum", 10, ["--time-min=10"]),
    ("wait_all_nodes", True, ["--wait-all-nodes=1"]),
    ("wait_all_nodes", False, ["--wait-all-nodes=0"]),
    ("wckey", "projx", ["--wckey=projx"]),
    ("nodelist", "n[1-2]", ["--nodelist=n[1-2]"]),
    ("exclude_nodes", "n4", ["--exclude=n4"]),
    ("temporary_disk_per_node", 10, ["--tmp=10"]),
]
SBATCH_REFUSED = ["argv", "cpu_binding"]


@pytest.mark.parametrize(("name", "value", "words"), SBATCH_CASES,
                         ids=[f"{n}={v!r}" for n, v, _ in SBATCH_CASES])
def test_each_property_is_its_sbatch_option(name: str, value: Any, words: list[str]) -> None:
    rec = Recorder()
    ex = submit({name: value, "name": "n"} if name != "name" else {name: value}, backend=rec)
    assert ex.response.status == 200, ex.response.body
    (options,), _, _ = rec.submitted[0]
    expected = words if name == "name" else ["--job-name=n", *words]
    assert sorted(options) == sorted(expected)
    assert all(o.startswith("--") for o in options)


def test_every_schema_property_is_mapped_or_refused() -> None:
    in_schema = set(SPEC["components"]["schemas"]["v0.0.38_job_properties"]["properties"])
    assert in_schema == set(job_properties.PROPERTIES)
    tested = {name for name, _, _ in SBATCH_CASES} | set(SBATCH_REFUSED) | {"environment"}
    assert tested == in_schema
    for name, row in job_properties.PROPERTIES.items():
        for how in (row.sbatch, row.update):
            assert callable(how) or (isinstance(how, str) and how), name


def test_our_schema_keeps_slurmrestd_names() -> None:
    # every property of slurmrestd's own v0.0.38_job_properties (22.05.8), and its types
    # where slurmrestd accepts them; ours adds nodelist, exclude_nodes and
    # temporary_disk_per_node, which its parser accepts too
    theirs = {
        "account", "account_gather_frequency", "argv", "array", "batch_features",
        "begin_time", "burst_buffer", "cluster_constraint", "comment", "constraints",
        "container", "core_specification", "cores_per_socket", "cpu_binding",
        "cpu_binding_hint", "cpu_frequency", "cpus_per_gpu", "cpus_per_task",
        "current_working_directory", "deadline", "delay_boot", "dependency", "distribution",
        "environment", "exclusive", "get_user_environment", "gres", "gres_flags",
        "gpu_binding", "gpu_frequency", "gpus", "gpus_per_node", "gpus_per_socket",
        "gpus_per_task", "hold", "kill_on_invalid_dependency", "licenses", "mail_type",
        "mail_user", "mcs_label", "memory_binding", "memory_per_cpu", "memory_per_gpu",
        "memory_per_node", "minimum_cpus_per_node", "minimum_nodes", "name", "nice",
        "no_kill", "nodes", "open_mode", "oversubscribe", "partition", "prefer", "priority",
        "qos", "requeue", "reservation", "signal", "sockets_per_node", "spread_job",
        "standard_error", "standard_input", "standard_output", "tasks", "tasks_per_core",
        "tasks_per_node", "tasks_per_socket", "thread_specification", "threads_per_core",
        "time_limit", "time_minimum", "wait_all_nodes", "wckey",
    }
    assert set(job_properties.PROPERTIES) - theirs == {
        "nodelist", "exclude_nodes", "temporary_disk_per_node"}


@pytest.mark.parametrize("name", SBATCH_REFUSED)
def test_properties_sbatch_cannot_take_are_refused_by_name(name: str) -> None:
    value: Any = ["a", "b"] if name == "argv" else "x"
    rec = Recorder()
    ex = submit({name: value}, backend=rec)
    assert ex.response.status == 400 and numbers(ex) == [9001]
    assert descriptions(ex).startswith(f"job.{name}: not supported")
    assert rec.submitted == []


# -- submit: hostile and malformed input -------------------------------------------------------

def test_values_starting_with_dashes_stay_inside_their_option() -> None:
    rec = Recorder()
    ex = submit({"name": "--wrap=id", "comment": "-x", "partition": "--partition=long",
                 "dependency": "; rm -rf /"}, backend=rec)
    assert ex.response.status == 200
    (options,), _, _ = rec.submitted[0]
    assert options == ["--job-name=--wrap=id", "--comment=-x",
                       "--partition=--partition=long", "--dependency=; rm -rf /"]


@pytest.mark.parametrize(("job", "where"), [
    ({"name": "a\nb"}, "job.name: must not contain line breaks"),
    ({"comment": "a\rb"}, "job.comment: must not contain line breaks"),
    ({"name": "a\x00b"}, "job.name: must not contain NUL characters"),
    ({"account": "\ud800"}, "job.account: must be valid Unicode text"),
    ({"time_limit": "10"}, "job.time_limit: '10' is not of type 'integer'"),
    ({"time_limit": 10.5}, "job.time_limit: 10.5 is not of type 'integer'"),
    ({"time_limit": True}, "job.time_limit: True is not of type 'integer'"),
    ({"time_limit": -1}, "job.time_limit: -1 is less than the minimum of 0"),
    ({"time_limit": 10**30}, "job.time_limit: 10000000000"),
    ({"memory_per_node": 2**80}, "job.memory_per_node: 1208925819614629174706176 is greater"),
    ({"hold": "yes"}, "job.hold: 'yes' is not of type 'boolean'"),
    ({"nodes": []}, "job.nodes: [] is not valid under any of the given schemas"),
    ({"nodes": [3, 1]}, "job.nodes: the minimum node count is larger than the maximum"),
    ({"exclusive": "always"}, "job.exclusive: 'always' is not one of"),
    ({"priority": "high"}, "job.priority: must be a number or TOP, not 'high'"),
    ({"priority": 0}, "job.priority: 0 is not valid under any of the given schemas"),
    ({"begin_time": 5}, "job.begin_time: 5 is not valid under any of the given schemas"),
    ({"hold": True, "priority": 5}, "job.priority: cannot be combined with hold"),
    ({"exclusive": "true", "oversubscribe": True},
     "job.oversubscribe: cannot be combined with exclusive"),
    ({"bogus": 1}, "job.bogus: unknown property"),
    ({"Name": "x"}, "job.Name: unknown property"),
    ({"environment": {"A=B": "1"}}, "job.environment.A=B: a variable name must be text"),
    ({"environment": {"": "1"}}, "job.environment.: a variable name must be text"),
    ({"environment": {"A": "1\x00"}}, "job.environment.A: must be valid Unicode text"),
    ({"environment": {"A": True}}, "job.environment.A: True is not valid under any"),
    ({"environment": {"A": None}}, "job.environment.A: None is not valid under any"),
    ({"environment": {"DISPLAY": ":0"}},
     "job.environment.DISPLAY: sbatch does not pass this variable"),
    ({"environment": {"X" * 256: "1"}}, "is limited to 255 bytes"),
    ({"environment": {"A": "x" * 262144}}, "job.environment.A: a value is limited to"),
    ({"environment": ["A=1"]}, "job.environment: ['A=1'] is not of type 'object'"),
])
def test_bad_properties_are_400_naming_the_path(job: dict[str, Any], where: str) -> None:
    rec = Recorder()
    ex = submit(job, backend=rec)
    assert ex.response.status == 400, ex.response.body
    assert 9001 in numbers(ex)
    assert where in descriptions(ex)
    assert rec.submitted == []


def test_long_environment_values_and_odd_names_within_limits_pass() -> None:
    rec = Recorder()
    env = {"X" * 255: "1", "A": "x" * 262143, "B": "multi\nline\tvalue", "C": 7, "É": "é",
           "HOSTNAME": "ignored-by-slurm"}
    ex = call("POST", SUBMIT, {"script": SCRIPT, "job": {"environment": env}}, backend=rec)
    assert ex.response.status == 200, ex.response.body
    assert rec.submitted[0][2] == [{**env, "C": "7"}]


@pytest.mark.parametrize(("script", "where"), [
    ("", "the batch script is empty"),
    ("  \n\t", "the batch script is empty"),
    ("echo hi\n", "the first line must start with #!"),
    ("#!/bin/sh\n\x00\n", "NUL characters"),
    ("#!/bin/sh\r\necho\r\n", "DOS line breaks"),
    ("#!/bin/sh\n#SBATCH --wait\n", "'--wait' is not allowed"),
    ("#!/bin/sh\n#SBATCH --wai\n", "'--wai' is not allowed"),
    ("#!/bin/sh\n#SBATCH -W\n", "'-W' is not allowed"),
    ("#!/bin/sh\n#SBATCH -vW\n", "'-vW' is not allowed"),
    ("#!/bin/sh\n#SBATCH --test-only\n", "'--test-only' is not allowed"),
    ("#!/bin/sh\n#SBATCH -N1\n#SBATCH hetjob\n#SBATCH -N2\n", "'hetjob' is not allowed"),
    ("#!/bin/sh\n# a comment\n\n#SLURM --wait\n", "'--wait' is not allowed"),
    ("#!/bin/sh\n#SBATCH --time=5 \"--wait\"\n", "'--wait' is not allowed"),
])
def test_scripts_sbatch_would_refuse_or_wait_on_are_400(script: str, where: str) -> None:
    rec = Recorder()
    ex = submit({}, script=script, backend=rec)
    assert ex.response.status == 400 and 9001 in numbers(ex)
    assert f"script: {where}" in descriptions(ex) or where in descriptions(ex)
    assert rec.submitted == []


@pytest.mark.parametrize("script", [
    "#!/bin/sh\n#SBATCH -JWORK\necho\n",  # W inside -J's argument
    "#!/bin/sh\n#SBATCH --wait-all-nodes=1\n",
    "#!/bin/sh\n#SBATCH --wckey=projx\n",
    "#!/bin/sh\necho\n#SBATCH --wait\n",  # after the first command: not a directive
    "#!/bin/bash\n\u00e9\u4e2d\u6587 \t\\x01\x01 $(id) `id` ; | & > <\n",
])
def test_scripts_that_are_fine(script: str) -> None:
    rec = Recorder()
    ex = submit({}, script=script, backend=rec)
    assert ex.response.status == 200, ex.response.body
    assert rec.submitted[0][1] == script.encode()


def test_an_unnamed_job_has_no_name_unless_the_script_names_it() -> None:
    rec = Recorder()
    submit({}, backend=rec)
    submit({}, script="#!/bin/sh\n#SBATCH --job-name=fromscript\n", backend=rec)
    submit({}, script="#!/bin/sh\n#SBATCH -J x\n", backend=rec)
    assert [s[0][0] for s in rec.submitted] == [["--job-name="], [], []]


@pytest.mark.parametrize(("payload", "status", "number"), [
    (None, 500, 2009),
    ({}, 500, 2009),
    ([], 500, 2009),
    ("x", 500, 2009),
    ({"job": {"environment": ENV}}, 500, 2009),
    ({"script": 1, "job": {"environment": ENV}}, 500, 2009),
    ({"script": SCRIPT}, 400, 9002),
    ({"script": SCRIPT, "job": []}, 400, 9002),
    ({"script": SCRIPT, "job": "x"}, 400, 9002),
    ({"script": SCRIPT, "jobs": []}, 400, 9002),
    ({"script": SCRIPT, "jobs": [{"environment": ENV}, 1]}, 400, 9002),
    ({"script": SCRIPT, "job": {"environment": ENV}, "jobs": [{"environment": ENV}]}, 400,
     9002),
    ({"script": SCRIPT, "job": {}}, 400, 2127),
    ({"script": SCRIPT, "job": {"environment": {}}}, 400, 2127),
    ({"script": SCRIPT, "job": {"environment": ENV}, "extra": 1}, 400, 9001),
])
def test_malformed_submissions_get_slurmrestds_statuses(payload: Any, status: int,
                                                        number: int) -> None:
    rec = Recorder()
    ex = call("POST", SUBMIT, payload, backend=rec)
    assert ex.response.status == status, ex.response.body
    assert numbers(ex) == [number]
    assert rec.submitted == []
    jsonschema.validate(body_of(ex), schema("v0.0.38_job_submission_response"))


def test_unparsable_bodies_are_400_text() -> None:
    for raw, ctype in ((b"{", "application/json"), (b"job: [\n", "application/x-yaml")):
        ex = call("POST", SUBMIT, raw=raw, content_type=ctype)
        assert ex.response.status == 400 and ex.response.content_type == "text/plain"
        assert ex.response.body.startswith(b"Unable to parse query")


# -- submit: heterogeneous jobs ----------------------------------------------------------------

def test_het_job_components_have_their_own_options_and_environments() -> None:
    rec = Recorder()
    ex = call("POST", SUBMIT, {"script": SCRIPT, "jobs": [
        {"environment": {"A": "1"}, "name": "c0", "nodes": [1]},
        {"environment": {"B": "2"}, "partition": "long", "hold": True},
    ]}, backend=rec)
    assert ex.response.status == 200
    assert numbers(ex) == [2042]  # a held het job
    options, _, envs = rec.submitted[0]
    assert options == [["--job-name=c0", "--nodes=1"],
                       ["--job-name=", "--partition=long", "--hold"]]
    assert envs == [{"A": "1"}, {"B": "2"}]


def test_a_het_job_with_any_component_held_is_reported_held() -> None:
    # sbatch carries --hold on to the components after the one that asks (Slurm's rule
    # for job-wide options), so the whole job is held and Slurm says so
    ex = call("POST", SUBMIT, {"script": SCRIPT, "jobs": [
        {"environment": ENV, "hold": True}, {"environment": ENV}]})
    assert numbers(ex) == [2042]
    ex = call("POST", SUBMIT, {"script": SCRIPT, "jobs": [
        {"environment": ENV, "hold": False}, {"environment": ENV}]})
    assert numbers(ex) == []


def test_a_het_job_with_one_bad_component_submits_nothing() -> None:
    for second in ({"environment": ENV, "time_limit": "x"}, {"name": "no env"},
                   {"environment": ENV, "argv": ["a"]}):
        rec = Recorder()
        ex = call("POST", SUBMIT, {"script": SCRIPT, "jobs": [{"environment": ENV}, second]},
                  backend=rec)
        assert ex.response.status == 400 and "jobs[1]" in descriptions(ex)
        assert rec.submitted == []


# -- update --------------------------------------------------------------------------------------

UPDATE_CASES: list[tuple[str, Any, list[str]]] = [
    ("account", "research", ["Account=research"]),
    ("array", "%2", ["ArrayTaskThrottle=2"]),
    ("begin_time", 1999999999, ["StartTime=uts1999999999"]),
    ("begin_time", "now+1hour", ["StartTime=now+1hour"]),
    ("burst_buffer", "x", ["BurstBuffer=x"]),
    ("cluster_constraint", "x", ["ClusterFeatures=x"]),
    ("comment", "new comment", ["Comment=new comment"]),
    ("constraints", "a", ["Features=a"]),
    ("core_specification", 1, ["CoreSpec=1"]),
    ("cores_per_socket", 2, ["ReqCores=2"]),
    ("cpus_per_gpu", 2, ["CpusPerTres=gres:gpu:2"]),
    ("cpus_per_task", 2, ["CPUsPerTask=2"]),
    ("current_working_directory", "/tmp", ["WorkDir=/tmp"]),
    ("deadline", "now+1day", ["Deadline=now+1day"]),
    ("delay_boot", 3, ["DelayBoot=3"]),
    ("dependency", "afterany:5", ["Dependency=afterany:5"]),
    ("exclusive", "true", ["OverSubscribe=no"]),
    ("exclusive", "oversubscribe", ["OverSubscribe=yes"]),
    ("gres", "gpu:1", ["Gres=gpu:1"]),
    ("gpu_binding", "closest", ["TresBind=gpu:closest"]),
    ("gpu_frequency", "low", ["TresFreq=gpu:low"]),
    ("gpus", "2", ["TresPerJob=gres:gpu:2"]),
    ("gpus_per_node", "1", ["TresPerNode=gres:gpu:1"]),
    ("gpus_per_socket", "1", ["TresPerSocket=gres:gpu:1"]),
    ("gpus_per_task", "1", ["TresPerTask=gres:gpu:1"]),
    ("hold", True, ["Priority=0"]),
    ("hold", False, [job_properties.RELEASE]),
    ("licenses", "fluent:2", ["Licenses=fluent:2"]),
    ("mail_type", "ALL", ["MailType=ALL"]),
    ("mail_user", "me@x", ["MailUser=me@x"]),
    ("memory_per_cpu", 10, ["MinMemoryCPU=10"]),
    ("memory_per_gpu", 10, ["MemPerTres=gres:gpu:10"]),
    ("memory_per_node", 10, ["MinMemoryNode=10"]),
    ("minimum_cpus_per_node", 1, ["MinCPUsNode=1"]),
    ("name", "--wrap=id", ["Name=--wrap=id"]),
    ("nice", 10, ["Nice=10"]),
    ("nodes", [1, 2], ["NumNodes=1-2"]),
    ("oversubscribe", True, ["OverSubscribe=yes"]),
    ("partition", "long", ["Partition=long"]),
    ("prefer", "x", ["Prefer=x"]),
    ("priority", 5, ["Priority=5"]),
    ("priority", "5", ["Priority=5"]),
    ("qos", "high", ["QOS=high"]),
    ("requeue", False, ["Requeue=0"]),
    ("reservation", "maint", ["ReservationName=maint"]),
    ("sockets_per_node", 1, ["ReqSockets=1"]),
    ("standard_output", "/tmp/o", ["StdOut=/tmp/o"]),
    ("tasks", 2, ["NumTasks=2"]),
    ("tasks_per_node", 1, ["TasksPerNode=1"]),
    ("thread_specification", 1, ["ThreadSpec=1"]),
    ("threads_per_core", 1, ["ReqThreads=1"]),
    ("time_limit", 5, ["TimeLimit=5"]),
    ("time_minimum", 2, ["TimeMin=2"]),
    ("wckey", "projx", ["WCKey=projx"]),
    ("nodelist", "n1", ["ReqNodeList=n1"]),
    ("exclude_nodes", "n4", ["ExcNodeList=n4"]),
    ("temporary_disk_per_node", 5, ["MinTmpDiskNode=5"]),
]
NOT_UPDATABLE: list[tuple[str, Any]] = [
    ("account_gather_frequency", "30"), ("argv", ["a"]), ("batch_features", "x"),
    ("container", "/c"), ("cpu_binding", "x"), ("cpu_binding_hint", "x"),
    ("cpu_frequency", "low"), ("distribution", "block"), ("environment", {"A": "1"}),
    ("get_user_environment", True), ("gres_flags", "enforce-binding"),
    ("kill_on_invalid_dependency", True), ("mcs_label", "x"), ("memory_binding", "x"),
    ("minimum_nodes", True), ("no_kill", True), ("open_mode", "append"),
    ("signal", "USR1@60"), ("spread_job", True), ("standard_error", "/e"),
    ("standard_input", "/i"), ("tasks_per_core", 1), ("tasks_per_socket", 1),
    ("wait_all_nodes", True),
]


@pytest.mark.parametrize(("name", "value", "settings"), UPDATE_CASES,
                         ids=[f"{n}={v!r}" for n, v, _ in UPDATE_CASES])
def test_each_updatable_property_is_its_scontrol_setting(name: str, value: Any,
                                                         settings: list[str]) -> None:
    rec = Recorder()
    ex = call("POST", JOB + "17", {name: value}, backend=rec)
    assert ex.response.status == 200, ex.response.body
    assert body_of(ex) == {"meta": body_of(ex)["meta"], "errors": []}
    jsonschema.validate(body_of(ex), schema("v0.0.38_job_control_response"))
    assert rec.updates == [("17", settings)]


def test_every_property_is_updatable_or_refused() -> None:
    covered = {n for n, _, _ in UPDATE_CASES} | {n for n, _ in NOT_UPDATABLE}
    assert covered == set(job_properties.PROPERTIES)


@pytest.mark.parametrize(("name", "value"), NOT_UPDATABLE)
def test_properties_slurm_cannot_change_are_refused_by_name(name: str, value: Any) -> None:
    rec = Recorder()
    ex = call("POST", JOB + "17", {name: value}, backend=rec)
    assert ex.response.status == 400 and numbers(ex) == [9001]
    assert descriptions(ex).startswith(f"{name}: not supported")
    assert rec.updates == []


@pytest.mark.parametrize(("body", "where"), [
    ({"bogus": 1}, "bogus: unknown property"),
    ({"comment": 5}, "comment: 5 is not of type 'string'"),
    ({"comment": "a\nb"}, "comment: must not contain line breaks"),
    ({"array": "1-3"}, "array: a submitted array can only change its throttle"),
    ({"priority": "TOP"}, "priority: must be a number, not 'TOP'"),
    ({"oversubscribe": False}, "oversubscribe: false cannot be applied"),
    ({"exclusive": "user"}, "exclusive: 'user' cannot be applied"),
    ({"hold": False, "priority": 3}, "priority: cannot be combined with hold"),
    ({"time_limit": 2**40}, "time_limit: 1099511627776 is greater than the maximum"),
])
def test_bad_updates_are_400_naming_the_property(body: dict[str, Any], where: str) -> None:
    rec = Recorder()
    ex = call("POST", JOB + "17", body, backend=rec)
    assert ex.response.status == 400 and where in descriptions(ex)
    assert rec.updates == []


def test_update_bodies_that_are_not_objects() -> None:
    for raw in (b"[]", b'"x"', b"null", b"3"):
        rec = Recorder()
        ex = call("POST", JOB + "17", raw=raw, backend=rec)
        assert ex.response.status == 400 and numbers(ex) == [9002], raw
        assert rec.updates == []


def test_an_empty_update_changes_nothing_and_runs_nothing() -> None:
    rec = Recorder()
    assert call("POST", JOB + "17", raw=b"", backend=rec).response.status == 200
    assert call("POST", JOB + "17", {}, backend=rec).response.status == 200
    assert rec.updates == []


@pytest.mark.parametrize(("segment", "seen"), [
    ("17", "17"), ("0017", "17"), ("17_3", "17_3"), ("17%2B1", "17+1"),
    ("17_%5B1-3%5D", "17_[1-3]"), ("4294967293", "4294967293"),
])
def test_job_ids_reach_slurm_as_slurmrestd_reads_them(segment: str, seen: str) -> None:
    rec = Recorder()
    assert call("POST", JOB + segment, {"comment": "c"}, backend=rec).response.status == 200
    assert call("DELETE", JOB + segment, backend=rec).response.status == 200
    assert rec.updates == [(seen, ["Comment=c"])] and rec.signals == [(seen, None)]


@pytest.mark.parametrize(("segment", "shown"), [
    ("abc", "abc"), ("-1", "-1"), ("0", "0"), ("yes", "true"), ("1e3", "1e3"),
    ("4294967296", "4294967296"), ("17.batch", "17.batch"), ("17_x", "17_x"),
    ("--signal%3D9", "--signal=9"), ("%2D%2Dhelp", "--help"), ("17%20-v", "17 -v"),
    ("17%0A", "17\n"),
])
def test_ids_that_name_no_job_never_reach_slurm(segment: str, shown: str) -> None:
    rec = Recorder()
    ex = call("POST", JOB + segment, {"comment": "c"}, backend=rec)
    assert ex.response.status == 500 and numbers(ex) == [2017]
    assert body_of(ex)["errors"][0]["source"] == "_parse_job_list"
    ex = call("DELETE", JOB + segment, backend=rec)
    assert ex.response.status == 500
    assert body_of(ex)["errors"] == [{
        "description": f"unable to kill JobId={shown} with signal 9: Invalid job id specified",
        "error_number": 2017, "error": "Invalid job id specified", "source": "slurm_kill_job",
    }]
    assert rec.updates == [] and rec.signals == []


def test_update_refusals_from_slurm_are_passed_on() -> None:
    err = SlurmError("Invalid user id", 2010, "job update of JobId=17 failed", "_parse_job_list")
    ex = call("POST", JOB + "17", {"comment": "c"},
              backend=Recorder(fail_with=SlurmCommandError([err])))
    assert ex.response.status == 500 and numbers(ex) == [2010]
    ex = call("POST", JOB + "17_1", {"comment": "c"},
              backend=Recorder(fail_with=SlurmCommandError([err], status=200)))
    assert ex.response.status == 200 and numbers(ex) == [2010]


# -- delete ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "signal"), [
    ("", None), ("?signal=", None), ("?signal=KILL", None), ("?signal=9", None),
    ("?signal=SIGKILL", None), ("?signal=USR1", "10"), ("?signal=SIGUSR1", "10"),
    ("?signal=usr1", "10"), ("?signal=10", "10"), ("?signal=%2010%20", "10"),
    ("?signal=0010", "10"), ("?signal=TERM", "15"), ("?signal=sigterm", "15"),
    ("?signal=HUP", "1"), ("?signal=XCPU", "24"), ("?signal=63", "63"),
    ("?signal=4294967306", "10"), ("?signal=USR1&signal=USR2", "12"),
])
def test_signals_are_read_like_slurmrestd(query: str, signal: str | None) -> None:
    rec = Recorder()
    ex = call("DELETE", JOB + "17" + query, backend=rec)
    assert ex.response.status == 200, ex.response.body
    jsonschema.validate(body_of(ex), schema("v0.0.38_job_control_response"))
    assert rec.signals == [("17", signal)]


@pytest.mark.parametrize(("query", "shown"), [
    ("?signal=FOO", "0"), ("?signal=0", "0"), ("?signal=64", "64"), ("?signal=99", "99"),
    ("?signal=-1", "-1"), ("?signal=USR1x", "0"), ("?signal=2.5", "2.5"),
    ("?signal=yes", "yes"), ("?signal=--full", "0"),
])
def test_bad_signals_are_400_before_anything_else(query: str, shown: str) -> None:
    rec = Recorder()
    ex = call("DELETE", JOB + "abc" + query, backend=rec)
    assert ex.response.status == 400
    assert body_of(ex)["errors"] == [{
        "description": f"invalid signal: {shown}", "error_number": 9000,
        "error": "Query empty or not RFC7320 compliant", "source": "HTTP request: signal",
    }]
    assert rec.signals == []


def test_delete_with_a_body_is_400() -> None:
    ex = call("DELETE", JOB + "17", raw=b"{}")
    assert ex.response.status == 400 and ex.response.content_type == "text/plain"


def test_signal_refusals_from_slurm_are_passed_on() -> None:
    err = SlurmError("Access/permission denied", 2002,
                     "unable to kill JobId=17 with signal 9: Access/permission denied",
                     "slurm_kill_job")
    ex = call("DELETE", JOB + "17", backend=Recorder(fail_with=SlurmCommandError([err])))
    assert ex.response.status == 500 and body_of(ex)["errors"] == [err.to_dict()]


# -- the real backend's pure parts ----------------------------------------------------------------

class SubmitProbe(SlurmCli):
    """The real submit, with sbatch replaced by a recorder of argv and descriptors."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(Config(), environ={"PATH": "/usr/bin"})
        self.outcome = outcome
        self.argv: list[str] = []
        self.stdin = b""
        self.fd_data: dict[int, bytes] = {}

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.argv, self.stdin = list(argv), stdin or b""
        for fd in pass_fds:
            self.fd_data[fd] = os.read(fd, 1 << 20)
        return self.outcome


def test_backend_submit_argv_and_environment_descriptors() -> None:
    probe = SubmitProbe(Outcome(0, b"123\n", b""))
    result = probe.submit(ALICE, [["--job-name=a"], ["--job-name=b", "--hold"]], b"#!x\n",
                          [{"A": "1", "B": "x\ny"}, {"C": ""}])
    assert result == SubmitResult(123, "BATCH", "")
    fd0, fd1 = probe.fd_data
    assert probe.argv == [
        "sbatch", "--parsable", "--ignore-pbs", f"--export-file={fd0}", "--job-name=a", ":",
        "--ignore-pbs", f"--export-file={fd1}", "--job-name=b", "--hold"]
    assert probe.fd_data == {fd0: b"A=1\x00B=x\ny\x00", fd1: b"C=\x00"}
    assert probe.stdin == b"#!x\n"
    for fd in (fd0, fd1):  # closed afterwards
        with pytest.raises(OSError):
            os.fstat(fd)


def test_backend_submit_refuses_values_outside_options() -> None:
    probe = SubmitProbe(Outcome(0, b"1\n", b""))
    for bad in (["-p", "long"], ["long"], ["--x=\x00"]):
        with pytest.raises(ValueError, match="not an sbatch option"):
            probe.submit(ALICE, [bad], b"#!x\n", [ENV])
    with pytest.raises(ValueError, match="one environment per component"):
        probe.submit(ALICE, [[]], b"#!x\n", [])


@pytest.mark.parametrize(("outcome", "status", "number", "source"), [
    (Outcome(1, b"", b"sbatch: error: Batch job submission failed: Invalid account or "
     b"account/partition combination specified\n"), 500, 2045, "slurm_submit_batch_job"),
    (Outcome(1, b"", b"sbatch: error: Batch job submission failed: Invalid partition name "
     b"specified\n"), 500, 2000, "slurm_submit_batch_job"),
    (Outcome(1, b"", b"sbatch: error: Invalid --time specification\n"), 400, 9001, "sbatch"),
    (Outcome(1, b"", b"sbatch: fatal: something broke\n"), 500, -1, "slurm_submit_batch_job"),
    (Outcome(0, b"", b"sbatch: Job 5 to start at ...\n"), 500, -1, "slurm_submit_batch_job"),
])
def test_backend_submit_failures(outcome: Outcome, status: int, number: int,
                                 source: str) -> None:
    with pytest.raises(SlurmCommandError) as info:
        SubmitProbe(outcome).submit(ALICE, [[]], b"#!x\n", [ENV])
    assert info.value.status == status
    (err,) = info.value.errors
    assert (err.error_number, err.source) == (number, source)


def test_backend_submit_reads_cluster_suffix_and_user_message() -> None:
    probe = SubmitProbe(Outcome(0, b"77;lab\n",
                                b"sbatch: Your job was adjusted\nsbatch: warning: w\n"
                                b"sbatch: second line\n"))
    assert probe.submit(ALICE, [[]], b"#!x\n", [ENV]) == SubmitResult(
        77, "BATCH", "Your job was adjusted\nsecond line")
    probe = SubmitProbe(Outcome(1, b"", b"sbatch: error: Batch job submission failed: "
                                        b"Invalid qos specification\n"))
    with pytest.raises(SlurmCommandError) as info:
        probe.submit(ALICE, [[], []], b"#!x\n", [ENV, ENV])
    assert info.value.errors[0].source == "slurm_submit_batch_het_job"


class ControlProbe(SlurmCli):
    """The real job control, with Slurm's commands replaced by canned outcomes."""

    def __init__(self, outcomes: dict[str, Outcome]) -> None:
        super().__init__(Config(), environ={"PATH": "/usr/bin"})
        self.outcomes = outcomes
        self.ran: list[list[str]] = []

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.ran.append(list(argv))
        for key, outcome in self.outcomes.items():
            if key in " ".join(argv):
                return outcome
        return Outcome(0, b"", b"")


OK = Outcome(0, b"", b"")


def test_backend_update_and_release() -> None:
    probe = ControlProbe({})
    probe.update_job(ALICE, "17", ["Comment=--x", cli_jobcontrol.RELEASE])
    assert probe.ran == [["scontrol", "update", "JobId=17", "Comment=--x"],
                         ["scontrol", "release", "JobId=17"]]
    probe = ControlProbe({})
    probe.update_job(ALICE, "17", ["Priority=0"])
    assert probe.ran == [["scontrol", "update", "JobId=17", "Priority=0"]]
    with pytest.raises(ValueError, match="Key=value"):
        probe.update_job(ALICE, "17", ["-v"])
    assert cli_jobcontrol.RELEASE == job_properties.RELEASE


@pytest.mark.parametrize(("stderr", "status", "number", "description"), [
    (b"Invalid job id specified for job 99\n", 500, 2017, "job update of JobId=99 failed"),
    (b"Invalid user id for job 99\n", 500, 2010, "job update of JobId=99 failed"),
    (b"Access/permission denied for job 99\n", 500, 2002, "job update of JobId=99 failed"),
    (b"99_1: Invalid job id specified\n", 200, 2017, "job array update of JobId=99_1 failed"),
    (b"Update of this parameter is not supported: X=1\nRequest aborted\n", 400, 9001,
     "Update of this parameter is not supported: X=1"),
    (b"scontrol: error: Invalid TimeMin value\n", 400, 9001, "Invalid TimeMin value"),
])
def test_backend_update_errors(stderr: bytes, status: int, number: int,
                               description: str) -> None:
    probe = ControlProbe({"update": Outcome(1, b"", stderr)})
    with pytest.raises(SlurmCommandError) as info:
        probe.update_job(ALICE, "99", ["Comment=x"])
    assert info.value.status == status
    (err,) = info.value.errors
    assert (err.error_number, err.description) == (number, description)


def _record(user: str, state: str) -> bytes:
    return (f"JobId=17 JobName=x UserId={user}(1001) GroupId={user}(1001) MCS_label=N/A "
            f"Priority=1 Nice=0 Account=a QOS=normal WCKey=*projx JobState={state} "
            f"Reason=None Dependency=(null)\n").encode()


def test_backend_cancel() -> None:
    probe = ControlProbe({})
    probe.signal_job(ALICE, "17", None)
    assert probe.ran == [["scancel", "--full", "-v", "--", "17"]]
    probe = ControlProbe({"scancel": Outcome(0, b"", b"scancel: Terminating full job 17\n"
                          b"scancel: error: Kill job error on job id 17: Job/step already "
                          b"completing or completed\n")})
    probe.signal_job(ALICE, "17", None)  # already ended: fine
    probe = ControlProbe({"scancel": Outcome(0, b"", b"scancel: error: Kill job error on job "
                                                     b"id 17: Invalid job id specified\n")})
    with pytest.raises(SlurmCommandError) as info:
        probe.signal_job(ALICE, "17", None)
    assert info.value.errors[0].to_dict() == {
        "description": "unable to kill JobId=17 with signal 9: Invalid job id specified",
        "error_number": 2017, "error": "Invalid job id specified", "source": "slurm_kill_job"}
    with pytest.raises(ValueError, match="not a job id"):
        probe.signal_job(ALICE, "-v", None)
    with pytest.raises(ValueError, match="not a signal number"):
        probe.signal_job(ALICE, "17", "-9")


@pytest.mark.parametrize(("who", "state", "number"), [
    ("alice", "PENDING", 2020), ("bob", "PENDING", 2002), ("bob", "RUNNING", None),
    ("alice", "CANCELLED", 0), ("bob", "COMPLETED", 2002), ("alice", "SUSPENDED", 2020),
])
def test_backend_signal_decides_for_jobs_that_are_not_running(who: str, state: str,
                                                              number: int | None) -> None:
    probe = ControlProbe({"show job": Outcome(0, _record("alice", state), b"")})
    caller = Identity(who, 1, "rest_auth/local")
    if number:
        with pytest.raises(SlurmCommandError) as info:
            probe.signal_job(caller, "17", "10")
        assert info.value.errors[0].error_number == number
        assert info.value.errors[0].description.startswith(
            "unable to kill JobId=17 with signal 10: ")
    else:
        probe.signal_job(caller, "17", "10")
    scancel = ["scancel", "--full", "--state=RUNNING", "--signal=10", "--", "17"]
    assert (scancel in probe.ran) == (state == "RUNNING")


def test_backend_signal_to_a_pending_het_component() -> None:
    probe = ControlProbe({"show job": Outcome(0, _record("alice", "PENDING"), b"")})
    with pytest.raises(SlurmCommandError) as info:
        probe.signal_job(ALICE, "17+1", "10")
    assert info.value.errors[0].error_number == 2108
    assert probe.ran == [["scontrol", "-o", "show", "job", "17+1"]]
    probe = ControlProbe({"show job": Outcome(0, _record("alice", "PENDING"), b"")})
    with pytest.raises(SlurmCommandError) as info:
        probe.signal_job(ALICE, "17+0", "10")  # the leader stands for the whole job
    assert info.value.errors[0].error_number == 2020
    assert probe.ran == [["scontrol", "-o", "show", "job", "17"]]


def test_backend_signal_unknown_job_and_job_ending_meanwhile() -> None:
    probe = ControlProbe({"show job": Outcome(1, b"", b"slurm_load_jobs error: Invalid job "
                                                     b"id specified\n")})
    with pytest.raises(SlurmCommandError) as info:
        probe.signal_job(ALICE, "17", "10")
    assert info.value.errors[0].error_number == 2017
    probe = ControlProbe({
        "show job": Outcome(0, _record("alice", "RUNNING"), b""),
        "scancel": Outcome(1, b"", b"scancel: error: No active jobs match ALL job filters, "
                                   b"including: 17\n")})
    probe.signal_job(ALICE, "17", "10")  # it stopped running: nothing left to signal


def test_a_job_name_posing_as_fields_only_lets_slurm_decide() -> None:
    # a name (set by the job's owner) that imitates the fields we read: the worst it can do
    # is have scancel run, so that slurmctld itself answers
    spoof = (b"JobId=17 JobName=x UserId=carol(1003) GroupId=carol(1003) MCS_label=N/A "
             b"WCKey=* JobState=RUNNING  UserId=alice(1001) GroupId=alice(1001) MCS_label=N/A "
             b"Priority=1 Nice=0 Account=a QOS=normal WCKey=*projx JobState=PENDING Reason=x\n")
    denied = Outcome(1, b"", b"scancel: error: Kill job error on job id 17: "
                             b"Access/permission denied\n")
    probe = ControlProbe({"show job": Outcome(0, spoof, b""), "scancel": denied})
    with pytest.raises(SlurmCommandError) as info:
        probe.signal_job(Identity("carol", 1003, "rest_auth/local"), "17", "10")
    assert info.value.errors[0].error_number == 2002
    assert probe.ran[-1][0] == "scancel"


def test_signal_name_table_matches_job_control() -> None:
    assert job_control.signal_number("SIGXCPU") == 24
    assert job_control.signal_number(" usr2 ") == 12
    assert job_control.signal_number("USR") == 0
    assert job_control.signal_number("10 x") == 0
    assert cli_submit.SubmitCli is not None
