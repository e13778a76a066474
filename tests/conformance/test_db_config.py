"""GET and POST /slurmdb/v0.0.38/config and GET diag: slurmrest-stdio against Debian's
slurmrestd, as alice (local auth: config stops at the wckeys, diag is refused, POST
config is refused) and as the SlurmUser (JWT: everything). The POSTs carry documents that
change nothing (refused ones, or zt_pcfg_ objects posted again as they are).

config is the database at one moment: the same bytes (JSON) or data (YAML) for both,
read again when other tests changed something in between. diag's counters move with
every request (each program makes its own), and slurmrestd's order is slurmdbd's own, so
its entries are compared, not its bytes.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance import test_auth_jwt as jwt
from tests.conformance.differences import ref
from tests.conformance.harness import Case, Conversation, compare, converse_both, load_body
from tests.helpers import request

V = "/slurmdb/v0.0.38"
YAML = "Accept: application/x-yaml"
ATTEMPTS = 4


def get(path: str, *headers: str) -> bytes:
    return request("GET", path, *headers)


def admin(path: str, *headers: str) -> bytes:
    return get(path, *jwt.named("slurm", jwt.token("slurm")), *headers)


def without_zt(value: Any) -> Any:
    """``value`` without the records of test objects (``zt_...``), at any depth."""
    if isinstance(value, dict):
        return {k: without_zt(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_zt(v) for v in value
                if not (isinstance(v, dict) and any(
                    isinstance(v.get(k), str) and v[k].startswith("zt_")
                    for k in ("name", "account", "user", "parent_account")))]
    return value


def retried(case: Case, jwt_mode: bool = False) -> None:
    """:func:`run_case`, tried again when the database moved between the two reads;
    other tests' objects (``zt_...``) come and go all the time, so when the bytes never
    agree the last answers must at least agree without them."""
    def converse(data: bytes) -> tuple[Conversation, Conversation]:
        return jwt.converse_both(data) if jwt_mode else converse_both(data)

    for attempt in range(ATTEMPTS):
        try:
            compare(case, *converse(case.request))
            return
        except AssertionError:
            if attempt == ATTEMPTS - 1:
                break
            time.sleep(1)
    ours, theirs = converse(case.request)
    assert ours.statuses == theirs.statuses == list(case.expect)
    mine, yours = (without_zt(load_body(c.responses[0])) for c in (ours, theirs))
    assert mine == yours


@pytest.mark.parametrize("case", [
    Case("config_not_admin", get(f"{V}/config"), (500,)),
    Case("config_not_admin_yaml", get(f"{V}/config", YAML), (500,)),
    Case("config_not_admin_slash", get(f"{V}/config/"), (500,)),
    # the query reaches every read: accounts accepts with_deleted, then fails at wckeys
    Case("config_with_deleted", get(f"{V}/config?with_deleted=1"), (500,)),
    # ... and refuses other fields (400, after clusters, tres and its own empty list)
    Case("config_unknown_field", get(f"{V}/config?nosuch=1"), (400,)),
    Case("diag_not_admin_query", get(f"{V}/diag?x=1"), (500,)),
    Case("diag_not_admin", get(f"{V}/diag"), (500,)),
    Case("diag_not_admin_slash", get(f"{V}/diag/"), (500,)),
    Case("diag_not_admin_yaml", get(f"{V}/diag", YAML), (500,)),
], ids=lambda c: c.id)
def test_as_alice(case: Case) -> None:
    retried(case)


@pytest.mark.parametrize(("name", "headers"), [("config_admin", ()),
                                               ("config_admin_yaml", (YAML,))])
def test_config_as_the_slurm_user(name: str, headers: tuple[str, ...]) -> None:
    retried(Case(name, admin(f"{V}/config", *headers), (200,)), jwt_mode=True)


def statistics(conv: Conversation) -> dict[str, Any]:
    assert len(conv.responses) == 1, conv.describe()
    assert conv.responses[0].status == 200, conv.describe()
    body: dict[str, Any] = load_body(conv.responses[0])
    assert list(body) == ["meta", "errors", "statistics"]
    assert body["errors"] == []
    stats: dict[str, Any] = body["statistics"]
    return stats


@pytest.mark.parametrize("headers", [(), (YAML,)], ids=["json", "yaml"])
def test_diag_as_the_slurm_user(headers: tuple[str, ...]) -> None:
    ref("db_diag_rpc_order")
    for attempt in range(ATTEMPTS):
        ours, theirs = jwt.converse_both(admin(f"{V}/diag", *headers))
        mine, yours = statistics(ours), statistics(theirs)
        try:
            assert list(mine) == list(yours) == ["time_start", "rollups", "RPCs", "users"]
            assert mine["time_start"] == yours["time_start"]
            assert mine["rollups"] == yours["rollups"]
            for key, name in (("RPCs", "rpc"), ("users", "user")):
                assert [list(e) for e in mine[key]] == [list(e) for e in yours[key]]
                assert sorted(e[name] for e in mine[key]) == sorted(e[name] for e in yours[key])
                assert all(list(e["time"]) == ["average", "total"] for e in mine[key])
            counts = [e["count"] for e in mine["RPCs"]]
            assert counts == sorted(counts, reverse=True)  # sacctmgr's order
            break
        except AssertionError:  # a rollup ran or a new RPC type came between the reads
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(1)


# -- POST config ----------------------------------------------------------------------------

PCFG_ACCOUNT, PCFG_USER, PCFG_QOS = "zt_pcfg_c_acct", "zt_pcfg_c_user", "zt_pcfg_c_qos"
EMPTY_DOC: dict[str, Any] = {"clusters": [], "accounts": [], "users": [], "QOS": [],
                             "wckeys": [], "associations": []}


def sacctmgr(*argv: str, check: bool = False) -> str:
    return subprocess.run(["sacctmgr", *argv], capture_output=True, text=True, check=check,
                          timeout=60).stdout


@pytest.fixture(scope="module")
def pcfg_objects() -> Iterator[None]:
    """An account with a user association and a QOS the documents post again unchanged;
    removed afterwards (user associations first), also when a test failed."""
    try:
        sacctmgr("-i", "add", "account", PCFG_ACCOUNT, "Description=pcfg", "Organization=zt",
                 check=True)
        sacctmgr("-i", "add", "user", PCFG_USER, f"Account={PCFG_ACCOUNT}", "Cluster=lab",
                 check=True)
        sacctmgr("-i", "add", "qos", PCFG_QOS, "Description=pcfgqos", check=True)
        yield
    finally:
        sacctmgr("-i", "delete", "user", "where", f"name={PCFG_USER}")
        sacctmgr("-i", "delete", "account", PCFG_ACCOUNT)
        sacctmgr("-i", "delete", "qos", "where", f"name={PCFG_QOS}")


def pcfg_document() -> dict[str, Any]:
    """What the fixture made, as a config document (posting it changes nothing)."""
    return {
        "clusters": [{"name": "lab"}],
        "accounts": [{"name": PCFG_ACCOUNT, "description": "pcfg", "organization": "zt"}],
        "users": [],
        "QOS": [{"name": PCFG_QOS, "description": "pcfgqos"}],
        "wckeys": [],
        "associations": [{"account": PCFG_ACCOUNT, "cluster": "lab", "user": PCFG_USER}],
    }


def alice_post(body: bytes) -> bytes:
    return request("POST", f"{V}/config", "Content-Type: application/json", body=body)


def admin_post(doc: Any) -> bytes:
    return jwt.as_admin("POST", f"{V}/config", doc)


def state() -> list[str]:
    """What the fixture's objects look like in the database."""
    return [sacctmgr("-P", "-n", "show", "account", PCFG_ACCOUNT, "format=account,descr,org"),
            sacctmgr("-P", "-n", "show", "assoc", "where", f"account={PCFG_ACCOUNT}",
                     "format=cluster,account,user,qos"),
            sacctmgr("-P", "-n", "show", "qos", PCFG_QOS, "format=name,descr")]


