"""slurmdb qos, tres, clusters, wckeys, config and diag: the real implementation."""

from __future__ import annotations

from slurmrest_stdio.backend.clicore import CliCore


class DbObjectsCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbobjects.DbObjectsOps`."""
