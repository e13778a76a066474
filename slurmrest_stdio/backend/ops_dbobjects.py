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

    def db_qos(self, who: Identity, with_deleted: bool) -> list[dict[str, str]]:
        """Every QOS (deleted ones too if asked): keys are
        :data:`~slurmrest_stdio.backend.cli_dbobjects.QOS_FIELDS`, sacctmgr's text of
        each (``grace`` and ``preempt_exempt`` in ``[days-]hh:mm:ss`` seconds,
        ``grp_wall`` and ``max_wall`` the same in minutes).

        Raises:
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_qos_get``).
        """
        ...

    def db_delete_qos(self, who: Identity, name: str) -> list[str]:
        """Delete the QOS ``name`` (``[A-Za-z0-9_.-]+``); the names slurmdbd removed, empty
        when none matched.

        Raises:
            ValueError: ``name`` is not a plain name (nothing was run).
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_qos_remove``).
        """
        ...

    def db_delete_cluster(self, who: Identity, name: str) -> list[str]:
        """Delete the cluster ``name`` (``[A-Za-z0-9_.-]+``); the names slurmdbd removed,
        empty when none matched.

        Raises:
            ValueError: ``name`` is not a plain name (nothing was run).
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_clusters_remove``).
        """
        ...

    def db_delete_wckey(self, who: Identity, name: str) -> list[str]:
        """Delete every wckey called ``name`` (``[A-Za-z0-9_.-]+``), for every user and
        cluster; slurmdbd's text of each removed one (``C = lab  W = x  U = alice  ``),
        empty when none matched.

        Raises:
            ValueError: ``name`` is not a plain name (nothing was run).
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_wckeys_remove``).
        """
        ...

    def db_add_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        """Create the QOS ``name`` with ``settings`` (``sacctmgr`` ``key=value`` items the
        handler built from checked values).

        Raises:
            ValueError: a name or setting that is not plain (nothing was run).
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_qos_add``).
        """
        ...

    def db_modify_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        """Change ``settings`` of the QOS ``name`` (nothing is run when there are none).

        Raises:
            ValueError: a name or setting that is not plain (nothing was run).
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_qos_modify``).
        """
        ...

    def db_add_cluster(self, who: Identity, name: str) -> None:
        """Add the cluster ``name`` to the database; one already there is left alone.

        Raises:
            ValueError: ``name`` is not a plain name (nothing was run).
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_clusters_add``).
        """
        ...

    def db_add_wckey(self, who: Identity, name: str, user: str, cluster: str, *,
                     default: bool = False) -> None:
        """Add the wckey ``name`` of ``user`` (who must be in the database) on
        ``cluster``; one already there is left alone. ``default``: then make it the
        user's default wckey on that cluster (the only one).

        Raises:
            ValueError: a value that is not a plain name (nothing was run).
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_wckeys_add``).
        """
        ...

    def db_is_administrator(self, who: Identity) -> bool:
        """Whether slurmdbd takes ``who`` for an administrator (root, SlurmUser, or
        AdminLevel=Administrator): the only ones it lets add clusters or wckeys."""
        ...
