"""``/slurmdb/v0.0.38/``: qos, tres, clusters, wckeys, config, diag."""

from __future__ import annotations

from collections.abc import Callable

from slurmrest_stdio.api import Context, Result

ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = ()
