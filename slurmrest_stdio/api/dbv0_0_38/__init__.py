"""Slurm DB REST API v0.0.38 (Slurm 22.05): the ``/slurmdb/v0.0.38/`` operations.

One module per group of resources, with its OpenAPI fragment in ``spec/``; :data:`ROUTES`
maps each path to its handler by name, so that a request imports only its own module.
"""

from __future__ import annotations

from slurmrest_stdio.api import plugin_from_table

#: (method, path template, "module:function"), the modules in the order their spec
#: fragments are merged
ROUTES = (
    ("GET", "/slurmdb/v0.0.38/jobs", "jobs:get_jobs"),
    ("GET", "/slurmdb/v0.0.38/job/{job_id}", "jobs:get_job"),
    ("GET", "/slurmdb/v0.0.38/accounts", "accounts:get_accounts"),
    ("GET", "/slurmdb/v0.0.38/account/{account_name}", "accounts:get_account"),
    ("GET", "/slurmdb/v0.0.38/users", "accounts:get_users"),
    ("GET", "/slurmdb/v0.0.38/user/{user_name}", "accounts:get_user"),
    ("GET", "/slurmdb/v0.0.38/associations", "accounts:get_associations"),
    ("GET", "/slurmdb/v0.0.38/association", "accounts:get_association"),
    ("POST", "/slurmdb/v0.0.38/accounts", "accounts:post_accounts"),
    ("POST", "/slurmdb/v0.0.38/users", "accounts:post_users"),
    ("DELETE", "/slurmdb/v0.0.38/account/{account_name}", "accounts:delete_account"),
    ("DELETE", "/slurmdb/v0.0.38/user/{user_name}", "accounts:delete_user"),
    ("GET", "/slurmdb/v0.0.38/tres", "objects:get_tres"),
    ("GET", "/slurmdb/v0.0.38/clusters", "objects:get_clusters"),
    ("GET", "/slurmdb/v0.0.38/cluster/{cluster_name}", "objects:get_cluster"),
    ("DELETE", "/slurmdb/v0.0.38/cluster/{cluster_name}", "objects:delete_cluster"),
    ("GET", "/slurmdb/v0.0.38/wckeys", "objects:get_wckeys"),
    ("GET", "/slurmdb/v0.0.38/wckey/{wckey}", "objects:get_wckey"),
    ("DELETE", "/slurmdb/v0.0.38/wckey/{wckey}", "objects:delete_wckey"),
    ("GET", "/slurmdb/v0.0.38/qos", "objects:get_qos_list"),
    ("GET", "/slurmdb/v0.0.38/qos/{qos_name}", "objects:get_qos"),
    ("DELETE", "/slurmdb/v0.0.38/qos/{qos_name}", "objects:delete_qos"),
    ("POST", "/slurmdb/v0.0.38/tres", "objects:post_tres"),
    ("POST", "/slurmdb/v0.0.38/qos", "objects:post_qos"),
    ("POST", "/slurmdb/v0.0.38/clusters", "objects:post_clusters"),
    ("POST", "/slurmdb/v0.0.38/wckeys", "objects:post_wckeys"),
    ("POST", "/slurmdb/v0.0.38/associations", "associations:post_associations"),
    ("DELETE", "/slurmdb/v0.0.38/associations", "associations:delete_associations"),
    ("DELETE", "/slurmdb/v0.0.38/association", "associations:delete_association"),
    ("GET", "/slurmdb/v0.0.38/config", "config:get_config"),
    ("GET", "/slurmdb/v0.0.38/diag", "config:get_diag"),
    ("POST", "/slurmdb/v0.0.38/config", "config:post_config"),
)

PLUGINS = {
    "openapi/dbv0.0.38": plugin_from_table(
        "openapi/dbv0.0.38", "Slurm OpenAPI DB v0.0.38", __name__, ROUTES),
}
