"""slurmdb accounts, users and associations (``sacctmgr``): the real implementation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.backend.ops_dbaccounts import (
    ACCOUNT_FIELDS,
    ASSOC_FIELDS,
    TRES_FIELDS,
    USER_FIELDS,
)
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

SACCTMGR = "sacctmgr"
#: Slurm's SLURM_NO_CHANGE_IN_DATA: what slurmdbd answers a removal that matched nothing
NO_CHANGE = SlurmError("Data has not changed since time specified", 1900)
#: Slurm's ESLURM_ACCESS_DENIED
DENIED = SlurmError("Access/permission denied", 2002)
#: sacctmgr's own refusals of user changes by a non-administrator
_USER_REFUSALS = (b"is not AdminLevel >=", b"You can only change your own")
_REMOVE_SOURCE = {"account": "slurmdb_accounts_remove", "user": "slurmdb_users_remove"}
#: the association filters slurmrestd reads, as sacctmgr's ``where`` keys
_ASSOC_FILTERS = ("cluster", "account", "user", "partition")


class DbAccountsCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbaccounts.DbAccountsOps`."""

    def _show(
        self, who: Identity, entity: str, fields: Sequence[str], *, where: Sequence[str],
        options: Sequence[str], source: str,
    ) -> list[dict[str, str]]:
        argv = [SACCTMGR, "-P", "-n", "show", entity, *options]
        if where:
            argv += ["where", *where]
        argv.append("format=" + ",".join(fields))
        out = self.run(argv, who)
        if out.returncode != 0:
            raise SlurmCommandError([slurm_error(out.stderr, source)])
        rows = []
        for line in out.stdout.decode("utf-8", "surrogateescape").splitlines():
            if not line:
                continue
            cells = line.split("|")
            if len(cells) != len(fields):
                continue
            rows.append(dict(zip(fields, cells, strict=True)))
        return rows

    def db_associations(
        self, who: Identity, filters: Mapping[str, Sequence[str]]
    ) -> list[dict[str, str]]:
        where = [
            f"{key}={','.join(filters[key])}" for key in _ASSOC_FILTERS if key in filters
        ]
        rows = self._show(who, "associations", ASSOC_FIELDS, where=where, options=(),
                          source="slurmdb_associations_get")
        return sorted(rows, key=lambda row: int(row["lft"] or 0))

    def _with_deleted(
        self, who: Identity, entity: str, fields: Sequence[str], *, name: str | None,
        with_deleted: bool, source: str,
    ) -> list[dict[str, str]]:
        where = [f"name={name}"] if name is not None else []
        rows = self._show(who, entity, fields, where=where, options=["withcoord"],
                          source=source)
        if not with_deleted:
            return rows
        live = {row[fields[0]] for row in rows}
        every = self._show(who, entity, fields, where=where,
                           options=["withcoord", "withdeleted"], source=source)
        for row in every:
            if row[fields[0]] not in live:
                row["deleted"] = "1"
        return every

    def db_accounts(
        self, who: Identity, name: str | None, with_deleted: bool
    ) -> list[dict[str, str]]:
        return self._with_deleted(who, "account", ACCOUNT_FIELDS, name=name,
                                  with_deleted=with_deleted, source="slurmdb_accounts_get")

    def db_users(
        self, who: Identity, name: str | None, with_deleted: bool
    ) -> list[dict[str, str]]:
        return self._with_deleted(who, "user", USER_FIELDS, name=name,
                                  with_deleted=with_deleted, source="slurmdb_users_get")

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        return self._show(who, "tres", TRES_FIELDS, where=(), options=["withdeleted"],
                          source="slurmdb_tres_get")

    def db_delete(self, who: Identity, entity: str, name: str) -> list[str]:
        source = _REMOVE_SOURCE[entity]
        out = self.run([SACCTMGR, "-i", "delete", entity, "where", f"name={name}"], who)
        text = out.stdout.decode("utf-8", "replace")
        if out.returncode != 0:
            if "Nothing deleted" in text:
                raise SlurmCommandError(
                    [SlurmError(NO_CHANGE.error, NO_CHANGE.error_number, "", source)], 304)
            raise SlurmCommandError([slurm_error(out.stdout + out.stderr, source)])
        # " Deleting accounts...", then one indented line per name removed
        return [line.strip() for line in text.splitlines()
                if line.startswith("  ") and line.strip()]

    def db_put_account(
        self, who: Identity, name: str, description: str, organization: str, *,
        exists: bool,
    ) -> None:
        settings = [f"Description={description}", f"Organization={organization}"]
        if exists:
            argv = [SACCTMGR, "-i", "modify", "account", "where", f"name={name}", "set",
                    *settings]
        else:
            argv = [SACCTMGR, "-i", "add", "account", name, *settings]
        out = self.run(argv, who)
        if out.returncode != 0 and not (exists and b"Nothing modified" in out.stdout):
            raise SlurmCommandError([slurm_error(out.stdout + out.stderr,
                                                 "slurmdb_accounts_add")])

    def db_put_user(
        self, who: Identity, name: str, account: str | None, admin_level: str | None, *,
        exists: bool,
    ) -> None:
        settings = [f"AdminLevel={admin_level}"] if admin_level else []
        if exists:
            if account:
                settings.append(f"DefaultAccount={account}")
            if not settings:
                return
            argv = [SACCTMGR, "-i", "modify", "user", "where", f"name={name}", "set",
                    *settings]
        else:
            # the first account given becomes the default; DefaultAccount= itself is
            # refused by sacctmgr unless the uid running it (not the token's user) is
            # an administrator
            argv = [SACCTMGR, "-i", "add", "user", name, f"Account={account}", *settings]
        out = self.run(argv, who)
        if out.returncode != 0 and not (exists and b"Nothing modified" in out.stdout):
            text = out.stdout + out.stderr
            error = slurm_error(text, "slurmdb_users_add")
            if any(refusal in text for refusal in _USER_REFUSALS):
                # sacctmgr refuses these itself, before asking slurmdbd
                error = SlurmError(DENIED.error, DENIED.error_number, error.description,
                                   error.source)
            raise SlurmCommandError([error])
