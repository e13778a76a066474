"""GET accounts, users, associations (slurmdb): slurmrest-stdio against Debian's slurmrestd.

The fixture's accounting data is the same for both programs, so the bodies must be the
same bytes (JSON) or the same data (YAML), key order included; odd queries and names that
match nothing must get slurmrestd's statuses and bodies too.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance import test_auth_jwt as jwt
from tests.conformance.differences import ref
from tests.conformance.harness import Case, Program, converse_both, run_case
from tests.helpers import request, run_pipe

D = "/slurmdb/v0.0.38"
YAML = "Accept: application/x-yaml"


def get(path: str, *headers: str) -> bytes:
    return request("GET", path, *headers)


def post_accounts(body: bytes) -> bytes:
    return request("POST", f"{D}/accounts", "Content-Type: application/json", body=body)


CASES = [
    Case("accounts", get(f"{D}/accounts"), (200,)),
    Case("accounts_yaml", get(f"{D}/accounts", YAML), (200,)),
    Case("accounts_with_deleted", get(f"{D}/accounts?with_deleted=1"), (200,)),
    Case("accounts_unknown_query", get(f"{D}/accounts?foo=1"), (200,)),
    Case("account_research", get(f"{D}/account/research"), (200,)),
    Case("account_unknown", get(f"{D}/account/nosuch"), (500,)),
    Case("account_unknown_query", get(f"{D}/account/research?foo=1"), (400,)),
    Case("users", get(f"{D}/users"), (200,)),
    Case("users_unknown_query", get(f"{D}/users?foo=1"), (400,)),
    Case("user_alice", get(f"{D}/user/alice"), (200,)),
    Case("user_query_ignored", get(f"{D}/user/alice?with_deleted=maybe"), (200,)),
    Case("user_unknown", get(f"{D}/user/nosuch"), (500,)),
    Case("associations", get(f"{D}/associations"), (200,)),
    Case("associations_yaml", get(f"{D}/associations", YAML), (200,)),
    Case("associations_user_cluster", get(f"{D}/associations?user=alice&cluster=lab"),
         (200,)),
    Case("associations_accounts", get(f"{D}/associations?account=physics%2Cresearch"),
         (200,)),
    Case("associations_raw_comma", get(f"{D}/associations?account=physics,research"),
         (400,)),
    Case("associations_empty_user", get(f"{D}/associations?user="), (200,)),
    Case("associations_upper_case", get(f"{D}/associations?user=ALICE&cluster=LAB"),
         (200,)),
    Case("associations_limits", get(f"{D}/associations?account=zt_conf_a"), (200,)),
    Case("association_partition",
         get(f"{D}/association?account=zt_conf_a&user=zt_conf_u&partition=debug"), (200,)),
    Case("account_limits", get(f"{D}/account/zt_conf_b"), (200,)),
    Case("account_odd_name", get(f"{D}/account/bad%20name"), (500,)),
    Case("account_number", get(f"{D}/account/1.5"), (500,)),
    Case("account_upper_case", get(f"{D}/account/RESEARCH"), (200,)),
    Case("user_coordinator", get(f"{D}/user/bob"), (200,)),
    Case("user_zt", get(f"{D}/user/zt_conf_u"), (200,)),
    Case("accounts_with_deleted_empty", get(f"{D}/accounts?with_deleted="), (200,)),
    # alice is no administrator: Slurm refuses, each operation with its own status
    Case("delete_account_refused", request("DELETE", f"{D}/account/zt_conf_b"), (200,)),
    Case("delete_account_unknown_refused", request("DELETE", f"{D}/account/nosuch"),
         (200,)),
    Case("delete_user_refused", request("DELETE", f"{D}/user/zt_conf_u"), (500,)),
    Case("delete_user_unknown_refused", request("DELETE", f"{D}/user/nosuch"), (500,)),
    Case("post_accounts_refused", post_accounts(
        b'{"accounts":[{"name":"zt_conf_new","description":"zt new","organization":"o"}]}'),
        (500,)),
    Case("post_accounts_existing_refused", post_accounts(
        b'{"accounts":[{"name":"zt_conf_b","description":"changed"}]}'), (500,)),
    Case("post_accounts_defaults_refused", post_accounts(
        b'{"accounts":[{"name":"zt_conf_new"},{"name":"zt_conf_new2"}]}'), (500,)),
    Case("post_users_refused", request(
        "POST", f"{D}/users", "Content-Type: application/json",
        body=b'{"users":[{"name":"zt_conf_nu","default":{"account":"research"}}]}'),
        (500,)),
    Case("post_users_no_list", request("POST", f"{D}/users",
                                       "Content-Type: application/json", body=b"{}"),
         (400,)),
    Case("associations_unknown_key", get(f"{D}/associations?foo=1&user=bob"), (200,)),
    Case("associations_none", get(f"{D}/associations?account=nosuch"), (500,)),
    Case("association_one", get(f"{D}/association?account=research&user=alice"), (200,)),
    Case("association_ambiguous", get(f"{D}/association"), (400,)),
    Case("association_none", get(f"{D}/association?account=nosuch"), (500,)),
]


SACCTMGR = ["sacctmgr", "-i"]
#: the objects made for these tests: an account with every kind of limit, a sub-account,
#: a user with a partition association, a coordinator (bob) inherited by the sub-account
SETUP = [
    ["add", "account", "zt_conf_a", "parent=research", "description=zt conformance",
     "organization=ztorg", "GrpTRES=cpu=4,mem=2G,license/matlab=3", "MaxWall=1-02:03:00",
     "GrpJobs=5", "GrpJobsAccrue=2", "GrpSubmitJobs=9", "MaxJobs=3", "MaxJobsAccrue=1",
     "MaxSubmitJobs=7", "Priority=10", "Fairshare=parent", "QOS=normal,high",
     "DefaultQOS=high", "GrpTRESMins=cpu=1000", "GrpTRESRunMins=cpu=500",
     "MaxTRESMinsPerJob=cpu=100", "MaxTRES=cpu=2,node=1", "MaxTRESPerNode=cpu=1",
     "GrpWall=300"],
    ["modify", "account", "zt_conf_a", "set", "MinPrioThresh=4"],
    ["add", "account", "zt_conf_b", "parent=zt_conf_a"],
    ["add", "user", "zt_conf_u", "account=zt_conf_a", "partition=debug"],
    ["add", "user", "zt_conf_u", "account=zt_conf_a"],
    ["add", "coordinator", "names=bob", "accounts=zt_conf_a"],
]
TEARDOWN = [
    ["delete", "coordinator", "names=bob", "accounts=zt_conf_a"],
    ["delete", "user", "zt_conf_u"],
    ["delete", "user", "zt_conf_nu"],
    ["delete", "account", "where", "name=zt_conf_new,zt_conf_new2"],
    ["delete", "account", "zt_conf_b"],
    ["delete", "account", "zt_conf_a"],
]


@pytest.fixture(scope="module", autouse=True)
def accounting_objects() -> Iterator[None]:
    try:
        for argv in SETUP:
            subprocess.run([*SACCTMGR, *argv], check=True, capture_output=True, timeout=60)
        yield
    finally:
        for argv in TEARDOWN:
            subprocess.run([*SACCTMGR, *argv], check=False, capture_output=True, timeout=60)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_conforms(case: Case) -> None:
    run_case(case)


# -- deliberate differences -----------------------------------------------------------------

def test_post_accounts_refuses_unsafe_values_before_slurm_sees_them() -> None:
    body = (b'{"accounts": [{"name": "Bad Name", "description": "x", '
            b'"organization": "y"}]}')
    ours, theirs = converse_both(post_accounts(body))
    assert ref("db_post_accounts_checks")
    assert ours.statuses == [400]  # named and refused before any sacctmgr runs
    assert theirs.statuses != [200]  # slurmrestd hands it on and Slurm refuses alice


def test_post_accounts_creates_a_usable_association() -> None:
    assert ref("db_post_accounts_association")
    token = subprocess.run(["scontrol", "token", "username=slurm", "lifespan=300"],
                           capture_output=True, text=True, check=True, timeout=30)
    jwt = token.stdout.strip().split("=", 1)[1]
    name = "zt_conf_assoc"
    body = (f'{{"accounts": [{{"name": "{name}", "description": "d", '
            f'"organization": "o"}}]}}').encode()
    req = request("POST", "/slurmdb/v0.0.38/accounts", "Content-Type: application/json",
                  "X-SLURM-USER-NAME: slurm", f"X-SLURM-USER-TOKEN: {jwt}", body=body)
    try:
        (resp,) = run_pipe(req).responses
        assert resp.status == 200
        assoc = subprocess.run(
            ["sacctmgr", "-n", "-P", "show", "assoc", "where", f"account={name}",
             "format=account"], capture_output=True, text=True, check=True, timeout=30)
        assert name in assoc.stdout.split()  # slurmrestd 22.05 saves no association
    finally:
        subprocess.run(["sacctmgr", "-i", "delete", "account", "where", f"name={name}"],
                       capture_output=True, check=False, timeout=60)


# -- POST users/accounts: associations, coordinators, flags, default wckey (administrator) --

ZT_ACCOUNT = "zt_users_cacct"
ZT_USER = "zt_users_cuser"


def _clean_zt_users() -> None:
    for argv in (["delete", "user", ZT_USER], ["delete", "account", ZT_ACCOUNT]):
        subprocess.run([*SACCTMGR, *argv], check=False, capture_output=True, timeout=60)


def _round_trip(prog: Program, steps: list[tuple[str, str, Any]]) -> list[tuple[int, Any]]:
    """Each step's status and body (meta left out), on freshly cleaned objects."""
    _clean_zt_users()
    try:
        answers = []
        for method, path, body in steps:
            resp = jwt.alone(prog, jwt.as_admin(method, path, body))
            data = json.loads(resp.body) if resp.body else None
            if isinstance(data, dict):
                data.pop("meta", None)
            answers.append((resp.status, data))
        return answers
    finally:
        _clean_zt_users()


