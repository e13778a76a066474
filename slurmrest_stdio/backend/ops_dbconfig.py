"""The backend operations for slurmdb diag (slurmdbd's statistics).

``GET config`` needs no operation of its own: it is the other slurmdb reads together.
"""

from __future__ import annotations

from typing import Protocol

from slurmrest_stdio.auth.base import Identity


class DbConfigOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/diag`` handler needs."""

    def db_stats(self, who: Identity) -> str:
        """slurmdbd's statistics as ``sacctmgr show stats`` prints them (its text; the
        handler reads it).

        Raises:
            errors.SlurmCommandError: sacctmgr failed (source ``slurmdb_get_stats``;
                Slurm's error number when sacctmgr names one, e.g. 2002 for a user who
                is not an administrator); when slurmdbd cannot be reached, status 200
                and Slurm's 7008 from ``openapi_get_db_conn``, as slurmrestd answers.
        """
        ...
