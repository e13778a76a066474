"""slurmdb qos, tres, clusters, wckeys, config and diag: the real implementation.

Deleting a QOS or cluster is ``sacctmgr -i delete <kind> where name=<name>`` (a wckey:
``delete user where wckeys=<name>``) with the name checked
first. Reads are ``sacctmgr -P -n show <kind> withdeleted format=...`` (slurmrestd asks
slurmdbd for deleted records too). No value from the request reaches a read's command
line: the handlers pick records by name from the full list.
"""

from __future__ import annotations

import re

from slurmrest_stdio.api import together
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError

#: sacctmgr's qos columns, in the order of the handler's field names
_QOS_COLUMNS = (
    ("name", "name"), ("description", "description"), ("id", "id"), ("flags", "flags"),
    ("gracetime", "grace"), ("grpjobsaccrue", "grp_jobs_accrue"), ("grpjobs", "grp_jobs"),
    ("grptres", "grp_tres"), ("grptresrunmins", "grp_tres_run_mins"),
    ("grpwall", "grp_wall"), ("limitfactor", "limit_factor"),
    ("maxjobspa", "max_jobs_pa"), ("maxjobspu", "max_jobs_pu"),
    ("maxjobsaccruepa", "max_jobs_accrue_pa"), ("maxjobsaccruepu", "max_jobs_accrue_pu"),
    ("maxsubmitpa", "max_submit_pa"), ("maxsubmitpu", "max_submit_pu"),
    ("maxtresmins", "max_tres_mins_pj"), ("maxtrespa", "max_tres_pa"),
    ("maxtres", "max_tres_pj"), ("maxtrespernode", "max_tres_pn"),
    ("maxtrespu", "max_tres_pu"), ("maxtresrunminspa", "max_tres_run_mins_pa"),
    ("maxtresrunminspu", "max_tres_run_mins_pu"), ("maxwall", "max_wall"),
    ("minpriothresh", "min_prio_thresh"), ("mintres", "min_tres_pj"),
    ("preempt", "preempt"), ("preemptmode", "preempt_mode"),
    ("preemptexempttime", "preempt_exempt"), ("priority", "priority"),
    ("usagefactor", "usage_factor"), ("usagethreshold", "usage_thres"))