USER_BODY = {"users": [{
    "name": ZT_USER,
    "associations": [{"account": ZT_ACCOUNT, "cluster": "lab", "partition": None,
                      "user": ZT_USER},
                     {"account": "physics", "cluster": "lab", "user": ZT_USER}],
    "default": {"account": ZT_ACCOUNT},
    "coordinators": [{"name": ZT_ACCOUNT, "direct": 1}, {"name": "physics"}]}]}
# (no flags here: slurmrestd's tables of account and user flags have no end marker, so
# reading one may read past them; the unknown flag cases are retried by jwt.run_case)


def test_post_coordinators_and_associations_round_trip() -> None:
    steps: list[tuple[str, str, Any]] = [
        ("POST", f"{D}/accounts", {"accounts": [{
            "name": ZT_ACCOUNT, "description": "zt users", "organization": "ztorg",
            "associations": [{"account": ZT_ACCOUNT, "cluster": "lab"}],
            "coordinators": [{"name": "bob", "direct": 1}]}]}),
        ("POST", f"{D}/users", USER_BODY),
        ("GET", f"{D}/user/{ZT_USER}", None),
        ("GET", f"{D}/account/{ZT_ACCOUNT}", None),
        ("GET", f"{D}/associations?user={ZT_USER}", None),
        # the GET answer posted back: nothing changes
        ("POST", f"{D}/users", {"users": [{**USER_BODY["users"][0], "associations": [
            {"account": ZT_ACCOUNT, "cluster": "lab", "partition": None,
             "user": ZT_USER}]}]}),
        ("GET", f"{D}/user/{ZT_USER}", None),
    ]
    theirs = _round_trip(Program.THEIRS, steps)
    ours = _round_trip(Program.OURS, steps)
    assert [status for status, _ in theirs] == [200] * len(steps), theirs
    assert ours == theirs
    user_answer = ours[2][1]["users"][0]
    assert user_answer["coordinators"] == [{"name": ZT_ACCOUNT, "direct": 1}]
    assert user_answer["default"]["account"] == ZT_ACCOUNT


