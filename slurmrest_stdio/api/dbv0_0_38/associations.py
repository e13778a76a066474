"""``/slurmdb/v0.0.38/``: adding, changing (POST associations) and removing (DELETE
association, DELETE associations) associations.

The reads of associations stay with the accounts and users in ``accounts.py``. Each body
field slurmrestd's association parser reads is either turned into a ``sacctmgr``
``Key=value`` setting or refused with a 400 that names it; values are checked before any
command runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slurmrest_stdio.api import Context, Payload, Result
from slurmrest_stdio.api.dbv0_0_38.accounts import (
    _ACCOUNT_NAME,
    _INVALID_QUERY,
    _NAME,
    Checked,
    _bad,
    _check_query,
    _defaults,
    _error,
    _post,
    _strip_description,
    association_filters,
)
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Response

if TYPE_CHECKING:
    from slurmrest_stdio.api.dbv0_0_38.objects import Pending

_REMOVE = "slurmdb_associations_remove"
#: Slurm's ESLURM_ACCESS_DENIED, as slurmdbd answers a removal by someone who may not
_DENIED = SlurmError("Access/permission denied", 2002, "", _REMOVE)
#: TRES type or type/name as Slurm spells them
_TRES_PART = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: what the count fields of slurmdbd hold (below NO_VAL/INFINITE)
_MAX_COUNT = 0xFFFFFFFD
#: slurmdbd's "use the parent's fairshare" value of shares_raw
_FS_PARENT = 0x7FFFFFFF

#: body path -> sacctmgr setting, for the whole-number limits (null clears the limit)
_COUNTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("max", "jobs", "per", "count"), "GrpJobs"),
    (("max", "jobs", "per", "accruing"), "GrpJobsAccrue"),
    (("max", "jobs", "per", "submitted"), "GrpSubmitJobs"),
    (("max", "jobs", "per", "wall_clock"), "MaxWall"),
    (("max", "jobs", "active"), "MaxJobs"),
    (("max", "jobs", "accruing"), "MaxJobsAccrue"),
    (("max", "jobs", "total"), "MaxSubmitJobs"),
    (("max", "per", "account", "wall_clock"), "GrpWall"),
    (("min", "priority_threshold"), "MinPrioThresh"),
    (("priority",), "Priority"),
)
#: body path -> (sacctmgr setting, column of ``sacctmgr show assoc``), for TRES limits
_TRES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("max", "tres", "total"), "GrpTRES", "grptres"),
    (("max", "tres", "minutes", "per", "job"), "MaxTRESMinsPerJob", "maxtresminsperjob"),
    (("max", "tres", "minutes", "total"), "MaxTRESRunMins", "maxtresrunmins"),
    (("max", "tres", "group", "minutes"), "GrpTRESMins", "grptresmins"),
    (("max", "tres", "group", "active"), "GrpTRESRunMins", "grptresrunmins"),
    (("max", "tres", "per", "job"), "MaxTRES", "maxtresperjob"),
    (("max", "tres", "per", "node"), "MaxTRESPerNode", "maxtrespernode"),
)
_TRES_COLUMN = {setting: column for _, setting, column in _TRES}
#: what slurmrestd lists (status stays 200) for an association given without "user"
_NO_USER = {"description": "Missing required field 'user'", "source": "_parser_run"}

_MISSING = object()


def _at(item: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``item``; ``_MISSING`` when any step is absent."""
    value: Any = item
    for step in path:
        if not isinstance(value, dict) or step not in value:
            return _MISSING
        value = value[step]
    return value


def _count_text(value: Any) -> str | None:
    """A count limit as sacctmgr text (``-1`` clears it), or None when not valid."""
    if value is None:
        return "-1"
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNT:
        return str(value)
    return None


