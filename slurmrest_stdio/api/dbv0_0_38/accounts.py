"""``/slurmdb/v0.0.38/``: accounts, users, associations (GET; DELETE account and user;
POST accounts and users).

The rows come from ``sacctmgr``'s parsable output; here they become slurmrestd's
dbv0.0.38 shapes, with its answers for odd queries.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slurmrest_stdio import errors
from slurmrest_stdio.api import Context, Payload, Result, together
from slurmrest_stdio.api.values import guess_value, path_text
from slurmrest_stdio.errors import SlurmCommandError
from slurmrest_stdio.protocol import Response

if TYPE_CHECKING:
    from slurmrest_stdio.api.dbv0_0_38.objects import Pending

#: a name never begins with "-" (sacctmgr would read a bare one as an option)
_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")
_INVALID_QUERY = ("Query empty or not RFC7320 compliant", 9000)
_UNITS = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2, "P": 1024**3}


def _check_query(ctx: Context) -> None:
    """slurmrestd's URL parser refuses a query with an unescaped comma (``%2C`` is fine)
    before any operation sees it.

    Raises:
        errors.BadRequest: there is one.
    """
    if "," in ctx.query_string:
        raise errors.BadRequest("Unable to parse query.")


def _error(text: str, number: int, description: str, source: str | None = None
           ) -> dict[str, Any]:
    err: dict[str, Any] = {"description": description, "error_number": number, "error": text}
    if source is not None:
        err["source"] = source
    return err


def _nothing(source: str) -> dict[str, Any]:
    return _error("Nothing found with query", 9003, "Nothing found", source)


def _null(text: str) -> str | None:
    return text or None


def _number(text: str) -> int | None:
    """A sacctmgr count; blank (unset or infinite) is slurmrestd's null."""
    return int(text) if text.isdigit() else None


def _minutes(text: str) -> int | None:
    """sacctmgr's ``[days-]hh:mm:ss`` (or ``mm:ss``) wall clock as minutes."""
    if not text:
        return None
    days, _, clock = text.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, mins, _seconds = parts  # limits are whole minutes
    return (int(days or 0) * 24 + hours) * 60 + mins


