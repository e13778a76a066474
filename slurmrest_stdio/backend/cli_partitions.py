"""Partitions: ``scontrol show partition --oneliner``."""

from __future__ import annotations

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore


class PartitionsCli(CliCore):
    def partitions(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        raise NotImplementedError
