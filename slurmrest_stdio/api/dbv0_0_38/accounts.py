"""``/slurmdb/v0.0.38/``: accounts, users, associations (GET; DELETE account and user;
POST accounts and users).

The rows come from ``sacctmgr``'s parsable output; here they become slurmrestd's
dbv0.0.38 shapes, with its answers for odd queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slurmrest_stdio import errors
from slurmrest_stdio.api import Context, Payload, Result
from slurmrest_stdio.api.values import guess_value, path_text
from slurmrest_stdio.errors import SlurmCommandError
from slurmrest_stdio.protocol import Response

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
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
    try:
        rows = [] if name is not None and not _NAME.fullmatch(name) else \
            ctx.backend.db_accounts(ctx.identity, name, flag)
        if not rows:
            return Payload({"accounts": []}, 500,
                           (*errs, _nothing("slurmdb_accounts_get")))
        assocs = ctx.backend.db_associations(ctx.identity, {})
        every = rows if name is None else ctx.backend.db_accounts(ctx.identity, None, False)
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
    try:
        rows = [] if name is not None and not _NAME.fullmatch(name) else \
            ctx.backend.db_users(ctx.identity, name, flag)
        if not rows:
            return Payload({"users": []}, 500, (_nothing("slurmdb_users_get"),))
        assocs = ctx.backend.db_associations(ctx.identity, {})
    except SlurmCommandError as exc:
        return Payload({"users": []}, exc.status, tuple(e.to_dict() for e in exc.errors))
    return Payload({"users": [_user(r, assocs) for r in rows]})


def get_users(ctx: Context) -> Result:
    return _users(ctx, None)


def get_user(ctx: Context) -> Result:
    return _users(ctx, path_text(ctx.params["user_name"]))


def _associations(ctx: Context, only_one: bool) -> Result:
    _check_query(ctx)
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
            return Payload({}, 500, (_nothing("slurmdb_associations_get"),))
        filters[key] = names
    try:
        rows = ctx.backend.db_associations(ctx.identity, filters)
        if not rows:
            return Payload({}, 500, (_nothing("slurmdb_associations_get"),))
        if only_one and len(rows) > 1:
            return Payload({"associations": []}, 400, (_error(
                *_INVALID_QUERY,
                "Ambiguous request: More than 1 association would have been dumped."),))
        tres = ctx.backend.db_tres(ctx.identity)
        users = ctx.backend.db_users(ctx.identity, None, False)
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
_ACCOUNT_NAME = re.compile(r"[a-z0-9_.-]{1,64}")
#: description/organization text passed safely as one ``Key=value`` item: no quotes,
#: commas or control characters (sacctmgr cuts or strips those); organization is
#: lowercased by sacctmgr, so upper case is refused there
_TEXT = re.compile(r"[A-Za-z0-9_.:/@+ -]{1,200}")
_LOWER_TEXT = re.compile(r"[a-z0-9_.:/@+ -]{1,200}")
_ADD_SOURCE = "slurmdb_accounts_add"


def _bad(description: str, source: str) -> dict[str, Any]:
    return _error(*_INVALID_QUERY, description, source)


def _account_request(index: int, item: dict[str, Any], seen: set[str]
                     ) -> tuple[tuple[str, ...] | None, list[dict[str, Any]]]:
    """One account of the body as (name, description, organization), or its problems."""
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
    for key in ("associations", "coordinators", "flags"):
        if item.get(key):
            problems.append(_bad(f"Setting {key} here is not supported", f"{where}.{key}"))
    if problems:
        return None, problems
    assert isinstance(name, str) and isinstance(description, str)
    assert isinstance(organization, str)
    return (name, description, organization), []


#: one body object checked: what to apply (name first), or its problems
Checked = tuple[tuple[str, ...] | None, list[dict[str, Any]]]
_ADMIN_LEVELS = {"none": "None", "operator": "Operator", "administrator": "Administrator",
                 "admin": "Administrator"}


def _user_request(index: int, item: dict[str, Any], seen: set[str]) -> Checked:
    """One user of the body as (name, default account or "", admin level or "")."""
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
    if default.get("wckey"):
        problems.append(_bad("Setting a default wckey here is not supported",
                             where + ".default.wckey"))
    level = item.get("administrator_level")
    admin = ""
    if level is not None:
        admin = _ADMIN_LEVELS.get(str(level).lower(), "")
        if not admin:
            problems.append(_bad("Administrator level must be None, Operator or "
                                 "Administrator", where + ".administrator_level"))
    for key in ("associations", "coordinators", "flags"):
        if item.get(key):
            problems.append(_bad(f"Setting {key} here is not supported", f"{where}.{key}"))
    if problems:
        return None, problems
    assert isinstance(name, str)
    return (name, account, admin), []


def _no_refusal(_values: tuple[str, ...], _exists: bool) -> str | None:
    return None


def _post(ctx: Context, *, schema: str, key: str, label: str, source: str,
          check: Callable[[int, dict[str, Any], set[str]], Checked],
          known: Callable[[], list[str]],
          apply: Callable[[tuple[str, ...], bool], None],
          refuse: Callable[[tuple[str, ...], bool], str | None] = _no_refusal,
          missing_status: int = 500) -> Result:
    """Create or update the objects listed under ``key``, checking every one before
    changing any.

    All applied: 200. The first fails: Slurm's error alone (nothing changed, as with
    slurmrestd's single database call). A later one fails: 500, one error naming each
    object that was applied (and stays), the one that failed and each not tried. No
    list under ``key``: slurmrestd's 9200 error with ``missing_status`` (its accounts
    handler goes on to the database, which refuses an empty change: 500; its users
    handler stops: 400).
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
    done: list[str] = []
    for position, values in enumerate(wanted):
        name = values[0]
        try:
            apply(values, name in existing)
        except SlurmCommandError as exc:
            failure = exc.errors[0]
            if not done:
                return Payload({}, 500, (_strip_description(_error(
                    failure.error, failure.error_number, "", source)),))
            report = [_error(failure.error, failure.error_number,
                             f"{label} {n} was applied before the failure and stays",
                             source) for n in done]
            report.append(_error(failure.error, failure.error_number,
                                 f"{label} {name} failed: {failure.description}", source))
            report += [_error(failure.error, failure.error_number,
                              f"{label} {later[0]} was not applied", source)
                       for later in wanted[position + 1:]]
            return Payload({}, 500, tuple(report))
        done.append(name)
    return Payload({})


