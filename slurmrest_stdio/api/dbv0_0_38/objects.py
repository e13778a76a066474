"""``/slurmdb/v0.0.38/``: tres, clusters, wckeys, qos.

Built from ``sacctmgr -P -n show ... withdeleted`` rows (see
:mod:`slurmrest_stdio.backend.cli_dbobjects`). slurmrestd's dbv0.0.38 writer prints an
unset string as ``null`` in JSON and YAML alike, and its database errors carry no
``description``: both are copied here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slurmrest_stdio import errors
from slurmrest_stdio.api import Context, Payload, Result
from slurmrest_stdio.api.values import guess_value, path_text
from slurmrest_stdio.errors import SlurmCommandError
from slurmrest_stdio.protocol import Response

PREFIX = "/slurmdb/v0.0.38"



def nothing_found(source: str) -> dict[str, Any]:
    """Slurm's ESLURM_REST_EMPTY_RESULT: slurmrestd's answer (500) when a database query
    finds no record at all."""
    return {"description": "Nothing found", "error_number": 9003,
            "error": "Nothing found with query", "source": source}


#: sacctmgr's cluster flag words -> dbv0.0.38 names, in slurmrestd's order
_CLUSTER_FLAGS = (("MultipleSlurmd", "MULTIPLE_SLURMD"), ("FrontEnd", "FRONT_END"),
                  ("Cray", "CRAY_NATIVE"), ("Federation", "FEDERATION"),
                  ("External", "EXTERNAL"))
#: Slurm's select plugin ids (slurm.h) -> the names slurmrestd prints
_SELECT_PLUGINS = {101: "cons_res", 102: "linear", 106: "serial", 107: "cray_aries+linear",
                   108: "cray_aries+cons_res", 109: "cons_tres", 110: "cray_aries+cons_tres"}
#: sacctmgr prints memory-like TRES counts (MiB) with a unit
_UNITS = {"K": 1, "M": 1, "G": 1024, "T": 1024 ** 2, "P": 1024 ** 3, "E": 1024 ** 4}


def _db_errors(exc: SlurmCommandError) -> tuple[dict[str, Any], ...]:
    """slurmrestd's entries for a failed database query: no description."""
    return tuple({"error_number": e.error_number, "error": e.error, "source": e.source}
                 for e in exc.errors)


def _text(value: str) -> str | None:
    return value or None


# -- tres ---------------------------------------------------------------------------------

def tres_record(row: dict[str, str], count: int = 0) -> dict[str, Any]:
    """One dbv0.0.38 TRES (``count`` is 0 in the TRES table itself)."""
    return {"type": row["type"], "name": _text(row["name"]), "id": int(row["id"]),
            "count": count}


def get_tres(ctx: Context) -> Result:
    """``GET tres``: every TRES in the database, deleted ones included."""
    try:
        rows = ctx.backend.db_tres(ctx.identity)
    except SlurmCommandError as exc:
        return Payload({"TRES": []}, exc.status, _db_errors(exc))
    if not rows:
        return Payload({"TRES": []}, 500, (nothing_found("slurmdb_tres_get"),))
    return Payload({"TRES": [tres_record(r) for r in rows]})


# -- clusters -----------------------------------------------------------------------------

def tres_count(text: str) -> int:
    """A count as sacctmgr prints it in a TRES string ("8000M", "16G", "4").

    Raises:
        ValueError: not a count.
    """
    if text[-1:] in _UNITS:
        return int(text[:-1]) * _UNITS[text[-1]]
    return int(text)


def cluster_tres(text: str, tres: list[dict[str, str]]) -> list[dict[str, Any]]:
    """A cluster's ``TRES`` column (``cpu=16,fs/disk=0,mem=8000M``) as dbv0.0.38 TRES
    records, in TRES id order as slurmdbd keeps them."""
    by_key = {(f"{r['type']}/{r['name']}" if r["name"] else r["type"]): r for r in tres}
    found = []
    for item in filter(None, text.split(",")):
        key, _, count = item.rpartition("=")
        row = by_key.get(key)
        if row is not None:
            found.append(tres_record(row, tres_count(count)))
    return sorted(found, key=lambda t: int(t["id"]))


