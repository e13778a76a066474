"""Adding, changing and removing slurmdb associations (``sacctmgr``): the real
implementation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

SACCTMGR = "sacctmgr"
ADD_SOURCE = "slurmdb_associations_add"
MODIFY_SOURCE = "slurmdb_associations_modify"
REMOVE_SOURCE = "slurmdb_associations_remove"
#: what sacctmgr prints when a condition matched nothing it may change
_NOTHING_MODIFIED = b"Nothing modified"
_NOTHING_DELETED = b"Nothing deleted"
#: sacctmgr's own words when the caller may not make the change
_REFUSALS = (b"doesn't have privilege", b"is not AdminLevel >=")
_DENIED = SlurmError("Access/permission denied", 2002)


def _failure(text: bytes, source: str) -> SlurmError:
    error = slurm_error(text, source)
    if error.error_number == -1 and any(r in text for r in _REFUSALS):
        error = SlurmError(_DENIED.error, _DENIED.error_number, error.description, source)
    return error


class DbAssociationsCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbassociations.DbAssociationsOps`."""

    def db_put_association(
        self, who: Identity, *, account: str, cluster: str, user: str, partition: str,
        settings: Sequence[str], exists: bool,
    ) -> None:
        if exists:
            if not settings:
                return
            if user:
                # "''" is how sacctmgr says "no partition": without it every partition
                # association of the user in the account would change too
                where = [f"name={user}", f"account={account}", f"cluster={cluster}",
                         f"partition={partition or chr(39) * 2}"]
            else:
                where = [f"name={account}", f"cluster={cluster}"]
            argv = [SACCTMGR, "-i", "modify", "user" if user else "account", "where",
                    *where, "set", *settings]
            source = MODIFY_SOURCE
        else:
            if user:
                argv = [SACCTMGR, "-i", "add", "user", user, f"account={account}",
                        f"cluster={cluster}"]
                if partition:
                    argv.append(f"partition={partition}")
            else:
                argv = [SACCTMGR, "-i", "add", "account", account, f"cluster={cluster}"]
            argv += settings
            source = ADD_SOURCE
        out = self.run(argv, who)
        if out.returncode == 0 or (exists and _NOTHING_MODIFIED in out.stdout):
            return
        raise SlurmCommandError([_failure(out.stdout + out.stderr, source)])

    def _cluster_names(self, who: Identity) -> list[str]:
        out = self.run([SACCTMGR, "-P", "-n", "show", "cluster", "format=cluster"], who)
        if out.returncode != 0:
            raise SlurmCommandError([_failure(out.stdout + out.stderr, REMOVE_SOURCE)])
        return [line for line in out.stdout.decode("utf-8", "replace").splitlines()
                if line]

    def db_delete_associations(
        self, who: Identity, filters: Mapping[str, Sequence[str]]
    ) -> list[str]:
        # the clusters are always named: without them sacctmgr removes whole accounts
        # or users, not only their associations
        clusters = list(filters.get("cluster") or self._cluster_names(who))
        if not clusters:
            raise SlurmCommandError([SlurmError(
                "Data has not changed since time specified", 1900, "", REMOVE_SOURCE)], 304)
        where: list[str] = []
        if filters.get("user") or filters.get("partition"):
            entity = "user"
            if filters.get("user"):
                where.append("name=" + ",".join(filters["user"]))
            if filters.get("account"):
                where.append("account=" + ",".join(filters["account"]))
            if filters.get("partition"):
                where.append("partition=" + ",".join(filters["partition"]))
        else:
            entity = "account"
            where.append("name=" + ",".join(filters["account"]))
        where.append("cluster=" + ",".join(clusters))
        out = self.run([SACCTMGR, "-i", "delete", entity, "where", *where], who)
        if out.returncode != 0:
            text = out.stdout + out.stderr
            if _NOTHING_DELETED in out.stdout and not any(r in text for r in _REFUSALS):
                raise SlurmCommandError([SlurmError(
                    "Data has not changed since time specified", 1900, "",
                    REMOVE_SOURCE)], 304)
            raise SlurmCommandError([_failure(text, REMOVE_SOURCE)])
        # " Deleting ... associations...", then one line per association, indented by
        # two spaces: the same text slurmdbd hands slurmrestd ("C = <cluster> A = ...");
        # other indented lines (such as users sacctmgr removes along) are not listed
        return [line[2:] for line in out.stdout.decode("utf-8", "replace").splitlines()
                if line.startswith("  C = ")]

    def db_may_remove_associations(self, who: Identity) -> bool:
        if who.user == "root" or who.uid == 0:
            return True
        out = self.run([SACCTMGR, "-P", "-n", "show", "user", f"name={who.user}",
                        "withcoord", "format=adminlevel,coordinators"], who)
        for line in out.stdout.decode("utf-8", "replace").splitlines():
            level, _, coordinates = line.partition("|")
            if level in ("Operator", "Administrator") or coordinates:
                return True
        # SlurmUser need not be in the database to be its administrator
        config = self.run([SACCTMGR, "-n", "show", "config"], who)
        for line in config.stdout.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "SlurmUserId":
                return value.strip().partition("(")[0] == who.user
        return False
