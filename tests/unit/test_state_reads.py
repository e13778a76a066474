"""GET diag, licenses, partitions, reservations: the text readers and the handlers.

The command texts below were printed by the lab's Slurm 22.05.8 (plus partitions and
reservations made for the purpose), and each expected object is what Debian's slurmrestd
answered for the same data, so these tests pin the byte-level conformance down without a
cluster.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openapi_schema_validator import OAS30Validator

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.api.v0_0_38.diag import license_item, statistics
from slurmrest_stdio.api.v0_0_38.partitions import duration_seconds, partition
from slurmrest_stdio.api.v0_0_38.reservations import reservation
from slurmrest_stdio.app import Exchange
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.cli_diag import DiagCli, controller_order, parse_sdiag
from slurmrest_stdio.backend.cli_partitions import PartitionsCli, parse_oneliner
from slurmrest_stdio.backend.cli_reservations import ReservationsCli, unix_time
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.codec import dump_json
from slurmrest_stdio.config import OPENAPI_PLUGINS, Config
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import FakeBackend, make_app, talk

ALICE = Identity("alice", 1001, "rest_auth/local")
V = "/slurm/v0.0.38"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))
UNREACHABLE = SlurmCommandError([SlurmError(
    "Unable to contact slurm controller (connect failure)", 1800,
    "slurm_load_partitions error: Unable to contact slurm controller (connect failure)",
    "slurm_load_partitions")])

# -- what the lab's Slurm printed ---------------------------------------------------------

SDIAG = """\
*******************************************************
sdiag output at Sun Nov 22 01:08:43 2026 (1795309723)
Data since      Sun Nov 22 01:02:44 2026 (1795309364)
*******************************************************
Server thread count:  3
Agent queue size:     1
Agent count:          2
Agent thread count:   4
DBD Agent queue size: 5

Jobs submitted: 6
Jobs started:   7
Jobs completed: 8
Jobs canceled:  9
Jobs failed:    10

Job states ts:  Sun Nov 22 01:08:14 2026 (1795309694)
Jobs pending:   11
Jobs running:   12

Main schedule statistics (microseconds):
\tLast cycle:   13
\tMax cycle:    844
\tTotal cycles: 7
\tMean cycle:   134
\tMean depth cycle:  14
\tCycles per minute: 1
\tLast queue length: 15

Backfilling stats (WARNING: data obtained in the middle of backfilling execution.)
\tTotal backfilled jobs (since last slurm start): 16
\tTotal backfilled jobs (since last stats cycle start): 17
\tTotal backfilled heterogeneous job components: 18
\tTotal cycles: 19
\tLast cycle when: Sun Nov 22 01:07:00 2026 (1795309620)
\tLast cycle: 20
\tMax cycle:  21
\tMean cycle: 22
\tLast depth cycle: 23
\tLast depth cycle (try sched): 24
\tDepth Mean: 25
\tDepth Mean (try depth): 26
\tLast queue length: 27
\tQueue length mean: 28
\tLast table size: 29
\tMean table size: 30

Latency for 1000 calls to gettimeofday(): 26 microseconds

Remote Procedure Call statistics by message type
\tREQUEST_PING                            ( 1008) count:346    ave_time:242    total_time:84024
\tREQUEST_BUILD_INFO                      ( 2001) count:148    ave_time:315    total_time:46674

Remote Procedure Call statistics by user
\talice           (    1001) count:516    ave_time:264    total_time:136295
\t4242            (    4242) count:1      ave_time:9      total_time:9

Pending RPC statistics
\tREQUEST_TERMINATE_JOB                   ( 6011) count:2
\nPending RPCs
\t 1: REQUEST_TERMINATE_JOB                n1
"""

SDIAG_QUIET = """\
*******************************************************
sdiag output at Sun Nov 22 01:08:43 2026 (1795309723)
Data since      Sun Nov 22 01:08:00 2026 (1795309680)
*******************************************************
Server thread count:  3
Main schedule statistics (microseconds):
\tLast cycle:   0
\tMax cycle:    0
\tTotal cycles: 0
\tLast queue length: 0

Backfilling stats
\tTotal cycles: 0
\tLast cycle when: N/A
\tLast cycle: 0

Remote Procedure Call statistics by message type

Remote Procedure Call statistics by user

