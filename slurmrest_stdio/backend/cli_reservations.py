"""Reservations: ``scontrol show reservation --oneliner``."""

from __future__ import annotations

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore


class ReservationsCli(CliCore):
    def reservations(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        raise NotImplementedError
