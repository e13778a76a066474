"""GET tres, clusters, cluster/{name}, wckeys, wckey/{wckey}: slurmrest-stdio against
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
