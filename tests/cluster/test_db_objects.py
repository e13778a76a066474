"""GET tres, clusters, cluster/{name}, wckeys, wckey/{wckey} against the lab's slurmdbd.

Each answer is checked against what ``sacctmgr`` says right now and against our spec.
Wckeys are for administrators only: alice gets Slurm's permission error, a token of the
SlurmUser lists them all.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.config import OPENAPI_PLUGINS
from tests.cluster.test_auth_jwt import RUNNER, token
from tests.helpers import TEST_USER, base_env, request, run_pipe

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

V = "/slurmdb/v0.0.38"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))


def sacctmgr(*args: str) -> list[list[str]]:
    out = subprocess.run(["sacctmgr", "-P", "-n", "show", *args], capture_output=True,
                         text=True, check=True, timeout=60)
    return [line.split("|") for line in out.stdout.splitlines() if line]


def answers(*paths: str, headers: tuple[str, ...] = (), as_user: str = TEST_USER,
            args: tuple[str, ...] = ()) -> list[tuple[int, dict[str, Any]]]:
    data = b"".join(request("GET", p, *headers) for p in paths)
    run = run_pipe(data, as_user=as_user, args=args, env=base_env())
    assert len(run.responses) == len(paths), run.stderr
    return [(r.status, json.loads(r.body)) for r in run.responses]


def check_spec(route: str, body: dict[str, Any]) -> None:
    schema = SPEC["paths"][route]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]
    OAS30Validator({**schema, "components": SPEC["components"]}).validate(body)


def test_tres_and_clusters_match_sacctmgr() -> None:
    (s1, tres), (s2, clusters), (s3, lab), (s4, none) = answers(
        f"{V}/tres", f"{V}/clusters", f"{V}/cluster/lab", f"{V}/cluster/zt_obj_none")
    assert (s1, s2, s3, s4) == (200, 200, 200, 500)
    check_spec(f"{V}/tres", tres)
    check_spec(f"{V}/clusters", clusters)
    check_spec(f"{V}/cluster/{{cluster_name}}", none)
    assert [(t["type"], t["name"] or "", str(t["id"])) for t in tres["TRES"]] == [
        tuple(row) for row in sacctmgr("tres", "withdeleted", "format=type,name,id")]
    assert [c["name"] for c in clusters["clusters"]] == [
        row[0] for row in sacctmgr("cluster", "withdeleted", "format=cluster")]
    assert lab["clusters"] == [c for c in clusters["clusters"] if c["name"] == "lab"]
    one = lab["clusters"][0]
    assert one["nodes"] == sacctmgr("cluster", "format=cluster,clusternodes")[0][1]
    assert one["select_plugin"] == "cons_tres"
    assert {t["type"] for t in one["tres"]} >= {"cpu", "mem", "node", "billing"}
    assert none["errors"][0]["error_number"] == 9003


def test_wckeys_are_for_administrators() -> None:
    (status, body), = answers(f"{V}/wckeys")
    assert status == 500
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_wckeys_get"}]
    assert body["wckeys"] == []


def test_wckeys_as_the_slurm_user() -> None:
    tok = token("slurm")
    (s1, every), (s2, projx) = answers(
        f"{V}/wckeys", f"{V}/wckey/projx",
        headers=("X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {tok}"),
        as_user=RUNNER, args=("-a", "rest_auth/jwt"))
    assert (s1, s2) == (200, 200)
    check_spec(f"{V}/wckeys", every)
    rows = sacctmgr("wckey", "withdeleted", "format=wckey,cluster,user,id")
    assert [[w["name"], w["cluster"], w["user"], str(w["id"])] for w in every["wckeys"]] \
        == rows
    assert [w for w in projx["wckeys"] if w["user"] == "alice"] == [
        {"accounts": [], "cluster": "lab", "id": w["id"], "name": "projx", "user": "alice",
         "flags": ["DEFAULT"]} for w in every["wckeys"]
        if w["name"] == "projx" and w["user"] == "alice"]


def test_qos_match_sacctmgr(zt_qos: str) -> None:
    (s1, every), (s2, one), (s3, none), (s4, bad) = answers(
        f"{V}/qos", f"{V}/qos/{zt_qos}", f"{V}/qos/zt_obj_none", f"{V}/qos?zt=1")
    assert (s1, s2, s3, s4) == (200, 200, 200, 400)
    check_spec(f"{V}/qos", every)
    check_spec(f"{V}/qos/{{qos_name}}", one)
    assert [(q["name"], str(q["id"]), str(q["priority"])) for q in every["QOS"]] == [
        tuple(row) for row in sacctmgr("qos", "format=name,id,priority")]
    assert one["QOS"] == [q for q in every["QOS"] if q["name"] == zt_qos]
    q = one["QOS"][0]
    assert q["flags"] == ["PARTITION_TIME_LIMIT", "DENY_LIMIT", "NO_DECAY"]
    assert q["preempt"] == {"list": ["normal", "high"], "mode": ["SUSPEND", "GANG"],
                            "exempt_time": 86410}
    assert q["limits"]["grace_time"] == 90
    assert q["limits"]["max"]["wall_clock"]["per"] == {"qos": 2880, "job": 90}
    assert [(t["type"], t["count"]) for t in q["limits"]["max"]["tres"]["total"]] == [
        ("cpu", 8), ("mem", 2048)]
    assert (q["usage_factor"], q["usage_threshold"], q["limits"]["factor"]) == (
        0.5, 0.25, 2.5)
    assert none["QOS"] == [] and none["errors"] == []
    assert bad["errors"][0]["error_number"] == 9000


def delete_answers(*paths: str, headers: tuple[str, ...] = (), as_user: str = TEST_USER,
                   args: tuple[str, ...] = ()) -> list[tuple[int, dict[str, Any]]]:
    data = b"".join(request("DELETE", p, *headers) for p in paths)
    run = run_pipe(data, as_user=as_user, args=args, env=base_env())
    assert len(run.responses) == len(paths), run.stderr
    return [(r.status, json.loads(r.body)) for r in run.responses]


def test_delete_qos_is_for_administrators(zt_doomed_qos: str) -> None:
    (s1, mine), (s2, none) = delete_answers(f"{V}/qos/{zt_doomed_qos}", f"{V}/qos/zt_obj_none")
    assert (s1, s2) == (500, 500)
    denied = [{"error_number": 2002, "error": "Access/permission denied",
               "source": "slurmdb_qos_remove"}]
    assert mine["errors"] == denied and none["errors"] == denied
    assert "removed_qos" not in mine
    assert sacctmgr("qos", "where", f"name={zt_doomed_qos}", "format=name") == [
        [zt_doomed_qos]]


def test_delete_qos_as_the_slurm_user(zt_doomed_qos: str) -> None:
    tok = token("slurm")
    (s1, gone), (s2, again) = delete_answers(
        f"{V}/qos/{zt_doomed_qos}", f"{V}/qos/{zt_doomed_qos}",
        headers=("X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {tok}"),
        as_user=RUNNER, args=("-a", "rest_auth/jwt"))
    assert (s1, s2) == (200, 500)
    # slurmrestd 22.05.8 answered exactly this for a QOS made the same way
    assert (gone["errors"], gone["removed_qos"]) == ([], [zt_doomed_qos])
    assert again["errors"] == [{"description": "Nothing found", "error_number": 9003,
                                "error": "Nothing found with query",
                                "source": "slurmdb_qos_remove"}]
    assert sacctmgr("qos", "where", f"name={zt_doomed_qos}", "format=name") == []


def test_delete_cluster_is_for_administrators(zt_cluster: str) -> None:
    (status, body), = delete_answers(f"{V}/cluster/{zt_cluster}")
    assert status == 500
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_clusters_remove"}]
    assert body["deleted_clusters"] == []
    assert sacctmgr("cluster", "where", f"name={zt_cluster}", "format=cluster") == [
        [zt_cluster]]


def test_delete_cluster_as_the_slurm_user(zt_cluster: str) -> None:
    tok = token("slurm")
    data = b"".join(request("DELETE", f"{V}/cluster/{zt_cluster}",
                            "X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {tok}")
                    for _ in range(2))
    run = run_pipe(data, as_user=RUNNER, args=("-a", "rest_auth/jwt"), env=base_env())
    gone, again = run.responses
    assert (gone.status, again.status, again.body) == (200, 304, b"")
    body = json.loads(gone.body)
    assert (body["errors"], body["deleted_clusters"]) == ([], [zt_cluster])
    assert sacctmgr("cluster", "where", f"name={zt_cluster}", "format=cluster") == []
    assert sacctmgr("cluster", "where", "name=lab", "format=cluster") == [["lab"]]


def test_delete_wckey_is_for_administrators(zt_wckey: str) -> None:
    (status, body), = delete_answers(f"{V}/wckey/{zt_wckey}")
    assert status == 500
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_wckeys_remove"}]
    assert body["deleted_wckeys"] == []
    assert sacctmgr("wckey", "where", f"name={zt_wckey}", "format=wckey") == [[zt_wckey]]


def test_delete_wckey_as_the_slurm_user(zt_wckey: str) -> None:
    tok = token("slurm")
    (s1, gone), (s2, again) = delete_answers(
        f"{V}/wckey/{zt_wckey}", f"{V}/wckey/{zt_wckey}",
        headers=("X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {tok}"),
        as_user=RUNNER, args=("-a", "rest_auth/jwt"))
    assert (s1, s2) == (200, 500)
    # slurmdbd's own text of the record, trailing spaces included (as slurmrestd lists it)
    assert gone["deleted_wckeys"] == [
        f"C = lab        W = {zt_wckey}             U = {TEST_USER}    "]
    assert again["errors"][0]["error_number"] == 9003
    assert again["deleted_wckeys"] == []
    assert sacctmgr("wckey", "where", f"name={zt_wckey}", "format=wckey") == []
    assert sacctmgr("user", "where", f"name={TEST_USER}", "format=user") == [[TEST_USER]]
    assert ["projx", TEST_USER] in sacctmgr("wckey", "format=wckey,user")
