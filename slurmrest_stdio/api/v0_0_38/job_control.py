"""``/slurm/v0.0.38/``: POST job/{job_id} (update), DELETE job/{job_id} (signal/cancel)."""

from __future__ import annotations

from collections.abc import Callable

from slurmrest_stdio.api import Context, Result

ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = ()
