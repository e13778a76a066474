"""Slurm DB REST API v0.0.38 (Slurm 22.05): the ``/slurmdb/v0.0.38/`` operations.

One module per group of resources; each has its ``ROUTES`` and its OpenAPI fragment in
``spec/``.
"""

from __future__ import annotations

from slurmrest_stdio.api import Plugin
from slurmrest_stdio.api.dbv0_0_38 import accounts, jobs, objects

_MODULES = (jobs, accounts, objects)

PLUGINS = {
    "openapi/dbv0.0.38": Plugin(
        type="openapi/dbv0.0.38",
        name="Slurm OpenAPI DB v0.0.38",
        routes=tuple(route for module in _MODULES for route in module.ROUTES),
        spec_files=tuple(
            f"dbv0_0_38/spec/{module.__name__.rsplit('.', 1)[1]}.json" for module in _MODULES
        ),
    ),
}