@pytest.mark.parametrize("case", [
    Case("post_config_not_admin", alice_post(json.dumps(pcfg_document()).encode()),
         (500,)),
    Case("post_config_not_admin_empty", alice_post(b"{}"), (500,)),
    Case("post_config_not_admin_no_clusters",
         alice_post(json.dumps({**EMPTY_DOC, "clusters": None}).encode()), (500,)),
    Case("post_config_bad_body", alice_post(b"{nope"), (400,)),
    Case("post_config_not_admin_no_body",
         request("POST", f"{V}/config", "Content-Length: 0"), (500,)),
    Case("post_config_not_admin_yaml",
         request("POST", f"{V}/config", "Content-Type: application/x-yaml",
                 body=b"clusters:\n- name: lab\nusers: []\n"), (500,)),
    Case("post_config_null_body", alice_post(b"null"), (400,)),
], ids=lambda c: c.id)
def test_post_config_as_alice(case: Case) -> None:
    compare(case, *converse_both(case.request))


@pytest.mark.usefixtures("pcfg_objects")
@pytest.mark.parametrize(("name", "doc", "status"), [
    ("unchanged", None, 200),
    ("unchanged_with_tres", "tres", 200),
    ("tres_only", {"TRES": [{"type": "cpu", "id": 1}]}, 400),
    ("empty_lists_with_tres", {**EMPTY_DOC, "TRES": [{"type": "gres", "name": "zt"}]}, 200),
    ("bad_body", "{nope", 400),
    ("no_body", "", 400),
    ("bad_qos", {**EMPTY_DOC, "QOS": [{"name": PCFG_QOS, "priority": "abc"}]}, 400),
    ("no_users", {k: v for k, v in EMPTY_DOC.items() if k != "users"}, 400),
    ("no_qos", {k: v for k, v in EMPTY_DOC.items() if k != "QOS"}, 400),
    ("no_wckeys", {k: v for k, v in EMPTY_DOC.items() if k != "wckeys"}, 400),
    ("no_associations", {k: v for k, v in EMPTY_DOC.items() if k != "associations"}, 200),
])
def test_post_config_as_the_slurm_user(name: str, doc: Any, status: int) -> None:
    before = state()
    if doc is None:
        doc = pcfg_document()
    elif doc == "tres":
        doc = {**pcfg_document(), "TRES": [{"type": "cpu", "id": 1, "count": 99}]}
    if isinstance(doc, str):  # not JSON at all, or nothing
        data = request("POST", f"{V}/config", "Content-Type: application/json",
                       f"Content-Length: {len(doc)}", *jwt.named("slurm", jwt.token("slurm")),
                       body=doc.encode())
    else:
        data = admin_post(doc)
    compare(Case(f"post_config_admin_{name}", data, (status,)), *jwt.converse_both(data))
    assert state() == before
