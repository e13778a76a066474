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

from tests.accounting import removed_after
from tests.cluster.reads import check_body
from tests.cluster.test_auth_jwt import RUNNER, token
from tests.helpers import TEST_USER, Run, base_env, request, run_pipe

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

V = "/slurmdb/v0.0.38"


def sacctmgr(*args: str) -> list[list[str]]:
    out = subprocess.run(["sacctmgr", "-P", "-n", "show", *args], capture_output=True,
                         text=True, check=True, timeout=60)
    return [line.split("|") for line in out.stdout.splitlines() if line]


def slurm_headers() -> tuple[str, str]:
    """The headers of a fresh token of the SlurmUser."""
    return "X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {token('slurm')}"


def talk(data: bytes, admin: bool = False) -> Run:
    """Our answers to ``data``: run by alice, or (``admin``: the requests carry the
    SlurmUser's token) by bob in JWT mode."""
    return run_pipe(data, as_user=RUNNER if admin else TEST_USER,
                    args=("-a", "rest_auth/jwt") if admin else (), env=base_env())


def answers(*paths: str, method: str = "GET", admin: bool = False
            ) -> list[tuple[int, dict[str, Any]]]:
    """One request a path in one connection (see :func:`talk`)."""
    headers = slurm_headers() if admin else ()
    run = talk(b"".join(request(method, p, *headers) for p in paths), admin)
    assert len(run.responses) == len(paths), run.stderr
    return [(r.status, json.loads(r.body)) for r in run.responses]



def test_tres_and_clusters_match_sacctmgr() -> None:
    (s1, tres), (s2, clusters), (s3, lab), (s4, none) = answers(
        f"{V}/tres", f"{V}/clusters", f"{V}/cluster/lab", f"{V}/cluster/zt_obj_none")
    assert (s1, s2, s3, s4) == (200, 200, 200, 500)
    check_body(f"{V}/tres", tres)
    check_body(f"{V}/clusters", clusters)
    check_body(f"{V}/cluster/{{cluster_name}}", none)
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
    (s1, every), (s2, projx) = answers(
        f"{V}/wckeys", f"{V}/wckey/projx", admin=True)
    assert (s1, s2) == (200, 200)
    check_body(f"{V}/wckeys", every)
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
    check_body(f"{V}/qos", every)
    check_body(f"{V}/qos/{{qos_name}}", one)
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


def delete_answers(*paths: str, admin: bool = False) -> list[tuple[int, dict[str, Any]]]:
    return answers(*paths, method="DELETE", admin=admin)


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
    (s1, gone), (s2, again) = delete_answers(
        f"{V}/qos/{zt_doomed_qos}", f"{V}/qos/{zt_doomed_qos}", admin=True)
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
    headers = slurm_headers()
    run = talk(b"".join(request("DELETE", f"{V}/cluster/{zt_cluster}", *headers)
                        for _ in range(2)), admin=True)
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
    (s1, gone), (s2, again) = delete_answers(
        f"{V}/wckey/{zt_wckey}", f"{V}/wckey/{zt_wckey}", admin=True)
    assert (s1, s2) == (200, 500)
    # slurmdbd's own text of the record, trailing spaces included (as slurmrestd lists it)
    assert gone["deleted_wckeys"] == [
        f"C = lab        W = {zt_wckey}             U = {TEST_USER}    "]
    assert again["errors"][0]["error_number"] == 9003
    assert again["deleted_wckeys"] == []
    assert sacctmgr("wckey", "where", f"name={zt_wckey}", "format=wckey") == []
    assert sacctmgr("user", "where", f"name={TEST_USER}", "format=user") == [[TEST_USER]]
    assert ["projx", TEST_USER] in sacctmgr("wckey", "format=wckey,user")


# -- POST tres, qos, clusters, wckeys -------------------------------------------------------

def exchange(*items: tuple[str, str, Any], admin: bool = False
             ) -> list[tuple[int, dict[str, Any]]]:
    """(method, path, body) requests in one connection: as alice, or with a token of the
    SlurmUser (``admin``)."""
    headers = slurm_headers() if admin else ()
    data = b"".join(request(method, path, *headers, *(
        ("Content-Type: application/json",) if body is not None else ()),
        body=b"" if body is None else json.dumps(body).encode())
        for method, path, body in items)
    run = talk(data, admin)
    assert len(run.responses) == len(items), run.stderr
    return [(r.status, json.loads(r.body) if r.body else {}) for r in run.responses]


