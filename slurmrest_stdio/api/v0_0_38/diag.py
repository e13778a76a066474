"""``/slurm/v0.0.38/``: ping, diag, licenses (controller-wide reads)."""

from __future__ import annotations

from slurmrest_stdio.api import Context, Payload

PREFIX = "/slurm/v0.0.38"


def get_ping(ctx: Context) -> Payload:
    """``GET ping``: every configured slurmctld and whether it answers."""
    pings = ctx.backend.ping(ctx.identity)
    return Payload({
        "pings": [
            {"hostname": p.hostname, "ping": p.ping, "status": p.status, "mode": p.mode}
            for p in pings
        ]
    })


ROUTES = (
    ("GET", f"{PREFIX}/ping", get_ping),
)
