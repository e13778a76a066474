"""The backend operations for slurmdb qos, tres, clusters, wckeys, config and diag."""

from __future__ import annotations

from typing import Protocol


class DbObjectsOps(Protocol):
    """Operations the ``/slurmdb/v0.0.38/`` handlers for qos, tres, clusters, wckeys,
    config and diag need."""