class _Lookups:
    """The TRES and QOS names Slurm knows, read once and only when a body needs them."""

    def __init__(self, ctx: Context, new_qos: Iterable[str] = ()) -> None:
        self.ctx = ctx
        self._tres: dict[str, int] | None = None
        self._qos: set[str] | None = None
        self._new_qos = set(new_qos)

    def tres(self) -> dict[str, int]:
        if self._tres is None:
            rows = self.ctx.backend.db_tres(self.ctx.identity)
            self._tres = {(t["type"] + "/" + t["name"]) if t["name"] else t["type"]:
                          int(t["id"]) for t in rows}
        return self._tres

    def qos(self) -> set[str]:
        if self._qos is None:
            rows = self.ctx.backend.db_qos(self.ctx.identity, False)
            self._qos = {row["name"] for row in rows} | self._new_qos
        return self._qos


def _tres_setting(value: Any, where: str, known: Callable[[], dict[str, int]]
                  ) -> tuple[str | None, list[dict[str, Any]]]:
    """A TRES list of the body as ``type[/name]=count,...`` (empty: none), or problems."""
    if not isinstance(value, list):
        return None, [_bad("A TRES limit must be a list of {type, name, count}", where)]
    items, problems = [], []
    for index, tres in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(tres, dict):
            problems.append(_bad("A TRES must be an object", here))
            continue
        kind, name, count = tres.get("type"), tres.get("name"), tres.get("count")
        if not isinstance(kind, str) or not _TRES_PART.fullmatch(kind):
            problems.append(_bad("TRES type must be 1-64 of [A-Za-z0-9_.:-]", here + ".type"))
            continue
        if name not in (None, "") and (not isinstance(name, str)
                                       or not _TRES_PART.fullmatch(name)):
            problems.append(_bad("TRES name must be 1-64 of [A-Za-z0-9_.:-]", here + ".name"))
            continue
        key = f"{kind}/{name}" if name else kind
        ident = known().get(key)
        if ident is None:
            shown = name or "(null)"
            problems.append(_bad(f"Couldn't find TRES matching name:{shown} type:{kind}",
                                 here))
            continue
        given = tres.get("id")
        if given not in (None, 0) and given != ident:
            problems.append(_bad(f"Requested TRES id({given}) doesn't match TRES "
                                 f"{key} which id is {ident}", here + ".id"))
            continue
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            problems.append(_bad("TRES count must be a whole number, 0 or more",
                                 here + ".count"))
            continue
        items.append(f"{key}={count}")
    return ",".join(items), problems


def _identity(item: dict[str, Any], where: str
              ) -> tuple[tuple[str, str, str, str] | None, list[dict[str, Any]]]:
    """(account, cluster, user, partition) of a body association, or its problems."""
    problems = []
    account, cluster = item.get("account"), item.get("cluster")
    user, partition = item.get("user"), item.get("partition")
    # only a missing or null user/partition means "none": false, 0 or [] must not turn
    # into the account's own association
    user = "" if user is None else user
    partition = "" if partition is None else partition
    if not isinstance(account, str) or not _ACCOUNT_NAME.fullmatch(account):
        problems.append(_bad("Account name must be 1-64 of [a-z0-9_.-]", where + ".account"))
    if not isinstance(cluster, str) or not _ACCOUNT_NAME.fullmatch(cluster):
        problems.append(_bad("Cluster name (1-64 of [a-z0-9_.-]) is required",
                             where + ".cluster"))
    if user != "" and (not isinstance(user, str) or not _ACCOUNT_NAME.fullmatch(user)):
        problems.append(_bad("User name must be 1-64 of [a-z0-9_.-]", where + ".user"))
    if partition != "" and (not isinstance(partition, str)
                            or not _NAME.fullmatch(partition)):
        problems.append(_bad("Partition name must be [A-Za-z0-9_.-]", where + ".partition"))
    if problems:
        return None, problems
    assert isinstance(account, str) and isinstance(cluster, str)
    assert isinstance(user, str) and isinstance(partition, str)
    return (account, cluster, user, partition), []


def _key(account: str, cluster: str, user: str, partition: str) -> str:
    """How an association is named in messages and matched against what exists."""
    return f"{cluster}/{account}/{user or '-'}/{partition or '-'}".lower()


