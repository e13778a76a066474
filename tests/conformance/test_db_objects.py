"""GET tres, clusters, cluster/{name}, wckeys, wckey/{wckey}, qos: slurmrest-stdio against
Debian's slurmrestd, as alice (local auth) and as the SlurmUser (JWT, for wckeys).

The data is the same for both programs, so the bodies must be the same bytes (JSON) or
the same data (YAML), key order included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.accounting import removed_after
from tests.conformance import test_auth_jwt as jwt
from tests.conformance.differences import ref
from tests.conformance.harness import (
    Case,
    Program,
    converse_both,
    run_case,
)
from tests.helpers import ParsedResponse, request

V = "/slurmdb/v0.0.38"
YAML = "Accept: application/x-yaml"


def get(path: str, *headers: str) -> bytes:
    return request("GET", path, *headers)


CASES = [
    Case("tres", get(f"{V}/tres"), (200,)),
    Case("tres_yaml", get(f"{V}/tres", YAML), (200,)),
    Case("clusters", get(f"{V}/clusters"), (200,)),
    Case("clusters_yaml", get(f"{V}/clusters", YAML), (200,)),
    Case("cluster_lab", get(f"{V}/cluster/lab"), (200,)),
    Case("cluster_other_case", get(f"{V}/cluster/LAB"), (200,)),
    Case("cluster_unknown", get(f"{V}/cluster/zt_obj_none"), (500,)),
    Case("wckeys_not_admin", get(f"{V}/wckeys"), (500,)),
    Case("wckey_not_admin", get(f"{V}/wckey/projx"), (500,)),
    Case("wckeys_not_admin_yaml", get(f"{V}/wckeys", YAML), (500,)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_same_answer(case: Case) -> None:
    run_case(case)


def _admin(path: str, *headers: str) -> bytes:
    return get(path, *jwt.named("slurm", jwt.token("slurm")), *headers)


@pytest.mark.parametrize(("name", "path", "headers", "status"), [
    ("wckeys_admin", f"{V}/wckeys", (), 200),
    ("wckeys_admin_yaml", f"{V}/wckeys", (YAML,), 200),
    ("wckey_projx_admin", f"{V}/wckey/projx", (), 200),
    ("wckey_unknown_admin", f"{V}/wckey/zt_obj_none", (), 500),
    ("wckey_other_case_admin", f"{V}/wckey/PROJX", (), 200),
    ("tres_admin", f"{V}/tres", (), 200),
])
def test_same_answer_for_the_slurm_user(name: str, path: str, headers: tuple[str, ...],
                                        status: int) -> None:
    jwt.run_case(Case(name, _admin(path, *headers), (status,)))


def test_our_spec_describes_the_bodies() -> None:
    ref("dbv0_0_38_object_schemas")
    ours, theirs = converse_both(get("/openapi/v3") + get(f"{V}/tres"))
    (our_spec, our_tres), (their_spec, their_tres) = (
        [json.loads(r.body) for r in conv.responses] for conv in (ours, theirs))
    name = "dbv0.0.38_tres_info"
    assert "tres" in their_spec["components"]["schemas"][name]["properties"]
    assert "TRES" in their_tres and "tres" not in their_tres
    assert "TRES" in our_spec["components"]["schemas"][name]["properties"]
    assert our_tres == their_tres


QOS_CASES = [
    Case("qos", get(f"{V}/qos"), (200,)),
    Case("qos_yaml", get(f"{V}/qos", YAML), (200,)),
    Case("qos_with_deleted", get(f"{V}/qos?with_deleted=1"), (200,)),
    Case("qos_with_deleted_text", get(f"{V}/qos?with_deleted=abc"), (200,)),
    Case("qos_zt", get(f"{V}/qos/zt_obj_q"), (200,)),
    Case("qos_zt_yaml", get(f"{V}/qos/zt_obj_q", YAML), (200,)),
    Case("qos_normal_with_deleted", get(f"{V}/qos/normal?with_deleted=true"), (200,)),
    Case("qos_other_case", get(f"{V}/qos/NORMAL"), (200,)),
    Case("qos_unknown", get(f"{V}/qos/zt_obj_none"), (200,)),
    Case("qos_unknown_query", get(f"{V}/qos?zt=1"), (400,)),
    Case("qos_one_unknown_query", get(f"{V}/qos/high?zt=1"), (400,)),
    Case("qos_comma_query", get(f"{V}/qos?with_deleted=1,2"), (400,)),
]


@pytest.mark.usefixtures("zt_qos")
@pytest.mark.parametrize("case", QOS_CASES, ids=lambda c: c.id)
def test_same_qos_answer(case: Case) -> None:
    run_case(case)


def test_qos_as_the_slurm_user(zt_qos: str) -> None:
    jwt.run_case(Case("qos_admin", _admin(f"{V}/qos/{zt_qos}"), (200,)))


def test_delete_qos_refused(zt_doomed_qos: str) -> None:
    run_case(Case("delete_qos_refused", request("DELETE", f"{V}/qos/{zt_doomed_qos}"),
                  (500,)))
    run_case(Case("delete_qos_unknown_refused", request("DELETE", f"{V}/qos/zt_obj_none"),
                  (500,)))


def test_delete_unknown_qos_as_the_slurm_user() -> None:
    # both programs run at once, so only a delete that removes nothing can be compared;
    # the successful delete is checked against slurmrestd's answer in tests/cluster
    jwt.run_case(Case("delete_qos_unknown_admin",
                      request("DELETE", f"{V}/qos/zt_obj_none",
                              *jwt.named("slurm", jwt.token("slurm"))), (500,)))


def test_delete_qos_odd_name_is_nothing_found() -> None:
    ref("db_delete_qos_odd_names")
    ours, theirs = converse_both(request("DELETE", f"{V}/qos/a%3Bb"))
    (mine,), (yours,) = ours.responses, theirs.responses
    assert mine.status == yours.status == 500
    assert json.loads(mine.body)["errors"] == [{
        "description": "Nothing found", "error_number": 9003,
        "error": "Nothing found with query", "source": "slurmdb_qos_remove"}]
    assert json.loads(yours.body)["errors"][0]["error_number"] == 2002


def test_delete_cluster_refused(zt_cluster: str) -> None:
    run_case(Case("delete_cluster_refused", request("DELETE", f"{V}/cluster/{zt_cluster}"),
                  (500,)))
    run_case(Case("delete_cluster_unknown_refused",
                  request("DELETE", f"{V}/cluster/zt_obj_none"), (500,)))


def test_delete_unknown_cluster_as_the_slurm_user() -> None:
    jwt.run_case(Case("delete_cluster_unknown_admin",
                      request("DELETE", f"{V}/cluster/zt_obj_none",
                              *jwt.named("slurm", jwt.token("slurm"))), (304,)))


def test_delete_cluster_as_the_slurm_user_deletes(zt_cluster: str) -> None:
    ref("db_delete_cluster_never_deletes")
    ours, theirs = jwt.converse_both(request("DELETE", f"{V}/cluster/{zt_cluster}",
                                             *jwt.named("slurm", jwt.token("slurm"))))
    assert theirs.statuses == [304], theirs.describe()
    (mine,) = ours.responses
    assert mine.status == 200
    body = json.loads(mine.body)
    assert (body["errors"], body["deleted_clusters"]) == ([], [zt_cluster])


def test_delete_wckey_refused(zt_wckey: str) -> None:
    run_case(Case("delete_wckey_refused", request("DELETE", f"{V}/wckey/{zt_wckey}"),
                  (500,)))
    run_case(Case("delete_wckey_unknown_refused",
                  request("DELETE", f"{V}/wckey/zt_obj_none"), (500,)))


def test_delete_unknown_wckey_as_the_slurm_user() -> None:
    jwt.run_case(Case("delete_wckey_unknown_admin",
                      request("DELETE", f"{V}/wckey/zt_obj_none",
                              *jwt.named("slurm", jwt.token("slurm"))), (500,)))


# -- POST tres, qos, clusters, wckeys -------------------------------------------------------

def post(path: str, body: Any, *headers: str) -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request("POST", f"{V}/{path}", "Content-Type: application/json", *headers,
                   body=data)


def admin_headers() -> tuple[str, str]:
    return jwt.named("slurm", jwt.token("slurm"))


WCKEY_NO_ID = {"name": "zt_obj_nw", "user": "alice", "cluster": "lab"}
# alice is no administrator: nothing here changes the database
POST_CASES = [
    Case("post_tres", post("tres", {"TRES": [{"type": "cpu"}]}), (500,)),
    Case("post_tres_yaml", post("tres", {"TRES": []}, YAML), (500,)),
    Case("post_qos_refused", post("qos", {"QOS": [{"name": "zt_obj_new"}]}), (400,)),
    Case("post_qos_modify_refused", post("qos", {"QOS": [{"name": "normal",
                                                          "priority": 3}]}), (400,)),
    Case("post_qos_no_list", post("qos", {}), (400,)),
    Case("post_qos_not_a_list", post("qos", {"QOS": {}}), (400,)),
    Case("post_qos_not_a_dict", post("qos", {"QOS": [1]}), (400,)),
    Case("post_qos_unknown_flag", post("qos", {"QOS": [{"name": "x", "flags": ["B"]}]}),
         (400,)),
    Case("post_qos_bad_number", post("qos", {"QOS": [{"name": "x", "priority": "a"}]}),
         (400,)),
    Case("post_qos_unknown_tres", post("qos", {"QOS": [{"name": "x", "limits": {"max": {
        "tres": {"total": [{"type": "zz", "count": 1}]}}}}]}), (400,)),
    Case("post_qos_tres_id", post("qos", {"QOS": [{"name": "x", "limits": {"min": {
        "tres": {"per": {"job": [{"type": "cpu", "id": 2, "count": 1}]}}}}}]}), (400,)),
    Case("post_qos_unknown_preempt", post("qos", {"QOS": [{"name": "x", "preempt": {
        "list": ["zt_obj_none"]}}]}), (400,)),
    Case("post_qos_no_name", post("qos", {"QOS": [{"priority": 1}]}), (400,)),
    Case("post_qos_unknown_id", post("qos", {"QOS": [{"id": 99999}]}), (400,)),
    Case("post_qos_id_and_other_name", post("qos", {"QOS": [{"id": 1, "name": "high"}]}),
         (400,)),
    Case("post_qos_null", post("qos", b"null"), (400,)),
    Case("post_clusters_refused", post("clusters", {"clusters": [{"name": "zt_obj_nc"}]}),
         (500,)),
    Case("post_clusters_no_list", post("clusters", {}), (500,)),
    Case("post_clusters_empty", post("clusters", {"clusters": []}), (500,)),
    Case("post_clusters_not_a_dict", post("clusters", {"clusters": [1]}), (500,)),
    Case("post_clusters_no_name", post("clusters", {"clusters": [{"nodes": "x"}]}), (500,)),
    Case("post_clusters_bad_field", post("clusters", {"clusters": [
        {"name": "zt_obj_nc", "rpc_version": "abc"}]}), (500,)),
    Case("post_wckeys_refused", post("wckeys", {"wckeys": [{**WCKEY_NO_ID, "id": 0}]}),
         (500,)),
    Case("post_wckeys_no_list", post("wckeys", {}), (400,)),
    Case("post_wckeys_not_a_dict", post("wckeys", {"wckeys": [1]}), (400,)),
    Case("post_wckeys_no_id", post("wckeys", {"wckeys": [WCKEY_NO_ID]}), (500,)),
    Case("post_wckeys_empty", post("wckeys", {"wckeys": []}), (500,)),
    Case("post_wckeys_bad_id", post("wckeys", {"wckeys": [{"user": "alice"}, {
        "cluster": "lab", "id": "x"}]}), (400,)),
]


@pytest.mark.parametrize("case", POST_CASES, ids=lambda c: c.id)
def test_same_post_answer(case: Case) -> None:
    run_case(case)


@pytest.mark.parametrize(("name", "path", "body", "status"), [
    ("post_tres_admin", "tres", {"TRES": []}, 500),
    ("post_qos_unknown_flag_admin", "qos", {"QOS": [{"name": "x", "flags": ["B"]}]}, 400),
    ("post_qos_unknown_id_admin", "qos", {"QOS": [{"id": 99999}]}, 400),
    ("post_clusters_no_list_admin", "clusters", {}, 200),
    ("post_clusters_empty_admin", "clusters", {"clusters": []}, 200),
    ("post_clusters_not_a_dict_admin", "clusters", {"clusters": [1]}, 200),
    ("post_clusters_no_name_admin", "clusters", {"clusters": [{"nodes": "x"}]}, 500),
    ("post_wckeys_no_id_admin", "wckeys", {"wckeys": [WCKEY_NO_ID]}, 500),
    ("post_wckeys_empty_admin", "wckeys", {"wckeys": []}, 200),
])
def test_same_post_answer_for_the_slurm_user(name: str, path: str, body: Any,
                                             status: int) -> None:
    # bodies that change nothing: both programs run at the same time
    jwt.run_case(Case(name, post(path, body, *admin_headers()), (status,)))


def _both_alone(path: str, body: Any, names: tuple[str, str]
                ) -> tuple[ParsedResponse, ParsedResponse]:
    """slurmrestd with ``names[0]`` in the body, then ours with ``names[1]``."""
    text = json.dumps(body)
    theirs = jwt.alone(Program.THEIRS, post(path, text.replace("NAME", names[0]).encode(),
                                            *admin_headers()))
    ours = jwt.alone(Program.OURS, post(path, text.replace("NAME", names[1]).encode(),
                                        *admin_headers()))
    return ours, theirs


def _qos_records(*names: str) -> list[dict[str, Any]]:
    (status, body), = [(r.status, json.loads(r.body)) for r in [
        jwt.alone(Program.OURS, get(f"{V}/qos", *admin_headers()))]]
    assert status == 200
    found = {q["name"]: q for q in body["QOS"]}
    # the same QOS but for its name and id (and the QOS that preempt it by id)
    return [{k: v for k, v in found[n].items() if k not in ("name", "id")} for n in names]


QOS_FULL = {
    "name": "NAME", "description": "zt post", "priority": 5,
    "flags": ["NO_DECAY", "DENY_LIMIT"],
    "limits": {"grace_time": 90, "factor": 2.5,
               "max": {"active_jobs": {"accruing": 3, "count": 5},
                       "tres": {"total": [{"type": "cpu", "count": 8},
                                          {"type": "mem", "count": 2048}],
                                "minutes": {"per": {"qos": [{"type": "cpu", "count": 1000}],
                                                    "job": [{"type": "cpu", "count": 600}],
                                                    "account": [{"type": "cpu",
                                                                 "count": 700}],
                                                    "user": [{"type": "cpu", "count": 500}]}},
                                "per": {"account": [{"type": "cpu", "count": 6}],
                                        "job": [{"type": "cpu", "count": 4},
                                                {"type": "node", "count": 2}],
                                        "node": [{"type": "cpu", "count": 2}],
                                        "user": [{"type": "cpu", "count": 3},
                                                 {"type": "license", "name": "fluent",
                                                  "count": 1}]}},
                       "wall_clock": {"per": {"qos": 2880, "job": 90}},
                       "jobs": {"active_jobs": {"per": {"account": 4, "user": 2}},
                                "per": {"account": 9, "user": 8}},
                       "accruing": {"per": {"account": 6, "user": 7}}},
               "min": {"priority_threshold": 10,
                       "tres": {"per": {"job": [{"type": "cpu", "count": 1}]}}}},
    "preempt": {"list": ["normal", "high"], "mode": ["SUSPEND", "GANG"],
                "exempt_time": 86410},
    "usage_factor": 0.5, "usage_threshold": 0.25}
QOS_CHANGE = {"name": "NAME", "priority": 9, "flags": ["PARTITION_TIME_LIMIT"],
              "preempt": {"mode": ["REQUEUE"], "list": ["normal"]},
              "limits": {"max": {"tres": {"per": {"job": [{"type": "cpu", "count": -1},
                                                          {"type": "mem", "count": 100}]}},
                                 "wall_clock": {"per": {"job": None}}}},
              "usage_factor": None}


def test_post_qos_round_trip() -> None:
    names = ("zt_obj_r", "zt_obj_s")
    with removed_after("delete", "qos", "where", f"name={','.join(names)}"):
        for body in (QOS_FULL, QOS_CHANGE):
            ours, theirs = _both_alone("qos", {"QOS": [body]}, names)
            assert (ours.status, theirs.status) == (200, 200)
            assert ours.body.replace(b"zt_obj_s", b"") == theirs.body.replace(
                b"zt_obj_r", b""), (ours.body, theirs.body)
            mine, yours = _qos_records(names[1], names[0])
            assert mine == yours
        # a change naming neither flags nor preempt mode
        ref("db_post_qos_modify_keeps")
        ours, theirs = _both_alone("qos", {"QOS": [{"name": "NAME", "priority": 3}]}, names)
        assert (ours.status, theirs.status) == (200, 200)
        mine, yours = _qos_records(names[1], names[0])
        assert (mine["flags"], mine["preempt"]["mode"]) == (["PARTITION_TIME_LIMIT"],
                                                            ["REQUEUE"])
        assert (yours["flags"], yours["preempt"]["mode"]) == ([], [])
        assert {**mine, "flags": [], "preempt": yours["preempt"]} == yours
        for name in names:  # removed through our DELETE
            gone = jwt.alone(Program.OURS, request("DELETE", f"{V}/qos/{name}",
                                                   *admin_headers()))
            assert (gone.status, json.loads(gone.body)["removed_qos"]) == (200, [name])


def test_post_qos_checks_every_entry_first() -> None:
    ref("db_post_qos_checks")
    name = "zt_obj_t"
    with removed_after("delete", "qos", "where", f"name={name}"):
        ours, theirs = converse_both(post("qos", {"QOS": [{"name": name}, {
            "name": "normal", "flags": ["BOGUS"]}]}))
        (mine,), (yours,) = ours.responses, theirs.responses
        assert (mine.status, yours.status) == (400, 400)
        assert json.loads(mine.body)["errors"][0]["description"] == "Unknown flag"
        assert json.loads(yours.body)["errors"][0]["error_number"] == 2002


def test_post_wckeys_round_trip() -> None:
    names = ("zt_obj_rw", "zt_obj_sw")
    with removed_after("delete", "user", "where", f"wckeys={','.join(names)}"):
        wckey = {"name": "NAME", "user": "alice", "cluster": "lab", "id": 0}
        for _ in range(2):  # the second time the wckeys exist
            ours, theirs = _both_alone("wckeys", {"wckeys": [wckey]}, names)
            assert (ours.status, theirs.status) == (200, 200)
            assert ours.body == theirs.body
        for name in names:  # both made the same record, removed through our DELETE
            gone = jwt.alone(Program.OURS, request("DELETE", f"{V}/wckey/{name}",
                                                   *admin_headers()))
            assert gone.status == 200
            assert json.loads(gone.body)["deleted_wckeys"] == [
                f"C = lab        W = {name}            U = alice    "]


def test_post_wckeys_unknown_user_is_refused() -> None:
    ref("db_post_wckeys_checks")
    ours = jwt.alone(Program.OURS, post("wckeys", {"wckeys": [
        {"name": "zt_obj_uw", "user": "zt_obj_nobody", "cluster": "lab", "id": 0}]},
        *admin_headers()))
    assert ours.status == 400
    assert json.loads(ours.body)["errors"][0]["source"] == "user"


def test_post_clusters_round_trip() -> None:
    names = ("zt_obj_rc", "zt_obj_sc")
    lab = jwt.alone(Program.OURS, get(f"{V}/cluster/lab", *admin_headers()))
    with removed_after("delete", "cluster", "where", f"name={','.join(names)}",
                       clusters=names):
        ours, theirs = _both_alone("clusters", {"clusters": [
            {"name": "NAME", "nodes": "x[1-2]", "controller": {"host": "h", "port": 1}}]},
            names)
        assert (ours.status, theirs.status) == (200, 200)
        assert ours.body == theirs.body
        got = [json.loads(jwt.alone(Program.OURS, get(f"{V}/cluster/{n}",
                                                      *admin_headers())).body)["clusters"]
               for n in names]
        assert [c["name"] for (c,) in got] == list(names)
        (first,), (second,) = got
        assert {**first, "name": ""} == {**second, "name": ""}
        # never sent to slurmrestd: it would wipe the lab's controller registration
        ref("db_post_clusters_checks")
        again = jwt.alone(Program.OURS, post("clusters", {"clusters": [{"name": "lab"}]},
                                             *admin_headers()))
        assert again.status == 200
        assert jwt.alone(Program.OURS, get(f"{V}/cluster/lab", *admin_headers())).body == lab.body
        for name in names:
            gone = jwt.alone(Program.OURS, request("DELETE", f"{V}/cluster/{name}",
                                                   *admin_headers()))
            assert json.loads(gone.body)["deleted_clusters"] == [name]
