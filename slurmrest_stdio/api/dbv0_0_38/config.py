"""``/slurmdb/v0.0.38/``: GET config (everything in the database at once) and GET diag
(slurmdbd's statistics).

``GET config`` is slurmrestd's clusters, tres, accounts, users, qos, wckeys and
associations reads run one after the other on one answer, each with the request's query:
their lists and errors add up, a read that finds nothing ("Nothing found", 9003) does not
stop the others, and the first read that fails stops the rest and gives the status.

``POST config`` loads a whole document the same way: slurmrestd runs the POST of each
part in that order (its TRES part does nothing here: only a POST of ``tres`` alone is
refused) and commits its one database transaction only when every part succeeded.
This program checks every part first (each with its own POST's checks), then makes the
changes in that order; should Slurm refuse one of them, what was made before stays and
the answer says what was and what was not made (sacctmgr has no transaction to undo).

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

from slurmrest_stdio import errors
from slurmrest_stdio.api import Context, Payload, Result
from slurmrest_stdio.api.dbv0_0_38 import accounts, associations, objects
from slurmrest_stdio.api.dbv0_0_38.objects import error_entry
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


# -- POST config --------------------------------------------------------------------------

#: the parts of a document in the order slurmrestd loads them: (key, its POST, whether a
#: document without the key stops there). The TRES part is not here: inside a config
#: document slurmrestd skips it without reading it.
_PARTS: tuple[tuple[str, Callable[..., Result], bool], ...] = (
    ("clusters", objects.post_clusters, False),
    ("accounts", accounts.post_accounts, False),
    ("users", accounts.post_users, True),
    ("QOS", objects.post_qos, True),
    ("wckeys", objects.post_wckeys, True),
    ("associations", associations.post_associations, False),
)
_QUERY = ("Query empty or not RFC7320 compliant", 9000)
_DENIED = ("Access/permission denied", 2002)
_CLUSTERS_ADD = "slurmdb_clusters_add"




def _not_found(key: str) -> dict[str, Any]:
    return error_entry(("Unable to resolve path", 9200), "Query parameter not found", key)


def _refusal(kind: tuple[str, int]) -> dict[str, Any]:
    """The error slurmrestd adds when a part failed and nothing is committed."""
    return error_entry(kind, "refusing to commit after error", None)


def _failure_kind(payload: Payload) -> tuple[str, int]:
    """The Slurm error a failed part returns: its parsers' failures are "invalid query"
    (400); otherwise the last error it listed."""
    if payload.status == 400 or not payload.errors:
        return _QUERY
    last = payload.errors[-1]
    return str(last.get("error", "")), int(last.get("error_number", -1))


def _made(plan: list[objects.Pending], label: str) -> list[str]:
    return [name for kind, name, _, _ in plan if kind == label]


def _check_parts(ctx: Context, data: dict[str, Any], admin: bool,
                 plan: list[objects.Pending]) -> Result:
    """Every part of the document checked (its changes added to ``plan``): an empty
    Payload with the parts' warnings, or the answer when a part is refused."""
    errs: list[dict[str, Any]] = []
    for key, post, stop_if_missing in _PARTS:
        if key not in data:
            errs.append(_not_found(key))
            if key == "clusters" and not admin:
                # slurmrestd hands slurmdbd the empty list: refused to a non-administrator
                errs.append(error_entry(_DENIED, None, _CLUSTERS_ADD))
                return Payload({}, 500, (*errs, _refusal(_DENIED)))
            if stop_if_missing:
                return Payload({}, 400, (*errs, _refusal(_QUERY)))
            continue
        if key == "users":  # what the document makes first counts as existing
            result = post(ctx, plan, new_accounts=_made(plan, "Account"))
        elif key == "associations":
            result = post(ctx, plan, new_qos=_made(plan, "QOS"))
        else:
            result = post(ctx, plan)
        if not isinstance(result, Payload):
            return result
        errs += result.errors
        if result.status != 200:
            return Payload({}, result.status, (*errs, _refusal(_failure_kind(result))))
        if key == "clusters" and not admin:
            # adding clusters (even ones that exist) is for administrators only
            errs.append(error_entry(_DENIED, None, _CLUSTERS_ADD))
            return Payload({}, 500, (*errs, _refusal(_DENIED)))
    return Payload({}, 200, tuple(errs))


def _apply(plan: list[objects.Pending], warnings: tuple[dict[str, Any], ...]) -> Payload:
    """Make the checked changes in order; on a failure, say what was made (and stays),
    what failed and what was not tried."""
    for position, (label, name, step, source) in enumerate(plan):
        try:
            step()
        except SlurmCommandError as exc:
            failure = exc.errors[0]
            kind = (failure.error, failure.error_number)
            where = source or failure.source
            report = [error_entry(kind, f"{done_label} {done} was applied before the failure and "
                         "stays", done_source)
                      for done_label, done, _, done_source in plan[:position]]
            report.append(error_entry(kind, f"{label} {name} failed: {failure.description}"
                             if failure.description else None, where))
            report += [error_entry(kind, f"{later_label} {later} was not applied", later_source)
                       for later_label, later, _, later_source in plan[position + 1:]]
            return Payload({}, 500, (*warnings, *report, _refusal(kind)))
    return Payload({}, 200, warnings)


def post_config(ctx: Context) -> Result:
    """``POST config``: load a document of clusters, accounts, users, QOS, wckeys and
    associations (any TRES in it are ignored, as slurmrestd does): all parts checked,
    then applied in slurmrestd's order."""
    data: Any = {}
    if ctx.request.body.strip():
        try:
            data = ctx.body_data()
        except errors.BadRequest:
            data = None
        if data is None:  # slurmrestd's words, whatever the reason
            raise errors.BadRequest("Unable to parse query.")
    if not isinstance(data, dict):
        data = {}
    try:
        admin = ctx.backend.db_is_administrator(ctx.identity)
    except SlurmCommandError as exc:
        return Payload({}, 500, tuple(error_entry((e.error, e.error_number), None, e.source)
                                      for e in exc.errors))
    plan: list[objects.Pending] = []
    checked = _check_parts(ctx, data, admin, plan)
    if not isinstance(checked, Payload) or checked.status != 200:
        return checked
    return _apply(plan, checked.errors)


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