def _settings(item: dict[str, Any], where: str, user: str, lookups: _Lookups
              ) -> tuple[list[str], list[dict[str, Any]]]:
    """The sacctmgr settings a body association asks for, or its problems."""
    settings: list[str] = []
    problems: list[dict[str, Any]] = []
    for path, setting in _COUNTS:
        value = _at(item, path)
        if value is _MISSING:
            continue
        text = _count_text(value)
        if text is None:
            problems.append(_bad(f"Must be null or a whole number 0-{_MAX_COUNT}",
                                 where + "." + ".".join(path)))
        else:
            settings.append(f"{setting}={text}")
    shares = item.get("shares_raw", _MISSING)
    if shares is not _MISSING:
        text = "parent" if shares == _FS_PARENT else _count_text(shares)
        if shares is None or text is None:
            problems.append(_bad(f"Must be a whole number 0-{_MAX_COUNT} "
                                 f"({_FS_PARENT}: the parent's)", where + ".shares_raw"))
        else:
            settings.append(f"Fairshare={text}")
    for path, setting, _column in _TRES:
        value = _at(item, path)
        if value is _MISSING:
            continue
        tres, found = _tres_setting(value, where + "." + ".".join(path), lookups.tres)
        problems += found
        if tres is not None and not found:
            settings.append(f"{setting}={tres}")
    more, found = _other_settings(item, where, user, lookups)
    return settings + more, problems + found


def _other_settings(item: dict[str, Any], where: str, user: str, lookups: _Lookups
                    ) -> tuple[list[str], list[dict[str, Any]]]:
    """The QOS, parent and flag part of :func:`_settings`."""
    settings: list[str] = []
    problems: list[dict[str, Any]] = []
    default = _at(item, ("default", "qos"))
    if default is not _MISSING:
        if default in (None, ""):
            settings.append("DefaultQOS=-1")
        elif not isinstance(default, str) or default not in lookups.qos():
            problems.append(_bad("QOS name to ID conversion failed",
                                 where + ".default.qos"))
        else:
            settings.append(f"DefaultQOS={default}")
    qos = item.get("qos", _MISSING)
    if qos is not _MISSING:
        if not isinstance(qos, list) or not qos:
            problems.append(_bad("qos must be a non-empty list of QOS names",
                                 where + ".qos"))
        else:
            unknown = [q for q in qos if not isinstance(q, str) or q not in lookups.qos()]
            if unknown:
                problems.append(_bad("QOS name to ID conversion failed", where + ".qos"))
            else:
                settings.append("QOS=" + ",".join(qos))
    parent = item.get("parent_account")
    if parent:
        if user:
            problems.append(_bad("parent_account is only for an account's own "
                                 "association (no user)", where + ".parent_account"))
        elif not isinstance(parent, str) or not _ACCOUNT_NAME.fullmatch(parent):
            problems.append(_bad("Account name must be 1-64 of [a-z0-9_.-]",
                                 where + ".parent_account"))
        else:
            settings.append(f"Parent={parent}")
    if item.get("usage") is not None:
        problems.append(_bad("usage is read-only", where + ".usage"))
    flags = item.get("flags", [])
    if not isinstance(flags, list) or any(f != "DEFAULT" for f in flags):
        problems.append(_bad("Only the flag DEFAULT may be given", where + ".flags"))
    return settings, problems


def _wants_default(item: dict[str, Any]) -> bool:
    flags = item.get("flags")
    return bool(item.get("is_default")) or (isinstance(flags, list) and "DEFAULT" in flags)


