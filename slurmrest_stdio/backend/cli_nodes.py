"""Nodes: ``sinfo --json`` (and ``--yaml``), passed through.

Like ``squeue --json``, ``sinfo --json`` on Slurm 22.05 runs slurmrestd's own handler for
``GET /slurm/v0.0.38/nodes`` (every node, SHOW_ALL|SHOW_DETAIL|SHOW_MIXED, with each
node's partitions filled in) and prints its answer: the same bytes as slurmrestd's body.
It ignores ``--nodes`` and every other filter in that mode, so the command line is always
just ``sinfo --json`` and a node name never reaches it.

One node (``GET node/{node_name}``) is picked out of that document the way slurmctld looks
a name up: the node of that name; failing that, the only node when the cluster has a
single node called ``localhost``; failing that, the first node whose NodeHostname is that
name (so ``node/<host>`` finds the first node configured on that host).

``sinfo --yaml`` prints slurmrestd's YAML byte for byte; one node is cut out of its text
like one job out of ``squeue --yaml`` (see ``cli_jobs``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.cli_jobs import read_document, read_yaml_document, yaml_records
from slurmrest_stdio.backend.clicore import CliCore
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: Slurm's ESLURM_INVALID_NODE_NAME
INVALID_NODE_NAME = SlurmError("Invalid node name specified", 2018)


def not_found(node_name: str) -> SlurmCommandError:
    return SlurmCommandError([SlurmError(
        INVALID_NODE_NAME.error, INVALID_NODE_NAME.error_number,
        f"Unable to find node {node_name}", "slurm_load_node_single",
    )])


def select_node(nodes: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The node slurmctld finds for ``name`` among ``nodes`` (in node table order)."""
    for node in nodes:
        if node.get("name") == name:
            return node
    if len(nodes) == 1 and nodes[0].get("name") == "localhost":
        return nodes[0]
    for node in nodes:
        if node.get("hostname") == name:
            return node
    return None


#: the record fields a node lookup needs, as Slurm's YAML writes them (a top level line)
_YAML_NODE_FIELD = re.compile(rb"(?m)^  !!str (name|hostname): !!(?:str (.*)|null null)$")


def _yaml_scalar(text: bytes) -> str:
    """The string a one-line YAML scalar stands for (plain, or quoted as libyaml quotes)."""
    value = text.decode("utf-8", "surrogateescape")
    if value[:1] in ("'", '"'):
        from slurmrest_stdio import codec
        from slurmrest_stdio.errors import BadRequest

        try:
            loaded = codec.decode(text, "yaml")
        except BadRequest:
            return value
        return loaded if isinstance(loaded, str) else value
    return value


def _yaml_node_fields(record: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for m in _YAML_NODE_FIELD.finditer(record):
        fields.setdefault(m[1].decode(), None if m[2] is None else _yaml_scalar(m[2]))
    return fields


class NodesCli(CliCore):
    def nodes_yaml(self, who: Identity, node_name: str | None = None) -> bytes:
        """As :meth:`nodes_json`, in slurmrestd's YAML (``sinfo --yaml``).

        Raises:
            SlurmCommandError: as :meth:`nodes_json`.
        """
        out = self.run(["sinfo", "--yaml"], who, enveloped=False)
        body = read_yaml_document(out, "slurm_load_node", "Unable to load node information")
        if node_name is None:
            return body
        try:
            head, records, tail = yaml_records(body, "nodes")
        except ValueError as exc:
            raise SlurmCommandError([SlurmError(
                "Unspecified error", -1, f"unreadable output of sinfo --yaml: {exc}",
                "slurm_load_node_single",
            )]) from exc
        fields = [_yaml_node_fields(r) for r in records]
        node = select_node(fields, node_name)
        if node is None:
            raise not_found(node_name)
        return head + next(r for r, f in zip(records, fields, strict=True) if f is node) + tail

    def nodes_json(self, who: Identity, node_name: str | None = None) -> bytes:
        out = self.run(["sinfo", "--json"], who, enveloped=False)
        body = read_document(out, "slurm_load_node", "Unable to load node information")
        if node_name is None:
            return body
        from slurmrest_stdio.codec import dump_json

        doc = json.loads(body)
        node = select_node(doc["nodes"], node_name)
        if node is None:
            raise not_found(node_name)
        doc["nodes"] = [node]
        return dump_json(doc).encode("utf-8")
