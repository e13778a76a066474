"""slurmdb qos, tres, clusters, wckeys, config and diag: the real implementation.

Reads are ``sacctmgr -P -n show <kind> withdeleted format=...`` (slurmrestd asks
slurmdbd for deleted records too). No value from the request reaches the command line:
the handlers pick records by name from the full list.
"""

from __future__ import annotations

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError

_CLUSTER_FIELDS = ("name", "host", "port", "rpc", "nodes", "flags", "select", "tres")
_CLUSTER_FORMAT = ("format=cluster,controlhost,controlport,rpc,clusternodes,flags,"
                   "pluginidselect,tres")


class DbObjectsCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbobjects.DbObjectsOps`."""

    def _sacctmgr_rows(self, args: list[str], who: Identity, fields: tuple[str, ...],
                       source: str) -> list[dict[str, str]]:
        out = self.run(["sacctmgr", "-P", "-n", "show", *args], who)
        if out.returncode != 0:
            raise SlurmCommandError([slurm_error(out.stderr, source)])
        rows = []
        for line in out.stdout.decode("utf-8", "replace").splitlines():
            if not line:
                continue
            values = line.split("|")
            if len(values) != len(fields):
                raise SlurmCommandError([slurm_error(
                    b"", source, default=f"unexpected sacctmgr line: {line!r}")])
            rows.append(dict(zip(fields, values, strict=True)))
        return rows

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        return self._sacctmgr_rows(["tres", "withdeleted", "format=type,name,id"], who,
                                   ("type", "name", "id"), "slurmdb_tres_get")

    def db_clusters(self, who: Identity) -> list[dict[str, str]]:
        return self._sacctmgr_rows(["cluster", "withdeleted", _CLUSTER_FORMAT], who,
                                   _CLUSTER_FIELDS, "slurmdb_clusters_get")

    def db_wckeys(self, who: Identity) -> list[dict[str, str]]:
        source = "slurmdb_wckeys_get"
        fields = ("name", "cluster", "user", "id")
        rows = self._sacctmgr_rows(["wckey", "withdeleted", "format=wckey,cluster,user,id"],
                                   who, fields, source)
        live = {r["id"] for r in self._sacctmgr_rows(
            ["wckey", "format=wckey,cluster,user,id"], who, fields, source)}
        # a user's default wckey (sacctmgr shows one per user: the lab has one cluster)
        defaults = {r["user"]: r["wckey"] for r in self._sacctmgr_rows(
            ["user", "withdeleted", "format=user,defaultwckey"], who, ("user", "wckey"),
            source)}
        for row in rows:
            row["deleted"] = "" if row["id"] in live else "1"
            row["default"] = "1" if (row["id"] in live and row["user"] in defaults
                                     and defaults[row["user"]] == row["name"]) else ""
        return rows
