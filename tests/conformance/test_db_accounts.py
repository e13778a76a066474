"""GET accounts, users, associations (slurmdb): slurmrest-stdio against Debian's slurmrestd.

The fixture's accounting data is the same for both programs, so the bodies must be the
same bytes (JSON) or the same data (YAML), key order included; odd queries and names that
match nothing must get slurmrestd's statuses and bodies too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.conformance.differences import ref
from tests.conformance.harness import Case, converse_both, run_case
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
