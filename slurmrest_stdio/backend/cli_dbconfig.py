"""slurmdb diag: ``sacctmgr show stats``, run as the client (slurmdbd decides who may)."""

from __future__ import annotations

import re

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, _errtab, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

SOURCE = "slurmdb_get_stats"
#: sacctmgr reports slurmdbd's refusal with its return code: "... RC:2002 Your user ..."
_RC = re.compile(rb"\bRC:(-?[0-9]+)")


#: sacctmgr could not reach slurmdbd at all
_NO_CONNECTION = (b"failed to open persistent connection", b"Sending PersistInit msg")
#: slurmrestd's answer then: the database connection it could not get (and 200, since
#: its diag handler records that error without failing)
NO_CONNECTION = SlurmError("Database connection reference is invalid", 7008, "",
                           "openapi_get_db_conn")


def stats_error(stderr: bytes) -> SlurmError:
    """The envelope error for a failed ``sacctmgr show stats``: the Slurm error whose
    number sacctmgr printed, else what its message matches."""
    found = _RC.search(stderr)
    if found:
        number = int(found[1])
        for message, known in _errtab():
            if known == number:
                return SlurmError(message, number, "", SOURCE)
    return slurm_error(stderr, SOURCE, default="Unable to get statistics")


class DbConfigCli(CliCore):
    """Implements :class:`~slurmrest_stdio.backend.ops_dbconfig.DbConfigOps`."""

    def db_stats(self, who: Identity) -> str:
        out = self.run(["sacctmgr", "show", "stats"], who)
        if out.returncode != 0 or b"Remote Procedure Call statistics" not in out.stdout:
            if any(text in out.stderr for text in _NO_CONNECTION):
                raise SlurmCommandError([NO_CONNECTION], status=200)
            raise SlurmCommandError([stats_error(out.stderr)])
        return out.stdout.decode("utf-8", "replace")
