"""Slurm REST API v0.0.38 (Slurm 22.05): the ``/slurm/v0.0.38/`` operations.

One module per resource; each has its ``ROUTES`` and its OpenAPI fragment in ``spec/``.
"""

from __future__ import annotations

from slurmrest_stdio.api import Plugin
from slurmrest_stdio.api.v0_0_38 import (
    diag,
    job_control,
    jobs,
    nodes,
    partitions,
    reservations,
    submit,
)

_MODULES = (diag, jobs, job_control, submit, nodes, partitions, reservations)

PLUGINS = {
    "openapi/v0.0.38": Plugin(
        type="openapi/v0.0.38",
        name="Slurm OpenAPI v0.0.38",
        routes=tuple(route for module in _MODULES for route in module.ROUTES),
        spec_files=tuple(
            f"v0_0_38/spec/{module.__name__.rsplit('.', 1)[1]}.json" for module in _MODULES
        ),
    ),
}
