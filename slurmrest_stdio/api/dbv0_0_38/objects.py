"""``/slurmdb/v0.0.38/``: tres, clusters, wckeys, qos.

Built from ``sacctmgr -P -n show ... withdeleted`` rows (see
:mod:`slurmrest_stdio.backend.cli_dbobjects`). slurmrestd's dbv0.0.38 writer prints an
unset string as ``null`` in JSON and YAML alike, and its database errors carry no
``description``: both are copied here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from slurmrest_stdio import errors
from slurmrest_stdio.api import Context, Payload, Result, together
from slurmrest_stdio.api.values import guess_value, path_text
from slurmrest_stdio.errors import SlurmCommandError
from slurmrest_stdio.protocol import Response


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
    get_tres, get_rows = together(lambda: ctx.backend.db_tres(ctx.identity),
                                  lambda: ctx.backend.db_clusters(ctx.identity))
    try:
        tres = get_tres()
        rows = get_rows()
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
    get_rows, get_tres = together(lambda: ctx.backend.db_qos(ctx.identity, with_deleted),
                                  lambda: ctx.backend.db_tres(ctx.identity))
    try:
        rows = get_rows()
        tres = get_tres()
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



# -- POST: the body, read as slurmrestd's dbv0.0.38 parser reads it -------------------------

_PARSING = ("Failure during parsing", 9001)
_CONVERSION = ("Unable to convert Data type", 9202)
_QUERY = ("Query empty or not RFC7320 compliant", 9000)
_BAD_TRES = ("Invalid Trackable RESource (TRES) specification", 2115)
_NO_PATH = ("Unable to resolve path", 9200)
_UNSPECIFIED = ("Unspecified error", -1)
_DENIED = ("Access/permission denied", 2002)
#: a value that leaves the field as it is (slurmrestd's NO_VAL)
_KEEP = object()
#: a limit removed (slurmrestd's INFINITE): sacctmgr's -1
_UNLIMITED = -1
_MISSING = object()
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")  # beyond 64 bits is refused anyway
_REAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
#: names this program passes to sacctmgr (it keeps them lower case)
_NEW_NAME = re.compile(r"[a-z0-9_.][a-z0-9_.-]{0,63}")  # never "-" first (an option)
#: a QOS description passed safely as one ``description=`` item
_DESCRIPTION = re.compile(r"[A-Za-z0-9_.:/@+ -]{0,200}")


def error_entry(kind: tuple[str, int], description: str | None, source: str | None
                ) -> dict[str, Any]:
    """One error as slurmrestd's resp_error() writes it (no empty fields)."""
    err: dict[str, Any] = {}
    if description:
        err["description"] = description
    err["error_number"], err["error"] = kind[1], kind[0]
    if source:
        err["source"] = source
    return err


class _Refused(Exception):
    """A body slurmrestd's parser refuses (or one this program will not pass on): the
    errors to answer with."""

    def __init__(self, *errs: dict[str, Any]) -> None:
        super().__init__(errs)
        self.errors = list(errs)


class _Conversion(Exception):
    """A value of the wrong type: ``kind`` is the Slurm error slurmrestd reports."""

    def __init__(self, kind: tuple[str, int] = _CONVERSION) -> None:
        super().__init__(kind)
        self.kind = kind


def _field_failed(path: str, kind: tuple[str, int], required: bool = False
                  ) -> dict[str, Any]:
    return error_entry(kind, f"Failed to parse {'required ' if required else ''}field '{path}'",
                "_parser_run")


def _ours(path: str, problem: str) -> _Refused:
    """A value slurmrestd takes but this program does not pass on: refused by name."""
    return _Refused(error_entry(_PARSING, f"{path}: {problem}", path))


