"""GET and POST /slurmdb/v0.0.38/config and GET diag through the real program and
real Slurm.

The GETs read only; the POSTs make zt_pcfg_ objects and remove them afterwards. alice
is no accounting administrator: her config stops at the wckeys (Slurm's permission
error, as slurmrestd's does), diag and POST config are refused; a token of the SlurmUser
sees everything and may load documents. Every answer is checked against our spec and against what
the single reads (and ``sacctmgr show stats``) give.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster.reads import check_body
from tests.cluster.test_auth_jwt import RUNNER, token
from tests.helpers import TEST_USER, base_env, request, run_pipe

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

V = "/slurmdb/v0.0.38"
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
    check_body(f"{V}/config", config)
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
    check_body(f"{V}/config", config)
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
    check_body(f"{V}/diag", body)
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


# -- POST config ----------------------------------------------------------------------------

PCFG_ACCOUNT, PCFG_USER, PCFG_QOS = "zt_pcfg_acct", "zt_pcfg_user", "zt_pcfg_qos"


def post_config(doc: Any, admin: bool = True) -> tuple[int, dict[str, Any]]:
    headers: tuple[str, ...] = ("Content-Type: application/json",)
    args: tuple[str, ...] = ()
    as_user = TEST_USER
    if admin:
        headers = (*headers, "X-SLURM-USER-NAME: slurm",
                   f"X-SLURM-USER-TOKEN: {token('slurm')}")
        as_user, args = RUNNER, ("-a", "rest_auth/jwt")
    data = request("POST", f"{V}/config", *headers, body=json.dumps(doc).encode())
    run = run_pipe(data, as_user=as_user, args=args, env=base_env())
    assert len(run.responses) == 1, run.stderr
    return run.responses[0].status, json.loads(run.responses[0].body)


def sacctmgr_rows(*argv: str) -> list[str]:
    out = subprocess.run(["sacctmgr", "-P", "-n", "show", *argv], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return out.splitlines()


@pytest.fixture
def pcfg_cleanup() -> Iterator[None]:
    """Removes what the documents below make (also when the test failed): the user's
    associations first, then the account, then the QOS."""
    try:
        yield
    finally:
        for argv in (("delete", "user", "where", f"name={PCFG_USER}"),
                     ("delete", "account", PCFG_ACCOUNT),
                     ("delete", "qos", "where", f"name={PCFG_QOS}")):
            subprocess.run(["sacctmgr", "-i", *argv], capture_output=True, check=False,
                           timeout=60)


def pcfg_document() -> dict[str, Any]:
    return {
        "clusters": [{"name": "lab"}],
        "TRES": [{"type": "cpu", "id": 1}],  # ignored, as slurmrestd does
        "accounts": [{"name": PCFG_ACCOUNT, "description": "pcfg test",
                      "organization": "zt"}],
        "users": [],
        "QOS": [{"name": PCFG_QOS, "description": "pcfg qos"}],
        "wckeys": [],
        # the QOS is made by this document
        "associations": [{"account": PCFG_ACCOUNT, "cluster": "lab", "user": PCFG_USER,
                          "qos": ["normal", PCFG_QOS]}],
    }


@pytest.mark.usefixtures("pcfg_cleanup")
def test_post_config_loads_a_document() -> None:
    status, body = post_config(pcfg_document())
    assert status == 200, body["errors"]
    assert body["errors"] == []
    assert list(body) == ["meta", "errors"]
    assert sacctmgr_rows("account", PCFG_ACCOUNT, "format=account,descr,org") == [
        f"{PCFG_ACCOUNT}|pcfg test|zt"]
    assert sacctmgr_rows("qos", PCFG_QOS, "format=name,description") == [
        f"{PCFG_QOS}|pcfg qos"]
    assert sacctmgr_rows("assoc", "where", f"account={PCFG_ACCOUNT}",
                         "format=cluster,account,user,qos") == [
        f"lab|{PCFG_ACCOUNT}||normal", f"lab|{PCFG_ACCOUNT}|{PCFG_USER}|normal,{PCFG_QOS}"]
    # the same document again changes nothing and is no error
    assert post_config(pcfg_document()) == (200, body)


@pytest.mark.usefixtures("pcfg_cleanup")
def test_post_config_checks_everything_first() -> None:
    doc = {**pcfg_document(), "wckeys": [{"name": "x", "user": PCFG_USER, "cluster": "lab",
                                          "id": "not a number"}]}
    status, body = post_config(doc)
    assert status == 400
    assert body["errors"][-1] == {"description": "refusing to commit after error",
                                  "error_number": 9000,
                                  "error": "Query empty or not RFC7320 compliant"}
    assert sacctmgr_rows("account", PCFG_ACCOUNT) == []
    assert sacctmgr_rows("qos", PCFG_QOS) == []


@pytest.mark.usefixtures("pcfg_cleanup")
def test_post_config_is_for_administrators() -> None:
    status, body = post_config(pcfg_document(), admin=False)
    assert status == 500
    assert body["errors"] == [
        {"error_number": 2002, "error": "Access/permission denied",
         "source": "slurmdb_clusters_add"},
        {"description": "refusing to commit after error", "error_number": 2002,
         "error": "Access/permission denied"}]
    assert sacctmgr_rows("account", PCFG_ACCOUNT) == []
