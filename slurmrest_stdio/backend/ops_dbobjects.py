"""The backend operations for slurmdb qos, tres, clusters, wckeys, config and diag."""

from __future__ import annotations

from typing import Protocol

from slurmrest_stdio.auth.base import Identity


class DbObjectsOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/`` handlers for qos, tres, clusters, wckeys,
    config and diag need.

    Each read returns the rows of ``sacctmgr -P -n show ...`` as dicts keyed by the
    field names the implementation documents; the handlers build slurmrestd's shapes.
    """

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        """Every TRES, deleted ones included: keys ``type``, ``name``, ``id``.

        Raises:
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_tres_get``).
        """
        ...

    def db_clusters(self, who: Identity) -> list[dict[str, str]]:
        """Every cluster, deleted ones included: keys ``name``, ``host``, ``port``,
        ``rpc``, ``nodes``, ``flags``, ``select``, ``tres`` (sacctmgr's text of each).

        Raises:
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_clusters_get``).
        """
        ...

    def db_wckeys(self, who: Identity) -> list[dict[str, str]]:
        """Every wckey, deleted ones included: keys ``name``, ``cluster``, ``user``,
        ``id``, ``deleted`` ("1" or ""), ``default`` ("1" or "").

        Raises:
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_wckeys_get``).
        """
        ...
