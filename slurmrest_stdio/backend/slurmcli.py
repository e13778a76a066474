"""The real backend: Slurm's own commands, run as the client (see ``clicore``)."""

from __future__ import annotations

from slurmrest_stdio.backend.cli_changes import ChangesCli
from slurmrest_stdio.backend.cli_dbaccounts import DbAccountsCli
from slurmrest_stdio.backend.cli_dbassociations import DbAssociationsCli
from slurmrest_stdio.backend.cli_dbconfig import DbConfigCli
from slurmrest_stdio.backend.cli_dbjobs import DbJobsCli
from slurmrest_stdio.backend.cli_dbobjects import DbObjectsCli
from slurmrest_stdio.backend.cli_diag import DiagCli
from slurmrest_stdio.backend.cli_jobcontrol import JobControlCli
from slurmrest_stdio.backend.cli_jobs import JobsCli
from slurmrest_stdio.backend.cli_nodes import NodesCli
from slurmrest_stdio.backend.cli_partitions import PartitionsCli
from slurmrest_stdio.backend.cli_reservations import ReservationsCli
from slurmrest_stdio.backend.cli_submit import SubmitCli
from slurmrest_stdio.backend.cli_tokens import TokensCli
from slurmrest_stdio.backend.clicore import CliCore, Outcome, slurm_error

__all__ = ["CliCore", "Outcome", "SlurmCli", "slurm_error"]


class SlurmCli(
    DiagCli, ChangesCli, JobsCli, NodesCli, PartitionsCli, ReservationsCli, SubmitCli,
    JobControlCli, TokensCli, DbJobsCli, DbAccountsCli, DbObjectsCli, DbConfigCli,
    DbAssociationsCli,
):
    """Every operation of :class:`~slurmrest_stdio.backend.base.Backend`."""
