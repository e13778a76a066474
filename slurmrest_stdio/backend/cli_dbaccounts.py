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
#: what sacctmgr prints (exit status 1) when every association asked for exists already
_NOTHING_NEW = b"Nothing new added"
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

    def _apply(self, who: Identity, argv: list[str], source: str, *,
               unchanged: bytes = b"") -> None:
        """Run one sacctmgr change; ``unchanged`` (text sacctmgr prints when the change
        was already there) counts as success."""
        out = self.run(argv, who)
        if out.returncode == 0 or (unchanged and unchanged in out.stdout):
            return
        text = out.stdout + out.stderr
        error = slurm_error(text, source)
        if any(refusal in text for refusal in _USER_REFUSALS):
            # sacctmgr refuses these itself, before asking slurmdbd
            error = SlurmError(DENIED.error, DENIED.error_number, error.description,
                               error.source)
        raise SlurmCommandError([error])

    def _steps(self, who: Identity, steps: Sequence[tuple[list[str], bytes]],
               source: str) -> None:
        """Run the changes in order; when one fails after others were made, its error
        says which were made (they stay)."""
        for position, (argv, unchanged) in enumerate(steps):
            try:
                self._apply(who, argv, source, unchanged=unchanged)
            except SlurmCommandError as exc:
                if position == 0:
                    raise
                first = exc.errors[0]
                made = "; ".join(" ".join(a[2:]) for a, _ in steps[:position])
                raise SlurmCommandError([SlurmError(
                    first.error, first.error_number,
                    f"{first.description} (already made, and kept: {made})",
                    first.source)], exc.status) from None

    def db_put_account(
        self, who: Identity, name: str, description: str, organization: str, *,
        exists: bool, clusters: Sequence[str] = (),
        user_associations: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        source = "slurmdb_accounts_add"
        settings = [f"Description={description}", f"Organization={organization}"]
        where = [f"Cluster={','.join(clusters)}"] if clusters else []
        steps: list[tuple[list[str], bytes]] = []
        if exists:
            steps.append(([SACCTMGR, "-i", "modify", "account", "where", f"name={name}",
                           "set", *settings], b"Nothing modified"))
            if clusters:
                steps.append(([SACCTMGR, "-i", "add", "account", name, *where],
                              _NOTHING_NEW))
        else:
            steps.append(([SACCTMGR, "-i", "add", "account", name, *settings, *where],
                          b""))
        steps += [(_user_association(user, name, cluster, partition), _NOTHING_NEW)
                  for cluster, user, partition in user_associations]
        self._steps(who, steps, source)

    def db_put_user(
        self, who: Identity, name: str, account: str | None, admin_level: str | None, *,
        exists: bool, associations: Sequence[tuple[str, str, str]] = (),
        coordinators: Sequence[str] = (), default_wckey: tuple[str, Sequence[str]] | None
        = None,
    ) -> None:
        source = "slurmdb_users_add"
        admin = [f"AdminLevel={admin_level}"] if admin_level else []
        steps: list[tuple[list[str], bytes]] = []
        adds = [(_user_association(name, acct, cluster, partition), _NOTHING_NEW)
                for cluster, acct, partition in associations]
        if not exists:
            # the first association made for a user is its default: the default
            # account's come first (sacctmgr itself refuses DefaultAccount= unless the
            # uid running it, not the token's user, is an administrator)
            if account and not any(acct == account for _, acct, _ in associations):
                adds.insert(0, ([SACCTMGR, "-i", "add", "user", name,
                                 f"Account={account}"], b""))
            adds.sort(key=lambda step: f"Account={account}" not in step[0])
            if adds:
                first, _ = adds[0]
                adds[0] = ([*first, *admin], b"")
            steps += adds
        else:
            steps += adds
            settings = list(admin)
            if account:
                settings.append(f"DefaultAccount={account}")
            if settings:
                steps.append(([SACCTMGR, "-i", "modify", "user", "where", f"name={name}",
                               "set", *settings], b"Nothing modified"))
        if default_wckey is not None:
            wckey, on = default_wckey
            scope = [f"cluster={','.join(on)}"] if on else []
            steps.append(([SACCTMGR, "-i", "modify", "user", "where", f"name={name}",
                           *scope, "set", f"DefaultWCKey={wckey}"], b"Nothing modified"))
        if coordinators:
            steps.append(([SACCTMGR, "-i", "add", "coordinator", f"names={name}",
                           f"accounts={','.join(coordinators)}"], b""))
        self._steps(who, steps, source)


def _user_association(user: str, account: str, cluster: str, partition: str) -> list[str]:
    argv = [SACCTMGR, "-i", "add", "user", user, f"Account={account}",
            f"Cluster={cluster}"]
    if partition:
        argv.append(f"Partition={partition}")
    return argv