def post_accounts(ctx: Context) -> Result:
    def known() -> list[str]:
        return [row["account"] for row in ctx.backend.db_accounts(ctx.identity, None,
                                                                  False)]

    def apply(values: tuple[str, ...], exists: bool) -> None:
        name, description, organization = values
        ctx.backend.db_put_account(ctx.identity, name, description, organization,
                                   exists=exists)

    return _post(ctx, schema="dbv0.0.38_update_account", key="accounts",
                 label="Account", source=_ADD_SOURCE, check=_account_request,
                 known=known, apply=apply)


def post_users(ctx: Context) -> Result:
    def known() -> list[str]:
        return [row["user"] for row in ctx.backend.db_users(ctx.identity, None, False)]

    def refuse(values: tuple[str, ...], exists: bool) -> str | None:
        # sacctmgr makes a user together with an association only
        if not exists and not values[1]:
            return f"User {values[0]} is new: default.account is required"
        return None

    def apply(values: tuple[str, ...], exists: bool) -> None:
        name, account, admin = values
        ctx.backend.db_put_user(ctx.identity, name, account or None, admin or None,
                                exists=exists)

    return _post(ctx, schema="dbv0.0.38_update_users", key="users", label="User",
                 source="slurmdb_users_add", check=_user_request, known=known,
                 apply=apply, refuse=refuse, missing_status=400)


ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = (
    ("GET", "/slurmdb/v0.0.38/accounts", get_accounts),
    ("GET", "/slurmdb/v0.0.38/account/{account_name}", get_account),
    ("GET", "/slurmdb/v0.0.38/users", get_users),
    ("GET", "/slurmdb/v0.0.38/user/{user_name}", get_user),
    ("GET", "/slurmdb/v0.0.38/associations", get_associations),
    ("GET", "/slurmdb/v0.0.38/association", get_association),
    ("POST", "/slurmdb/v0.0.38/accounts", post_accounts),
    ("POST", "/slurmdb/v0.0.38/users", post_users),
    ("DELETE", "/slurmdb/v0.0.38/account/{account_name}", delete_account),
    ("DELETE", "/slurmdb/v0.0.38/user/{user_name}", delete_user),
)
