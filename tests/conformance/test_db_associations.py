"""POST associations, DELETE association(s) (slurmdb): slurmrest-stdio against Debian's
slurmrestd.

alice (no administrator) gets the same refusals, byte for byte. The administrator
``slurm`` (its JWT; both programs run as bob in JWT mode) makes the same round trip with
each program on the same fresh objects: create a user association in a ``zt_assoc_``
account, change a limit, an ambiguous single removal, the removal itself, once more;
each step must give the same status and body, and leave the database the same.

slurmrestd is never sent a change of an account's own association: it always passes
the account's current parent along, and slurmdbd then moves the account in its tree
(see db_post_association_no_move), which on a shared database races with other
writers and can corrupt the tree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests import accounting
from tests.conformance import test_auth_jwt as jwt
from tests.conformance.differences import ref
from tests.conformance.harness import (
    Case,
    Program,
    converse_both,
    run_case,
)
from tests.helpers import request

D = "/slurmdb/v0.0.38"
ACCOUNT = "zt_assoc_k"
NEW_USER = "zt_assoc_nu"


def sacctmgr(*argv: str, check: bool = False) -> str:
    return accounting.sacctmgr(*argv, check=check)


def _clean() -> None:
    # the account goes with its users' associations (never "delete user where
    # account=...": sacctmgr then also deletes users left with no association)
    sacctmgr("-i", "delete", "user", "where", f"name={NEW_USER}", f"account={ACCOUNT}",
             "cluster=lab")
    sacctmgr("-i", "delete", "user", "where", f"name={NEW_USER}")
    sacctmgr("-i", "delete", "account", "where", f"name={ACCOUNT}")


def _fresh() -> None:
    """The account with its own association only. It is made once per module: every
    removal and re-creation of an account rewrites slurmdbd's association tree, which
    other writers of the shared database must not be raced with more than needed."""
    rows = [r.split("|") for r in shown()]
    if not any(not r[1] for r in rows):
        sacctmgr("-i", "add", "account", ACCOUNT, "parent=research", "description=zt",
                 "organization=zt", check=True)
    users = {r[1] for r in rows if r[1]}
    if NEW_USER in users:
        # slurmrestd may have left its association without a user record
        sacctmgr("-i", "delete", "user", "where", f"name={NEW_USER}",
                 f"account={ACCOUNT}", "cluster=lab")
        sacctmgr("-i", "delete", "user", "where", f"name={NEW_USER}")
    if "bob" in users:
        # sacctmgr deletes a user whose last association goes: never bob
        others = sacctmgr("-P", "-n", "show", "assoc", "where", "user=bob",
                          "format=account").split()
        if not set(others) - {ACCOUNT}:
            pytest.skip("bob has no association outside the test account")
        sacctmgr("-i", "delete", "user", "where", "name=bob", f"account={ACCOUNT}",
                 "cluster=lab")


@pytest.fixture(scope="module", autouse=True)
def account() -> Iterator[None]:
    _clean()
    _fresh()
    try:
        yield
    finally:
        _clean()


def shown() -> list[str]:
    return sorted(sacctmgr("-P", "-n", "show", "assoc", "where", f"account={ACCOUNT}",
                           "format=account,user,partition,maxjobs,maxsubmit,maxtres,"
                           "fairshare,qos,defaultqos").splitlines())


def post(body: Any) -> bytes:
    return request("POST", f"{D}/associations", "Content-Type: application/json",
                   body=json.dumps(body).encode())


def alone(prog: Program, data: bytes) -> tuple[int | None, Any]:
    """One program's status and body (meta left out) in JWT mode, run as bob; status
    None when it wrote nothing."""
    responses = jwt.converse_alone(prog, data).responses
    if not responses:
        return None, None
    body = json.loads(responses[0].body) if responses[0].body else None
    if isinstance(body, dict):
        body.pop("meta", None)
    return responses[0].status, body


MEMBER = {"account": ACCOUNT, "cluster": "lab", "user": "bob"}
LIMITS = {"max": {"jobs": {"active": 5, "total": 9},
                  "tres": {"per": {"job": [{"type": "cpu", "count": 2}]}}},
          "shares_raw": 7, "qos": ["normal", "high"], "default": {"qos": "high"}}
ROUND_TRIP = [
    ("POST", f"{D}/associations", {"associations": [{**MEMBER, **LIMITS}]}),
    ("POST", f"{D}/associations", {"associations": [{
        **MEMBER, "max": {"jobs": {"active": None},
                          "tres": {"per": {"job": [{"type": "cpu", "count": 3}]}}}}]}),
    ("DELETE", f"{D}/association?account={ACCOUNT}", None),
    ("DELETE", f"{D}/association?account={ACCOUNT}&user=bob", None),
    ("DELETE", f"{D}/association?account={ACCOUNT}&user=bob", None),
    ("DELETE", f"{D}/associations?account={ACCOUNT}&user=bob", None),
]


def test_administrator_round_trip_is_the_same() -> None:
    results: dict[Program, list[tuple[int | None, Any, list[str]]]] = {}
    for prog in (Program.THEIRS, Program.OURS):
        _fresh()
        results[prog] = []
        for method, path, body in ROUND_TRIP:
            status, answer = alone(prog, jwt.as_admin(method, path, body))
            results[prog].append((status, answer, shown()))
    statuses = [status for status, _, _ in results[Program.THEIRS]]
    assert statuses == [200, 200, 400, 200, 304, 304]
    for step, (theirs, ours) in enumerate(zip(results[Program.THEIRS],
                                              results[Program.OURS], strict=True)):
        assert ours == theirs, (step, ROUND_TRIP[step])
    _fresh()


CASES = [
    Case("post_refused", post({"associations": [MEMBER]}), (400,)),
    Case("post_own_limit_quietly_refused", post({"associations": [{
        "account": "research", "cluster": "lab", "user": "alice",
        "max": {"jobs": {"active": 4}}}]}), (200,)),
    Case("post_no_list", post({}), (200,)),
    Case("post_not_objects", post({"associations": [1]}), (400,), ),
    Case("delete_one_refused", request("DELETE", f"{D}/association?account={ACCOUNT}"),
         (500,)),
    Case("delete_one_ambiguous_refused", request("DELETE", f"{D}/association"), (500,)),
    Case("delete_one_nothing_refused",
         request("DELETE", f"{D}/association?account=zt_assoc_nosuch"), (500,)),
    Case("delete_many_refused",
         request("DELETE", f"{D}/associations?account={ACCOUNT}&user=bob"), (500,)),
    Case("delete_raw_comma", request("DELETE", f"{D}/associations?account=a,b"), (400,)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_conforms(case: Case) -> None:
    if case.name == "post_not_objects":
        # both refuse; slurmrestd's parser words it its own way
        ours, theirs = converse_both(case.request)
        assert ours.statuses == theirs.statuses == [400]
        return
    run_case(case)
    assert shown() == [f"{ACCOUNT}||||||1|normal|"]


# -- deliberate differences -----------------------------------------------------------------

def test_modify_without_tres_keeps_them_where_slurmrestd_crashes() -> None:
    assert ref("db_post_association_tres_kept")
    change = {"associations": [{**MEMBER, "max": {"jobs": {"active": 2}}}]}
    answers: dict[Program, tuple[int | None, list[list[str]]]] = {}
    for prog in (Program.THEIRS, Program.OURS):
        _fresh()
        assert alone(prog, jwt.as_admin("POST", f"{D}/associations",
                                    {"associations": [{**MEMBER, **LIMITS}]}))[0] == 200
        status = alone(prog, jwt.as_admin("POST", f"{D}/associations", change))[0]
        answers[prog] = (status, [r.split("|")[3:6] for r in shown() if "|bob|" in r])
    _fresh()
    assert answers[Program.THEIRS] == (None, [["5", "9", "cpu=2"]])  # crashed, unchanged
    assert answers[Program.OURS] == (200, [["2", "9", "cpu=2"]])


def test_new_user_gets_a_user_record() -> None:
    assert ref("db_post_association_new_user")
    body = {"associations": [{"account": ACCOUNT, "cluster": "lab", "user": NEW_USER}]}
    records = {}
    for prog in (Program.THEIRS, Program.OURS):
        _fresh()
        assert alone(prog, jwt.as_admin("POST", f"{D}/associations", body))[0] == 200
        assert any(f"|{NEW_USER}|" in r for r in shown())
        records[prog] = sacctmgr("-P", "-n", "show", "user", f"name={NEW_USER}",
                                 "format=user,defaultaccount").split()
    _fresh()
    assert records == {Program.THEIRS: [], Program.OURS: [f"{NEW_USER}|{ACCOUNT}"]}


def test_later_failure_keeps_earlier_changes() -> None:
    assert ref("db_post_associations_in_order")
    body = {"associations": [MEMBER, {"account": "zt_assoc_nosuch", "cluster": "lab",
                                      "user": "bob"}]}
    answers = {}
    for prog in (Program.THEIRS, Program.OURS):
        _fresh()
        status, _ = alone(prog, jwt.as_admin("POST", f"{D}/associations", body))
        answers[prog] = (status, any("|bob|" in r for r in shown()))
    _fresh()
    # slurmrestd commits nothing; we made the first and say so
    assert answers == {Program.THEIRS: (400, False), Program.OURS: (400, True)}


def test_values_are_checked_first() -> None:
    assert ref("db_post_association_checks")
    body = {"associations": [{**MEMBER, "user": "bob x", "qos": []}]}
    ours, theirs = converse_both(post(body))
    assert theirs.statuses == [400]  # slurmrestd goes to slurmdbd, which refuses alice
    (mine,) = ours.responses
    sources = [e["source"] for e in json.loads(mine.body)["errors"]]
    assert (mine.status, sources) == (400, ["associations[0].user", "associations[0].qos"])


def test_removing_everything_is_refused() -> None:
    assert ref("db_delete_associations_everything")
    # slurmrestd would remove every association of every cluster, root's included; it is
    # shown here only on a cluster that does not exist
    status, _ = alone(Program.THEIRS, jwt.as_admin(
        "DELETE", f"{D}/associations?cluster=zt_assoc_nocluster"))
    assert status == 304
    for query in ("", "?cluster=lab"):
        status, body = alone(Program.OURS, jwt.as_admin("DELETE", f"{D}/associations{query}"))
        assert status == 400 and body["removed_associations"] == []


def test_odd_names_are_never_passed_on() -> None:
    assert ref("db_delete_association_odd_names")
    ours, theirs = converse_both(request("DELETE", f"{D}/associations?account=bad%20name"))
    assert theirs.statuses == [500] and ours.statuses == [304]


def test_account_association_change_does_not_move_it() -> None:
    assert ref("db_post_association_no_move")
    _fresh()
    sacctmgr("-i", "add", "account", "zt_assoc_k2", f"parent={ACCOUNT}", check=True)
    sacctmgr("-i", "add", "account", "zt_assoc_k3", f"parent={ACCOUNT}", check=True)
    try:
        def order() -> list[str]:
            return sacctmgr("-P", "-n", "show", "assoc", "tree", "where",
                            f"account={ACCOUNT},zt_assoc_k2,zt_assoc_k3",
                            "format=account,lft").split()

        before = order()
        status, _ = alone(Program.OURS, jwt.as_admin("POST", f"{D}/associations", {
            "associations": [{"account": "zt_assoc_k3", "cluster": "lab",
                              "parent_account": ACCOUNT, "priority": 2}]}))
        assert status == 200
        assert order() == before
    finally:
        sacctmgr("-i", "delete", "account", "where", "name=zt_assoc_k2,zt_assoc_k3")
        _fresh()


def test_last_association_of_a_user_is_refused() -> None:
    assert ref("db_delete_association_last_of_user")
    path = f"{D}/association?account={ACCOUNT}&user={NEW_USER}"
    found = {}
    for prog in (Program.OURS, Program.THEIRS):
        _fresh()
        sacctmgr("-i", "add", "user", NEW_USER, f"account={ACCOUNT}", check=True)
        status, _ = alone(prog, jwt.as_admin("DELETE", path))
        found[prog] = (status, sacctmgr("-P", "-n", "show", "user", f"name={NEW_USER}",
                                        "format=user").split())
    _fresh()
    # slurmrestd leaves a user with no association; sacctmgr would remove the user: we
    # refuse instead
    assert found == {Program.THEIRS: (200, [NEW_USER]), Program.OURS: (400, [NEW_USER])}
