"""Nodes: ``sinfo --json``, passed through."""

from __future__ import annotations

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore


class NodesCli(CliCore):
    def nodes_json(self, who: Identity, node_name: str | None = None) -> bytes:
        raise NotImplementedError