def test_unknown_flags_are_refused_alike() -> None:
    for path, body in ((f"{D}/users", {"users": [{"name": "bob", "flags": ["BOGUS"]}]}),
                       (f"{D}/accounts", {"accounts": [{"name": "physics",
                                                        "flags": ["bogus"]}]})):
        jwt.run_case(Case("post_unknown_flag", jwt.as_admin("POST", path, body), (400,)))


def test_default_wckey_is_set() -> None:
    assert ref("db_post_users_default_wckey")
    setup = [["add", "user", ZT_USER, "account=physics", "cluster=lab"],
             ["add", "user", ZT_USER, "wckey=zt_users_first,zt_users_wk", "cluster=lab"]]
    steps: list[tuple[str, str, Any]] = [
        ("POST", f"{D}/users", {"users": [{"name": ZT_USER,
                                           "default": {"wckey": "zt_users_wk"}}]}),
        ("GET", f"{D}/user/{ZT_USER}", None)]
    found = {}
    for prog in (Program.THEIRS, Program.OURS):
        _clean_zt_users()
        for argv in setup:
            subprocess.run([*SACCTMGR, *argv], check=True, capture_output=True, timeout=60)
        try:
            answers = []
            for method, path, body in steps:
                resp = jwt.alone(prog, jwt.as_admin(method, path, body))
                answers.append((resp.status, json.loads(resp.body)))
        finally:
            _clean_zt_users()
        assert [status for status, _ in answers] == [200, 200]
        found[prog] = answers[1][1]["users"][0]["default"]["wckey"]
    # slurmrestd reads the wckey and stores nothing; we set it
    assert found == {Program.THEIRS: "zt_users_first", Program.OURS: "zt_users_wk"}


