"""``/slurm/v0.0.38/``: ping, diag, licenses (controller-wide reads)."""

from __future__ import annotations

from typing import Any

from slurmrest_stdio.api import Context, Payload
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: slurmctld's statistics in slurmrestd's order, after the two RPC tables; a value the
#: backend does not report (sdiag leaves out means over zero cycles) is 0, as slurmrestd
#: computes it
STATISTICS = (
    "parts_packed", "req_time", "req_time_start", "server_thread_count",
    "agent_queue_size", "agent_count", "agent_thread_count", "dbd_agent_queue_size",
    "gettimeofday_latency", "schedule_cycle_max", "schedule_cycle_last",
    "schedule_cycle_total", "schedule_cycle_mean", "schedule_cycle_mean_depth",
    "schedule_cycle_per_minute", "schedule_queue_length", "jobs_submitted", "jobs_started",
    "jobs_completed", "jobs_canceled", "jobs_failed", "jobs_pending", "jobs_running",
    "job_states_ts", "bf_backfilled_jobs", "bf_last_backfilled_jobs",
    "bf_backfilled_het_jobs", "bf_cycle_counter", "bf_cycle_mean", "bf_depth_mean",
    "bf_depth_mean_try", "bf_cycle_last", "bf_cycle_max", "bf_queue_len",
    "bf_queue_len_mean", "bf_table_size", "bf_table_size_mean", "bf_when_last_cycle",
)
_RPC_TYPE_KEYS = ("message_type", "type_id", "count", "average_time", "total_time")
_RPC_USER_KEYS = ("user", "user_id", "count", "average_time", "total_time")
#: the license fields, in slurmrestd's order: (scontrol's key, kind)
_LICENSE_FIELDS = (("LicenseName", "str"), ("Total", "int"), ("Used", "int"),
                   ("Free", "int"), ("Reserved", "int"), ("Remote", "bool"))


def get_ping(ctx: Context) -> Payload:
    """``GET ping``: every configured slurmctld and whether it answers."""
    pings = ctx.backend.ping(ctx.identity)
    return Payload({
        "pings": [
            {"hostname": p.hostname, "ping": p.ping, "status": p.status, "mode": p.mode}
            for p in pings
        ]
    })


def get_diag(ctx: Context) -> Payload:
    """``GET diag``: slurmctld's statistics (``sdiag``)."""
    try:
        raw = ctx.backend.diag(ctx.identity)
    except SlurmCommandError as exc:
        # slurmrestd answers the (empty) tables it had started, and the error
        return Payload({"statistics": {"rpcs_by_message_type": [], "rpcs_by_user": []}},
                       exc.status, tuple(e.to_dict() for e in exc.errors))
    return Payload({"statistics": statistics(raw)})


def statistics(raw: dict[str, Any]) -> dict[str, Any]:
    """The v0.0.38 ``statistics`` object from the backend's named values."""
    stats: dict[str, Any] = {
        "rpcs_by_message_type": [
            {key: rpc[key] for key in _RPC_TYPE_KEYS}
            for rpc in raw.get("rpcs_by_message_type", ())
        ],
        "rpcs_by_user": [
            {key: rpc[key] for key in _RPC_USER_KEYS} for rpc in raw.get("rpcs_by_user", ())
        ],
    }
    # a report exists only when slurmctld packed one: parts_packed is then always 1
    stats.update((key, int(raw.get(key, 1 if key == "parts_packed" else 0)))
                 for key in STATISTICS)
    stats["bf_active"] = bool(raw.get("bf_active", False))
    return stats


def get_licenses(ctx: Context) -> Payload:
    """``GET licenses``: every license slurmctld tracks (``scontrol show licenses``)."""
    records = ctx.backend.licenses(ctx.identity)
    try:
        licenses = [license_item(r) for r in records]
    except (KeyError, ValueError) as exc:
        raise unreadable("scontrol show licenses", exc, "slurm_load_licenses") from None
    return Payload({"licenses": licenses})


def license_item(record: dict[str, str]) -> dict[str, Any]:
    """One v0.0.38 license from a ``scontrol show licenses --oneliner`` record.

    Raises:
        KeyError, ValueError: a field is missing or not what scontrol prints.
    """
    item: dict[str, Any] = {}
    for key, kind in _LICENSE_FIELDS:
        value = record[key]
        if kind == "int":
            # scontrol prints Total with %d: a count above 2^31 would show negative
            item[key] = int(value) % (1 << 32)
        elif kind == "bool":
            if value not in ("yes", "no"):
                raise ValueError(f"{key}={value!r}")
            item[key] = value == "yes"
        else:
            item[key] = value
    return item


def unreadable(command: str, exc: Exception, source: str) -> SlurmCommandError:
    """A 500 for command output we could not read (a Slurm we do not know)."""
    what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
    return SlurmCommandError([SlurmError(
        "Unspecified error", -1, f"cannot read the output of {command}: {what}", source,
    )])
