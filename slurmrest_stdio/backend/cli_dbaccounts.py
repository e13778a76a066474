"""slurmdb accounts, users and associations (``sacctmgr``): the real implementation."""

from __future__ import annotations

from slurmrest_stdio.backend.clicore import CliCore


class DbAccountsCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbaccounts.DbAccountsOps`."""
