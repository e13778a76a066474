"""``/slurm/v0.0.38/``: GET nodes, GET node/{node_name}.

The bodies are Slurm's own (``sinfo --json`` or ``--yaml``, see ``backend.cli_nodes``),
sent as printed. ``?update_time=`` works as for jobs (304 when nothing changed). The node name
is looked up as given: slurmrestd first guesses a type for it (a node called ``yes``
would be looked up as ``true``, ``01`` as ``1``), which we do not copy.

One node's ``partitions`` are its own (they are in ``sinfo``'s list); slurmrestd's answer
for one node wrongly carries the partitions of the cluster's first node.

Errors carry the usual envelope fields (``error``, ``error_number``, ``description``,
``source``) where slurmrestd writes ``{"error", "errno"}`` for nodes only; the status is
slurmrestd's (500 for an unknown node, with an empty ``nodes`` list).
"""

from __future__ import annotations

from slurmrest_stdio.api import Context, Payload, Result, read_collection
from slurmrest_stdio.api.v0_0_38.jobs import slurm_body
from slurmrest_stdio.api.values import printable
from slurmrest_stdio.errors import SlurmCommandError, SlurmError


def get_nodes(ctx: Context) -> Result:
    """``GET nodes``: every node (``update_time``: 304 when unchanged)."""
    return read_collection(ctx, "nodes", lambda: slurm_body(ctx, "nodes"))


def get_node(ctx: Context) -> Result:
    """``GET node/{node_name}``: one node, found by name or by its host name."""
    try:
        return slurm_body(ctx, "nodes", ctx.params["node_name"])
    except SlurmCommandError as exc:
        errs = tuple(
            SlurmError(e.error, e.error_number, printable(e.description), e.source).to_dict()
            for e in exc.errors
        )
        return Payload({"nodes": []}, exc.status, errs)
