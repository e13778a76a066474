"""The interface between the operations and Slurm.

Operations call these methods with the authenticated :class:`Identity`; an implementation
must do the work *as that client* so that Slurm itself decides what the client may see and
do. Failures are raised as :class:`~slurmrest_stdio.errors.SlurmCommandError` carrying
envelope errors and the HTTP status to answer with.

The real implementation is ``backend.slurmcli``; test doubles live in ``tests/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.ops_dbaccounts import DbAccountsOps
from slurmrest_stdio.backend.ops_dbassociations import DbAssociationsOps
from slurmrest_stdio.backend.ops_dbconfig import DbConfigOps
from slurmrest_stdio.backend.ops_dbjobs import DbJobsOps
from slurmrest_stdio.backend.ops_dbobjects import DbObjectsOps


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


@dataclass(frozen=True)
class SubmitResult:
    """What ``sbatch`` reports for an accepted submission."""

    job_id: int
    #: "BATCH" for a batch job, as slurmrestd reports it
    step_id: str = "BATCH"
    #: the message a job_submit plugin gave the user ("" when none)
    job_submit_user_msg: str = ""


#: the collections whose ``update_time`` can be answered with 304 Not Modified
CHANGE_KINDS = ("jobs", "nodes", "partitions", "reservations")


class PingOps(Protocol):
    def ping(self, who: Identity) -> list[ControllerPing]:
        """Ping every configured slurmctld as ``who``.

        Raises:
            SlurmCommandError: no controller could be reached, or Slurm is not usable.
        """
        ...


class DiagOps(Protocol):
    def diag(self, who: Identity) -> dict[str, Any]:
        """slurmctld's statistics (what ``sdiag`` reports), as raw named values.

        Raises:
            SlurmCommandError: Slurm refused or failed.
        """
        ...

    def licenses(self, who: Identity) -> list[dict[str, str]]:
        """Every license, as ``scontrol show licenses --oneliner`` key/value records.

        Raises:
            SlurmCommandError: Slurm refused or failed.
        """
        ...


class ChangeOps(Protocol):
    def changed_since(self, kind: str, update_time: int, who: Identity) -> bool:
        """False only when Slurm says the ``kind`` collection (one of
        :data:`CHANGE_KINDS`) has not changed since ``update_time`` (Unix seconds).
        When that cannot be asked, True: the client then gets the data, never a wrong 304.
        """
        ...


class JobsOps(Protocol):
    def jobs_json(self, who: Identity, job_id: str | None = None) -> bytes:
        """``squeue --json`` output, byte for byte: every job ``who`` may see, or one.

        Raises:
            SlurmCommandError: Slurm refused or failed (an unknown job id included).
        """
        ...


class NodesOps(Protocol):
    def nodes_json(self, who: Identity, node_name: str | None = None) -> bytes:
        """``sinfo --json`` output (the v0.0.38 nodes shape): all nodes, or one.

        Raises:
            SlurmCommandError: Slurm refused or failed (an unknown node included).
        """
        ...


@runtime_checkable
class SlurmYaml(Protocol):
    """Optional: a backend that can print slurmrestd's YAML itself (``squeue --yaml``,
    ``sinfo --yaml``) offers the operations of ``jobs_json``/``nodes_json`` in YAML too.
    A backend without them gets its JSON converted."""

    def jobs_yaml(self, who: Identity, job_id: str | None = None) -> bytes:
        """Raises: SlurmCommandError, as ``jobs_json``."""
        ...

    def nodes_yaml(self, who: Identity, node_name: str | None = None) -> bytes:
        """Raises: SlurmCommandError, as ``nodes_json``."""
        ...


class PartitionsOps(Protocol):
    def partitions(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        """Every partition (or one), as ``scontrol show partition --oneliner`` records.

        Raises:
            SlurmCommandError: Slurm refused or failed (an unknown partition included).
        """
        ...


class ReservationsOps(Protocol):
    def reservations(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        """Every reservation (or one), as ``scontrol show reservation --oneliner`` records.

        Raises:
            SlurmCommandError: Slurm refused or failed (an unknown reservation included).
        """
        ...


class SubmitOps(Protocol):
    def submit(
        self,
        who: Identity,
        components: Sequence[Sequence[str]],
        script: bytes,
        environments: Sequence[Mapping[str, str]],
    ) -> SubmitResult:
        """Submit a batch job with ``sbatch``; one component, or several for a
        heterogeneous job. ``components[i]`` are sbatch options (``--name=value`` form
        only) and ``environments[i]`` the exact environment of component ``i``. The script
        travels on sbatch's stdin.

        Raises:
            SlurmCommandError: Slurm refused the job; nothing was submitted.
        """
        ...


class JobControlOps(Protocol):
    def update_job(self, who: Identity, job_id: str, settings: Sequence[str]) -> None:
        """``scontrol update JobId=<job_id> <settings...>`` (each ``Key=value``).

        Raises:
            SlurmCommandError: Slurm refused the change (unknown job, not permitted, ...).
        """
        ...

    def signal_job(self, who: Identity, job_id: str, signal: str | None) -> None:
        """``scancel`` the job, with ``--signal=<signal>`` when one is given.

        Raises:
            SlurmCommandError: Slurm refused (unknown job, not permitted, bad signal).
        """
        ...


class TokenOps(Protocol):
    def user_token(self, who: Identity, user: str, lifespan: int) -> str:
        """A token for ``user`` valid ``lifespan`` seconds, obtained from Slurm with
        ``who``'s token (JWT proxy mode; Slurm grants it to root and SlurmUser only).

        Raises:
            SlurmCommandError: status 401 when Slurm refused ``who`` (or its token);
                another status when Slurm could not be asked.
        """
        ...

    def token_refused(self, who: Identity) -> bool:
        """Whether slurmctld refuses ``who``'s token (asked after a command failed, to
        tell a bad token from any other failure). False when that cannot be told."""
        ...


class Backend(
    PingOps, DiagOps, ChangeOps, JobsOps, NodesOps, PartitionsOps, ReservationsOps,
    SubmitOps, JobControlOps, TokenOps, DbJobsOps, DbAccountsOps, DbObjectsOps, DbConfigOps,
    DbAssociationsOps, Protocol,
):
    """Everything the operations need from Slurm."""

    def version(self) -> SlurmVersion:
        """The installed Slurm's version (for the envelope's ``meta``).

        Raises:
            SlurmCommandError: it cannot be determined.
        """
        ...
