"""``/slurmdb/v0.0.38/``: tres, clusters, wckeys.

Built from ``sacctmgr -P -n show ... withdeleted`` rows (see
:mod:`slurmrest_stdio.backend.cli_dbobjects`). slurmrestd's dbv0.0.38 writer prints an
unset string as ``null`` in JSON and YAML alike, and its database errors carry no
``description``: both are copied here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slurmrest_stdio.api import Context, Payload, Result
from slurmrest_stdio.errors import SlurmCommandError

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


ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = (
    ("GET", f"{PREFIX}/tres", get_tres),
    ("GET", f"{PREFIX}/clusters", get_clusters),
    ("GET", f"{PREFIX}/cluster/{{cluster_name}}", get_cluster),
    ("GET", f"{PREFIX}/wckeys", get_wckeys),
    ("GET", f"{PREFIX}/wckey/{{wckey}}", get_wckey),
)
