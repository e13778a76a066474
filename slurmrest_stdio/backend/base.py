"""The interface between the operations and Slurm.

Operations call these methods with the authenticated :class:`Identity`; an implementation
must do the work *as that client* so that Slurm itself decides what the client may see and
do. Failures are raised as :class:`~slurmrest_stdio.errors.SlurmCommandError` carrying
envelope errors and the HTTP status to answer with.

The real implementation is ``backend.slurmcli``; test doubles live in ``tests/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slurmrest_stdio.auth.base import Identity


@dataclass(frozen=True)
class SlurmVersion:
    major: int
    minor: int
    micro: int
    release: str

    @classmethod
    def parse(cls, release: str) -> SlurmVersion:
        """Parse "22.05.8" (or "23.11.0-0rc1") into numbers.

        Raises:
            ValueError: not a Slurm release string.
        """
        core = release.split("-", 1)[0]
        major, minor, micro = (int(p) for p in core.split(".")[:3])
        return cls(major, minor, micro, release)


@dataclass(frozen=True)
class ControllerPing:
    """One slurmctld as ``scontrol ping`` reports it."""

    hostname: str
    #: "UP" or "DOWN"
    ping: str
    #: 0 when it answered, -1 when not (slurm_ping()'s return, as slurmrestd reports it)
    status: int
    #: "primary", "backup", "backup1", ...
    mode: str


class Backend(Protocol):
    def version(self) -> SlurmVersion:
        """The installed Slurm's version (for the envelope's ``meta``).

        Raises:
            SlurmCommandError: it cannot be determined.
        """
        ...

    def ping(self, who: Identity) -> list[ControllerPing]:
        """Ping every configured slurmctld as ``who``.

        Raises:
            SlurmCommandError: no controller could be reached, or Slurm is not usable.
        """
        ...