Pending RPC statistics
\tNo pending RPCs
"""

LICENSES = """\
LicenseName=fluent Total=10 Used=0 Free=10 Reserved=0 Remote=no
LicenseName=matlab Total=2 Used=1 Free=1 Reserved=0 Remote=no
"""

DEBUG = (
    "PartitionName=debug AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL "
    "Default=YES QoS=N/A DefaultTime=00:10:00 DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 "
    "Hidden=NO MaxNodes=UNLIMITED MaxTime=01:00:00 MinNodes=0 LLN=NO "
    "MaxCPUsPerNode=UNLIMITED Nodes=n[1-4] PriorityJobFactor=1 PriorityTier=1 RootOnly=NO "
    "ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=16 "
    "TotalNodes=4 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED "
    "MaxMemPerNode=UNLIMITED "
    "TRES=cpu=16,mem=8000M,node=4,billing=16,license/fluent=10,license/matlab=2"
)
DEBUG_JSON = {
    "flags": ["default"], "preemption_mode": ["disabled"], "allowed_allocation_nodes": "",
    "allowed_accounts": "", "allowed_groups": "", "allowed_qos": "", "alternative": "",
    "billing_weights": "", "default_memory_per_cpu": None, "default_memory_per_node": None,
    "default_time_limit": 10, "denied_accounts": "", "denied_qos": "",
    "preemption_grace_time": 0, "maximum_cpus_per_node": -1, "maximum_memory_per_cpu": None,
    "maximum_memory_per_node": None, "maximum_nodes_per_job": -1, "max_time_limit": 60,
    "min nodes per job": 0, "name": "debug", "nodes": "n[1-4]", "over_time_limit": None,
    "priority_job_factor": 1, "priority_tier": 1, "qos": "", "state": "UP",
    "total_cpus": 16, "total_nodes": 4,
    "tres": "cpu=16,mem=8000M,node=4,billing=16,license/fluent=10,license/matlab=2",
}
PROBE = (
    "PartitionName=zz_probe AllowGroups=alice,bob DenyAccounts=physics AllowQos=ALL "
    "AllocNodes=n1 Alternate=debug Default=NO CpuBind=cores  QoS=high DefaultTime=NONE "
    "DisableRootJobs=YES ExclusiveUser=YES GraceTime=30 Hidden=YES MaxNodes=2 "
    "MaxTime=2-03:04:00 MinNodes=1 LLN=YES MaxCPUsPerNode=3 Nodes=(null) "
    "PriorityJobFactor=3 PriorityTier=2 RootOnly=YES ReqResv=YES OverSubscribe=FORCE:2 "
    "OverTimeLimit=5 PreemptMode=GANG,SUSPEND State=DRAIN TotalCPUs=0 TotalNodes=0 "
    "SelectTypeParameters=NONE JobDefaults=(null) DefMemPerCPU=100 MaxMemPerNode=1500 "
    "TRES=license/fluent=10,license/matlab=2 TRESBillingWeights=CPU=1.0,Mem=0.25G"
)
PROBE_JSON = {
    "flags": ["hidden", "no_root", "root_only", "reservation_required", "least_loaded_nodes",
              "exclusive_user"],
    "preemption_mode": ["suspend", "gang_schedule"], "allowed_allocation_nodes": "n1",
    "allowed_accounts": "", "allowed_groups": "alice,bob", "allowed_qos": "",
    "alternative": "debug", "billing_weights": "CPU=1.0,Mem=0.25G",
    "default_memory_per_cpu": 100, "default_memory_per_node": None,
    "default_time_limit": None, "denied_accounts": "physics", "denied_qos": "",
    "preemption_grace_time": 30, "maximum_cpus_per_node": 3,
    "maximum_memory_per_cpu": None, "maximum_memory_per_node": 1500,
    "maximum_nodes_per_job": 2, "max_time_limit": 3064, "min nodes per job": 1,
    "name": "zz_probe", "nodes": "", "over_time_limit": 5, "priority_job_factor": 3,
    "priority_tier": 2, "qos": "high", "state": "DRAIN", "total_cpus": 0, "total_nodes": 0,
    "tres": "license/fluent=10,license/matlab=2",
}
# the same partition after `scontrol update ... DefaultTime=UNLIMITED MaxTime=UNLIMITED ...`
PROBE_UNLIMITED = (
    "PartitionName=zz_probe AllowGroups=alice,bob AllowAccounts=research DenyQos=normal "
    "AllocNodes=n1 Alternate=debug Default=NO QoS=high DefaultTime=UNLIMITED "
    "DisableRootJobs=YES ExclusiveUser=YES GraceTime=30 Hidden=YES MaxNodes=UNLIMITED "
    "MaxTime=UNLIMITED MinNodes=1 LLN=YES MaxCPUsPerNode=UNLIMITED Nodes= "
    "PriorityJobFactor=3 PriorityTier=2 RootOnly=YES ReqResv=YES OverSubscribe=FORCE:2 "
    "OverTimeLimit=UNLIMITED PreemptMode=REQUEUE State=INACTIVE TotalCPUs=0 TotalNodes=0 "
    "SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=700 MaxMemPerCPU=300 "
    "TRES=(null)"
)
PROBE_UNLIMITED_JSON = {
    **PROBE_JSON,
    "preemption_mode": ["requeue"], "allowed_accounts": "research", "billing_weights": "",
    "default_memory_per_cpu": None, "default_memory_per_node": 700,
    # slurmrestd 22.05 prints INFINITE raw here (its -1 is overwritten)
    "default_time_limit": 4294967295,
    # hidden by scontrol while AllowAccounts is set (slurmrestd: "physics")
    "denied_accounts": "", "denied_qos": "normal",
    "maximum_cpus_per_node": -1, "maximum_memory_per_cpu": 300,
    "maximum_memory_per_node": None, "maximum_nodes_per_job": -1, "max_time_limit": -1,
    "over_time_limit": 65535, "state": "INACTIVE", "tres": "",
}

MAINT = (
    "ReservationName=maint StartTime=1795912911 EndTime=1795916511 Duration=01:00:00 "
    "Nodes=n4 NodeCnt=1 CoreCnt=4 Features=(null) PartitionName=(null) "
    "Flags=MAINT,SPEC_NODES TRES=cpu=4 Users=root Groups=(null) Accounts=(null) "
    "Licenses=(null) State=INACTIVE BurstBuffer=(null) Watts=n/a MaxStartDelay=(null)"
)
MAINT_JSON = {
    "flags": ["MAINT", "SPEC_NODES"], "accounts": "", "burst_buffer": "", "core_count": 4,
    "core_spec_cnt": 0, "end_time": 1795916511, "features": "", "groups": "", "licenses": "",
    "max_start_delay": 0, "name": "maint", "node_count": 1, "node_list": "n4",
    "partition": "", "start_time": 1795912911, "watts": 4294967294, "tres": "cpu=4",
    "users": "root",
}
CORES = (
    "ReservationName=zz_core StartTime=1821316469 EndTime=1821410069 Duration=1-02:00:00 "
    "Nodes=n1 NodeCnt=1 CoreCnt=2 Features= PartitionName=debug "
    "Flags=FLEX,SPEC_NODES,NO_HOLD_JOBS_AFTER_END,MAGNETIC   NodeName=n1 CoreIDs=0-1 "
    "TRES=cpu=2 Users=(null) Groups=(null) Accounts=research Licenses=(null) "
    "State=INACTIVE BurstBuffer=(null) Watts=n/a MaxStartDelay=00:10:00"
)
CORES_JSON = {
    "flags": ["FLEX", "SPEC_NODES", "NO_HOLD_JOBS_AFTER_END", "MAGNETIC"],
    "accounts": "research", "burst_buffer": "", "core_count": 2, "core_spec_cnt": 1,
    "end_time": 1821410069, "features": "", "groups": "", "licenses": "",
    "max_start_delay": 600, "name": "zz_core", "node_count": 1, "node_list": "n1",
    "partition": "debug", "start_time": 1821316469, "watts": 4294967294, "tres": "cpu=2",
    "users": "",
}
POWER = (
    "ReservationName=zz_watts StartTime=1821402872 EndTime=1821403172 Duration=00:05:00 "
    "Nodes=(null) NodeCnt=0 CoreCnt=0 Features=(null) PartitionName=(null) "
    "Flags=ANY_NODES,PURGE_COMP=00:05:00 TRES=(null) Users=alice,bob Groups=(null) "
    "Accounts=(null) Licenses=(null) State=INACTIVE BurstBuffer=(null) Watts=5K "
    "MaxStartDelay=(null)"
)
POWER_JSON = {
    "flags": ["ANY_NODES"], "accounts": "", "burst_buffer": "", "core_count": 0,
    "core_spec_cnt": 0, "end_time": 1821403172, "features": "", "groups": "", "licenses": "",
    "max_start_delay": 0, "name": "zz_watts", "node_count": 0, "node_list": "",
    "partition": "", "purge_completed": {"time": 300}, "start_time": 1821402872,
    "watts": 5000, "tres": "", "users": "alice,bob",
}


def one(line: str, first_key: str) -> dict[str, str]:
    (record,) = parse_oneliner(line + "\n", first_key)
    return record


# -- the one-line reader ------------------------------------------------------------------

def test_oneliner_values_may_hold_equals_signs_commas_and_be_empty() -> None:
    record = one(PROBE_UNLIMITED, "PartitionName")
    assert record["TRES"] == "(null)" and record["Nodes"] == ""
    assert one(PROBE, "PartitionName")["TRESBillingWeights"] == "CPU=1.0,Mem=0.25G"
    assert one(PROBE, "PartitionName")["CpuBind"] == "cores"
    assert one(DEBUG, "PartitionName")["TRES"].endswith("license/matlab=2")


def test_oneliner_repeated_keys_and_non_record_lines() -> None:
    assert one(CORES, "ReservationName")["NodeName"] == "n1"
    two = CORES.replace("NodeName=n1 CoreIDs=0-1", "NodeName=n1 CoreIDs=0-1 NodeName=n2 "
                        "CoreIDs=2")
    assert one(two, "ReservationName")["NodeName"] == "n1,n2"
    assert parse_oneliner("No partitions in the system\n", "PartitionName") == []
    assert parse_oneliner(f"{DEBUG}\n\n{PROBE}\n", "PartitionName")[1]["PartitionName"] \
        == "zz_probe"


# -- sdiag ---------------------------------------------------------------------------------

def test_sdiag_report_becomes_slurmctlds_named_statistics() -> None:
    stats = statistics(parse_sdiag(SDIAG))
    assert list(stats)[:2] == ["rpcs_by_message_type", "rpcs_by_user"]
    assert stats["rpcs_by_message_type"][1] == {
        "message_type": "REQUEST_BUILD_INFO", "type_id": 2001, "count": 148,
        "average_time": 315, "total_time": 46674}
    assert stats["rpcs_by_user"] == [
        {"user": "alice", "user_id": 1001, "count": 516, "average_time": 264,
         "total_time": 136295},
        {"user": "4242", "user_id": 4242, "count": 1, "average_time": 9, "total_time": 9}]
    rest = {k: v for k, v in stats.items() if not k.startswith("rpcs")}
    assert rest == {
        "parts_packed": 1, "req_time": 1795309723, "req_time_start": 1795309364,
        "server_thread_count": 3, "agent_queue_size": 1, "agent_count": 2,
        "agent_thread_count": 4, "dbd_agent_queue_size": 5, "gettimeofday_latency": 26,
        "schedule_cycle_max": 844, "schedule_cycle_last": 13, "schedule_cycle_total": 7,
        "schedule_cycle_mean": 134, "schedule_cycle_mean_depth": 14,
        "schedule_cycle_per_minute": 1, "schedule_queue_length": 15, "jobs_submitted": 6,
        "jobs_started": 7, "jobs_completed": 8, "jobs_canceled": 9, "jobs_failed": 10,
        "jobs_pending": 11, "jobs_running": 12, "job_states_ts": 1795309694,
        "bf_backfilled_jobs": 16, "bf_last_backfilled_jobs": 17, "bf_backfilled_het_jobs": 18,
        "bf_cycle_counter": 19, "bf_cycle_mean": 22, "bf_depth_mean": 25,
        "bf_depth_mean_try": 26, "bf_cycle_last": 20, "bf_cycle_max": 21, "bf_queue_len": 27,
        "bf_queue_len_mean": 28, "bf_table_size": 29, "bf_table_size_mean": 30,
        "bf_when_last_cycle": 1795309620, "bf_active": True,
    }
    assert list(rest)[-1] == "bf_active"


def test_sdiag_values_it_leaves_out_are_slurmrestds_zeros() -> None:
    stats = statistics(parse_sdiag(SDIAG_QUIET))
    assert stats["rpcs_by_message_type"] == stats["rpcs_by_user"] == []
    assert stats["schedule_cycle_mean"] == stats["schedule_cycle_per_minute"] == 0
    assert stats["bf_when_last_cycle"] == stats["bf_cycle_mean"] == 0
    assert stats["bf_active"] is False and stats["jobs_pending"] == 0


def test_sdiag_rejects_what_is_not_a_report() -> None:
    with pytest.raises(ValueError, match="sdiag output at"):
        parse_sdiag("No data available. Probably slurmctld is not working\n")


# -- licenses ------------------------------------------------------------------------------

def test_license_records_become_typed_items() -> None:
    records = parse_oneliner(LICENSES, "LicenseName")
    assert license_item(records[1]) == {"LicenseName": "matlab", "Total": 2, "Used": 1,
                                        "Free": 1, "Reserved": 0, "Remote": False}
    assert license_item({**records[0], "Remote": "yes", "Total": "-1"})["Remote"] is True
    assert license_item({**records[0], "Total": "-1"})["Total"] == 4294967295
    with pytest.raises(ValueError, match="Remote"):
        license_item({**records[0], "Remote": "maybe"})
    with pytest.raises(KeyError):
        license_item({"LicenseName": "x"})


@pytest.mark.parametrize(("configured", "order"), [
    ("fluent:10,matlab:2", ["matlab", "fluent"]),
    ("matlab:2;fluent:10", ["fluent", "matlab"]),
    ("fluent:3,matlab:2,fluent:7", ["matlab", "fluent"]),
    ("fluent", ["fluent", "matlab"]),  # not configured: last
])
def test_licenses_come_in_slurmctlds_order(configured: str, order: list[str]) -> None:
    records = parse_oneliner(LICENSES, "LicenseName")
    assert [r["LicenseName"] for r in controller_order(records, configured)] == order


def test_remote_licenses_come_first() -> None:
    records = [*parse_oneliner(LICENSES, "LicenseName"),
               {"LicenseName": "a@db", "Remote": "yes"}, {"LicenseName": "b@db",
                                                          "Remote": "yes"}]
    got = [r["LicenseName"] for r in controller_order(records, "fluent:10,matlab:2")]
    assert got == ["b@db", "a@db", "matlab", "fluent"]


# -- partitions ------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "expected"), [
    (DEBUG, DEBUG_JSON), (PROBE, PROBE_JSON), (PROBE_UNLIMITED, PROBE_UNLIMITED_JSON),
], ids=["lab_default", "probe", "probe_unlimited"])
def test_partition_is_slurmrestds_object(line: str, expected: dict[str, Any]) -> None:
    got = partition(one(line, "PartitionName"))
    assert list(got) == list(DEBUG_JSON)  # slurmrestd's key order
    assert got == expected


@pytest.mark.parametrize(("words", "expected"), [
    ({"PreemptMode": "CANCEL"}, {"preemption_mode": []}),
    ({"PreemptMode": "WITHIN,REQUEUE"}, {"preemption_mode": ["requeue", "within"]}),
    ({"DefMemPerCPU": "UNLIMITED"}, {"default_memory_per_cpu": None}),
    ({"DefMemPerCPU": str(0x7FFFFFFFFFFFFFFE)}, {"default_memory_per_cpu": None}),
    ({"DefMemPerNode": str(0xFFFFFFFFFFFFFFFE)}, {"default_memory_per_node": None}),
    ({"MaxCPUsPerNode": "4294967294"}, {"maximum_cpus_per_node": None}),
    ({"DefaultTime": "1-00:00:00"}, {"default_time_limit": 1440}),
    ({"AllowAccounts": "research", "AllowQos": "high"},
     {"allowed_accounts": "research", "allowed_qos": "high"}),
])
def test_partition_special_values(words: dict[str, str], expected: dict[str, Any]) -> None:
    record = one(DEBUG, "PartitionName")
    if "DefMemPerCPU" in words:
        del record["DefMemPerNode"]
    got = partition({**record, **words})
    assert {k: got[k] for k in expected} == expected


def test_partition_output_it_cannot_read() -> None:
    record = one(DEBUG, "PartitionName")
    with pytest.raises(ValueError, match="duration"):
        partition({**record, "MaxTime": "soon"})
    del record["TotalCPUs"]
    with pytest.raises(KeyError):
        partition(record)
    assert duration_seconds("2-03:04:05") == 2 * 86400 + 3 * 3600 + 4 * 60 + 5


# -- reservations ----------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "expected"), [
    (MAINT, MAINT_JSON), (CORES, CORES_JSON), (POWER, POWER_JSON),
], ids=["maint", "cores", "power"])
def test_reservation_is_slurmrestds_object(line: str, expected: dict[str, Any]) -> None:
    got = reservation(one(line, "ReservationName"))
    assert list(got) == list(expected)
    assert got == expected


def test_reservation_flags_and_power_words() -> None:
    record = one(MAINT, "ReservationName")
    got = reservation({**record, "Flags": "PURGE_COMP,DAILY", "Watts": "INFINITE"})
    assert got["flags"] == ["DAILY"] and got["purge_completed"] == {"time": 0}
    assert got["watts"] == 4294967295
    assert reservation({**record, "Watts": "3M"})["watts"] == 3000000
    assert reservation({**record, "Watts": "1234"})["watts"] == 1234
    assert reservation({**record, "Flags": ""})["flags"] == []


def test_times_are_read_in_the_commands_zone() -> None:
    assert unix_time("2026-11-29T00:41:51", dt.UTC) == 1795912911
    berlin = ZoneInfo("Europe/Berlin")
    assert unix_time("2026-11-29T01:41:51", berlin) == 1795912911
    assert unix_time("2026-07-01T02:00:00", berlin) == unix_time("2026-07-01T00:00:00", dt.UTC)
    assert unix_time("Unknown", berlin) == 0 and unix_time("None", berlin) == 0xFFFFFFFE
    with pytest.raises(ValueError):
        unix_time("next tuesday", berlin)


# -- the backend mixins, with canned command output --------------------------------------------

@dataclass
class Canned:
    """Command output by argv; records every command line it was asked to run."""

    outputs: dict[tuple[str, ...], Outcome]
    argvs: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, argv: Sequence[str]) -> Outcome:
        self.argvs.append(tuple(argv))
        return self.outputs[tuple(argv)]


def ok(text: str) -> Outcome:
    return Outcome(0, text.encode(), b"")


PART_ARGV = ("scontrol", "--all", "--oneliner", "show", "partition")
RESV_ARGV = ("scontrol", "--oneliner", "show", "reservation")
LIC_ARGV = ("scontrol", "--oneliner", "show", "licenses")
CONF_ARGV = ("scontrol", "show", "config")


class CannedCli(DiagCli, PartitionsCli, ReservationsCli):
    def __init__(self, canned: Canned) -> None:
        super().__init__(Config(), environ={})
        self.canned = canned

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        assert who == ALICE and stdin is None
        return self.canned.run(argv)


def test_backend_partitions_match_names_without_case_and_never_pass_them_on() -> None:
    canned = Canned({PART_ARGV: ok(f"{DEBUG}\n{PROBE}\n")})
    cli = CannedCli(canned)
    assert [r["PartitionName"] for r in cli.partitions(ALICE)] == ["debug", "zz_probe"]
    assert [r["PartitionName"] for r in cli.partitions(ALICE, "ZZ_Probe")] == ["zz_probe"]
    with pytest.raises(SlurmCommandError) as info:
        cli.partitions(ALICE, "--all")
    assert info.value.status == 500
    assert info.value.errors[0].to_dict() == {
        "description": "Unable to find partition --all", "error_number": 2000,
        "error": "Invalid partition name specified", "source": "slurm_load_partitions"}
    assert set(canned.argvs) == {PART_ARGV}


def test_backend_failures_carry_slurms_error() -> None:
    down = Outcome(1, b"", b"slurm_load_partitions error: Unable to contact slurm controller "
                         b"(connect failure)\n")
    cli = CannedCli(Canned({PART_ARGV: down, RESV_ARGV: down, LIC_ARGV: down,
                            ("sdiag",): Outcome(255, b"", down.stderr)}))
    for call, source in [(cli.partitions, "slurm_load_partitions"),
                         (cli.reservations, "slurm_load_reservations"),
                         (cli.licenses, "slurm_load_licenses"),
                         (cli.diag, "slurm_get_statistics")]:
        with pytest.raises(SlurmCommandError) as info:
            call(ALICE)
        (err,) = info.value.errors
        assert (err.error_number, err.source) == (1800, source)


def test_backend_sdiag_that_is_no_report_is_a_500() -> None:
    cli = CannedCli(Canned({("sdiag",): ok("something else\n")}))
    with pytest.raises(SlurmCommandError, match="cannot read sdiag"):
        cli.diag(ALICE)


def test_backend_reservation_times_become_unix_seconds() -> None:
    printed = MAINT.replace("StartTime=1795912911", "StartTime=2026-11-29T00:41:51").replace(
        "EndTime=1795916511", "EndTime=2026-11-29T01:41:51")
    cli = CannedCli(Canned({RESV_ARGV: ok(printed + "\n")}))
    (record,) = cli.reservations(ALICE, "MAINT")
    # the lab runs in UTC; the zone itself is covered by test_times_are_read_in_the_commands_zone
    zone_offset = dt.datetime(2026, 11, 29, tzinfo=dt.UTC).astimezone().utcoffset()
    shift = int(zone_offset.total_seconds()) if zone_offset else 0
    assert int(record["StartTime"]) + shift == 1795912911
    assert int(record["EndTime"]) - int(record["StartTime"]) == 3600
    with pytest.raises(SlurmCommandError) as info:
        cli.reservations(ALICE, "nope")
    assert info.value.errors[0].error_number == 2053
    bad = CannedCli(Canned({RESV_ARGV: ok(printed.replace("2026-11-29T00", "soon") + "\n")}))
    with pytest.raises(SlurmCommandError, match="StartTime"):
        bad.reservations(ALICE)
    assert CannedCli(Canned({RESV_ARGV: ok("No reservations in the system\n")})).reservations(
        ALICE) == []


def test_backend_licenses_ask_for_the_configured_order_only_when_it_matters() -> None:
    canned = Canned({LIC_ARGV: ok(LICENSES),
                     CONF_ARGV: ok("Foo = bar\nLicenses                = fluent:10,matlab:2\n")})
    assert [r["LicenseName"] for r in CannedCli(canned).licenses(ALICE)] == ["matlab",
                                                                             "fluent"]
    single = Canned({LIC_ARGV: ok(LICENSES.splitlines()[0])})
    assert len(CannedCli(single).licenses(ALICE)) == 1 and single.argvs == [LIC_ARGV]
    none = Canned({LIC_ARGV: ok("No licenses configured in Slurm.\n")})
    assert CannedCli(none).licenses(ALICE) == []
    unknown = Canned({LIC_ARGV: ok(LICENSES), CONF_ARGV: Outcome(1, b"", b"error\n")})
    assert [r["LicenseName"] for r in CannedCli(unknown).licenses(ALICE)] == ["fluent",
                                                                              "matlab"]


# -- the handlers, with a fake backend ----------------------------------------------------

@dataclass
class StateBackend(FakeBackend):
    stats: dict[str, Any] = field(default_factory=lambda: parse_sdiag(SDIAG))
    license_records: list[dict[str, str]] = field(
        default_factory=lambda: parse_oneliner(LICENSES, "LicenseName"))
    partition_lines: str = f"{DEBUG}\n{PROBE}\n"
    reservation_lines: str = f"{MAINT}\n{CORES}\n{POWER}\n"
    changed: bool = True
    asked: list[tuple[Any, ...]] = field(default_factory=list)

    def _failing(self) -> None:
        if self.fail is not None:
            raise self.fail

    def diag(self, who: Identity) -> dict[str, Any]:
        self._failing()
        return self.stats

    def licenses(self, who: Identity) -> list[dict[str, str]]:
        self._failing()
        return self.license_records

    def changed_since(self, kind: str, update_time: int, who: Identity) -> bool:
        self.asked.append(("changed_since", kind, update_time))
        return self.changed

    def partitions(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        self.asked.append(("partitions", name))
        self._failing()
        records = parse_oneliner(self.partition_lines, "PartitionName")
        if name is None:
            return records
        found = [r for r in records if r["PartitionName"].lower() == name.lower()]
        if not found:
            raise SlurmCommandError([SlurmError("Invalid partition name specified", 2000,
                                                f"Unable to find partition {name}",
                                                "slurm_load_partitions")])
        return found

    def reservations(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        self.asked.append(("reservations", name))
        self._failing()
        records = parse_oneliner(self.reservation_lines, "ReservationName")
        return [r for r in records if name is None or r["ReservationName"] == name]


def get(path: str, backend: StateBackend | None = None, *headers: tuple[str, str]) -> Exchange:
    return make_app(backend or StateBackend()).handle(Request("GET", path, tuple(headers)))


def body_of(ex: Exchange) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ex.response.body)
    return data


def validate(path: str, status: int, body: Any) -> None:
    response = SPEC["paths"][path]["get"]["responses"][str(status)]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    OAS30Validator({"$ref": ref, "components": SPEC["components"]}).validate(body)


def test_diag_handler() -> None:
    ex = get(f"{V}/diag")
    assert ex.response.status == 200
    body = body_of(ex)
    assert list(body) == ["meta", "errors", "statistics"]
    assert body["statistics"] == statistics(parse_sdiag(SDIAG))
    validate(f"{V}/diag", 200, body)


def test_diag_failure_keeps_slurmrestds_empty_tables() -> None:
    ex = get(f"{V}/diag", StateBackend(fail=UNREACHABLE))
    assert ex.response.status == 500
    body = body_of(ex)
    assert body["statistics"] == {"rpcs_by_message_type": [], "rpcs_by_user": []}
    assert body["errors"] == [UNREACHABLE.errors[0].to_dict()]
    validate(f"{V}/diag", 500, body)


def test_licenses_handler() -> None:
    ex = get(f"{V}/licenses/")
    body = body_of(ex)
    assert ex.response.status == 200 and [lic["LicenseName"] for lic in body["licenses"]] \
        == ["fluent", "matlab"]
    validate(f"{V}/licenses", 200, body)
    assert body_of(get(f"{V}/licenses", StateBackend(license_records=[])))["licenses"] == []
    broken = get(f"{V}/licenses", StateBackend(license_records=[{"LicenseName": "x"}]))
    assert broken.response.status == 500
    assert "cannot read the output of scontrol show licenses" in \
        body_of(broken)["errors"][0]["description"]
    failed = get(f"{V}/licenses", StateBackend(fail=UNREACHABLE))
    assert failed.response.status == 500 and "licenses" not in body_of(failed)


def test_partitions_handler_bytes() -> None:
    ex = get(f"{V}/partitions")
    assert ex.response.status == 200
    expected = json.loads(ex.response.body)
    expected["partitions"] = [DEBUG_JSON, PROBE_JSON]
    assert ex.response.body == dump_json(expected).encode()
    validate(f"{V}/partitions", 200, body_of(ex))


def test_partition_by_name_in_any_case() -> None:
    backend = StateBackend()
    ex = get(f"{V}/partition/ZZ_PROBE", backend)
    assert body_of(ex)["partitions"] == [PROBE_JSON]
    assert backend.asked == [("partitions", "ZZ_PROBE")]  # no update_time: no question


def test_unknown_partition_is_500_with_an_empty_list() -> None:
    ex = get(f"{V}/partition/nope")
    assert ex.response.status == 500
    body = body_of(ex)
    assert body["partitions"] == []
    assert body["errors"] == [{"description": "Unable to find partition nope",
                               "error_number": 2000, "error": "Invalid partition name specified",
                               "source": "slurm_load_partitions"}]
    validate(f"{V}/partition/{{partition_name}}", 500, body)


def test_no_partition_at_all_is_slurmrestds_error() -> None:
    ex = get(f"{V}/partitions", StateBackend(partition_lines="No partitions in the system\n"))
    assert ex.response.status == 500
    assert body_of(ex)["errors"][0]["error_number"] == 2000


def test_unreadable_partition_text_is_a_500_envelope() -> None:
    ex = get(f"{V}/partitions", StateBackend(partition_lines="PartitionName=x State=UP\n"))
    assert ex.response.status == 500
    body = body_of(ex)
    assert body["partitions"] == []
    assert body["errors"][0]["description"].startswith(
        "cannot read the output of scontrol show partition: missing '")


@pytest.mark.parametrize("path", [f"{V}/partitions", f"{V}/partition/debug",
                                  f"{V}/reservations", f"{V}/reservation/maint"])
def test_update_time(path: str) -> None:
    kind = "partitions" if "partition" in path else "reservations"
    backend = StateBackend(changed=False)
    ex = get(f"{path}?update_time=1795309364", backend)
    assert (ex.response.status, ex.response.body) == (304, b"")
    assert backend.asked == [("changed_since", kind, 1795309364)]  # no command run
    backend = StateBackend(changed=True)
    assert get(f"{path}?update_time=0", backend).response.status == 200
    assert backend.asked[0] == ("changed_since", kind, 0)


@pytest.mark.parametrize("path", [f"{V}/partitions", f"{V}/reservation/maint"])
@pytest.mark.parametrize("value", ["abc", "", "1e3"])
def test_bad_update_time_is_a_400_envelope(path: str, value: str) -> None:
    backend = StateBackend()
    ex = get(f"{path}?update_time={value}", backend)
    assert ex.response.status == 400 and ex.response.content_type == "application/json"
    body = body_of(ex)
    collection = "partitions" if "partition" in path else "reservations"
    assert body[collection] == []
    (err,) = body["errors"]
    assert (err["error_number"], err["source"]) == (9000, "update_time")
    assert repr(value) in err["description"]
    assert backend.asked == []


def test_diag_and_licenses_ignore_update_time() -> None:
    backend = StateBackend(changed=False)
    assert get(f"{V}/diag?update_time=abc", backend).response.status == 200
    assert get(f"{V}/licenses?update_time=9999999999", backend).response.status == 200
    assert backend.asked == []


def test_reservations_handler_bytes() -> None:
    ex = get(f"{V}/reservations")
    expected = json.loads(ex.response.body)
    expected["reservations"] = [MAINT_JSON, CORES_JSON, POWER_JSON]
    assert ex.response.body == dump_json(expected).encode()
    validate(f"{V}/reservations", 200, body_of(ex))
    assert body_of(get(f"{V}/reservations", StateBackend(reservation_lines="")))[
        "reservations"] == []


def test_reservation_failures_are_500_with_an_empty_list() -> None:
    ex = get(f"{V}/reservations", StateBackend(fail=UNREACHABLE))
    assert ex.response.status == 500
    assert body_of(ex)["reservations"] == []
    validate(f"{V}/reservations", 500, body_of(ex))
    broken = get(f"{V}/reservation/maint",
                 StateBackend(reservation_lines=MAINT.replace("CoreCnt=4", "CoreCnt=many")))
    assert broken.response.status == 500
    assert "cannot read the output of scontrol show reservation" in \
        body_of(broken)["errors"][0]["description"]


def test_yaml_and_byte_by_byte() -> None:
    for path in ("diag", "licenses", "partitions", "reservation/zz_core"):
        data = f"GET {V}/{path} HTTP/1.1\r\nAccept: application/x-yaml\r\n\r\n".encode()
        code, out = talk(data, bytewise=True, backend=StateBackend())
        assert code == 0 and out.startswith(b"HTTP/1.1 200 ")
        assert b"Content-Type: application/x-yaml" in out


def test_schema_rejects_wrong_types() -> None:
    body = body_of(get(f"{V}/partitions"))
    body["partitions"][0]["total_cpus"] = "16"
    with pytest.raises(Exception, match="is not of type 'integer'"):
        validate(f"{V}/partitions", 200, body)


def test_unset_strings_are_null_in_yaml_and_empty_in_json() -> None:
    from ruamel.yaml import YAML

    ex = get(f"{V}/partition/zz_probe", None, ("accept", "text/yaml"))
    assert ex.response.content_type == "text/yaml"
    (probe,) = YAML(typ="safe", pure=True).load(ex.response.body)["partitions"]
    assert probe["nodes"] is None and probe["allowed_qos"] is None  # (null), ALL
    assert probe["allowed_groups"] == "alice,bob"
    assert body_of(get(f"{V}/partition/zz_probe"))["partitions"][0]["nodes"] == ""
    unlimited = partition(one(PROBE_UNLIMITED, "PartitionName"), None)
    assert unlimited["nodes"] == "" and unlimited["tres"] is None  # printed empty vs unset
    ex = get(f"{V}/reservation/zz_core", None, ("accept", "application/x-yaml"))
    (cores,) = YAML(typ="safe", pure=True).load(ex.response.body)["reservations"]
    assert cores["features"] == "" and cores["users"] is None and cores["groups"] is None
