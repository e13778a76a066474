"""``/slurm/v0.0.38/``: GET partitions, GET partition/{partition_name}.

Built from ``scontrol show partition --oneliner`` records. scontrol prints Slurm's special
values as words (``UNLIMITED``, ``NONE``, ``N/A``, ``ALL``, ``(null)``); each is turned back
into what slurmrestd prints for the value behind it (an unset string is "" in JSON but null
in YAML, as in slurmrestd's two writers). Two things the text cannot tell:
``DenyAccounts``/``DenyQos`` are hidden when an allow list is set too (Slurm then ignores
them), and a partition without its own ``PreemptMode`` shows the cluster's mode where
slurmrestd says "disabled".
"""

from __future__ import annotations

import re
from typing import Any

from slurmrest_stdio.api import Context, Payload, Result, read_collection
from slurmrest_stdio.api.v0_0_38.diag import unreadable
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: Slurm's ESLURM_INVALID_PARTITION_NAME
INVALID_PARTITION_NAME = SlurmError("Invalid partition name specified", 2000)

INFINITE = 0xFFFFFFFF
NO_VAL = 0xFFFFFFFE
INFINITE16 = 0xFFFF
NO_VAL64 = 0xFFFFFFFFFFFFFFFE
MEM_PER_CPU = 0x8000000000000000

#: (scontrol key, value that sets the flag, v0.0.38 flag), in slurmrestd's order
_FLAGS = (
    ("Default", "YES", "default"),
    ("Hidden", "YES", "hidden"),
    ("DisableRootJobs", "YES", "no_root"),
    ("RootOnly", "YES", "root_only"),
    ("ReqResv", "YES", "reservation_required"),
    ("LLN", "YES", "least_loaded_nodes"),
    ("ExclusiveUser", "YES", "exclusive_user"),
)
#: scontrol's preemption words -> v0.0.38 names, in slurmrestd's order (CANCEL has none)
_PREEMPT = (("SUSPEND", "suspend"), ("REQUEUE", "requeue"), ("GANG", "gang_schedule"),
            ("WITHIN", "within"))
#: (compiled on first use, by re's cache, not at every start-up)
_DURATION = r"^(?:(?P<days>\d+)-)?(?P<h>\d+):(?P<m>\d+):(?P<s>\d+)$"


