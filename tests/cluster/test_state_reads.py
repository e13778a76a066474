"""GET diag, licenses, partitions, reservations through the real program and real Slurm.

The expected values come from Slurm's own commands run as the test user, in forms the
program does not use (``SLURM_TIME_FORMAT=%s`` for reservation times, ``sinfo`` for
partitions), so these tests check the program's reading of scontrol's text, not repeat it.
Partitions and reservations made for a test are made as root and removed afterwards; they
hold nothing anyone's jobs could want (no nodes, or a year away).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cluster.reads import ask, body, validate
from tests.helpers import TEST_USER, user

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

V = "/slurm/v0.0.38"


def as_test_user(*argv: str, env: dict[str, str] | None = None) -> str:
    u = user(TEST_USER)
    out = subprocess.run(list(argv), capture_output=True, text=True, check=True, timeout=60,
                         user=u.uid, group=u.gid, extra_groups=[], cwd="/",
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})})
    return out.stdout


# -- objects made for a test ------------------------------------------------------------------

@dataclass(frozen=True)
class Probes:
    """Names of the partition and reservations made for the tests."""

    partition: str
    cores: str
    licenses: str
    power: str

    @property
    def reservations(self) -> tuple[str, str, str]:
        return (self.cores, self.licenses, self.power)


def _root(*argv: str) -> None:
    out = subprocess.run(["scontrol", *argv], capture_output=True, text=True, timeout=60,
                         check=False)
    assert out.returncode == 0, f"scontrol {' '.join(argv)}: {out.stderr}{out.stdout}"


@contextlib.contextmanager
def probe_objects() -> Iterator[Probes]:
    """A hidden, draining partition without nodes and with most settings away from their
    defaults, and three reservations a year ahead (some cores of n1; a license; power),
    removed on the way out. Names carry the pid, so that runs side by side do not meet."""
    tag = f"srs{os.getpid()}"
    probes = Probes(f"{tag}_part", f"{tag}_cores", f"{tag}_lic", f"{tag}_power")
    minutes = 300 * 24 * 60 + os.getpid() % 5000  # a year ahead, spread over runs
    made: list[list[str]] = []
    try:
        _root("create", f"PartitionName={probes.partition}", "Nodes=", "State=DRAIN",
              "Hidden=YES", "AllowGroups=alice,bob", "DenyAccounts=physics",
              "MaxCPUsPerNode=3", "DefMemPerCPU=100", "MaxMemPerNode=1500",
              "OverTimeLimit=5", "MaxTime=UNLIMITED",
              "GraceTime=30", "Alternate=debug", "TRESBillingWeights=CPU=1.0,Mem=0.25G",
              "PriorityJobFactor=3", "PriorityTier=2", "MaxNodes=2", "MinNodes=1", "LLN=YES",
              "ExclusiveUser=YES", "RootOnly=YES", "ReqResv=YES", "DisableRootJobs=YES",
              "AllocNodes=n1", "QoS=high", "PreemptMode=SUSPEND")
        made.append(["delete", f"PartitionName={probes.partition}"])
        # (given on creation, an unlimited default time is taken as none)
        _root("update", f"PartitionName={probes.partition}", "DefaultTime=UNLIMITED")
        for name, settings in [
            (probes.cores, ["CoreCnt=2", "Nodes=n1", "Duration=1-02:00:00",
                            "Accounts=research", "MaxStartDelay=00:10:00",
                            "Flags=FLEX,MAGNETIC,NO_HOLD_JOBS_AFTER_END"]),
            (probes.licenses, ["Licenses=matlab:1", "Users=alice", "Duration=10",
                               "Flags=LICENSE_ONLY,PURGE_COMP=00:05:00"]),
            (probes.power, ["Watts=5K", "Users=alice,bob", "Duration=5",
                            "Flags=LICENSE_ONLY,PURGE_COMP"]),
        ]:
            _root("create", "reservation", f"ReservationName={name}",
                  f"StartTime=now+{minutes}minutes", *settings)
            made.append(["delete", f"ReservationName={name}"])
        yield probes
    finally:
        for argv in reversed(made):
            _root(*argv)


@pytest.fixture(scope="module")
def probes() -> Iterator[Probes]:
    with probe_objects() as made:
        yield made


# -- diag --------------------------------------------------------------------------------------

def test_diag_reports_sdiags_statistics() -> None:
    # slurmctld counts an RPC once it has answered it, and its counters start afresh at
    # midnight and at every restart: one sdiag first makes sure REQUEST_STATS_INFO is there.
    as_test_user("sdiag")
    before = int(time.time())
    (resp,) = ask(f"{V}/diag")
    assert resp.status == 200 and resp.content_type == "application/json"
    validate(f"{V}/diag", resp)
    stats = body(resp)["statistics"]
    assert stats["parts_packed"] == 1 and isinstance(stats["bf_active"], bool)
    assert before - 5 <= stats["req_time"] <= time.time() + 5
    assert 0 < stats["req_time_start"] <= stats["req_time"]
    report = as_test_user("sdiag")
    since = re.search(r"^Data since .*\((\d+)\)$", report, re.MULTILINE)
    assert since and int(since.group(1)) == stats["req_time_start"]
    assert {"user": TEST_USER, "user_id": user(TEST_USER).uid} in [
        {k: u[k] for k in ("user", "user_id")} for u in stats["rpcs_by_user"]]
    types = {r["message_type"] for r in stats["rpcs_by_message_type"]}
    assert "REQUEST_STATS_INFO" in types
    for rpc in stats["rpcs_by_message_type"] + stats["rpcs_by_user"]:
        assert rpc["count"] > 0 and rpc["average_time"] == rpc["total_time"] // rpc["count"]


# -- licenses ----------------------------------------------------------------------------------

def test_licenses_are_scontrols_in_the_controllers_order() -> None:
    (resp,) = ask(f"{V}/licenses")
    assert resp.status == 200
    validate(f"{V}/licenses", resp)
    licenses = body(resp)["licenses"]
    printed = {m[1]: m for m in re.finditer(
        r"LicenseName=(\S+) Total=(\d+) Used=(\d+) Free=(\d+) Reserved=(\d+) Remote=(\w+)",
        as_test_user("scontrol", "-o", "show", "licenses"))}
    assert [lic["LicenseName"] for lic in licenses] == ["matlab", "fluent"]  # the lab's
    for lic in licenses:
        m = printed[lic["LicenseName"]]
        assert (lic["Total"], lic["Remote"]) == (int(m[2]), m[6] == "yes")


# -- partitions -------------------------------------------------------------------------------

def test_partitions_agree_with_sinfo(probes: Probes) -> None:
    (resp,) = ask(f"{V}/partitions")
    assert resp.status == 200
    validate(f"{V}/partitions", resp)
    partitions = {p["name"]: p for p in body(resp)["partitions"]}
    # sinfo --all: name, node count, CPU count, time limit of every partition
    for line in as_test_user("sinfo", "--all", "--noheader", "-o", "%R %D %C %l").splitlines():
        name, nodes, cpus, limit = line.split()
        assert partitions[name]["total_nodes"] == int(nodes)
        assert partitions[name]["total_cpus"] == int(cpus.split("/")[-1])
        assert limit == "infinite" or partitions[name]["max_time_limit"] > 0
    assert partitions["debug"]["flags"] == ["default"]
    probe = partitions[probes.partition]  # hidden, and listed all the same
    assert probe["flags"] == ["hidden", "no_root", "root_only", "reservation_required",
                              "least_loaded_nodes", "exclusive_user"]
    assert probe["preemption_mode"] == ["suspend"]
    assert probe["default_time_limit"] == 4294967295  # slurmrestd's value for UNLIMITED
    assert (probe["max_time_limit"], probe["default_memory_per_cpu"],
            probe["maximum_memory_per_node"], probe["denied_accounts"],
            probe["nodes"], probe["state"]) == (-1, 100, 1500, "physics", "", "DRAIN")
    assert partitions["long"]["max_time_limit"] == 7 * 24 * 60


def test_one_partition_in_any_case_and_unknown_ones() -> None:
    one, shouted, nope = ask(f"{V}/partition/debug", f"{V}/partition/DeBuG/",
                             f"{V}/partition/no-such-partition")
    assert one.status == shouted.status == 200 and one.body == shouted.body
    assert [p["name"] for p in body(one)["partitions"]] == ["debug"]
    assert nope.status == 500 and nope.content_type == "application/json"
    validate(f"{V}/partition/{{partition_name}}", nope)
    assert body(nope)["partitions"] == []
    assert body(nope)["errors"] == [{
        "description": "Unable to find partition no-such-partition", "error_number": 2000,
        "error": "Invalid partition name specified", "source": "slurm_load_partitions"}]


def test_partition_names_never_reach_a_command_line() -> None:
    # decoded, these are an option and a Key=value pair: they only ever match nothing
    for name in ("--all", "%2D%2Dhelp", "State%3DDOWN", "debug%20long"):
        (resp,) = ask(f"{V}/partition/{name}")
        assert resp.status == 500 and body(resp)["errors"][0]["error_number"] == 2000


# -- reservations -----------------------------------------------------------------------------

def test_reservations_with_unix_times_from_slurm(probes: Probes) -> None:
    (resp,) = ask(f"{V}/reservations")
    assert resp.status == 200
    validate(f"{V}/reservations", resp)
    got = {r["name"]: r for r in body(resp)["reservations"]}
    # the same reservations, with the times printed as Unix seconds by scontrol itself
    text = as_test_user("scontrol", "-o", "show", "reservation",
                        env={"SLURM_TIME_FORMAT": "%s"})
    for m in re.finditer(r"ReservationName=(\S+) StartTime=(\d+) EndTime=(\d+)", text):
        assert (got[m[1]]["start_time"], got[m[1]]["end_time"]) == (int(m[2]), int(m[3]))
    assert set(probes.reservations) | {"maint"} <= set(got)
    cores, lic, power = (got[name] for name in probes.reservations)
    assert (cores["core_count"], cores["node_list"], cores["accounts"],
            cores["max_start_delay"]) == (2, "n1", "research", 600)
    assert cores["flags"] == ["FLEX", "SPEC_NODES", "NO_HOLD_JOBS_AFTER_END", "MAGNETIC"]
    assert lic["purge_completed"] == {"time": 300} and lic["licenses"] == "matlab:1"
    assert "PURGE_COMP" not in lic["flags"] and "purge_completed" not in cores
    assert power["watts"] == 5000 and power["users"] == "alice,bob"
    assert got["maint"]["watts"] == 4294967294 and got["maint"]["end_time"] - got[
        "maint"]["start_time"] == 3600


def test_one_reservation_and_unknown_ones(probes: Probes) -> None:
    one, shouted, nope = ask(f"{V}/reservation/{probes.licenses}",
                             f"{V}/reservation/{probes.licenses.upper()}",
                             f"{V}/reservation/nope")
    assert one.status == shouted.status == 200 and one.body == shouted.body
    assert [r["name"] for r in body(one)["reservations"]] == [probes.licenses]
    assert nope.status == 500
    validate(f"{V}/reservation/{{reservation_name}}", nope)
    assert body(nope)["reservations"] == []
    assert body(nope)["errors"][0]["error_number"] == 2053


# -- update_time and YAML ----------------------------------------------------------------------

@pytest.mark.parametrize("path", [f"{V}/partitions", f"{V}/partition/debug",
                                  f"{V}/reservations", f"{V}/reservation/maint"])
def test_update_time(path: str) -> None:
    future, past, bad = ask(f"{path}?update_time={int(time.time()) + 3600}",
                            f"{path}?update_time=0", f"{path}?update_time=soon")
    assert (future.status, future.body) == (304, b"")
    assert past.status == 200
    assert bad.status == 400 and bad.content_type == "application/json"
    assert body(bad)["errors"][0]["error_number"] == 9000


def same_but_unset_strings(in_json: Any, in_yaml: Any) -> bool:
    """Equal, except that an unset string is "" in JSON and null in YAML (slurmrestd's
    two writers differ so)."""
    if isinstance(in_json, dict) and isinstance(in_yaml, dict):
        return list(in_json) == list(in_yaml) and all(
            same_but_unset_strings(in_json[k], in_yaml[k]) for k in in_json)
    if isinstance(in_json, list) and isinstance(in_yaml, list):
        return len(in_json) == len(in_yaml) and all(
            same_but_unset_strings(a, b) for a, b in zip(in_json, in_yaml, strict=True))
    return bool(in_json == in_yaml or (in_json == "" and in_yaml is None))


def test_yaml_carries_the_same_data(probes: Probes) -> None:
    from ruamel.yaml import YAML

    paths = (f"{V}/licenses", f"{V}/partitions", f"{V}/reservations")
    as_json = ask(*paths)
    as_yaml = ask(*paths, accept="application/x-yaml")
    for j, y in zip(as_json, as_yaml, strict=True):
        assert y.status == 200 and y.content_type == "application/x-yaml"
        assert same_but_unset_strings(body(j), YAML(typ="safe", pure=True).load(y.body))
    debug = next(p for p in YAML(typ="safe", pure=True).load(as_yaml[1].body)["partitions"]
                 if p["name"] == "debug")
    assert debug["allowed_groups"] is None and debug["qos"] is None  # unset
    assert debug["nodes"] == "n[1-4]"
