"""GET tres, clusters, cluster/{name}, wckeys, wckey/{wckey}, qos: slurmrest-stdio against
Debian's slurmrestd, as alice (local auth) and as the SlurmUser (JWT, for wckeys).

The data is the same for both programs, so the bodies must be the same bytes (JSON) or
the same data (YAML), key order included.
"""

from __future__ import annotations

import json

import pytest

from tests.conformance import test_auth_jwt as jwt
from tests.conformance.differences import ref
from tests.conformance.harness import Case, converse_both, run_case
from tests.helpers import request

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