def duration_seconds(text: str) -> int:
    """Seconds from Slurm's ``[days-]HH:MM:SS``.

    Raises:
        ValueError: not in that form.
    """
    m = re.match(_DURATION, text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return (int(m["days"] or 0) * 86400 + int(m["h"]) * 3600 + int(m["m"]) * 60
            + int(m["s"]))


def text(value: str | None, null: str | None, *absent: str) -> str | None:
    """A string field. An unset one (scontrol's "(null)", a missing key, or one of the
    words in ``absent`` that scontrol prints for an unset list) becomes ``null``: slurmrestd
    writes such a string as "" in JSON but as null in YAML. A value printed empty is ""."""
    if value is None or value == "(null)" or value in absent:
        return null
    return value


def null_string(ctx: Context) -> str | None:
    """What an unset string is in the response's format (see :func:`text`)."""
    from slurmrest_stdio import codec

    return None if codec.MEDIA_TYPES[ctx.media_type] == "yaml" else ""


# -- the operations ---------------------------------------------------------------------

def get_partitions(ctx: Context) -> Result:
    """``GET partitions``: every partition, hidden ones included."""
    return _answer(ctx, None)


def get_partition(ctx: Context) -> Result:
    """``GET partition/{partition_name}``: one partition (the name in any case)."""
    return _answer(ctx, ctx.params["partition_name"])


def _answer(ctx: Context, name: str | None) -> Result:
    def load() -> Result:
        records = ctx.backend.partitions(ctx.identity, name)
        if not records:  # slurmrestd's rule: no partition at all is an error too
            raise SlurmCommandError([SlurmError(
                INVALID_PARTITION_NAME.error, INVALID_PARTITION_NAME.error_number,
                "No partitions in the system", "slurm_load_partitions")])
        try:
            partitions = [partition(r, null_string(ctx)) for r in records]
        except (KeyError, ValueError) as exc:
            raise unreadable("scontrol show partition", exc, "slurm_load_partitions") from None
        return Payload({"partitions": partitions})

    return read_collection(ctx, "partitions", load)


def partition(record: dict[str, str], null: str | None = "") -> dict[str, Any]:
    """One v0.0.38 partition from a ``scontrol show partition --oneliner`` record; unset
    strings are ``null`` (see :func:`text`).

    Raises:
        KeyError, ValueError: a field is missing or not what scontrol prints.
    """
    flags = [flag for key, on, flag in _FLAGS if record.get(key) == on]
    def_cpu, def_node = _memory(record, "DefMemPerCPU", "DefMemPerNode")
    max_cpu, max_node = _memory(record, "MaxMemPerCPU", "MaxMemPerNode")
    return {
        "flags": flags,
        "preemption_mode": _preemption(record["PreemptMode"]),
        "allowed_allocation_nodes": text(record["AllocNodes"], null, "ALL"),
        "allowed_accounts": text(record.get("AllowAccounts"), null, "ALL"),
        "allowed_groups": text(record["AllowGroups"], null, "ALL"),
        "allowed_qos": text(record.get("AllowQos"), null, "ALL"),
        "alternative": text(record.get("Alternate"), null),
        "billing_weights": text(record.get("TRESBillingWeights"), null),
        "default_memory_per_cpu": def_cpu,
        "default_memory_per_node": def_node,
        "default_time_limit": _minutes(record["DefaultTime"], {
            # slurmrestd 22.05 means -1 here but overwrites it with the raw value
            "UNLIMITED": INFINITE, "NONE": None,
        }),
        # scontrol shows a deny list only when there is no allow list
        "denied_accounts": text(record.get("DenyAccounts"), null),
        "denied_qos": text(record.get("DenyQos"), null),
        "preemption_grace_time": int(record["GraceTime"]),
        "maximum_cpus_per_node": _count(record["MaxCPUsPerNode"], {"UNLIMITED": -1}, NO_VAL),
        "maximum_memory_per_cpu": max_cpu,
        "maximum_memory_per_node": max_node,
        "maximum_nodes_per_job": _count(record["MaxNodes"], {"UNLIMITED": -1}),
        "max_time_limit": _minutes(record["MaxTime"], {"UNLIMITED": -1}),
        "min nodes per job": int(record["MinNodes"]),
        "name": record["PartitionName"],
        "nodes": text(record["Nodes"], null),
        "over_time_limit": _count(record["OverTimeLimit"],
                                  {"NONE": None, "UNLIMITED": INFINITE16}),
        "priority_job_factor": int(record["PriorityJobFactor"]),
        "priority_tier": int(record["PriorityTier"]),
        "qos": text(record["QoS"], null, "N/A"),
        "state": record["State"],
        "total_cpus": int(record["TotalCPUs"]),
        "total_nodes": int(record["TotalNodes"]),
        "tres": text(record.get("TRES"), null),
    }


def _count(value: str, words: dict[str, int | None], null: int | None = None) -> int | None:
    if value in words:
        return words[value]
    number = int(value)
    return None if number == null else number


def _minutes(value: str, words: dict[str, int | None]) -> int | None:
    if value in words:
        return words[value]
    return duration_seconds(value) // 60


def _memory(record: dict[str, str], per_cpu: str, per_node: str) -> tuple[int | None, ...]:
    """(per CPU, per node) MiB, at most one of them set; null for "no limit/default"."""
    if per_cpu in record:
        value = record[per_cpu]
        # NO_VAL64 has the per-CPU bit set: scontrol prints what remains without it
        if value == "UNLIMITED" or int(value) in (0, NO_VAL64 & ~MEM_PER_CPU):
            return None, None
        return int(value), None
    value = record[per_node]
    if value == "UNLIMITED" or int(value) in (0, NO_VAL64):
        return None, None
    return None, int(value)


def _preemption(value: str) -> list[str]:
    words = set(value.split(","))
    if value == "OFF":
        return ["disabled"]
    return [name for word, name in _PREEMPT if word in words]
