"""The backend operations that change slurmdb associations (``sacctmgr``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from slurmrest_stdio.auth.base import Identity


class DbAssociationsOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/`` handlers need to add, change and remove
    associations. Every name and ``Key=value`` setting given is already checked to be
    safe as one argument."""

    def db_put_association(
        self, who: Identity, *, account: str, cluster: str, user: str, partition: str,
        settings: Sequence[str], exists: bool,
    ) -> None:
        """Create the association (``user`` empty: the account's own one), or when it
        ``exists`` apply ``settings`` (sacctmgr ``Key=value`` items) to that association
        alone. A change Slurm quietly refuses ("Nothing modified") is no error, as with
        slurmrestd.

        Raises:
            SlurmCommandError: Slurm refused (its error, source
                ``slurmdb_associations_add`` or ``slurmdb_associations_modify``).
        """
        ...

    def db_delete_associations(
        self, who: Identity, filters: Mapping[str, Sequence[str]]
    ) -> list[str]:
        """Remove the associations matching ``filters`` (keys ``cluster``/``account``/
        ``user``/``partition``, each a non-empty list of names; ``account`` or ``user``
        or ``partition`` is present) and everything below them; return Slurm's
        description of each association removed.

        Raises:
            SlurmCommandError: Slurm refused (its error, source
                ``slurmdb_associations_remove``), or nothing matched (status 304).
        """
        ...

    def db_may_remove_associations(self, who: Identity) -> bool:
        """Whether slurmdbd lets ``who`` remove associations at all: an operator or
        administrator (SlurmUser and root always are), or a coordinator of some
        account."""
        ...
