"""Slurm REST API v0.0.38 (Slurm 22.05): the ``/slurm/v0.0.38/`` operations.

One module per resource; each has its ``ROUTES`` and its OpenAPI fragment in ``spec/``.
"""

from __future__ import annotations

from slurmrest_stdio.api import plugin_from_modules
from slurmrest_stdio.api.v0_0_38 import (
    diag,
    job_control,
    jobs,
    nodes,
    partitions,
    reservations,
    submit,
)

PLUGINS = {
    "openapi/v0.0.38": plugin_from_modules(
        "openapi/v0.0.38", "Slurm OpenAPI v0.0.38",
        (diag, jobs, job_control, submit, nodes, partitions, reservations),
    ),
}
