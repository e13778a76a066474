"""The backend operations for slurmdb accounts, users and associations (``sacctmgr``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from slurmrest_stdio.auth.base import Identity

#: the ``sacctmgr show assoc`` columns read, in order (keys of the rows returned)
ASSOC_FIELDS = (
    "cluster", "account", "user", "partition", "parentname", "id", "lft", "defaultqos",
    "fairshare", "priority", "grpjobs", "grpjobsaccrue", "grpsubmitjobs", "grptres",
    "grptresmins", "grptresrunmins", "grpwall", "maxjobs", "maxjobsaccrue",
    "maxsubmitjobs", "maxtresminsperjob", "maxtresrunmins", "maxtresperjob",
    "maxtrespernode", "maxwalldurationperjob", "minpriothresh", "qos",
)
#: the ``sacctmgr show account`` columns read
ACCOUNT_FIELDS = ("account", "descr", "org", "coordinators")
#: the ``sacctmgr show user`` columns read
USER_FIELDS = ("user", "defaultaccount", "defaultwckey", "adminlevel", "coordinators")
#: the ``sacctmgr show tres`` columns read
TRES_FIELDS = ("type", "name", "id")


class DbAccountsOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/`` handlers for accounts, users and associations need.

    Every read returns ``sacctmgr``'s parsable rows as mappings of the ``*_FIELDS`` names
    to their text; an empty list when nothing matched. Names given are already checked
    to be plain Slurm names.
    """

    def db_associations(
        self, who: Identity, filters: Mapping[str, Sequence[str]]
    ) -> list[dict[str, str]]:
        """Associations matching ``filters`` (keys ``cluster``/``account``/``user``/
        ``partition``, each a list of names), in the database's order (``lft``)."""
        ...

    def db_accounts(
        self, who: Identity, name: str | None, with_deleted: bool
    ) -> list[dict[str, str]]:
        """Accounts (one when ``name`` is given); deleted ones too when asked, marked by
        ``"deleted": "1"``."""
        ...

    def db_users(
        self, who: Identity, name: str | None, with_deleted: bool
    ) -> list[dict[str, str]]:
        """Users (one when ``name`` is given); deleted ones too when asked, marked by
        ``"deleted": "1"``."""
        ...

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        """Every TRES the database knows (for the ids of the TRES in limits)."""
        ...

    def db_delete(self, who: Identity, entity: str, name: str) -> list[str]:
        """Remove account or user (``entity``) ``name``; return what Slurm says it removed
        (the names).

        Raises:
            SlurmCommandError: Slurm refused (its error), or nothing matched (status 304,
                Slurm's "Data has not changed since time specified").
        """
        ...

    def db_put_account(
        self, who: Identity, name: str, description: str, organization: str, *,
        exists: bool, clusters: Sequence[str] = (),
        user_associations: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Create account ``name`` (under ``root``, as ``sacctmgr add account`` does: on
        ``clusters``, or on every cluster when none are given), or when it ``exists`` set
        its description and organization and add its association on each of
        ``clusters`` it lacks. Then add each of ``user_associations`` (cluster, user,
        partition or "") that is not there yet. Values are already checked to be safe
        ``Key=value`` text.

        Raises:
            SlurmCommandError: Slurm refused (its error, source ``slurmdb_accounts_add``;
                when earlier changes were made, its description lists them).
        """
        ...

    def db_put_user(
        self, who: Identity, name: str, account: str | None, admin_level: str | None, *,
        exists: bool, associations: Sequence[tuple[str, str, str]] = (),
        coordinators: Sequence[str] = (), default_wckey: tuple[str, Sequence[str]] | None
        = None,
    ) -> None:
        """Create user ``name`` (``sacctmgr add user``) with its ``associations``
        (cluster, account, partition or ""), the ones of ``account`` first so that it is
        the default; with no association of ``account`` listed, one to it on every
        cluster comes first. When it ``exists``: add the associations it lacks, then set
        what is given (administrator level, default account). Then set the default wckey
        (name, the clusters where the user has it) and make the user a coordinator of
        ``coordinators`` (accounts). Values are already checked.

        Raises:
            SlurmCommandError: Slurm refused (its error, source ``slurmdb_users_add``;
                when earlier changes were made, its description lists them).
        """
        ...