def _tres_list(text: str, ids: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        kind, _, name = key.partition("/")
        count: float | int
        if value and value[-1] in _UNITS:
            count = float(value[:-1]) * _UNITS[value[-1]]
        else:
            count = float(value or 0)
        out.append({"type": kind, "name": _null(name), "id": ids.get(key),
                    "count": int(count)})
    # Slurm keeps a TRES string in TRES id order; sacctmgr prints names alphabetically
    return sorted(out, key=lambda tres: tres["id"] if tres["id"] is not None else 0)


def _short(row: dict[str, str]) -> dict[str, Any]:
    return {"account": row["account"], "cluster": row["cluster"],
            "partition": _null(row["partition"]), "user": _null(row["user"])}


def _defaults(rows: list[dict[str, str]], users: list[dict[str, str]]) -> set[str]:
    """Ids of the default associations. sacctmgr does not print that flag; slurmdbd sets
    it on the first association made for a user's default account on a cluster (with or
    without a partition), so per user and cluster that is the one with the lowest id."""
    default_acct = {u["user"]: u["defaultaccount"] for u in users}
    chosen: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        if not row["user"] or row["account"] != default_acct.get(row["user"]):
            continue
        key = (row["user"], row["cluster"])
        best = chosen.get(key)
        if best is None or int(row["id"] or 0) < int(best["id"] or 0):
            chosen[key] = row
    return {row["id"] for row in chosen.values()}


def _association(row: dict[str, str], ids: dict[str, int], default: bool) -> dict[str, Any]:
    fairshare = row["fairshare"]
    shares = 2147483647 if fairshare == "parent" else _number(fairshare)
    return {
        "account": row["account"],
        "cluster": row["cluster"],
        "default": {"qos": _null(row["defaultqos"])},
        "flags": ["DEFAULT"] if default else [],
        "max": {
            "jobs": {
                "per": {"count": _number(row["grpjobs"]),
                        "accruing": _number(row["grpjobsaccrue"]),
                        "submitted": _number(row["grpsubmitjobs"]),
                        "wall_clock": _minutes(row["maxwalldurationperjob"])},
                "active": _number(row["maxjobs"]),
                "accruing": _number(row["maxjobsaccrue"]),
                "total": _number(row["maxsubmitjobs"]),
            },
            "tres": {
                "total": _tres_list(row["grptres"], ids),
                "minutes": {"per": {"job": _tres_list(row["maxtresminsperjob"], ids)},
                            "total": _tres_list(row["maxtresrunmins"], ids)},
                "group": {"minutes": _tres_list(row["grptresmins"], ids),
                          "active": _tres_list(row["grptresrunmins"], ids)},
                "per": {"job": _tres_list(row["maxtresperjob"], ids),
                        "node": _tres_list(row["maxtrespernode"], ids)},
            },
            "per": {"account": {"wall_clock": _minutes(row["grpwall"])}},
        },
        "is_default": 1 if default else 0,
        "min": {"priority_threshold": _number(row["minpriothresh"])},
        "parent_account": _null(row["parentname"]),
        "partition": _null(row["partition"]),
        "priority": _number(row["priority"]),
        "qos": sorted(filter(None, row["qos"].split(","))),
        "shares_raw": shares,
        "usage": None,
        "user": _null(row["user"]),
    }


def _with_deleted(ctx: Context) -> tuple[bool, list[dict[str, Any]]]:
    """``?with_deleted=`` as slurmrestd reads it (any value converts to a boolean: empty
    is false, a number is its being non-zero, other text is true); other keys are
    errors."""
    flag, errs = False, []
    for key, values in ctx.query.items():
        if key.lower() != "with_deleted":
            errs.append(_error(*_INVALID_QUERY, "Unknown query field"))
            break
        value = guess_value(values[-1])
        flag = bool(value) if isinstance(value, (bool, int, float)) else value is not None
    return flag, errs


def _parents(assocs: list[dict[str, str]]) -> dict[str, str]:
    """Account -> its parent account, from the accounts' own associations."""
    return {a["account"]: a["parentname"] for a in assocs if not a["user"]}


def _coordinators(text: str, parents: dict[str, str], of: dict[str, set[str]] | None = None,
                  account: str | None = None) -> list[dict[str, Any]]:
    """Coordinators as slurmdbd lists them: ``direct`` is 0 for those inherited from a
    parent account. sacctmgr prints names only, so an account's coordinator is taken as
    inherited when it also coordinates the parent account (a user made coordinator of
    both an account and its parent is the one case this reads as inherited)."""
    names = [n for n in text.split(",") if n]
    out = []
    for name in names:
        if account is not None:  # an account's coordinators: users
            inherited = of is not None and parents.get(account, "") in of.get(name, set())
        else:  # a user's coordinators: accounts
            inherited = parents.get(name, "") in names
        out.append({"name": name, "direct": 0 if inherited else 1})
    return out


def _account(row: dict[str, str], assocs: list[dict[str, str]],
             coords: dict[str, set[str]]) -> dict[str, Any]:
    return {
        "associations": [_short(a) for a in assocs if a["account"] == row["account"]],
        "coordinators": _coordinators(row["coordinators"], _parents(assocs), coords,
                                      row["account"]),
        "description": row["descr"],
        "name": row["account"],
        "organization": row["org"],
        "flags": ["DELETED"] if row.get("deleted") else [],
    }


def _user(row: dict[str, str], assocs: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "administrator_level": row["adminlevel"],
        "associations": [_short(a) for a in assocs if a["user"] == row["user"]],
        "coordinators": _coordinators(row["coordinators"], _parents(assocs)),
        "default": {"account": _null(row["defaultaccount"]), "wckey": row["defaultwckey"]},
        "flags": ["DELETED"] if row.get("deleted") else [],
        "name": row["user"],
    }


def _accounts(ctx: Context, name: str | None) -> Result:
    _check_query(ctx)
    flag, errs = _with_deleted(ctx)
    if errs and name is not None:
        return Payload({}, 400, tuple(errs))
    if name is not None and not _NAME.fullmatch(name):
        return Payload({"accounts": []}, 500, (*errs, _nothing("slurmdb_accounts_get")))
    get_rows, get_assocs, get_every = together(
        lambda: ctx.backend.db_accounts(ctx.identity, name, flag),
        lambda: ctx.backend.db_associations(ctx.identity, {}),
        lambda: None if name is None else ctx.backend.db_accounts(ctx.identity, None, False))
    try:
        rows = get_rows()
        if not rows:
            return Payload({"accounts": []}, 500,
                           (*errs, _nothing("slurmdb_accounts_get")))
        assocs = get_assocs()
        every = rows if name is None else get_every()
    except SlurmCommandError as exc:
        return Payload({"accounts": []}, exc.status,
                       (*errs, *(e.to_dict() for e in exc.errors)))
    coords: dict[str, set[str]] = {}
    for acct in every:
        for user in filter(None, acct["coordinators"].split(",")):
            coords.setdefault(user, set()).add(acct["account"])
    return Payload({"accounts": [_account(r, assocs, coords) for r in rows]}, 200,
                   tuple(errs))


def get_accounts(ctx: Context) -> Result:
    return _accounts(ctx, None)


def get_account(ctx: Context) -> Result:
    return _accounts(ctx, path_text(ctx.params["account_name"]))


def _users(ctx: Context, name: str | None) -> Result:
    _check_query(ctx)
    flag = False
    if name is None:
        flag, errs = _with_deleted(ctx)
        if errs:
            return Payload({}, 400, tuple(errs))
    if name is not None and not _NAME.fullmatch(name):
        return Payload({"users": []}, 500, (_nothing("slurmdb_users_get"),))
    get_rows, get_assocs = together(
        lambda: ctx.backend.db_users(ctx.identity, name, flag),
        lambda: ctx.backend.db_associations(ctx.identity, {}))
    try:
        rows = get_rows()
        if not rows:
            return Payload({"users": []}, 500, (_nothing("slurmdb_users_get"),))
        assocs = get_assocs()
    except SlurmCommandError as exc:
        return Payload({"users": []}, exc.status, tuple(e.to_dict() for e in exc.errors))
    return Payload({"users": [_user(r, assocs) for r in rows]})


def get_users(ctx: Context) -> Result:
    return _users(ctx, None)


def get_user(ctx: Context) -> Result:
    return _users(ctx, path_text(ctx.params["user_name"]))


def association_filters(ctx: Context) -> dict[str, list[str]] | None:
    """The query's association filters: for each of partition, cluster, account and
    user given, the names in its last value (guessed like slurmrestd, split at commas,
    empty names dropped; a key given with no name keeps an empty list). None when a name
    could never match."""
    filters: dict[str, list[str]] = {}
    for key in ("partition", "cluster", "account", "user"):
        values = ctx.query.get(key)
        if values is None:
            continue
        value = guess_value(values[-1])
        text = "" if value is None else str(value).lower() if isinstance(value, bool) \
            else str(value)
        names = [n for n in text.split(",") if n]
        if any(not _NAME.fullmatch(n) for n in names):
            return None
        filters[key] = names
    return filters


def _associations(ctx: Context, only_one: bool) -> Result:
    _check_query(ctx)
    filters = association_filters(ctx)
    if filters is None:
        return Payload({}, 500, (_nothing("slurmdb_associations_get"),))
    get_rows, get_tres, get_users = together(
        lambda: ctx.backend.db_associations(ctx.identity, filters),
        lambda: ctx.backend.db_tres(ctx.identity),
        lambda: ctx.backend.db_users(ctx.identity, None, False))
    try:
        rows = get_rows()
        if not rows:
            return Payload({}, 500, (_nothing("slurmdb_associations_get"),))
        if only_one and len(rows) > 1:
            return Payload({"associations": []}, 400, (_error(
                *_INVALID_QUERY,
                "Ambiguous request: More than 1 association would have been dumped."),))
        tres = get_tres()
        users = get_users()
    except SlurmCommandError as exc:
        return Payload({}, exc.status, tuple(e.to_dict() for e in exc.errors))
    ids = {(t["type"] + "/" + t["name"]) if t["name"] else t["type"]: int(t["id"])
           for t in tres}
    defaults = _defaults(rows, users)
    return Payload({"associations": [
        _association(r, ids, r["id"] in defaults) for r in rows]})


def get_associations(ctx: Context) -> Result:
    return _associations(ctx, False)


def get_association(ctx: Context) -> Result:
    return _associations(ctx, True)


def _slurm_errors(exc: SlurmCommandError) -> tuple[dict[str, Any], ...]:
    """Slurm's errors as slurmrestd lists a failed removal: no description."""
    return tuple(_error(e.error, e.error_number, "", e.source) for e in exc.errors)


def _strip_description(err: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in err.items() if k != "description" or v}


def delete_account(ctx: Context) -> Result:
    """slurmrestd answers 200 whatever happened; failures are only in ``errors``."""
    _check_query(ctx)
    name = path_text(ctx.params["account_name"])
    try:
        if not _NAME.fullmatch(name):
            raise SlurmCommandError([errors.SlurmError(
                "Data has not changed since time specified", 1900, "",
                "slurmdb_accounts_remove")], 304)
        removed = ctx.backend.db_delete(ctx.identity, "account", name)
    except SlurmCommandError as exc:
        return Payload({}, 200, tuple(_strip_description(e) for e in _slurm_errors(exc)))
    return Payload({"removed_associations": removed})


def delete_user(ctx: Context) -> Result:
    """Removed: 200 with the names; nothing matched: 304 (no body); refused: 500."""
    _check_query(ctx)
    name = path_text(ctx.params["user_name"])
    try:
        if not _NAME.fullmatch(name):
            return Response(304)
        removed = ctx.backend.db_delete(ctx.identity, "user", name)
    except SlurmCommandError as exc:
        if exc.status == 304:
            return Response(304)
        return Payload({}, 500, tuple(_strip_description(e) for e in _slurm_errors(exc)))
    return Payload({"removed_users": removed})


#: account names sacctmgr keeps as given (it lowercases them)
_ACCOUNT_NAME = re.compile(r"[a-z0-9_.][a-z0-9_.-]{0,63}")
#: description/organization text passed safely as one ``Key=value`` item: no quotes,
#: commas or control characters (sacctmgr cuts or strips those); organization is
#: lowercased by sacctmgr, so upper case is refused there
_TEXT = re.compile(r"[A-Za-z0-9_.:/@+ -]{1,200}")
_LOWER_TEXT = re.compile(r"[a-z0-9_.:/@+ -]{1,200}")
_ADD_SOURCE = "slurmdb_accounts_add"


def _bad(description: str, source: str) -> dict[str, Any]:
    return _error(*_INVALID_QUERY, description, source)


def _flag_problems(item: dict[str, Any]) -> list[dict[str, Any]]:
    """slurmrestd knows one flag for accounts and users, DELETED (in any case), and
    stores nothing for it; any other is its parse failure, word for word."""
    flags = item.get("flags") or []
    if all(str(flag).upper() == "DELETED" for flag in flags):
        return []
    return [_error("Failure during parsing", 9001, "Unknown flag", "flags"),
            _error("Failure during parsing", 9001, "Failed to parse field 'flags'",
                   "_parser_run")]


def _joined(items: list[str]) -> str:
    """Checked names (never ``,`` or ``/``) packed into one text value."""
    return ",".join(dict.fromkeys(items))


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _assoc_problems(where: str, assoc: dict[str, Any], owner: str | None
                    ) -> list[dict[str, Any]]:
    """The checks of one ``associations`` item (cluster and account needed)."""
    problems = []
    for key in ("account", "cluster"):
        value = assoc.get(key)
        if not isinstance(value, str) or not _ACCOUNT_NAME.fullmatch(value):
            problems.append(_bad(f"Association {key} must be 1-64 of [a-z0-9_.-]",
                                 f"{where}.{key}"))
    partition = assoc.get("partition")
    if partition is not None and not _NAME.fullmatch(str(partition)):
        problems.append(_bad("Partition must be [A-Za-z0-9_.-]", where + ".partition"))
    user = assoc.get("user")
    if owner is not None and user is not None and user != owner:
        problems.append(_bad(f"A user's association must be of user {owner}",
                             where + ".user"))
    return problems


def _account_request(index: int, item: dict[str, Any], seen: set[str]
                     ) -> tuple[tuple[str, ...] | None, list[dict[str, Any]]]:
    """One account of the body as (name, description, organization, clusters of its
    associations, its user associations as ``cluster/user/partition`` items), or its
    problems. Coordinators are read but, as by slurmrestd, not stored."""
    where = f"accounts[{index}]"
    problems = []
    name = item.get("name")
    if not isinstance(name, str) or not _ACCOUNT_NAME.fullmatch(name):
        problems.append(_bad("Account name must be 1-64 of [a-z0-9_.-]", where + ".name"))
    elif name in seen:
        problems.append(_bad(f"Account {name} is given twice", where + ".name"))
    else:
        seen.add(name)
    # slurmrestd (like sacctmgr) uses the name where these are not given
    description = item.get("description", name)
    organization = item.get("organization", name)
    if not isinstance(description, str) or not _TEXT.fullmatch(description):
        problems.append(_bad("Description must be 1-200 of [A-Za-z0-9_.:/@+ -]",
                             where + ".description"))
    if not isinstance(organization, str) or not _LOWER_TEXT.fullmatch(organization):
        problems.append(_bad("Organization must be 1-200 of [a-z0-9_.:/@+ -]",
                             where + ".organization"))
    clusters: list[str] = []
    users: list[str] = []
    for number, assoc in enumerate(item.get("associations") or []):
        at = f"{where}.associations[{number}]"
        found = _assoc_problems(at, assoc, None)
        if assoc.get("account") not in (None, name):
            found.append(_bad(f"An account's association must be of account {name}",
                              at + ".account"))
        if assoc.get("user") is None and assoc.get("partition") is not None:
            found.append(_bad("An account's own association has no partition",
                              at + ".partition"))
        user = assoc.get("user")
        if user is not None and not _ACCOUNT_NAME.fullmatch(str(user)):
            found.append(_bad("User name must be 1-64 of [a-z0-9_.-]", at + ".user"))
        problems += found
        if not found:
            clusters.append(assoc["cluster"])
            if user is not None:
                users.append(f"{assoc['cluster']}/{user}/{assoc.get('partition') or ''}")
    for number, coord in enumerate(item.get("coordinators") or []):
        if not isinstance(coord.get("name"), str):
            problems.append(_bad("Coordinator name is required",
                                 f"{where}.coordinators[{number}].name"))
    problems += _flag_problems(item)
    if problems:
        return None, problems
    assert isinstance(name, str) and isinstance(description, str)
    assert isinstance(organization, str)
    return (name, description, organization, _joined(clusters), _joined(users)), []


#: one body object checked: what to apply (name first), or its problems
Checked = tuple[tuple[str, ...] | None, list[dict[str, Any]]]
_ADMIN_LEVELS = {"none": "None", "operator": "Operator", "administrator": "Administrator",
                 "admin": "Administrator"}


def _user_request(index: int, item: dict[str, Any], seen: set[str]) -> Checked:
    """One user of the body as (name, default account or "", admin level or "",
    associations as ``cluster/account/partition`` items, accounts to coordinate (the
    ``direct`` ones: slurmrestd skips the others), default wckey or "")."""
    where = f"users[{index}]"
    problems = []
    name = item.get("name")
    if not isinstance(name, str) or not _ACCOUNT_NAME.fullmatch(name):
        problems.append(_bad("User name must be 1-64 of [a-z0-9_.-]", where + ".name"))
    elif name in seen:
        problems.append(_bad(f"User {name} is given twice", where + ".name"))
    else:
        seen.add(name)
    default = item.get("default") or {}
    account = default.get("account") or ""
    if account and not _ACCOUNT_NAME.fullmatch(account):
        problems.append(_bad("Account name must be 1-64 of [a-z0-9_.-]",
                             where + ".default.account"))
    wckey = default.get("wckey") or ""
    if wckey and not _NAME.fullmatch(wckey):
        problems.append(_bad("WCKey name must be [A-Za-z0-9_.-]", where + ".default.wckey"))
    level = item.get("administrator_level")
    admin = ""
    if level is not None:
        admin = _ADMIN_LEVELS.get(str(level).lower(), "")
        if not admin:
            problems.append(_bad("Administrator level must be None, Operator or "
                                 "Administrator", where + ".administrator_level"))
    assocs: list[str] = []
    for number, assoc in enumerate(item.get("associations") or []):
        found = _assoc_problems(f"{where}.associations[{number}]", assoc,
                                name if isinstance(name, str) else "")
        problems += found
        if not found:
            assocs.append(f"{assoc['cluster']}/{assoc['account']}/"
                          f"{assoc.get('partition') or ''}")
    coords: list[str] = []
    for number, coord in enumerate(item.get("coordinators") or []):
        acct = coord.get("name")
        if not isinstance(acct, str) or not _ACCOUNT_NAME.fullmatch(acct):
            problems.append(_bad("Account name must be 1-64 of [a-z0-9_.-]",
                                 f"{where}.coordinators[{number}].name"))
        elif coord.get("direct"):
            coords.append(acct)
    problems += _flag_problems(item)
    if problems:
        return None, problems
    assert isinstance(name, str)
    return (name, account, admin, _joined(assocs), _joined(coords), wckey), []


def _no_refusal(_values: tuple[str, ...], _exists: bool) -> str | None:
    return None


def _post(ctx: Context, *, schema: str, key: str, label: str, source: str | None,
          check: Callable[[int, dict[str, Any], set[str]], Checked],
          known: Callable[[], list[str]],
          apply: Callable[[tuple[str, ...], bool], None],
          refuse: Callable[[tuple[str, ...], bool], str | None] = _no_refusal,
          missing_status: int = 500, fail_status: int = 500,
          plan: list[Pending] | None = None) -> Result:
    """Create or update the objects listed under ``key``, checking every one before
    changing any.

    All applied: 200. The first fails: Slurm's error alone (nothing changed, as with
    slurmrestd's single database call). A later one fails: 500, one error naming each
    object that was applied (and stays), the one that failed and each not tried. No
    list under ``key``: slurmrestd's 9200 error with ``missing_status`` (its accounts
    handler goes on to the database, which refuses an empty change: 500; its users
    handler stops: 400). ``fail_status`` is the status of a failure in ``apply``;
    ``source`` None keeps the source of the error ``apply`` raised. With ``plan``,
    the checked changes are added to it instead of being made (``POST config``).
    """
    _check_query(ctx)
    try:
        data = ctx.body_data(schema)
    except SlurmCommandError as exc:
        return Payload({}, exc.status, tuple(e.to_dict() for e in exc.errors))
    if not isinstance(data, dict):
        return Payload({}, 400, (_bad("Body must be an object", "request body"),))
    if key not in data:
        return Payload({}, missing_status, (_error("Unable to resolve path", 9200,
                                        "Query parameter not found", key),))
    wanted: list[tuple[str, ...]] = []
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(data[key]):
        values, found = check(index, item, seen)
        problems += found
        if values is not None:
            wanted.append(values)
    if problems:
        return Payload({}, 400, tuple(problems))
    try:
        existing = set(known()) if wanted else set()
    except SlurmCommandError as exc:
        return Payload({}, exc.status, tuple(e.to_dict() for e in exc.errors))
    for index, values in enumerate(wanted):  # checks that need to know what exists
        problem = refuse(values, values[0] in existing)
        if problem:
            problems.append(_bad(problem, f"{key}[{index}]"))
    if problems:
        return Payload({}, 400, tuple(problems))
    if plan is not None:
        plan.extend((label, values[0], _later(apply, values, values[0] in existing), source)
                    for values in wanted)
        return Payload({})
    done: list[str] = []
    for position, values in enumerate(wanted):
        name = values[0]
        try:
            apply(values, name in existing)
        except SlurmCommandError as exc:
            failure = exc.errors[0]
            where = failure.source if source is None else source
            if not done:
                return Payload({}, fail_status, (_strip_description(_error(
                    failure.error, failure.error_number, "", where)),))
            report = [_error(failure.error, failure.error_number,
                             f"{label} {n} was applied before the failure and stays",
                             where) for n in done]
            report.append(_error(failure.error, failure.error_number,
                                 f"{label} {name} failed: {failure.description}", where))
            report += [_error(failure.error, failure.error_number,
                              f"{label} {later[0]} was not applied", where)
                       for later in wanted[position + 1:]]
            return Payload({}, fail_status, tuple(report))
        done.append(name)
    return Payload({})


def _later(apply: Callable[[tuple[str, ...], bool], None], values: tuple[str, ...],
           exists: bool) -> Callable[[], None]:
    return lambda: apply(values, exists)


def _triples(text: str) -> list[tuple[str, str, str]]:
    out = []
    for item in _split(text):
        first, second, third = item.split("/")
        out.append((first, second, third))
    return out


def _recording(check: Callable[[int, dict[str, Any], set[str]], Checked],
               into: list[tuple[str, ...]]
               ) -> Callable[[int, dict[str, Any], set[str]], Checked]:
    """``check``, keeping each object's values for the checks against the database."""
    def recorded(index: int, item: dict[str, Any], seen: set[str]) -> Checked:
        values, problems = check(index, item, seen)
        if values is not None:
            into.append(values)
        return values, problems
    return recorded


def _drop_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _drop_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_drop_nulls(v) for v in data]
    return data


