"""GET /slurmdb/v0.0.38/config and diag through the real program and real Slurm.

Both read only. alice is no accounting administrator: her config stops at the wckeys
(Slurm's permission error, as slurmrestd's does) and diag is refused; a token of the
SlurmUser sees everything. Every answer is checked against our spec and against what
the single reads (and ``sacctmgr show stats``) give.
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
CONFIG_KEYS = ["meta", "errors", "clusters", "TRES", "accounts", "users", "QOS", "wckeys",
               "associations"]


def answers(*paths: str, admin: bool = False) -> list[tuple[int, dict[str, Any]]]:
    headers: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    as_user = TEST_USER
    if admin:
        headers = ("X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {token('slurm')}")
        as_user, args = RUNNER, ("-a", "rest_auth/jwt")
    data = b"".join(request("GET", p, *headers) for p in paths)
    run = run_pipe(data, as_user=as_user, args=args, env=base_env())
    assert len(run.responses) == len(paths), run.stderr
    return [(r.status, json.loads(r.body)) for r in run.responses]


def check_spec(route: str, body: dict[str, Any]) -> None:
    schema = SPEC["paths"][route]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]
    OAS30Validator({**schema, "components": SPEC["components"]}).validate(body)


def without_zt(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records other tests may be adding or removing meanwhile left out."""
    return [i for i in items if not any(str(i.get(k, "")).startswith("zt_")
                                        for k in ("name", "account", "user"))]


def test_config_as_alice_stops_at_the_wckeys() -> None:
    (status, config), (_, clusters), (_, tres), (_, qos) = answers(
        f"{V}/config", f"{V}/clusters", f"{V}/tres", f"{V}/qos")
    assert status == 500
    assert list(config) == CONFIG_KEYS[:-1]
    assert config["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                                 "source": "slurmdb_wckeys_get"}]
    assert config["wckeys"] == []
    check_spec(f"{V}/config", config)
    assert config["clusters"] == clusters["clusters"]
    assert config["TRES"] == tres["TRES"]
    assert without_zt(config["QOS"]) == without_zt(qos["QOS"])
    assert {"root", "research", "physics"} <= {a["name"] for a in config["accounts"]}
    assert {"alice", "bob", "carol"} <= {u["name"] for u in config["users"]}


def test_config_as_the_slurm_user_has_everything() -> None:
    (status, config), (_, wckeys), (_, assocs), (_, users) = answers(
        f"{V}/config", f"{V}/wckeys", f"{V}/associations", f"{V}/users", admin=True)
    assert status == 200, config["errors"]
    assert list(config) == CONFIG_KEYS
    assert config["errors"] == []
    check_spec(f"{V}/config", config)
    # other tests' objects may come and go between the reads (also inside records)
    assert without_zt(config["wckeys"]) == without_zt(wckeys["wckeys"])
    assert [(a["account"], a["user"]) for a in without_zt(config["associations"])] == [
        (a["account"], a["user"]) for a in without_zt(assocs["associations"])]
    assert [u["name"] for u in without_zt(config["users"])] == [
        u["name"] for u in without_zt(users["users"])]


def test_diag_is_for_administrators() -> None:
    (status, body), = answers(f"{V}/diag")
    assert status == 500
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_get_stats"}]
    assert list(body) == ["meta", "errors"]


def test_diag_as_the_slurm_user() -> None:
    (status, body), = answers(f"{V}/diag", admin=True)
    assert status == 200
    check_spec(f"{V}/diag", body)
    stats = body["statistics"]
    assert list(stats) == ["time_start", "rollups", "RPCs", "users"]
    text = subprocess.run(["sacctmgr", "show", "stats"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert f"({stats['time_start']})" in text.splitlines()[2]
    names = {r["rpc"] for r in stats["RPCs"]}
    assert {"DBD_GET_STATS", "DBD_FINI"} <= names
    assert all(f"\t{name}" in text for name in names)
    assert "slurm" in {u["user"] for u in stats["users"]}
    counts = [r["count"] for r in stats["RPCs"]]
    assert counts == sorted(counts, reverse=True)
    for rollup in stats["rollups"]:
        assert rollup["type"] in ("internal", "user")
        assert list(rollup) == ["type", "last_run", "last_cycle", "max_cycle", "total_time",
                                "total_cycles", "mean_cycles"]
