"""Slurm REST API v0.0.38 (Slurm 22.05): the ``/slurm/v0.0.38/`` operations."""

from __future__ import annotations

from slurmrest_stdio.api import Plugin
from slurmrest_stdio.api.v0_0_38 import slurm

PLUGINS = {
    "openapi/v0.0.38": Plugin(
        type="openapi/v0.0.38",
        name="Slurm OpenAPI v0.0.38",
        routes=slurm.ROUTES,
        spec_file="v0_0_38/slurm.json",
    ),
}
