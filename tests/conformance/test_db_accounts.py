"""GET accounts, users, associations (slurmdb): slurmrest-stdio against Debian's slurmrestd.

The fixture's accounting data is the same for both programs, so the bodies must be the
same bytes (JSON) or the same data (YAML), key order included; odd queries and names that
match nothing must get slurmrestd's statuses and bodies too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.conformance.harness import Case, run_case
from tests.helpers import request

D = "/slurmdb/v0.0.38"
YAML = "Accept: application/x-yaml"


def get(path: str, *headers: str) -> bytes:
    return request("GET", path, *headers)


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
