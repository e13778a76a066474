"""``/slurmdb/v0.0.38/``: GET config (everything in the database at once) and GET diag
(slurmdbd's statistics).

``GET config`` is slurmrestd's clusters, tres, accounts, users, qos, wckeys and
associations reads run one after the other on one answer, each with the request's query:
their lists and errors add up, a read that finds nothing ("Nothing found", 9003) does not
stop the others, and the first read that fails stops the rest and gives the status.

``GET diag`` is ``sacctmgr show stats`` read back into slurmrestd's ``statistics``: the
time the counters start from, the internal and user rollups (the per-cluster ones that
sacctmgr also prints are not part of it), and the RPC counts by type and by user.
slurmrestd lists RPCs in slurmdbd's own order (first use); sacctmgr sorts them (most
counted first) and that order is what we can give (see the differences).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slurmrest_stdio.api import Context, Payload, Result
from slurmrest_stdio.api.dbv0_0_38 import accounts, objects
from slurmrest_stdio.errors import SlurmCommandError

#: slurmrestd's reads in the order its config handler runs them (the order matters: the
#: first failure stops the rest)
CONFIG_READS: tuple[Callable[[Context], Result], ...] = (
    objects.get_clusters,
    objects.get_tres,
    accounts.get_accounts,
    accounts.get_users,
    objects.get_qos_list,
    objects.get_wckeys,
    accounts.get_associations,
)
#: Slurm's ESLURM_REST_EMPTY_RESULT: a read that found nothing, which config skips over
_EMPTY_RESULT = 9003


def _found_nothing(payload: Payload) -> bool:
    return bool(payload.errors) and all(
        e.get("error_number") == _EMPTY_RESULT for e in payload.errors)


def get_config(ctx: Context) -> Result:
    """``GET config``: every read of :data:`CONFIG_READS` on one answer."""
    data: dict[str, Any] = {}
    errs: list[dict[str, Any]] = []
    status = 200
    for read in CONFIG_READS:
        result = read(ctx)
        if not isinstance(result, Payload):
            return result  # a finished answer (none of the reads makes one today)
        data.update(result.data)
        errs.extend(result.errors)
        if result.status != 200 and not _found_nothing(result):
            status = result.status
            break
    return Payload(data, status, tuple(errs))


# -- diag ---------------------------------------------------------------------------------

_SINCE = re.compile(r"^Data since\s.*\((-?[0-9]+)\)\s*$")
_ROLLUP = re.compile(r"^(Internal DBD rollup|User RPC rollup call|unknown rollup) last ran"
                     r" .*\((-?[0-9]+)\)\s*$")
_ROLLUP_TYPES = {"Internal DBD rollup": "internal", "User RPC rollup call": "user",
                 "unknown rollup": "unknown"}
_ROLLUP_FIELDS = (("Last cycle", "last_cycle"), ("Max cycle", "max_cycle"),
                  ("Total time", "total_time"), ("Total cycles", "total_cycles"),
                  ("Mean cycle", "mean_cycles"))
_RPC = re.compile(r"^\t(.*?)\s*\(\s*(-?[0-9]+)\) count:([0-9]+)\s+ave_time:([0-9]+)\s+"
                  r"total_time:([0-9]+)\s*$")
_BY_TYPE = "Remote Procedure Call statistics by message type"
_BY_USER = "Remote Procedure Call statistics by user"


def parse_stats(text: str) -> dict[str, Any]:
    """``sacctmgr show stats`` output as slurmrestd's ``statistics`` object.

    Raises:
        ValueError: the text is not sacctmgr's statistics.
    """
    time_start: int | None = None
    rollups: list[dict[str, Any]] = []
    rpcs: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    section: list[dict[str, Any]] | None = None
    rollup: dict[str, Any] | None = None
    for line in text.splitlines():
        if (found := _SINCE.match(line)) is not None:
            time_start = int(found[1])
        elif (found := _ROLLUP.match(line)) is not None:
            rollup = {"type": _ROLLUP_TYPES[found[1]], "last_run": int(found[2])}
            rollups.append(rollup)
        elif rollup is not None and line.startswith("\t") and ":" in line:
            label, _, value = line.strip().partition(":")
            for text_label, key in _ROLLUP_FIELDS:
                if label == text_label:
                    rollup[key] = int(value)
        elif line.startswith((_BY_TYPE, _BY_USER)):
            rollup = None
            section = rpcs if line.startswith(_BY_TYPE) else users
        elif section is not None and (found := _RPC.match(line)) is not None:
            name = "rpc" if section is rpcs else "user"
            section.append({name: found[1], "count": int(found[3]),
                            "time": {"average": int(found[4]), "total": int(found[5])}})
        elif not line.startswith("\t"):
            rollup = None
    if time_start is None or any(len(r) != 2 + len(_ROLLUP_FIELDS) for r in rollups):
        raise ValueError("not sacctmgr's statistics")
    return {"time_start": time_start, "rollups": rollups, "RPCs": rpcs, "users": users}


def get_diag(ctx: Context) -> Result:
    """``GET diag``: slurmdbd's statistics (administrators only, slurmdbd decides)."""
    try:
        text = ctx.backend.db_stats(ctx.identity)
    except SlurmCommandError as exc:
        # slurmrestd's database errors carry no description
        return Payload({}, exc.status, tuple(
            {"error_number": e.error_number, "error": e.error, "source": e.source}
            for e in exc.errors))
    return Payload({"statistics": parse_stats(text)})