def post_associations(ctx: Context, plan: list[Pending] | None = None,
                      new_qos: Iterable[str] = ()) -> Result:
    """``POST associations``; ``new_qos`` are QOS a ``POST config`` makes before its
    associations (they count as existing)."""
    lookups = _Lookups(ctx, new_qos)
    rows: dict[str, dict[str, str]] = {}
    wants_default: set[str] = set()
    without_user = 0

    def check(index: int, item: dict[str, Any], seen: set[str]) -> Checked:
        nonlocal without_user
        where = f"associations[{index}]"
        ident, problems = _identity(item, where)
        try:
            settings, found = _settings(item, where, ident[2] if ident else "", lookups)
        except SlurmCommandError as exc:
            settings, found = [], [e.to_dict() for e in exc.errors]
        problems += found
        if ident is None or problems:
            return None, problems
        key = _key(*ident)
        if key in seen:
            return None, [_bad(f"Association {key} is given twice", where)]
        seen.add(key)
        if _wants_default(item):
            wants_default.add(key)
        if "user" not in item:
            without_user += 1
        return (key, *ident, *settings), []

    def known() -> list[str]:
        for row in ctx.backend.db_associations(ctx.identity, {}):
            rows[_key(row["account"], row["cluster"], row["user"], row["partition"])] = row
        return list(rows)

    def refuse(values: tuple[str, ...], exists: bool) -> str | None:
        key = values[0]
        if key not in wants_default:
            return None
        row = rows.get(key)
        if exists and row is not None and row["user"]:
            users = ctx.backend.db_users(ctx.identity, None, False)
            if row["id"] in _defaults(list(rows.values()), users):
                return None  # already the default: nothing to change
        return ("is_default/flags DEFAULT cannot be set here: make the account the "
                "user's default account (POST users) instead")

    def apply(values: tuple[str, ...], exists: bool) -> None:
        key, account, cluster, user, partition, *settings = values
        row = rows.get(key) if exists else None
        final = []
        for setting in settings:
            name, _, value = setting.partition("=")
            if row is not None and name in _TRES_COLUMN:
                # slurmrestd sets the whole list: TRES not given any more are removed
                given = {item.partition("=")[0] for item in value.split(",") if item}
                dropped = [item.partition("=")[0] + "=-1"
                           for item in row[_TRES_COLUMN[name]].split(",")
                           if item and item.partition("=")[0] not in given]
                value = ",".join(filter(None, (value, *dropped)))
                if not value:
                    continue
            elif row is not None and name == "Parent" and value == row["parentname"]:
                continue
            final.append(f"{name}={value}")
        ctx.backend.db_put_association(
            ctx.identity, account=account, cluster=cluster, user=user,
            partition=partition, settings=final, exists=exists)

    result = _post(ctx, schema="dbv0.0.38_update_associations", key="associations",
                   label="Association", source=None, check=check, known=known,
                   apply=apply, refuse=refuse, missing_status=200, fail_status=400,
                   plan=plan)
    if isinstance(result, Payload) and result.status == 200 and without_user:
        return Payload(result.data, 200, (*result.errors, *[_NO_USER] * without_user))
    return result


def _filters(ctx: Context) -> dict[str, list[str]] | None:
    """The query's association filters (empty values dropped), or None when a name
    cannot match anything."""
    filters = association_filters(ctx)
    return None if filters is None else {k: v for k, v in filters.items() if v}


def _refused(exc: SlurmCommandError) -> Payload:
    """Slurm's refusal of a removal as slurmrestd reports it: Slurm's error, then its
    own note."""
    first = exc.errors[0]
    return Payload({"removed_associations": []}, 500, (
        _strip_description(_error(first.error, first.error_number, "", _REMOVE)),
        _error(first.error, first.error_number, "unable to query associations")))


def _ambiguous() -> Payload:
    return Payload({"removed_associations": []}, 400, (_error(
        *_INVALID_QUERY,
        "ambiguous request: More than 1 association would have been deleted."),))