def _nulls_unset(ctx: Context) -> Context:
    """The request with every null member of the body's objects left out.

    slurmrestd reads a null as "not given" (what its GET answers hold for an unset
    partition, user or default account, so they can be posted back); our schema check
    (JSON Schema draft 4) knows no ``nullable``, so they go before it runs.
    """
    from slurmrest_stdio import codec

    _check_query(ctx)
    data = _drop_nulls(ctx.body_data())
    headers = tuple((k, v) for k, v in ctx.request.headers if k != "content-type")
    request = dataclasses.replace(
        ctx.request, body=codec.dump_json(data).encode(),
        headers=(*headers, ("content-type", "application/json")))
    return dataclasses.replace(ctx, request=request)


def post_accounts(ctx: Context, plan: list[Pending] | None = None) -> Result:
    ctx = _nulls_unset(ctx)
    wanted: list[tuple[str, ...]] = []
    clusters: set[str] = set()
    users: set[str] = set()

    def known() -> list[str]:
        if any(values[3] for values in wanted):
            clusters.update(row["name"] for row in ctx.backend.db_clusters(ctx.identity))
        if any(values[4] for values in wanted):
            users.update(row["user"] for row in ctx.backend.db_users(ctx.identity, None,
                                                                     False))
        return [row["account"] for row in ctx.backend.db_accounts(ctx.identity, None,
                                                                  False)]

    def refuse(values: tuple[str, ...], _exists: bool) -> str | None:
        found = [f"Cluster {c} does not exist" for c in _split(values[3])
                 if c not in clusters]
        found += [f"User {u} does not exist" for _, u, _ in _triples(values[4])
                  if u not in users]
        return "; ".join(found) or None

    def apply(values: tuple[str, ...], exists: bool) -> None:
        name, description, organization, on, assocs = values
        ctx.backend.db_put_account(ctx.identity, name, description, organization,
                                   exists=exists, clusters=_split(on),
                                   user_associations=_triples(assocs))

    return _post(ctx, schema="dbv0.0.38_update_account", key="accounts",
                 label="Account", source=_ADD_SOURCE,
                 check=_recording(_account_request, wanted), known=known, apply=apply,
                 refuse=refuse, plan=plan)


