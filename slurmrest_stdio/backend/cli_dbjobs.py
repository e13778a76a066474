"""slurmdb accounting jobs: ``sacct --json`` / ``sacct --yaml``, passed through.

On Slurm 22.05 ``sacct --json`` does not format anything itself: it turns its options into
a query for the handler slurmrestd runs for ``GET /slurmdb/v0.0.38/jobs`` (plugin
openapi/dbv0.0.38), runs that handler and prints its answer, so the bytes are slurmrestd's
body for the same query. The document is passed on even when its ``errors`` list is not
empty: slurmrestd answers 200 with it too (``Nothing found with query`` for a job id
slurmdbd does not know).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError

#: the options the handlers may pass: ``--opt=value`` (the value is one argv item, so it
#: cannot become another option) or a bare flag
_OPTION = re.compile(r"--[a-z][a-z-]*(=[^\x00-\x1f\x7f]*)?")


class DbJobsCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbjobs.DbJobsOps`."""

    def db_jobs(self, who: Identity, options: Sequence[str], fmt: str = "json") -> bytes:
        if fmt not in ("json", "yaml"):
            raise ValueError(f"no sacct output format {fmt!r}")
        for option in options:
            if not _OPTION.fullmatch(option):
                raise ValueError(f"not a sacct option: {option!r}")
        out = self.run(["sacct", f"--{fmt}", *options], who, enveloped=False)
        start = b"{" if fmt == "json" else b"%YAML"
        if not out.stdout.startswith(start):
            raise SlurmCommandError([slurm_error(
                out.stderr, "slurmdb_jobs_get", default="Failed while looking for jobs")])
        return out.stdout