def _last_of_user(ctx: Context, filters: dict[str, list[str]],
                  matched: list[dict[str, str]]) -> Payload | None:
    """The refusal to remove the last associations of a user, or None.

    A user's associations are removed with ``sacctmgr delete user``, which also deletes
    the user (with their wckeys and coordinator roles) when no association is left;
    slurmrestd never removes users here."""
    if not (filters.keys() & {"user", "partition"}):
        return None  # removed with "delete account", which keeps every user
    users = sorted({row["user"] for row in matched if row["user"]})
    if not users:
        return None
    gone = {row["id"] for row in matched}
    left = {row["user"] for row in ctx.backend.db_associations(ctx.identity,
                                                               {"user": users})
            if row["id"] not in gone}
    last = [user for user in users if user not in left]
    if not last:
        return None
    return Payload({"removed_associations": []}, 400, tuple(_bad(
        f"These are the last associations of user {user}: removing them would remove "
        "the user too; remove the user instead (DELETE user)", _REMOVE) for user in last))


def _delete_one(ctx: Context, filters: dict[str, list[str]]) -> Result:
    """slurmrestd removes what matches and commits only when that was one association
    (itself with nothing below it); here the count comes first and nothing is removed
    unless it is one."""
    rows = ctx.backend.db_associations(ctx.identity, filters)
    count = len(rows)
    if count == 1 and not rows[0]["user"]:
        account, cluster = rows[0]["account"], rows[0]["cluster"]
        below = ctx.backend.db_associations(ctx.identity, {"cluster": [cluster]})
        count += sum(1 for row in below if row["parentname"] == account
                     or (row["account"] == account and row["user"]))
    if count != 1:
        # slurmdbd checks the caller's rights before it looks at anything
        if not ctx.backend.db_may_remove_associations(ctx.identity):
            raise SlurmCommandError([_DENIED], 500)
        if count == 0:
            return Response(304)
        return _ambiguous()
    row = rows[0]
    exact = {"cluster": [row["cluster"]], "account": [row["account"]]}
    if row["user"]:
        exact["user"] = [row["user"]]
    if row["partition"]:
        exact["partition"] = [row["partition"]]
    refusal = _last_of_user(ctx, exact, rows)
    if refusal is not None:
        return refusal
    return Payload({"removed_associations":
                    ctx.backend.db_delete_associations(ctx.identity, exact)})


#: the only query keys that narrow a removal
_FILTER_KEYS = ("account", "cluster", "user", "partition")


def _loose_filter(ctx: Context) -> Payload | None:
    """A removal's query must say exactly what it narrows to: a key that is not a filter
    (``usr=``, ``User=``) or a filter without a name (``user=``) would otherwise be left
    out, and the removal would reach every association the other filters match."""
    for key in ctx.query:
        if key not in _FILTER_KEYS:
            return Payload({"removed_associations": []}, 400, (_bad(
                f"Unknown filter {key!r}: a removal is narrowed by account, cluster, user "
                "and partition only", _REMOVE),))
    for key, names in (association_filters(ctx) or {}).items():
        if not names:
            return Payload({"removed_associations": []}, 400, (_bad(
                f"Filter {key!r} is given without a name", _REMOVE),))
    return None


def _delete(ctx: Context, only_one: bool) -> Result:
    _check_query(ctx)
    loose = _loose_filter(ctx)
    if loose is not None:
        return loose
    filters = _filters(ctx)
    try:
        if filters is None:
            return Response(304)
        if only_one:
            return _delete_one(ctx, filters)
        if not filters.keys() & {"account", "user", "partition"}:
            return Payload({"removed_associations": []}, 400, (_bad(
                "Refusing to remove every association (of a cluster): give account, "
                "user or partition", _REMOVE),))
        if filters.keys() & {"user", "partition"}:
            refusal = _last_of_user(ctx, filters,
                                    ctx.backend.db_associations(ctx.identity, filters))
            if refusal is not None:
                return refusal
        return Payload({"removed_associations":
                        ctx.backend.db_delete_associations(ctx.identity, filters)})
    except SlurmCommandError as exc:
        if exc.status == 304:
            return Response(304)
        return _refused(exc)


def delete_associations(ctx: Context) -> Result:
    return _delete(ctx, False)


def delete_association(ctx: Context) -> Result:
    return _delete(ctx, True)
