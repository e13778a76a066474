"""``/slurm/v0.0.38/``: GET reservations, GET reservation/{reservation_name}.

Built from ``scontrol show reservation --oneliner`` records whose times the backend has
already turned into Unix seconds. ``Watts=n/a`` stands for both 0 and "not set" (NO_VAL);
it is reported as NO_VAL, what a reservation without a power request holds.
"""

from __future__ import annotations

from typing import Any

from slurmrest_stdio.api import Context, Payload, Result, read_collection
from slurmrest_stdio.api.v0_0_38.diag import unreadable
from slurmrest_stdio.api.v0_0_38.partitions import (
    INFINITE,
    NO_VAL,
    duration_seconds,
    null_string,
    text,
)

_PURGE_COMP = "PURGE_COMP"
#: scontrol's power words -> watts
_WATTS = {"n/a": NO_VAL, "INFINITE": INFINITE}
_WATTS_UNITS = {"K": 1000, "M": 1000000}


def get_reservations(ctx: Context) -> Result:
    """``GET reservations``: every reservation."""
    return _answer(ctx, None)


def get_reservation(ctx: Context) -> Result:
    """``GET reservation/{reservation_name}``: one reservation (the name in any case)."""
    return _answer(ctx, ctx.params["reservation_name"])


def _answer(ctx: Context, name: str | None) -> Result:
    def load() -> Result:
        records = ctx.backend.reservations(ctx.identity, name)
        try:
            reservations = [reservation(r, null_string(ctx)) for r in records]
        except (KeyError, ValueError) as exc:
            raise unreadable("scontrol show reservation", exc,
                             "slurm_load_reservations") from None
        return Payload({"reservations": reservations})

    return read_collection(ctx, "reservations", load)


def reservation(record: dict[str, str], null: str | None = "") -> dict[str, Any]:
    """One v0.0.38 reservation from a ``scontrol show reservation --oneliner`` record
    (``StartTime``/``EndTime`` in Unix seconds); unset strings are ``null`` (see
    :func:`~slurmrest_stdio.api.v0_0_38.partitions.text`).

    Raises:
        KeyError, ValueError: a field is missing or not what scontrol prints.
    """
    flags: list[str] = []
    purge: int | None = None
    for flag in record.get("Flags", "").split(","):
        if flag == _PURGE_COMP or flag.startswith(_PURGE_COMP + "="):
            # the one flag with a value: how long the reservation may sit idle
            after = flag.partition("=")[2]
            purge = duration_seconds(after) if after else 0
        elif flag:
            flags.append(flag)
    # each node with only part of its cores reserved has a "NodeName=... CoreIDs=..." pair
    core_nodes = record.get("NodeName")
    delay = record.get("MaxStartDelay", "(null)")
    item: dict[str, Any] = {
        "flags": flags,
        "accounts": text(record.get("Accounts"), null),
        "burst_buffer": text(record.get("BurstBuffer"), null),
        "core_count": int(record["CoreCnt"]),
        "core_spec_cnt": len(core_nodes.split(",")) if core_nodes else 0,
        "end_time": int(record["EndTime"]),
        "features": text(record.get("Features"), null),
        "groups": text(record.get("Groups"), null),
        "licenses": text(record.get("Licenses"), null),
        "max_start_delay": 0 if delay == "(null)" else duration_seconds(delay),
        "name": record["ReservationName"],
        "node_count": int(record["NodeCnt"]),
        "node_list": text(record.get("Nodes"), null),
        "partition": text(record.get("PartitionName"), null),
    }
    if purge is not None:
        item["purge_completed"] = {"time": purge}
    item.update({
        "start_time": int(record["StartTime"]),
        "watts": _watts(record.get("Watts", "n/a")),
        "tres": text(record.get("TRES"), null),
        "users": text(record.get("Users"), null),
    })
    return item


def _watts(value: str) -> int:
    if value in _WATTS:
        return _WATTS[value]
    unit = _WATTS_UNITS.get(value[-1:])
    return int(value[:-1]) * unit if unit else int(value)
