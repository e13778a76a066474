"""GET accounts, users, associations (slurmdb) against the lab's slurmdbd, as alice.

Objects made with ``sacctmgr`` (as root) show up in our answers with what ``sacctmgr show``
says about them, and are gone once deleted; the answers fit our OpenAPI document.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.config import OPENAPI_PLUGINS
from tests.cluster.test_auth_jwt import token
from tests.helpers import request, run_pipe

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

D = "/slurmdb/v0.0.38"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))
ACCOUNT = "zt_dbacct_a"
USER = "zt_dbacct_u"


def sacctmgr(*argv: str, check: bool = True) -> str:
    return subprocess.run(["sacctmgr", "-i", *argv], check=check, capture_output=True,
                          text=True, timeout=60).stdout


def remove() -> None:
    sacctmgr("delete", "user", USER, check=False)
    sacctmgr("delete", "account", ACCOUNT, check=False)


@pytest.fixture
def objects() -> Iterator[None]:
    remove()
    try:
        sacctmgr("add", "account", ACCOUNT, "parent=physics", "description=zt test",
                 "organization=ztorg", "GrpJobs=7", "MaxWall=90", "QOS=normal,high")
        sacctmgr("add", "user", USER, f"account={ACCOUNT}")
        yield
    finally:
        remove()


def get(path: str, method: str = "GET", *headers: str) -> tuple[int, Any]:
    run = run_pipe(request(method, path, *headers))
    assert run.returncode == 0
    response = run.responses[0]
    return response.status, json.loads(response.body) if response.body else None


def as_slurm(method: str, path: str) -> tuple[int, Any]:
    """A request of the accounting administrator ``slurm`` (its JWT; alice runs us)."""
    return get(path, method, "X-SLURM-USER-NAME: slurm",
               f"X-SLURM-USER-TOKEN: {token('slurm')}")


def shown(entity: str, name: str) -> list[str]:
    return sacctmgr("-P", "-n", "show", entity, "where", f"name={name}",
                    "format=" + entity).splitlines()


def validate(body: Any, schema: str) -> None:
    OAS30Validator({"$ref": f"#/components/schemas/{schema}",
                    "components": SPEC["components"]}).validate(body)


def test_objects_made_with_sacctmgr_are_read_back(objects: None) -> None:
    status, body = get(f"{D}/account/{ACCOUNT}")
    assert status == 200
    validate(body, "dbv0.0.38_account_info")
    (account,) = body["accounts"]
    assert (account["name"], account["description"], account["organization"]) == \
        (ACCOUNT, "zt test", "ztorg")
    assert {a["user"] for a in account["associations"]} == {None, USER}

    status, body = get(f"{D}/user/{USER}")
    assert status == 200
    validate(body, "dbv0.0.38_user_info")
    assert body["users"][0]["default"]["account"] == ACCOUNT

    status, body = get(f"{D}/associations?account={ACCOUNT}")
    assert status == 200
    validate(body, "dbv0.0.38_associations_info")
    shown = sacctmgr("-P", "-n", "show", "assoc", "where", f"account={ACCOUNT}",
                     "format=user,grpjobs,maxwall,qos").splitlines()
    assert len(body["associations"]) == len(shown) == 2
    top = next(a for a in body["associations"] if a["user"] is None)
    assert top["parent_account"] == "physics"
    assert top["max"]["jobs"]["per"]["count"] == 7
    assert top["max"]["jobs"]["per"]["wall_clock"] == 90
    assert top["qos"] == ["high", "normal"]
    mine = next(a for a in body["associations"] if a["user"] == USER)
    assert mine["is_default"] == 1 and mine["flags"] == ["DEFAULT"]

    status, body = get(f"{D}/association?account={ACCOUNT}&user={USER}")
    assert status == 200
    assert len(body["associations"]) == 1

    remove()
    status, body = get(f"{D}/account/{ACCOUNT}")
    assert status == 500
    assert body["errors"][0]["error_number"] == 9003
    status, body = get(f"{D}/associations?account={ACCOUNT}")
    assert status == 500


def test_collections() -> None:
    for path, schema, key in ((f"{D}/accounts", "dbv0.0.38_account_info", "accounts"),
                              (f"{D}/users", "dbv0.0.38_user_info", "users"),
                              (f"{D}/associations", "dbv0.0.38_associations_info",
                               "associations")):
        status, body = get(path)
        assert status == 200, body
        validate(body, schema)
        assert body[key]
    _, body = get(f"{D}/users")
    assert "alice" in {u["name"] for u in body["users"]}
    _, body = get(f"{D}/accounts")
    assert {"root", "research", "physics"} <= {a["name"] for a in body["accounts"]}


def test_delete_round_trips(objects: None) -> None:
    # alice is no administrator: Slurm's permission error, each with slurmrestd's status
    status, body = get(f"{D}/user/{USER}", "DELETE")
    assert status == 500
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_users_remove"}]
    status, body = get(f"{D}/account/{ACCOUNT}", "DELETE")
    assert status == 200
    assert body["errors"][0]["error_number"] == 2002
    assert "removed_associations" not in body
    assert shown("user", USER) == [USER] and shown("account", ACCOUNT) == [ACCOUNT]

    status, body = as_slurm("DELETE", f"{D}/user/{USER}")
    assert (status, body["removed_users"]) == (200, [USER])
    validate(body, "dbv0.0.38_response_user_delete")
    assert shown("user", USER) == []
    assert as_slurm("DELETE", f"{D}/user/{USER}") == (304, None)

    status, body = as_slurm("DELETE", f"{D}/account/{ACCOUNT}")
    assert (status, body["errors"], body["removed_associations"]) == (200, [], [ACCOUNT])
    validate(body, "dbv0.0.38_response_account_delete")
    assert shown("account", ACCOUNT) == []
    status, body = as_slurm("DELETE", f"{D}/account/{ACCOUNT}")
    assert status == 200
    assert body["errors"][0]["error_number"] == 1900


POSTED = ("zt_acpost_a", "zt_acpost_b")


@pytest.fixture
def posted() -> Iterator[None]:
    def clean() -> None:
        for name in POSTED:
            sacctmgr("delete", "account", name, check=False)

    clean()
    try:
        yield
    finally:
        clean()


def post_accounts(body: Any, *headers: str) -> tuple[int, Any]:
    raw = json.dumps(body).encode()
    run = run_pipe(request("POST", f"{D}/accounts", "Content-Type: application/json",
                           *headers, body=raw))
    assert run.returncode == 0
    response = run.responses[0]
    return response.status, json.loads(response.body)


def slurm_headers() -> tuple[str, str]:
    return "X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {token('slurm')}"


def test_post_accounts_round_trip(posted: None) -> None:
    wanted = {"accounts": [
        {"name": POSTED[0], "description": "zt posted", "organization": "ztorg"},
        {"name": POSTED[1]}]}
    # alice is no administrator: Slurm's permission error, nothing changes
    status, body = post_accounts(wanted)
    assert (status, body["errors"]) == (500, [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_accounts_add"}])
    assert shown("account", POSTED[0]) == [] and shown("account", POSTED[1]) == []

    # one bad object: nothing is tried
    status, body = post_accounts({"accounts": [wanted["accounts"][0], {"name": "Bad,"}]},
                                 *slurm_headers())
    assert status == 400 and shown("account", POSTED[0]) == []

    status, body = post_accounts(wanted, *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    validate(body, "dbv0.0.38_response_account_update")
    rows = sacctmgr("-P", "-n", "show", "account", "where",
                    f"name={','.join(POSTED)}", "format=account,descr,org").splitlines()
    assert sorted(rows) == [f"{POSTED[0]}|zt posted|ztorg", f"{POSTED[1]}|{POSTED[1]}|"
                            f"{POSTED[1]}"]

    # posting an existing account updates it
    status, body = post_accounts({"accounts": [
        {"name": POSTED[0], "description": "zt changed", "organization": "ztorg2"}]},
        *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    status, body = get(f"{D}/account/{POSTED[0]}")
    account = body["accounts"][0]
    assert (account["description"], account["organization"]) == ("zt changed", "ztorg2")


NEW_USER = "zt_acpost_u"


@pytest.fixture
def posted_user() -> Iterator[None]:
    sacctmgr("delete", "user", NEW_USER, check=False)
    try:
        yield
    finally:
        sacctmgr("delete", "user", NEW_USER, check=False)


def post_users(body: Any, *headers: str) -> tuple[int, Any]:
    run = run_pipe(request("POST", f"{D}/users", "Content-Type: application/json",
                           *headers, body=json.dumps(body).encode()))
    assert run.returncode == 0
    response = run.responses[0]
    return response.status, json.loads(response.body)


def test_post_users_round_trip(posted_user: None) -> None:
    wanted = {"users": [{"name": NEW_USER, "default": {"account": "physics"}}]}
    status, body = post_users(wanted)
    assert (status, body["errors"][0]["error_number"]) == (500, 2002)
    assert shown("user", NEW_USER) == []

    status, body = post_users(wanted, *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    validate(body, "dbv0.0.38_response_user_update")
    row = sacctmgr("-P", "-n", "show", "user", NEW_USER, "format=user,defaultaccount,admin")
    assert row.splitlines() == [f"{NEW_USER}|physics|None"]

    status, body = post_users({"users": [{"name": NEW_USER,
                                          "administrator_level": "Operator"}]},
                              *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    status, body = get(f"{D}/user/{NEW_USER}")
    assert body["users"][0]["administrator_level"] == "Operator"


# -- associations, coordinators, default wckey, flags (zt_users_ objects) ------------------

ZT_ACCOUNT = "zt_users_acct"
ZT_USER = "zt_users_user"
ZT_WCKEY = "zt_users_wk"


@pytest.fixture
def zt_users() -> Iterator[None]:
    def clean() -> None:
        sacctmgr("delete", "coordinator", f"names={ZT_USER}", f"accounts={ZT_ACCOUNT}",
                 check=False)
        sacctmgr("delete", "user", ZT_USER, check=False)
        sacctmgr("delete", "account", ZT_ACCOUNT, check=False)

    clean()
    try:
        yield
    finally:
        clean()


def test_post_accounts_and_users_with_associations_and_coordinators(zt_users: None
                                                                    ) -> None:
    # a new account on the cluster its association names; coordinators and flags are
    # read and, as by slurmrestd, not stored
    status, body = post_accounts({"accounts": [{
        "name": ZT_ACCOUNT, "associations": [{"account": ZT_ACCOUNT, "cluster": "lab",
                                              "partition": None, "user": None}],
        "coordinators": [{"name": "bob", "direct": 1}], "flags": ["DELETED"]}]},
        *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    assoc = sacctmgr("-P", "-n", "show", "assoc", "where", f"account={ZT_ACCOUNT}",
                     "format=cluster,account,user,parentname")
    assert assoc.splitlines() == [f"lab|{ZT_ACCOUNT}||root"]
    status, body = get(f"{D}/account/{ZT_ACCOUNT}")
    assert (body["accounts"][0]["coordinators"], body["accounts"][0]["flags"]) == ([], [])

    # a new user with two associations, coordinator of the new account (direct only)
    user = {"name": ZT_USER,
            "associations": [{"account": "physics", "cluster": "lab", "user": ZT_USER},
                             {"account": ZT_ACCOUNT, "cluster": "lab", "partition": None}],
            "default": {"account": ZT_ACCOUNT},
            "coordinators": [{"name": ZT_ACCOUNT, "direct": 1}, {"name": "physics"}],
            "flags": ["DELETED"]}
    status, body = post_users({"users": [user]})  # alice: Slurm's refusal, no change
    assert (status, body["errors"][0]["error_number"]) == (500, 2002)
    assert shown("user", ZT_USER) == []
    status, body = post_users({"users": [user]}, *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    status, body = get(f"{D}/user/{ZT_USER}")
    got = body["users"][0]
    assert got["default"] == {"account": ZT_ACCOUNT, "wckey": ""}
    assert got["coordinators"] == [{"name": ZT_ACCOUNT, "direct": 1}]
    assert sorted(a["account"] for a in got["associations"]) == ["physics", ZT_ACCOUNT]
    assert got["flags"] == []

    # a default wckey the user has; then one it has not: refused before any change
    # (the first wckey added becomes the default: ZT_WCKEY is the second)
    sacctmgr("add", "user", ZT_USER, "wckey=zt_users_first,zt_users_wk", "cluster=lab")
    status, body = post_users({"users": [{"name": ZT_USER,
                                          "default": {"wckey": ZT_WCKEY}}]},
                              *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    assert get(f"{D}/user/{ZT_USER}")[1]["users"][0]["default"]["wckey"] == ZT_WCKEY
    status, body = post_users({"users": [
        {"name": ZT_USER, "coordinators": [{"name": "physics", "direct": 1}],
         "default": {"wckey": "zt_users_none"}}]}, *slurm_headers())
    assert status == 400 and body["errors"][0]["source"] == "users[0]"
    assert get(f"{D}/user/{ZT_USER}")[1]["users"][0]["coordinators"] == [
        {"name": ZT_ACCOUNT, "direct": 1}]

    # the GET answer posted back changes nothing
    status, before = get(f"{D}/user/{ZT_USER}")
    status, body = post_users({"users": before["users"]}, *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    assert get(f"{D}/user/{ZT_USER}")[1]["users"] == before["users"]
    status, account = get(f"{D}/account/{ZT_ACCOUNT}")
    status, body = post_accounts({"accounts": account["accounts"]}, *slurm_headers())
    assert (status, body["errors"]) == (200, [])
    assert get(f"{D}/account/{ZT_ACCOUNT}")[1]["accounts"] == account["accounts"]