def _resolve(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("/"):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _string(value: Any) -> str | None:
    """A value as slurmrestd converts it to text (None stays unset)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise _Conversion()


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Conversion()
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return round(value)  # to the nearest, halves to even, like lrint()
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise _Conversion()


def _unsigned(value: Any, bits: int) -> int | object:
    """A count as slurmrestd reads it: null, -1 and the largest value are no limit
    (:data:`_UNLIMITED`); -2 and the one below the largest leave it (:data:`_KEEP`)."""
    if value is None:
        return _UNLIMITED
    number = _integer(value)
    top = (1 << bits) - 1
    if number in (-1, top):
        return _UNLIMITED
    if number in (-2, top - 1):
        return _KEEP
    if not 0 <= number <= top:
        raise _Conversion()
    return number


def _real_value(value: Any) -> float | object:
    if value is None:
        return _KEEP
    if isinstance(value, bool):
        raise _Conversion()
    try:
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and _REAL.fullmatch(value):
            return float(value)
    except OverflowError:  # an integer beyond any float
        pass
    raise _Conversion()


def _flag_names(value: Any, path: str, names: tuple[str, ...]) -> list[str]:
    """A flags list: each one of ``names`` (any case); slurmrestd's errors otherwise."""
    if not isinstance(value, list):
        raise _Refused(_field_failed(path, _PARSING))
    found = []
    for item in value:
        try:
            text = _string(item)
        except _Conversion:
            text = None
        match = next((n for n in names if text is not None and n.lower() == text.lower()),
                     None)
        if match is None:
            errs = [] if text is None else [error_entry(_PARSING, "Unknown flag", path)]
            raise _Refused(*errs, _field_failed(path, _PARSING))
        if match not in found:
            found.append(match)
    return found


def _tres_key(row: dict[str, str]) -> str:
    return f"{row['type']}/{row['name']}" if row["name"] else row["type"]


def _tres_list(value: Any, path: str, tres: list[dict[str, str]]) -> str:
    """A TRES list as the sacctmgr text ``cpu=4,gres/gpu=1`` (empty for an empty list:
    no change); the TRES must be known (by type and name, any case, or by id). A count
    of -1 removes that limit (slurmrestd reads it as the largest count, Slurm's
    "infinite")."""
    failed = _field_failed(path, _PARSING)
    if not isinstance(value, list):
        raise _Refused(failed)
    counts: dict[str, int] = {}
    for item in value:
        if not isinstance(item, dict):
            raise _Refused(failed)
        if item.get("type") is None or ("count" in item and item["count"] is None):
            raise _ours(path, "each TRES needs a type and a count")
        try:
            kind, name = _string(item["type"]), _string(item.get("name"))
            wanted_id = 0 if item.get("id") is None else _integer(item["id"])
            count = _integer(item["count"]) if "count" in item else 0
        except _Conversion as exc:
            raise _Refused(_field_failed(path, exc.kind)) from None
        assert kind is not None
        if count < -1:
            raise _ours(path, "a TRES count must be -1 (no limit) or at least 0")
        row = _find_tres(tres, kind, name, wanted_id)
        if row is None:
            raise _Refused(error_entry(_BAD_TRES, f"Couldn't find TRES matching name:"
                                f"{name or '(null)'} type:{kind}",
                                "_for_each_parse_tres_count"), failed)
        if wanted_id > 0 and wanted_id != int(row["id"]):
            raise _Refused(error_entry(_BAD_TRES, f"Requested TRES id({wanted_id}) doesn't match "
                                f"TRES type/name({row['type']}/{row['name'] or '(null)'}) "
                                f"which id is {row['id']}", "_for_each_parse_tres_count"),
                           failed)
        counts[_tres_key(row)] = count
    return ",".join(f"{key}={count}" for key, count in counts.items())


def _find_tres(tres: list[dict[str, str]], kind: str, name: str | None, wanted_id: int
               ) -> dict[str, str] | None:
    """The TRES slurmrestd picks: by id (when given and type/name agree), else the
    first of that type when no name is given, else by type and name; any case."""
    def same(a: str | None, b: str) -> bool:
        return a is None or a.lower() == b.lower()

    for row in tres:
        if wanted_id > 0 and int(row["id"]) == wanted_id and same(kind, row["type"]) \
                and same(name, row["name"]):
            return row
        if not name and kind.lower() == row["type"].lower():
            return row
        if name and name.lower() == row["name"].lower() \
                and kind.lower() == row["type"].lower():
            return row
    return None


def _entries(ctx: Context, key: str) -> list[Any]:
    """The list under ``key`` of the request body.

    Raises:
        errors.BadRequest: a body that does not parse (or is null).
        _Refused: no such list (slurmrestd's 9200 error).
    """
    data: Any = {}
    if ctx.request.body.strip():
        data = ctx.body_data()
        if data is None:
            raise errors.BadRequest("Unable to parse query.")
    found = data.get(key, _MISSING) if isinstance(data, dict) else _MISSING
    if found is _MISSING:
        raise _Refused(error_entry(_NO_PATH, "Query parameter not found", key))
    if not isinstance(found, list):
        raise _Refused(error_entry(_NO_PATH, "Query parameter must be a list", key))
    return found


def _slurm_failed(exc: SlurmCommandError, source: str) -> dict[str, Any]:
    """Slurm's error for a failed change, as slurmrestd lists it: no description."""
    first = exc.errors[0]
    return error_entry((first.error, first.error_number), None, source)


#: a checked change not made yet: (kind of object, its name, make it, the source of its
#: errors; None: the source Slurm's error names)
Pending = tuple[str, str, Callable[[], None], str | None]


def _apply_all(steps: list[tuple[str, Callable[[], None], str]], label: str, status: int,
               plan: list[Pending] | None = None) -> Result:
    """Run each checked change in order. The first fails: Slurm's error alone (nothing
    changed). A later one fails: each change made before it (kept), the failure and each
    change not tried, all with Slurm's error.

    With ``plan`` the changes are only added to it, to be made later (``POST config``
    checks every part of its document before it changes anything).
    """
    if plan is not None:
        plan.extend((label, name, step, source) for name, step, source in steps)
        return Payload({})
    for position, (name, step, source) in enumerate(steps):
        try:
            step()
        except SlurmCommandError as exc:
            failure = exc.errors[0]
            if position == 0:
                return Payload({}, status, (_slurm_failed(exc, source),))
            kind = (failure.error, failure.error_number)
            report = [error_entry(kind, f"{label} {done} was applied before the failure and "
                           "stays", src) for done, _, src in steps[:position]]
            report.append(error_entry(kind, f"{label} {name} failed: {failure.description}",
                               source))
            report += [error_entry(kind, f"{label} {later} was not applied", src)
                       for later, _, src in steps[position + 1:]]
            return Payload({}, status, tuple(report))
    return Payload({})


# -- POST tres ----------------------------------------------------------------------------

def post_tres(ctx: Context) -> Result:
    """``POST tres``: slurmrestd 22.05 refuses every TRES change (for everyone) once the
    body parses: 500, Slurm's "not supported"."""
    if ctx.request.body.strip() and ctx.body_data() is None:
        raise errors.BadRequest("Unable to parse query.")
    return Payload({}, 500, (error_entry(("Requested operation not supported on this system",
                                   2036), "Updating TRES is not currently supported.",
                                  None),))


# -- POST qos -----------------------------------------------------------------------------

#: the QOS fields slurmrestd reads, in its order: (path, kind, sacctmgr key)
_QOS_INPUT = (
    ("description", "text", "description"), ("flags", "flags", "flags"),
    ("id", "id", ""), ("limits/grace_time", "count", "gracetime"),
    ("limits/max/active_jobs/accruing", "count", "grpjobsaccrue"),
    ("limits/max/active_jobs/count", "count", "grpjobs"),
    ("limits/max/tres/total", "tres", "grptres"),
    ("limits/max/tres/minutes/per/qos", "tres", "grptresrunmins"),
    ("name", "name", ""), ("limits/max/wall_clock/per/qos", "count", "grpwall"),
    ("limits/factor", "real", "limitfactor"),
    ("limits/max/jobs/active_jobs/per/account", "count", "maxjobspa"),
    ("limits/max/jobs/active_jobs/per/user", "count", "maxjobspu"),
    ("limits/max/accruing/per/account", "count", "maxjobsaccruepa"),
    ("limits/max/accruing/per/user", "count", "maxjobsaccruepu"),
    ("limits/max/jobs/per/account", "count", "maxsubmitjobspa"),
    ("limits/max/jobs/per/user", "count", "maxsubmitjobspu"),
    ("limits/max/tres/minutes/per/job", "tres", "maxtresmins"),
    ("limits/max/tres/per/account", "tres", "maxtrespa"),
    ("limits/max/tres/per/job", "tres", "maxtres"),
    ("limits/max/tres/per/node", "tres", "maxtrespernode"),
    ("limits/max/tres/per/user", "tres", "maxtrespu"),
    ("limits/max/tres/minutes/per/account", "tres", "maxtresrunminspa"),
    ("limits/max/tres/minutes/per/user", "tres", "maxtresrunminspu"),
    ("limits/max/wall_clock/per/job", "count", "maxwall"),
    ("limits/min/priority_threshold", "count", "minpriothresh"),
    ("limits/min/tres/per/job", "tres", "mintres"),
    ("preempt/list", "preempt", "preempt"), ("preempt/mode", "mode", "preemptmode"),
    ("preempt/exempt_time", "seconds", "preemptexempttime"),
    ("priority", "count", "priority"), ("usage_factor", "real", "usagefactor"),
    ("usage_threshold", "real", "usagethreshold"),
)
_QOS_FLAG_WORDS = {name: word for word, name in _QOS_FLAGS}
_QOS_SOURCE = "_foreach_update_qos"


def _clock(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    return f"{days}-{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


class _QosRequest:
    """One QOS of the body: what identifies it and its sacctmgr settings."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.id = 0
        self.description: str | None = None
        self.settings: list[str] = []


def _qos_value(item: dict[str, Any], field: tuple[str, str, str], req: _QosRequest, *,
               tres: list[dict[str, str]], qos_names: dict[str, str]) -> None:
    """Read one field of a QOS into ``req``.

    Raises:
        _Refused: the field is refused (slurmrestd's errors, or ours by name).
    """
    path, kind, key = field
    value = _resolve(item, path)
    if value is _MISSING:
        return
    try:
        if kind == "text":
            text = _string(value)
            if text is not None and not _DESCRIPTION.fullmatch(text):
                raise _ours(path, "must be at most 200 of [A-Za-z0-9_.:/@+ -]")
            req.description = text
        elif kind == "name":
            req.name = _string(value)
        elif kind == "id":
            number = _unsigned(value, 32)
            req.id = number if isinstance(number, int) and number > 0 else 0
        elif kind == "flags":
            words = [_QOS_FLAG_WORDS[f] for f in _flag_names(value, path,
                                                             tuple(_QOS_FLAG_WORDS))]
            req.settings.append(f"{key}={','.join(words) if words else '-1'}")
        elif kind == "mode":
            modes = _flag_names(value, path, _PREEMPT_MODES)
            req.settings.append(f"{key}={','.join(m.lower() for m in modes) or 'off'}")
        elif kind == "tres":
            text = _tres_list(value, path, tres)
            if text:
                req.settings.append(f"{key}={text}")
        elif kind == "preempt":
            # an empty list changes nothing (slurmdbd keeps the list it has)
            names = _preempt(value, path, qos_names)
            if names:
                req.settings.append(f"{key}={','.join(names)}")
        elif kind == "real":
            real = _real_value(value)
            if isinstance(real, float):
                if real < 0 or not math.isfinite(real):
                    raise _ours(path, "must be a number of at least 0")
                req.settings.append(f"{key}={real!r}")
        else:  # counts; "seconds" are a duration sacctmgr reads as [days-]hh:mm:ss
            number = _unsigned(value, 32)
            if isinstance(number, int):
                text = str(number) if kind == "count" or number < 0 else _clock(number)
                req.settings.append(f"{key}={text}")
    except _Conversion as exc:
        raise _Refused(_field_failed(path, exc.kind)) from None


def _preempt(value: Any, path: str, qos_names: dict[str, str]) -> list[str]:
    """The preemptable QOS, each a known QOS (by name, any case)."""
    if not isinstance(value, list):
        raise _Refused(_field_failed(path, _PARSING))
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        try:
            text = _string(name) if isinstance(name, (str, int, float)) else None
        except _Conversion:
            text = None
        if text is None:
            raise _Refused(_field_failed(path, _PARSING))
        known = qos_names.get(text.lower())
        if known is None:
            raise _Refused(error_entry(_PARSING, "QOS name to ID conversion failed", text),
                           _field_failed(path, _PARSING))
        if known not in names:
            names.append(known)
    return names


def _qos_request(item: Any, tres: list[dict[str, str]], qos_names: dict[str, str]
                 ) -> _QosRequest:
    """One QOS entry of the body, read.

    Raises:
        _Refused: the entry is refused.
    """
    if not isinstance(item, dict):
        raise _Refused(error_entry(_QUERY, "each QOS entry must be a dictionary", None))
    req = _QosRequest()
    for field in _QOS_INPUT:
        _qos_value(item, field, req, tres=tres, qos_names=qos_names)
    return req


def post_qos(ctx: Context, plan: list[Pending] | None = None) -> Result:
    """``POST qos``: create each QOS of the body that does not exist (by id and/or name),
    else change what the body gives of it. Every entry is checked before any change; an
    entry slurmrestd refuses is answered with its errors (400)."""
    try:
        entries = _entries(ctx, "QOS")
        tres = ctx.backend.db_tres(ctx.identity)
        rows = ctx.backend.db_qos(ctx.identity, False)
    except _Refused as exc:
        return Payload({}, 400, tuple(exc.errors))
    except SlurmCommandError as exc:
        return Payload({}, 400, _db_errors(exc))
    qos_names = {r["name"].lower(): r["name"] for r in rows}
    by_id = {int(r["id"]): r["name"] for r in rows}
    steps: list[tuple[str, Callable[[], None], str]] = []
    try:
        for item in entries:
            req = _qos_request(item, tres, qos_names)
            steps.append(_qos_step(ctx, req, qos_names, by_id))
    except _Refused as exc:
        return Payload({}, 400, tuple(exc.errors))
    return _apply_all(steps, "QOS", 400, plan)


def _qos_step(ctx: Context, req: _QosRequest, qos_names: dict[str, str],
              by_id: dict[int, str]) -> tuple[str, Callable[[], None], str]:
    """The change one checked QOS needs; a QOS made here is known to later entries.

    Raises:
        _Refused: no QOS of that id, no name to make one, or a name not passed on.
    """
    existing = qos_names.get(req.name.lower()) if req.name is not None else None
    if req.id:
        found = by_id.get(req.id)
        existing = found if req.name is None or found == existing else None
        if existing is None:
            raise _Refused(error_entry(_QUERY, "QOS was not found for the requested ID",
                                _QOS_SOURCE))
    if existing is None and req.name is None:
        raise _Refused(error_entry(_QUERY, "Cannot create a QOS without a name", _QOS_SOURCE))
    who, backend, settings = ctx.identity, ctx.backend, list(req.settings)
    if req.description is not None:
        settings.insert(0, f"description={req.description}")
    if existing is not None:
        name = existing
        return name, lambda: backend.db_modify_qos(who, name, settings), \
            "slurmdb_qos_modify"
    name = req.name or ""
    # a new QOS starts without flags, preemption or preempt mode: clearing is no change
    settings = [s for s in settings if s not in ("flags=-1", "preemptmode=off")]
    if not _NEW_NAME.fullmatch(name):
        raise _ours("name", "a new QOS name must be 1-64 of [a-z0-9_.-]")
    if req.description is None:  # slurmrestd leaves it empty; sacctmgr would copy the name
        settings.insert(0, "description=")
    qos_names[name.lower()] = name
    return name, lambda: backend.db_add_qos(who, name, settings), "slurmdb_qos_add"


# -- POST clusters ------------------------------------------------------------------------

#: the cluster fields slurmrestd reads, in its order (only the name reaches slurmdbd)
_CLUSTER_INPUT = (("controller/host", "text"), ("controller/port", "count32"),
                  ("flags", "flags"), ("name", "name"), ("nodes", "text"),
                  ("select_plugin", "plugin"), ("associations/root", "any"),
                  ("rpc_version", "count16"), ("tres", "tres"))
_CLUSTER_FLAG_NAMES = tuple(name for _, name in _CLUSTER_FLAGS)


def _cluster_name(item: dict[str, Any], tres: list[dict[str, str]]
                  ) -> tuple[str | None, list[dict[str, Any]]]:
    """The name of one cluster of the body and the parser's errors: like slurmrestd,
    reading stops at the first field it refuses (so a name after it is not read)."""
    name: str | None = None
    for path, kind in _CLUSTER_INPUT:
        value = _resolve(item, path)
        if value is _MISSING:
            continue
        try:
            if kind in ("text", "name"):
                text = _string(value)
                name = text if kind == "name" else name
            elif kind in ("count32", "count16"):
                _unsigned(value, 32 if kind == "count32" else 16)
            elif kind == "flags":
                _flag_names(value, path, _CLUSTER_FLAG_NAMES)
            elif kind == "plugin" and value is None:
                raise _Refused(_field_failed(path, _PARSING))
            elif kind == "tres":
                _tres_list(value, path, tres)
        except _Conversion as exc:
            return name, [_field_failed(path, exc.kind)]
        except _Refused as exc:
            return name, exc.errors
    return name, []


def post_clusters(ctx: Context, plan: list[Pending] | None = None) -> Result:
    """``POST clusters``: add each cluster named in the body (slurmdbd keeps only the name
    of what is given; its controller, nodes and TRES come from slurmctld). A cluster that
    already exists is left as it is. slurmrestd's answers are kept where nothing is added
    (a body it cannot read, an entry without a name, a non-administrator), except that
    nothing is added either when its parser refused something after reading names."""
    names: list[str | None] = []
    parsed: list[dict[str, Any]] = []
    entries: list[Any] = []
    tres: list[dict[str, str]] = []
    try:
        entries = _entries(ctx, "clusters")
        tres = ctx.backend.db_tres(ctx.identity)
    except _Refused as exc:
        parsed = exc.errors
    except SlurmCommandError as exc:
        return Payload({}, 500, _db_errors(exc))
    for item in entries:
        if not isinstance(item, dict):
            parsed.append(error_entry(_QUERY, "each cluster entry must be a dictionary", None))
            break
        name, errs = _cluster_name(item, tres)
        names.append(name)
        if errs:
            parsed += errs
            break
    source = "slurmdb_clusters_add"
    if parsed or None in names or not names:
        # slurmrestd hands slurmdbd whatever it read, even nothing: slurmdbd refuses a
        # non-administrator first, then the whole list when an entry has no name
        try:
            admin = ctx.backend.db_is_administrator(ctx.identity)
        except SlurmCommandError as exc:
            return Payload({}, 500, _db_errors(exc))
        if not admin:
            return Payload({}, 500, (*parsed, error_entry(_DENIED, None, source)))
        if None in names:
            return Payload({}, 500, (*parsed, error_entry(_UNSPECIFIED, None, source)))
        return Payload({}, 200, tuple(parsed))
    steps: list[tuple[str, Callable[[], None], str]] = []
    for name in dict.fromkeys(n for n in names if n is not None):
        if not _NEW_NAME.fullmatch(name):
            return Payload({}, 400, tuple(_ours("name", "a cluster name must be 1-64 of "
                                                "[a-z0-9_.-]").errors))
        steps.append((name, _adder(ctx.backend.db_add_cluster, ctx.identity, name), source))
    return _apply_all(steps, "Cluster", 500, plan)


def _adder(add: Callable[..., None], *args: Any) -> Callable[[], None]:
    return lambda: add(*args)


# -- POST wckeys --------------------------------------------------------------------------

#: the wckey fields slurmrestd reads, in its order (all but accounts and flags required)
_WCKEY_INPUT = (("accounts", False), ("cluster", True), ("id", True), ("name", True),
                ("user", True), ("flags", False))


def _wckey_fields(item: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fields of one wckey and the errors of a missing required one (slurmrestd goes
    on to the next entry then, and slurmdbd refuses the lot).

    Raises:
        _Refused: a field slurmrestd's parser refuses.
    """
    found: dict[str, Any] = {}
    for path, required in _WCKEY_INPUT:
        value = _resolve(item, path)
        if value is _MISSING:
            if required:
                return found, [{"description": f"Missing required field '{path}'",
                                "source": "_parser_run"}]
            continue
        try:
            if path == "id":
                _unsigned(value, 32)
            elif path == "flags":
                found[path] = _flag_names(value, path, ("DELETED", "DEFAULT"))
            elif path == "accounts":
                if not isinstance(value, list):
                    raise _Refused(_field_failed(path, _PARSING))
                found[path] = value
            else:
                found[path] = _string(value)
        except _Conversion as exc:
            raise _Refused(_field_failed(path, exc.kind, required)) from None
    return found, []


def post_wckeys(ctx: Context, plan: list[Pending] | None = None) -> Result:
    """``POST wckeys``: add each wckey (name, user, cluster) of the body; one already
    there is left alone; flag DEFAULT makes it the user's only default wckey there. The
    user must be in the database (slurmrestd would make a wckey for anybody); a wckey's
    accounts and the DELETED flag are not passed on (refused by name)."""
    try:
        entries = _entries(ctx, "wckeys")
    except _Refused as exc:
        return Payload({}, 400, tuple(exc.errors))
    wanted: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    try:
        for item in entries:
            if not isinstance(item, dict):
                raise _Refused({"field": "wckey",
                                "error": "each wckey entry must be a dictionary"})
            fields, errs = _wckey_fields(item)
            missing += errs
            wanted.append(fields)
    except _Refused as exc:
        return Payload({}, 400, tuple(missing + exc.errors))
    incomplete = missing or any(None in (w.get("name"), w.get("user"), w.get("cluster"))
                                for w in wanted)
    if incomplete or not wanted:
        # slurmrestd hands slurmdbd the list it read: slurmdbd refuses a
        # non-administrator first, then the whole list when an entry lacks a field
        source = "slurmdb_wckeys_add"
        try:
            admin = ctx.backend.db_is_administrator(ctx.identity)
        except SlurmCommandError as exc:
            return Payload({}, 500, _db_errors(exc))
        if not admin:
            return Payload({}, 500, (*missing, error_entry(_DENIED, None, source)))
        if incomplete:
            return Payload({}, 500, (*missing, error_entry(_UNSPECIFIED, None, source)))
        return Payload({})
    return _add_wckeys(ctx, wanted, plan)


def _wckey_adder(ctx: Context, wckey: dict[str, Any]) -> Callable[[], None]:
    def add() -> None:
        ctx.backend.db_add_wckey(ctx.identity, wckey["name"], wckey["user"],
                                 wckey["cluster"], default="DEFAULT" in wckey.get("flags", ()))
    return add


def _add_wckeys(ctx: Context, wanted: list[dict[str, Any]],
                plan: list[Pending] | None = None) -> Result:
    source = "slurmdb_wckeys_add"
    if any(w.get("accounts") for w in wanted):
        return Payload({}, 400, tuple(_ours("accounts", "setting accounts of a wckey is "
                                            "not supported").errors))
    if any("DELETED" in w.get("flags", ()) for w in wanted):
        return Payload({}, 400, tuple(_ours("flags", "a new wckey cannot be DELETED")
                                      .errors))
    for key in ("name", "user", "cluster"):
        if any(not _NEW_NAME.fullmatch(w[key]) for w in wanted):
            return Payload({}, 400, tuple(_ours(key, "must be 1-64 of [a-z0-9_.-]").errors))
    try:
        users = {r["user"] for r in ctx.backend.db_users(ctx.identity, None, False)}
    except SlurmCommandError as exc:
        return Payload({}, 500, _db_errors(exc))
    unknown = sorted({w["user"] for w in wanted} - users)
    if unknown:
        return Payload({}, 400, tuple(_ours("user", f"user {u} is not in the database")
                                      .errors[0] for u in unknown))
    steps: list[tuple[str, Callable[[], None], str]] = []
    for w in wanted:
        label = f"{w['name']} of {w['user']} on {w['cluster']}"
        steps.append((label, _wckey_adder(ctx, w), source))
    return _apply_all(steps, "WCKey", 500, plan)
