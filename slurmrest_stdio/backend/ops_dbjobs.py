"""The backend operations for slurmdb accounting jobs (``sacct``): GET jobs, GET job/{job_id}."""

from __future__ import annotations

from typing import Protocol


class DbJobsOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/`` handlers for accounting jobs need."""
