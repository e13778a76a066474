"""Controller-wide reads: ``scontrol ping``, ``sdiag``, ``scontrol show licenses``."""

from __future__ import annotations

import re
from typing import Any

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import ControllerPing
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError

_PING_LINE = re.compile(r"^Slurmctld\((?P<mode>[^)]*)\) at (?P<host>\S+) is (?P<state>UP|DOWN)$")


class DiagCli(CliCore):
    def ping(self, who: Identity) -> list[ControllerPing]:
        out = self.run(["scontrol", "ping"], who)
        pings = []
        for line in out.stdout.decode("utf-8", "replace").splitlines():
            m = _PING_LINE.match(line.strip())
            if m:
                up = m["state"] == "UP"
                pings.append(ControllerPing(m["host"], m["state"], 0 if up else -1, m["mode"]))
        if not any(p.ping == "UP" for p in pings):
            # slurmrestd loads the controller's config first and fails the same way
            raise SlurmCommandError(
                [slurm_error(out.stderr, "slurm_load_ctl_conf",
                             default="slurmctld config is unable to load")]
            )
        return pings

    def diag(self, who: Identity) -> dict[str, Any]:
        raise NotImplementedError

    def licenses(self, who: Identity) -> list[dict[str, str]]:
        raise NotImplementedError
