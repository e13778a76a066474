"""slurmdb accounting jobs (``sacct``): GET jobs, GET job/{job_id}: the real implementation."""

from __future__ import annotations

from slurmrest_stdio.backend.clicore import CliCore


class DbJobsCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbjobs.DbJobsOps`."""