def test_post_users_refuses_unknown_accounts() -> None:
    assert ref("db_post_users_unknown_accounts")
    body = {"users": [{"name": ZT_USER, "default": {"account": "physics"},
                       "coordinators": [{"name": "zt_users_nosuch", "direct": 1}]}]}
    answers = {prog: _round_trip(prog, [("POST", f"{D}/users", body),
                                        ("GET", f"{D}/user/{ZT_USER}", None)])
               for prog in (Program.THEIRS, Program.OURS)}
    theirs, ours = answers[Program.THEIRS], answers[Program.OURS]
    # slurmrestd makes the user, coordinator of an account that does not exist
    assert theirs[0][0] == 200
    assert theirs[1][1]["users"][0]["coordinators"] == [
        {"name": "zt_users_nosuch", "direct": 1}]
    # we refuse before any change
    assert ours[0][0] == 400 and ours[1][0] == 500


def test_association_without_cluster_is_refused_first() -> None:
    assert ref("db_post_associations_checks")
    body = {"users": [{"name": ZT_USER, "associations": [{"account": "physics",
                                                          "user": ZT_USER}]}]}
    answers = {prog: _round_trip(prog, [("POST", f"{D}/users", body)])[0]
               for prog in (Program.THEIRS, Program.OURS)}
    status, theirs = answers[Program.THEIRS]
    assert (status, theirs["errors"][0]["error_number"]) == (500, -1)
    status, ours = answers[Program.OURS]
    assert (status, ours["errors"][0]["source"]) == (400, "users[0].associations[0].cluster")


def test_existing_users_level_stays_unless_given() -> None:
    assert ref("db_post_users_keeps_admin_level")
    setup = ["add", "user", ZT_USER, "account=physics", "adminlevel=operator"]
    found = {}
    for prog in (Program.THEIRS, Program.OURS):
        _clean_zt_users()
        subprocess.run([*SACCTMGR, *setup], check=True, capture_output=True, timeout=60)
        try:
            posted = jwt.alone(prog, jwt.as_admin("POST", f"{D}/users",
                                                   {"users": [{"name": ZT_USER}]}))
            assert posted.status == 200
            shown = jwt.alone(prog, jwt.as_admin("GET", f"{D}/user/{ZT_USER}"))
            found[prog] = json.loads(shown.body)["users"][0]["administrator_level"]
        finally:
            _clean_zt_users()
    assert found == {Program.THEIRS: "None", Program.OURS: "Operator"}