def post_users(ctx: Context, plan: list[Pending] | None = None,
               new_accounts: Iterable[str] = ()) -> Result:
    """``POST users``; ``new_accounts`` are accounts a ``POST config`` makes before its
    users (they count as existing)."""
    ctx = _nulls_unset(ctx)
    wanted: list[tuple[str, ...]] = []
    accounts: set[str] = set()
    clusters: set[str] = set()
    wckeys: dict[tuple[str, str], list[str]] = {}
    unreadable: list[bool] = []

    def known() -> list[str]:
        if any(values[3] or values[4] for values in wanted):
            accounts.update(row["account"] for row in
                            ctx.backend.db_accounts(ctx.identity, None, False))
            accounts.update(new_accounts)
        if any(values[3] for values in wanted):
            clusters.update(row["name"] for row in ctx.backend.db_clusters(ctx.identity))
        if any(values[5] for values in wanted):
            try:
                rows = ctx.backend.db_wckeys(ctx.identity)
            except SlurmCommandError:
                # only administrators may read wckeys: Slurm refuses the change itself
                unreadable.append(True)
                rows = []
            for row in rows:
                if not row.get("deleted"):
                    wckeys.setdefault((row["user"], row["name"]), []).append(
                        row["cluster"])
        return [row["user"] for row in ctx.backend.db_users(ctx.identity, None, False)]

    def refuse(values: tuple[str, ...], exists: bool) -> str | None:
        name, account, _admin, assocs, coords, wckey = values
        found = []
        # sacctmgr makes a user together with an association only
        if not exists and not account and not assocs:
            found.append(f"User {name} is new: default.account or associations is "
                         "required")
        for cluster, acct, _partition in _triples(assocs):
            if acct not in accounts:
                found.append(f"Account {acct} does not exist")
            if cluster not in clusters:
                found.append(f"Cluster {cluster} does not exist")
        found += [f"Account {acct} does not exist" for acct in _split(coords)
                  if acct not in accounts]
        if wckey and not unreadable and (name, wckey) not in wckeys:
            found.append(f"User {name} has no wckey {wckey}")
        return "; ".join(dict.fromkeys(found)) or None

    def apply(values: tuple[str, ...], exists: bool) -> None:
        name, account, admin, assocs, coords, wckey = values
        ctx.backend.db_put_user(
            ctx.identity, name, account or None, admin or None, exists=exists,
            associations=_triples(assocs), coordinators=_split(coords),
            default_wckey=(wckey, wckeys.get((name, wckey), [])) if wckey else None)

    return _post(ctx, schema="dbv0.0.38_update_users", key="users", label="User",
                 source="slurmdb_users_add", check=_recording(_user_request, wanted),
                 known=known, apply=apply, refuse=refuse, missing_status=400, plan=plan)
