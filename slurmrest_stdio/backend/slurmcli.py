"""The real backend: Slurm's own commands, run as the client (see ``clicore``).

Each area's operations are a mixin in a module of their own (``cli_jobs``, ``cli_nodes``,
...). A process serves one connection, usually one or two operations, so :class:`SlurmCli`
does not import every area at start-up: an operation it does not have yet is looked up in
the mixins in the order of :data:`MIXINS` (each module imported only when the search
reaches it), and the bound method is then kept on the instance. The first mixin defining
a name provides it, which is also how the mixins would combine as base classes.

For the type checker SlurmCli *is* that combination (the same mixins as base classes,
imported under ``TYPE_CHECKING``), so it is checked against
:class:`~slurmrest_stdio.backend.base.Backend` as before; a unit test checks that every
operation of Backend resolves at run time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from slurmrest_stdio.backend.clicore import CliCore, Outcome, slurm_error

__all__ = ["MIXINS", "CliCore", "Outcome", "SlurmCli", "slurm_error"]

#: (module of slurmrest_stdio.backend, mixin class), in lookup order
MIXINS = (
    ("cli_diag", "DiagCli"),
    ("cli_changes", "ChangesCli"),
    ("cli_jobs", "JobsCli"),
    ("cli_nodes", "NodesCli"),
    ("cli_partitions", "PartitionsCli"),
    ("cli_reservations", "ReservationsCli"),
    ("cli_submit", "SubmitCli"),
    ("cli_jobcontrol", "JobControlCli"),
    ("cli_tokens", "TokensCli"),
    ("cli_dbjobs", "DbJobsCli"),
    ("cli_dbaccounts", "DbAccountsCli"),
    ("cli_dbobjects", "DbObjectsCli"),
    ("cli_dbconfig", "DbConfigCli"),
    ("cli_dbassociations", "DbAssociationsCli"),
)

if TYPE_CHECKING:
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

    class _Operations(
        DiagCli, ChangesCli, JobsCli, NodesCli, PartitionsCli, ReservationsCli, SubmitCli,
        JobControlCli, TokensCli, DbJobsCli, DbAccountsCli, DbObjectsCli, DbConfigCli,
        DbAssociationsCli,
    ):
        pass
else:
    _Operations = CliCore


def _mixin(module: str, name: str) -> type[CliCore]:
    mixin: type[CliCore] = getattr(
        importlib.import_module(f"slurmrest_stdio.backend.{module}"), name)
    return mixin


class SlurmCli(_Operations):
    """Every operation of :class:`~slurmrest_stdio.backend.base.Backend`."""

    if not TYPE_CHECKING:  # the type checker sees the mixins as base classes instead

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            for module, mixin_name in MIXINS:
                for klass in _mixin(module, mixin_name).__mro__:
                    if klass is CliCore:
                        break
                    if name in vars(klass):
                        found = vars(klass)[name]
                        if not callable(found):
                            return found  # a class-level default (the mixin's state)
                        method = found.__get__(self, type(self))
                        self.__dict__[name] = method
                        return method
            raise AttributeError(f"{type(self).__name__!r} has no operation {name!r}")
