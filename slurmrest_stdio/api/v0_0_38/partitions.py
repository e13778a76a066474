"""``/slurm/v0.0.38/``: GET partitions, GET partition/{partition_name}."""

from __future__ import annotations

from collections.abc import Callable

from slurmrest_stdio.api import Context, Result

ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = ()
