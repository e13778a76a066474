"""POST associations, DELETE association(s) (slurmdb) against the lab's slurmdbd.

Changes are made as the accounting administrator ``slurm`` (its JWT; alice runs us) and
checked with ``sacctmgr show``; alice's own attempts get Slurm's refusal. Every object made
is named ``zt_assoc_*`` and removed afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accounting import sacctmgr
from tests.cluster.test_auth_jwt import token
from tests.helpers import request, run_pipe

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

D = "/slurmdb/v0.0.38"
ACCOUNT = "zt_assoc_ca"
SUB = "zt_assoc_cb"


def remove() -> None:
    # the accounts go with their users' associations; "delete user where account=..."
    # would also delete a user left with no association at all
    sacctmgr("-i", "delete", "account", "where", f"name={SUB}", check=False)
    sacctmgr("-i", "delete", "account", "where", f"name={ACCOUNT}", check=False)


@pytest.fixture
def account() -> Iterator[None]:
    remove()
    try:
        sacctmgr("-i", "add", "account", ACCOUNT, "parent=research", "description=zt",
                 "organization=zt")
        yield
    finally:
        remove()


def ask(method: str, path: str, body: Any = None, admin: bool = True) -> tuple[int, Any]:
    headers = ["Content-Type: application/json"] if body is not None else []
    if admin:
        headers += ["X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {token('slurm')}"]
    raw = json.dumps(body).encode() if body is not None else b""
    run = run_pipe(request(method, path, *headers, body=raw))
    assert run.returncode == 0, run.stderr
    response = run.responses[0]
    return response.status, json.loads(response.body) if response.body else None


def shown(*columns: str) -> list[list[str]]:
    text = sacctmgr("-P", "-n", "show", "assoc", "where", f"account={ACCOUNT},{SUB}",
                    "format=account,user,partition," + ",".join(columns))
    return sorted(line.split("|") for line in text.splitlines())


def test_create_modify_delete_round_trip(account: None) -> None:
    status, body = ask("POST", f"{D}/associations", {"associations": [{
        "account": ACCOUNT, "cluster": "lab", "user": "bob",
        "max": {"jobs": {"active": 5}, "tres": {"per": {"job": [
            {"type": "cpu", "count": 2}, {"type": "mem", "count": 1024}]}}},
        "shares_raw": 7, "qos": ["normal", "high"], "default": {"qos": "high"}}]})
    assert (status, body["errors"]) == (200, [])
    assert shown("maxjobs", "maxtres", "fairshare", "qos", "defaultqos") == [
        [ACCOUNT, "", "", "", "", "1", "normal", ""],
        [ACCOUNT, "bob", "", "5", "cpu=2,mem=1G", "7", "high,normal", "high"]]

    # a limit cleared (null), one TRES dropped from its list, the others kept
    status, body = ask("POST", f"{D}/associations", {"associations": [{
        "account": ACCOUNT, "cluster": "lab", "user": "bob",
        "max": {"jobs": {"active": None}, "tres": {"per": {"job": [
            {"type": "cpu", "count": 3}]}}}}]})
    assert (status, body["errors"]) == (200, [])
    assert shown("maxjobs", "maxtres", "fairshare")[1] == [ACCOUNT, "bob", "", "",
                                                           "cpu=3", "7"]

    # the account's own association; its parent restated (no move: moving accounts
    # rewrites the whole tree in slurmdbd, which races with other writers, so the
    # shared database is not used for that here; see the unit tests)
    sacctmgr("-i", "add", "account", SUB, f"parent={ACCOUNT}")
    status, body = ask("POST", f"{D}/associations", {"associations": [{
        "account": SUB, "cluster": "lab", "parent_account": ACCOUNT, "priority": 4}]})
    assert status == 200
    assert body["errors"] == [{"description": "Missing required field 'user'",
                               "source": "_parser_run"}]
    assert [SUB, "", "", ACCOUNT, "4"] in shown("parentname", "priority")

    status, body = ask("DELETE", f"{D}/association?account={ACCOUNT}&user=bob")
    assert status == 200
    assert [r.split("=")[0].strip() for r in body["removed_associations"]] == ["C"]
    assert "U = bob" in body["removed_associations"][0]
    assert [r[1] for r in shown("maxjobs")] == ["", ""]


def test_partition_association_is_kept_apart(account: None) -> None:
    for partition in ("debug", None):
        status, _ = ask("POST", f"{D}/associations", {"associations": [{
            "account": ACCOUNT, "cluster": "lab", "user": "bob", "partition": partition,
            "max": {"jobs": {"total": 3 if partition else 4}}}]})
        assert status == 200
    status, _ = ask("POST", f"{D}/associations", {"associations": [{
        "account": ACCOUNT, "cluster": "lab", "user": "bob", "max": {"jobs": {"total": 9}}}]})
    assert status == 200
    assert shown("maxsubmit") == [[ACCOUNT, "", "", ""], [ACCOUNT, "bob", "", "9"],
                                  [ACCOUNT, "bob", "debug", "3"]]
    # two associations match: nothing is removed
    status, body = ask("DELETE", f"{D}/association?account={ACCOUNT}&user=bob")
    assert status == 400 and body["removed_associations"] == []
    assert len(shown()) == 3
    status, body = ask("DELETE", f"{D}/associations?account={ACCOUNT}&user=bob")
    assert status == 200 and len(body["removed_associations"]) == 2
    assert shown() == [[ACCOUNT, "", ""]]
    status, body = ask("DELETE", f"{D}/associations?account={ACCOUNT}&user=bob")
    assert (status, body) == (304, None)


def test_alice_is_refused(account: None) -> None:
    status, body = ask("POST", f"{D}/associations", {"associations": [{
        "account": ACCOUNT, "cluster": "lab", "user": "bob"}]}, admin=False)
    assert status == 400
    assert body["errors"][0]["error_number"] == 2002
    assert shown() == [[ACCOUNT, "", ""]]
    for path in (f"association?account={ACCOUNT}", f"associations?account={ACCOUNT}",
                 "association?account=zt_assoc_nosuch"):
        status, body = ask("DELETE", f"{D}/{path}", admin=False)
        assert status == 500, path
        assert [e["error_number"] for e in body["errors"]] == [2002, 2002]
    assert shown() == [[ACCOUNT, "", ""]]


def test_bad_values_change_nothing(account: None) -> None:
    status, body = ask("POST", f"{D}/associations", {"associations": [
        {"account": ACCOUNT, "cluster": "lab", "user": "bob"},
        {"account": ACCOUNT, "cluster": "lab", "user": "bob x", "qos": ["nosuch"]}]})
    assert status == 400
    assert {e["source"] for e in body["errors"]} == {"associations[1].user",
                                                     "associations[1].qos"}
    assert shown() == [[ACCOUNT, "", ""]]
