"""Slurm DB REST API v0.0.38 (Slurm 22.05): the ``/slurmdb/v0.0.38/`` operations.

One module per group of resources; each has its ``ROUTES`` and its OpenAPI fragment in
``spec/``.
"""

from __future__ import annotations

from slurmrest_stdio.api import plugin_from_modules
from slurmrest_stdio.api.dbv0_0_38 import accounts, jobs, objects

PLUGINS = {
    "openapi/dbv0.0.38": plugin_from_modules(
        "openapi/dbv0.0.38", "Slurm OpenAPI DB v0.0.38",
        (jobs, accounts, objects),
    ),
}
