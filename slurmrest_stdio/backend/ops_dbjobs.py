"""The backend operations for slurmdb accounting jobs (``sacct``): GET jobs, GET job/{job_id}."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slurmrest_stdio.auth.base import Identity


class DbJobsOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/`` handlers for accounting jobs need."""

    def db_jobs(self, who: Identity, options: Sequence[str], fmt: str = "json") -> bytes:
        """The accounting jobs document (``sacct --json`` or ``--yaml``, ``fmt``) for the
        ``sacct`` options given (each one ``--opt=value``, already checked by the caller).

        Raises:
            SlurmCommandError: sacct failed or its document reports errors.
        """
        ...
