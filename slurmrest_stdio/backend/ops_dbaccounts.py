"""The backend operations for slurmdb accounts, users and associations (``sacctmgr``)."""

from __future__ import annotations

from typing import Protocol


class DbAccountsOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/`` handlers for accounts, users and associations need."""
