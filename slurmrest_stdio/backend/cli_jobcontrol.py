"""Changing jobs: ``scontrol update`` and ``scancel``."""

from __future__ import annotations

from collections.abc import Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore


class JobControlCli(CliCore):
    def update_job(self, who: Identity, job_id: str, settings: Sequence[str]) -> None:
        raise NotImplementedError

    def signal_job(self, who: Identity, job_id: str, signal: str | None) -> None:
        raise NotImplementedError