def cluster_record(row: dict[str, str], tres: list[dict[str, str]]) -> dict[str, Any]:
    """One dbv0.0.38 cluster from a sacctmgr row.

    Raises:
        ValueError: a number that is not one.
    """
    words = set(row["flags"].split(","))
    select = int(row["select"]) if row["select"] else 0
    return {
        "controller": {"host": row["host"], "port": int(row["port"] or 0)},
        "flags": [name for word, name in _CLUSTER_FLAGS if word in words],
        "name": row["name"],
        "nodes": _text(row["nodes"]),
        "select_plugin": _SELECT_PLUGINS.get(select),
        # slurmdbd never fills the root association of a cluster it lists
        "associations": {"root": None},
        "rpc_version": int(row["rpc"] or 0),
        "tres": cluster_tres(row["tres"], tres),
    }


def get_clusters(ctx: Context) -> Result:
    """``GET clusters``: every cluster, deleted ones included."""
    return _clusters(ctx, None)


def get_cluster(ctx: Context) -> Result:
    """``GET cluster/{cluster_name}``: one cluster; none is a 500 "Nothing found"."""
    return _clusters(ctx, ctx.params["cluster_name"])


def _clusters(ctx: Context, name: str | None) -> Result:
    try:
        tres = ctx.backend.db_tres(ctx.identity)
        rows = ctx.backend.db_clusters(ctx.identity)
    except SlurmCommandError as exc:
        return Payload({"clusters": []}, exc.status, _db_errors(exc))
    if name is not None:
        # slurmdbd compares names without regard to case
        rows = [r for r in rows if r["name"].lower() == name.lower()]
    if not rows:
        return Payload({"clusters": []}, 500, (nothing_found("slurmdb_clusters_get"),))
    return Payload({"clusters": [cluster_record(r, tres) for r in rows]})


# -- wckeys -------------------------------------------------------------------------------

def wckey_record(row: dict[str, str]) -> dict[str, Any]:
    """One dbv0.0.38 wckey from a sacctmgr row."""
    flags = [flag for key, flag in (("deleted", "DELETED"), ("default", "DEFAULT"))
             if row[key]]
    return {"accounts": [], "cluster": row["cluster"], "id": int(row["id"]),
            "name": row["name"], "user": row["user"], "flags": flags}


def get_wckeys(ctx: Context) -> Result:
    """``GET wckeys``: every wckey, deleted ones included (administrators only)."""
    return _wckeys(ctx, None)


def get_wckey(ctx: Context) -> Result:
    """``GET wckey/{wckey}``: the wckeys of that name (for every user and cluster)."""
    return _wckeys(ctx, ctx.params["wckey"])


def _wckeys(ctx: Context, name: str | None) -> Result:
    try:
        rows = ctx.backend.db_wckeys(ctx.identity)
    except SlurmCommandError as exc:
        return Payload({"wckeys": []}, exc.status, _db_errors(exc))
    if name is not None:  # slurmdbd compares names without regard to case
        rows = [r for r in rows if r["name"].lower() == name.lower()]
    if not rows:
        return Payload({"wckeys": []}, 500, (nothing_found("slurmdb_wckeys_get"),))
    return Payload({"wckeys": [wckey_record(r) for r in rows]})


# -- qos ----------------------------------------------------------------------------------

#: sacctmgr's QOS flag words -> dbv0.0.38 names, in slurmrestd's order
_QOS_FLAGS = (("PartitionMinNodes", "PARTITION_MINIMUM_NODE"),
              ("PartitionMaxNodes", "PARTITION_MAXIMUM_NODE"),
              ("PartitionTimeLimit", "PARTITION_TIME_LIMIT"),
              ("EnforceUsageThreshold", "ENFORCE_USAGE_THRESHOLD"),
              ("NoReserve", "NO_RESERVE"), ("RequiresReservation", "REQUIRED_RESERVATION"),
              ("DenyOnLimit", "DENY_LIMIT"), ("OverPartQOS", "OVERRIDE_PARTITION_QOS"),
              ("NoDecay", "NO_DECAY"), ("UsageFactorSafe", "USAGE_FACTOR_SAFE"))
#: preemption modes in slurmrestd's order (no mode, "cluster" or "OFF", is an empty list)
_PREEMPT_MODES = ("SUSPEND", "REQUEUE", "CANCEL", "GANG")
_INVALID_QUERY = {"description": "Unknown query field", "error_number": 9000,
                  "error": "Query empty or not RFC7320 compliant"}


