"""Jobs as slurmctld knows them: ``squeue --json``, passed through."""

from __future__ import annotations

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore


class JobsCli(CliCore):
    def jobs_json(self, who: Identity, job_id: str | None = None) -> bytes:
        raise NotImplementedError