def test_post_tres_is_refused() -> None:
    (status, body), = exchange(("POST", f"{V}/tres", {"TRES": [{"type": "cpu"}]}))
    assert (status, body["errors"]) == (500, [{
        "description": "Updating TRES is not currently supported.", "error_number": 2036,
        "error": "Requested operation not supported on this system"}])


def test_post_objects_are_for_administrators() -> None:
    name = "zt_obj_pa"
    with removed_after("delete", "qos", "where", f"name={name}"), \
            removed_after("delete", "cluster", "where", f"name={name}"):
        (s1, qos), (s2, modify), (s3, cluster), (s4, wckey) = exchange(
            ("POST", f"{V}/qos", {"QOS": [{"name": name}]}),
            ("POST", f"{V}/qos", {"QOS": [{"name": "normal", "priority": 1}]}),
            ("POST", f"{V}/clusters", {"clusters": [{"name": name}]}),
            ("POST", f"{V}/wckeys", {"wckeys": [{"name": name, "user": TEST_USER,
                                                 "cluster": "lab", "id": 0}]}))
        assert (s1, s2, s3, s4) == (400, 400, 500, 500)
        for body, source in ((qos, "slurmdb_qos_add"), (modify, "slurmdb_qos_modify"),
                             (cluster, "slurmdb_clusters_add"),
                             (wckey, "slurmdb_wckeys_add")):
            assert body["errors"] == [{"error_number": 2002,
                                       "error": "Access/permission denied",
                                       "source": source}]
        assert sacctmgr("qos", "where", f"name={name}", "format=name") == []
        assert sacctmgr("cluster", "where", f"name={name}", "format=cluster") == []
        assert sacctmgr("wckey", "where", f"name={name}", "format=wckey") == []


QOS_BODY = {"name": "zt_obj_pq", "description": "zt post", "priority": 7,
            "flags": ["NO_DECAY", "DENY_LIMIT"],
            "limits": {"grace_time": 90,
                       "max": {"tres": {"per": {"job": [{"type": "cpu", "count": 4},
                                                        {"type": "mem", "count": 2048}]}},
                               "wall_clock": {"per": {"job": 90}},
                               "jobs": {"per": {"user": 8}}}},
            "preempt": {"list": ["normal"], "mode": ["REQUEUE"], "exempt_time": 3600},
            "usage_factor": 0.5}


def test_post_qos_round_trip() -> None:
    name = QOS_BODY["name"]
    with removed_after("delete", "qos", "where", f"name={name}"):
        (s1, made), (s2, read), (s3, changed), (s4, again) = exchange(
            ("POST", f"{V}/qos", {"QOS": [QOS_BODY]}), ("GET", f"{V}/qos/{name}", None),
            ("POST", f"{V}/qos", {"QOS": [{"name": name, "priority": 9,
                                           "limits": {"max": {"wall_clock": {"per": {
                                               "job": None}}}}}]}),
            ("GET", f"{V}/qos/{name}", None), admin=True)
        assert (s1, s2, s3, s4) == (200, 200, 200, 200), (made, changed)
        (q,) = read["QOS"]
        assert (q["description"], q["priority"], q["usage_factor"]) == ("zt post", 7, 0.5)
        assert q["flags"] == ["DENY_LIMIT", "NO_DECAY"]
        assert q["preempt"] == {"list": ["normal"], "mode": ["REQUEUE"], "exempt_time": 3600}
        assert q["limits"]["grace_time"] == 90
        assert q["limits"]["max"]["wall_clock"]["per"]["job"] == 90
        assert q["limits"]["max"]["jobs"]["per"]["user"] == 8
        assert [(t["type"], t["count"]) for t in q["limits"]["max"]["tres"]["per"]["job"]] \
            == [("cpu", 4), ("mem", 2048)]
        (q2,) = again["QOS"]
        # only what the change names changes (slurmrestd would clear flags and mode too)
        assert (q2["priority"], q2["limits"]["max"]["wall_clock"]["per"]["job"]) == (9, None)
        assert (q2["flags"], q2["preempt"]) == (q["flags"], q["preempt"])
        (s5, gone), = exchange(("DELETE", f"{V}/qos/{name}", None), admin=True)
        assert (s5, gone["removed_qos"]) == (200, [name])