QOS_FIELDS = tuple(field for _, field in _QOS_COLUMNS)
_QOS_FORMAT = "format=" + ",".join(column for column, _ in _QOS_COLUMNS)
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
#: one ``key=value`` QOS setting as the handler builds it (a TRES list has commas and
#: "=", a description spaces; never quotes, newlines or other control characters)
_SETTING = re.compile(r"[a-z]+=[A-Za-z0-9_.:/@+ =,-]*")
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

    def db_qos(self, who: Identity, with_deleted: bool) -> list[dict[str, str]]:
        args = ["qos", *(["withdeleted"] if with_deleted else []), _QOS_FORMAT]
        return self._sacctmgr_rows(args, who, QOS_FIELDS, "slurmdb_qos_get")

    def _delete(self, who: Identity, kind: str, condition: str, name: str, source: str
                ) -> list[str]:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a {kind} name: {name!r}")
        out = self.run(["sacctmgr", "-i", "delete", kind, "where", f"{condition}={name}"],
                       who)
        text = out.stdout.decode("utf-8", "replace")
        if "Nothing deleted" in text and not out.stderr.strip():
            return []
        if out.returncode != 0:
            raise SlurmCommandError([slurm_error(out.stderr, source)])
        # " Deleting ...": then slurmdbd's text of each record, indented by two spaces
        # (a wckey's text ends in spaces that slurmrestd keeps)
        return [line[2:] if line.startswith("  ") else line
                for line in text.splitlines()[1:] if line.strip()]

    def db_delete_qos(self, who: Identity, name: str) -> list[str]:
        return self._delete(who, "qos", "name", name, "slurmdb_qos_remove")

    def db_delete_cluster(self, who: Identity, name: str) -> list[str]:
        return self._delete(who, "cluster", "name", name, "slurmdb_clusters_remove")

    def db_delete_wckey(self, who: Identity, name: str) -> list[str]:
        # sacctmgr has no "delete wckey": a user delete with only a wckeys condition
        # removes those wckeys, whoever's they are (and no user)
        return self._delete(who, "user", "wckeys", name, "slurmdb_wckeys_remove")

    def db_wckeys(self, who: Identity) -> list[dict[str, str]]:
        source = "slurmdb_wckeys_get"
        fields = ("name", "cluster", "user", "id")
        # the three reads are independent: side by side, as a handler's reads are
        get_rows, get_live, get_defaults = together(
            lambda: self._sacctmgr_rows(["wckey", "withdeleted",
                                         "format=wckey,cluster,user,id"], who, fields, source),
            lambda: self._sacctmgr_rows(["wckey", "format=wckey,cluster,user,id"], who,
                                        fields, source),
            # a user's default wckey (sacctmgr shows one per user: the lab has one cluster)
            lambda: self._sacctmgr_rows(["user", "withdeleted", "format=user,defaultwckey"],
                                        who, ("user", "wckey"), source))
        rows: list[dict[str, str]] = get_rows()
        live = {r["id"] for r in get_live()}
        defaults = {r["user"]: r["wckey"] for r in get_defaults()}
        for row in rows:
            row["deleted"] = "" if row["id"] in live else "1"
            row["default"] = "1" if (row["id"] in live and row["user"] in defaults
                                     and defaults[row["user"]] == row["name"]) else ""
        return rows

    # -- changes ---------------------------------------------------------------------------

    def _change(self, who: Identity, argv: list[str], source: str,
                unchanged: tuple[bytes, ...] = ()) -> None:
        """Run one ``sacctmgr -i`` change; output containing one of ``unchanged`` (what
        sacctmgr prints when the change was already there) counts as success."""
        out = self.run(["sacctmgr", "-i", *argv], who)
        text = out.stdout + out.stderr
        if out.returncode == 0 or any(marker in text for marker in unchanged):
            return
        raise SlurmCommandError([slurm_error(text, source)])

    def db_add_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        _plain(name, "QOS")
        _settings(settings)
        self._change(who, ["add", "qos", name, *settings], "slurmdb_qos_add")

    def db_modify_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        _plain(name, "QOS")
        _settings(settings)
        if settings:
            self._change(who, ["modify", "qos", "where", f"name={name}", "set", *settings],
                         "slurmdb_qos_modify", (b"Nothing modified",))

    def db_add_cluster(self, who: Identity, name: str) -> None:
        _plain(name, "cluster")
        self._change(who, ["add", "cluster", name], "slurmdb_clusters_add",
                     (b"already exists",))

    def db_add_wckey(self, who: Identity, name: str, user: str, cluster: str, *,
                     default: bool = False) -> None:
        for value, kind in ((name, "wckey"), (user, "user"), (cluster, "cluster")):
            _plain(value, kind)
        source = "slurmdb_wckeys_add"
        # sacctmgr has no "add wckey": adding wckeys to an existing user makes them
        self._change(who, ["add", "user", user, f"wckeys={name}", f"cluster={cluster}"],
                     source, (b"Nothing new added",))
        if default:  # this also clears the default mark of the user's other wckeys
            self._change(who, ["modify", "user", "where", f"name={user}",
                               f"cluster={cluster}", "set", f"defaultwckey={name}"],
                         source, (b"Nothing modified",))

    def db_is_administrator(self, who: Identity) -> bool:
        if who.user == "root" or who.uid == 0:
            return True
        out = self.run(["sacctmgr", "-P", "-n", "show", "user", f"name={who.user}",
                        "format=adminlevel"], who)
        if b"Administrator" in out.stdout.split(b"\n")[0]:
            return True
        # SlurmUser need not be in the database to be its administrator
        config = self.run(["sacctmgr", "-n", "show", "config"], who)
        for line in config.stdout.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "SlurmUserId":
                return value.strip().partition("(")[0] == who.user
        return False


def _plain(value: str, kind: str) -> None:
    """Refuse anything but a plain Slurm name before it reaches a command line.

    Raises:
        ValueError: ``value`` is not one.
    """
    if not _NAME.fullmatch(value):
        raise ValueError(f"not a {kind} name: {value!r}")


def _settings(settings: list[str]) -> None:
    """Refuse a setting that is not a plain ``key=value`` item.

    Raises:
        ValueError: there is one.
    """
    for item in settings:
        if not _SETTING.fullmatch(item):
            raise ValueError(f"not a QOS setting: {item!r}")
