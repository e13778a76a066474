"""Batch submission: ``sbatch --parsable``, the script on stdin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import SubmitResult
from slurmrest_stdio.backend.clicore import CliCore


class SubmitCli(CliCore):
    def submit(
        self,
        who: Identity,
        components: Sequence[Sequence[str]],
        script: bytes,
        environments: Sequence[Mapping[str, str]],
    ) -> SubmitResult:
        raise NotImplementedError