def test_post_qos_checks_every_entry_first() -> None:
    name = "zt_obj_pr"
    with removed_after("delete", "qos", "where", f"name={name}"):
        (status, body), = exchange(("POST", f"{V}/qos", {"QOS": [
            {"name": name}, {"name": "normal", "flags": ["BOGUS"]}]}), admin=True)
        assert status == 400
        assert body["errors"][0] == {"description": "Unknown flag", "error_number": 9001,
                                     "error": "Failure during parsing", "source": "flags"}
        assert sacctmgr("qos", "where", f"name={name}", "format=name") == []


def test_post_clusters_round_trip() -> None:
    name = "zt_obj_pc"
    before = sacctmgr("cluster", "where", "name=lab", "format=cluster,controlhost,"
                      "controlport,flags")
    with removed_after("delete", "cluster", "where", f"name={name}", clusters=(name,)):
        (s1, made), (s2, read), (s3, existing) = exchange(
            ("POST", f"{V}/clusters", {"clusters": [{"name": name, "nodes": "x[1-2]"}]}),
            ("GET", f"{V}/cluster/{name}", None),
            ("POST", f"{V}/clusters", {"clusters": [{"name": "lab"}]}), admin=True)
        assert (s1, s2, s3) == (200, 200, 200), (made, existing)
        assert [c["name"] for c in read["clusters"]] == [name]
        # the lab's registration (controller, flags) is left alone
        assert sacctmgr("cluster", "where", "name=lab", "format=cluster,controlhost,"
                        "controlport,flags") == before
        (s4, gone), = exchange(("DELETE", f"{V}/cluster/{name}", None), admin=True)
        assert (s4, gone["deleted_clusters"]) == (200, [name])


def test_post_wckeys_round_trip() -> None:
    name = "zt_obj_pw"
    wckey = {"name": name, "user": TEST_USER, "cluster": "lab", "id": 0}
    with removed_after("delete", "user", "where", f"wckeys={name}"):
        (s1, made), (s2, again), (s3, read), (s4, nobody) = exchange(
            ("POST", f"{V}/wckeys", {"wckeys": [wckey]}),
            ("POST", f"{V}/wckeys", {"wckeys": [wckey]}),
            ("GET", f"{V}/wckey/{name}", None),
            ("POST", f"{V}/wckeys", {"wckeys": [{**wckey, "user": "zt_obj_nobody"}]}),
            admin=True)
        assert (s1, s2, s3, s4) == (200, 200, 200, 400), (made, again, nobody)
        assert [(w["name"], w["user"], w["cluster"]) for w in read["wckeys"]] == [
            (name, TEST_USER, "lab")]
        assert sacctmgr("user", "where", "name=zt_obj_nobody", "format=user") == []
        (s5, gone), = exchange(("DELETE", f"{V}/wckey/{name}", None), admin=True)
        assert (s5, len(gone["deleted_wckeys"])) == (200, 1)


def test_post_wckeys_default() -> None:
    user_name, first, second = "zt_obj_du", "zt_obj_d1", "zt_obj_d2"
    subprocess.run(["sacctmgr", "-i", "add", "user", user_name, "account=research"],
                   capture_output=True, check=True, timeout=60)
    with removed_after("delete", "user", "where", f"name={user_name}"), \
            removed_after("delete", "user", "where", f"wckeys={first},{second}"):
        made = exchange(*(("POST", f"{V}/wckeys", {"wckeys": [
            {"name": name, "user": user_name, "cluster": "lab", "id": 0,
             "flags": ["DEFAULT"]}]}) for name in (first, second)), admin=True)
        assert [status for status, _ in made] == [200, 200], made
        assert sacctmgr("user", "where", f"name={user_name}", "format=defaultwckey") == [
            [second]]