def _count(text: str) -> int | None:
    """A sacctmgr number; blank (unset or unlimited) is slurmrestd's null."""
    return int(text) if text.isdigit() else None


def _real(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def clock_seconds(text: str) -> int | None:
    """sacctmgr's ``[days-]hh:mm:ss`` (or ``mm:ss``) as seconds; blank or ``UNLIMITED``
    is null."""
    if not text or not text[0].isdigit():
        return None
    days, _, clock = text.rpartition("-")
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total + int(days or 0) * 86400


def _clock_minutes(text: str) -> int | None:
    seconds = clock_seconds(text)
    return None if seconds is None else seconds // 60


def qos_record(row: dict[str, str], tres: list[dict[str, str]],
               ids: dict[str, int]) -> dict[str, Any]:
    """One dbv0.0.38 QOS from a sacctmgr row; ``ids`` maps every listed QOS name to its
    id (slurmdbd keeps the preemptable QOS as a bitmap by id).

    Raises:
        ValueError: a number that is not one.
    """
    def tl(field: str) -> list[dict[str, Any]]:
        return cluster_tres(row[field], tres)

    def per(account: str, user: str) -> dict[str, Any]:
        return {"per": {"account": _count(row[account]), "user": _count(row[user])}}

    words = set(row["flags"].split(","))
    modes = set(row["preempt_mode"].upper().split(","))
    preempt = sorted((n for n in row["preempt"].split(",") if n in ids), key=ids.__getitem__)
    return {
        "description": _text(row["description"]),
        "flags": [name for word, name in _QOS_FLAGS if word in words],
        "id": int(row["id"]),
        "limits": {
            "grace_time": clock_seconds(row["grace"]),
            "max": {
                "active_jobs": {"accruing": _count(row["grp_jobs_accrue"]),
                                "count": _count(row["grp_jobs"])},
                "tres": {
                    "total": tl("grp_tres"),
                    "minutes": {"per": {"qos": tl("grp_tres_run_mins"),
                                        "job": tl("max_tres_mins_pj"),
                                        "account": tl("max_tres_run_mins_pa"),
                                        "user": tl("max_tres_run_mins_pu")}},
                    "per": {"account": tl("max_tres_pa"), "job": tl("max_tres_pj"),
                            "node": tl("max_tres_pn"), "user": tl("max_tres_pu")},
                },
                "wall_clock": {"per": {"qos": _clock_minutes(row["grp_wall"]),
                                       "job": _clock_minutes(row["max_wall"])}},
                "jobs": {"active_jobs": per("max_jobs_pa", "max_jobs_pu"),
                         **per("max_submit_pa", "max_submit_pu")},
                "accruing": per("max_jobs_accrue_pa", "max_jobs_accrue_pu"),
            },
            "factor": _real(row["limit_factor"]),
            "min": {"priority_threshold": _count(row["min_prio_thresh"]),
                    "tres": {"per": {"job": tl("min_tres_pj")}}},
        },
        "name": row["name"],
        "preempt": {"list": preempt, "mode": [m for m in _PREEMPT_MODES if m in modes],
                    "exempt_time": clock_seconds(row["preempt_exempt"])},
        "priority": _count(row["priority"]),
        "usage_factor": _real(row["usage_factor"]),
        "usage_threshold": _real(row["usage_thres"]),
    }


def _qos_query(ctx: Context) -> bool | None:
    """``?with_deleted=`` as slurmrestd converts it to a boolean; None for any other
    key (slurmrestd's 400)."""
    flag = False
    for key, values in ctx.query.items():
        if key.lower() != "with_deleted":
            return None
        value = guess_value(values[-1])
        flag = bool(value) if isinstance(value, (bool, int, float)) else value is not None
    return flag


def get_qos_list(ctx: Context) -> Result:
    """``GET qos``: every QOS."""
    return _qos(ctx, None)


def get_qos(ctx: Context) -> Result:
    """``GET qos/{qos_name}``: the QOS of exactly that name; none is an empty list (200),
    not slurmrestd's usual "Nothing found"."""
    return _qos(ctx, path_text(ctx.params["qos_name"]))


def _qos(ctx: Context, name: str | None) -> Result:
    if "," in ctx.query_string:  # slurmrestd's URL parser refuses an unescaped comma
        raise errors.BadRequest("Unable to parse query.")
    with_deleted = _qos_query(ctx)
    if with_deleted is None:
        return Payload({}, 400, (_INVALID_QUERY,))
    try:
        rows = ctx.backend.db_qos(ctx.identity, with_deleted)
        tres = ctx.backend.db_tres(ctx.identity)
    except SlurmCommandError as exc:
        return Payload({"QOS": []}, exc.status, _db_errors(exc))
    ids = {r["name"]: int(r["id"]) for r in rows}
    # slurmrestd compares QOS names with regard to case
    return Payload({"QOS": [qos_record(r, tres, ids) for r in rows
                            if name is None or r["name"] == name]})


def delete_qos(ctx: Context) -> Result:
    """``DELETE qos/{qos_name}``: 200 with ``removed_qos``; nothing removed is slurmrestd's
    500 "Nothing found"; a refusal is 500 with Slurm's error (no description). A name
    that is not a plain name is never passed on: it is answered as "Nothing found"."""
    if "," in ctx.query_string:
        raise errors.BadRequest("Unable to parse query.")
    source = "slurmdb_qos_remove"
    try:
        removed = ctx.backend.db_delete_qos(ctx.identity, path_text(ctx.params["qos_name"]))
    except ValueError:
        removed = []
    except SlurmCommandError as exc:
        return Payload({}, 500, _db_errors(exc))
    if not removed:
        return Payload({}, 500, (nothing_found(source),))
    return Payload({"removed_qos": removed})


def delete_cluster(ctx: Context) -> Result:
    """``DELETE cluster/{cluster_name}``: 200 with ``deleted_clusters``; a refusal is 500
    with Slurm's error and an empty list. Nothing removed (or a name that is not a plain
    name, never passed on) is 304 without a body, slurmrestd's answer to an administrator.
    slurmrestd 22.05 never removes a cluster (it always answers 304 to an administrator);
    this removes it."""
    if "," in ctx.query_string:
        raise errors.BadRequest("Unable to parse query.")
    try:
        removed = ctx.backend.db_delete_cluster(ctx.identity,
                                                path_text(ctx.params["cluster_name"]))
    except ValueError:
        removed = []
    except SlurmCommandError as exc:
        return Payload({"deleted_clusters": []}, 500, _db_errors(exc))
    if not removed:
        return Response(304)
    return Payload({"deleted_clusters": removed})


def delete_wckey(ctx: Context) -> Result:
    """``DELETE wckey/{wckey}``: 200 with ``deleted_wckeys`` (slurmdbd's text of each);
    nothing removed (or a name that is not a plain name, never passed on) is 500 "Nothing
    found"; a refusal is 500 with Slurm's error. The list key is always there."""
    if "," in ctx.query_string:
        raise errors.BadRequest("Unable to parse query.")
    try:
        removed = ctx.backend.db_delete_wckey(ctx.identity, path_text(ctx.params["wckey"]))
    except ValueError:
        removed = []
    except SlurmCommandError as exc:
        return Payload({"deleted_wckeys": []}, 500, _db_errors(exc))
    if not removed:
        return Payload({"deleted_wckeys": []}, 500, (nothing_found("slurmdb_wckeys_remove"),))
    return Payload({"deleted_wckeys": removed})


ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = (
    ("GET", f"{PREFIX}/tres", get_tres),
    ("GET", f"{PREFIX}/clusters", get_clusters),
    ("GET", f"{PREFIX}/cluster/{{cluster_name}}", get_cluster),
    ("DELETE", f"{PREFIX}/cluster/{{cluster_name}}", delete_cluster),
    ("GET", f"{PREFIX}/wckeys", get_wckeys),
    ("GET", f"{PREFIX}/wckey/{{wckey}}", get_wckey),
    ("DELETE", f"{PREFIX}/wckey/{{wckey}}", delete_wckey),
    ("GET", f"{PREFIX}/qos", get_qos_list),
    ("GET", f"{PREFIX}/qos/{{qos_name}}", get_qos),
    ("DELETE", f"{PREFIX}/qos/{{qos_name}}", delete_qos),
)
