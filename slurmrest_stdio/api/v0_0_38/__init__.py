"""Slurm REST API v0.0.38 (Slurm 22.05): the ``/slurm/v0.0.38/`` operations.

One module per resource, with its OpenAPI fragment in ``spec/``; :data:`ROUTES` maps each
path to its handler by name, so that a request imports only its own module.
"""

from __future__ import annotations

from slurmrest_stdio.api import plugin_from_table

#: (method, path template, "module:function"), the modules in the order their spec
#: fragments are merged
ROUTES = (
    ("GET", "/slurm/v0.0.38/ping", "diag:get_ping"),
    ("GET", "/slurm/v0.0.38/diag", "diag:get_diag"),
    ("GET", "/slurm/v0.0.38/licenses", "diag:get_licenses"),
    ("GET", "/slurm/v0.0.38/jobs", "jobs:get_jobs"),
    ("GET", "/slurm/v0.0.38/job/{job_id}", "jobs:get_job"),
    ("POST", "/slurm/v0.0.38/job/{job_id}", "job_control:post_update"),
    ("DELETE", "/slurm/v0.0.38/job/{job_id}", "job_control:delete_job"),
    ("POST", "/slurm/v0.0.38/job/submit", "submit:post_submit"),
    ("GET", "/slurm/v0.0.38/nodes", "nodes:get_nodes"),
    ("GET", "/slurm/v0.0.38/node/{node_name}", "nodes:get_node"),
    ("GET", "/slurm/v0.0.38/partitions", "partitions:get_partitions"),
    ("GET", "/slurm/v0.0.38/partition/{partition_name}", "partitions:get_partition"),
    ("GET", "/slurm/v0.0.38/reservations", "reservations:get_reservations"),
    ("GET", "/slurm/v0.0.38/reservation/{reservation_name}", "reservations:get_reservation"),
)

PLUGINS = {
    "openapi/v0.0.38": plugin_from_table(
        "openapi/v0.0.38", "Slurm OpenAPI v0.0.38", __name__, ROUTES),
}
