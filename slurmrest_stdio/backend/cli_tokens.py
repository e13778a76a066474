"""Tokens: proxy mode's ``scontrol token``, and asking slurmctld whether it takes a token.

``user_token``: ``scontrol token username=<user> lifespan=<seconds>`` run with the proxy's
token (``SLURM_JWT``). slurmctld issues a token for another user only to root and
SlurmUser; anyone else gets "Invalid user id". It does not check that the user exists: a
token for a stranger is refused later, by the commands that use it.

``token_refused``: when a command of a JWT request fails, the failure alone often does not
say why (``squeue --json`` reports "Failed while looking for jobs" both for a refused token
and for an unreachable controller). slurmctld 22.05 answers a credential it refuses by
closing the connection: the client reports "Zero Bytes were transmitted or received"
(later releases may answer "Protocol authentication error" or one of the auth errors),
whereas an unreachable controller is "Unable to contact slurm controller". One cheap
read-only request, ``scontrol show licenses``, carrying the same token, tells them apart.
"""

from __future__ import annotations

import re

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.auth.jwt import refusal_error
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError

TOKEN_SOURCE = "slurm_fetch_token"  # noqa: S105 (a function name)
#: slurmctld refusing the request itself: ESLURM_USER_ID_MISSING ("Invalid user id", what
#: 22.05 answers a token request for someone else), ESLURM_ACCESS_DENIED
_DENIED = frozenset({2010, 2002})
_TOKEN_LINE = re.compile(r"SLURM_JWT=(\S+)")
_NAME = re.compile(r"[A-Za-z0-9_.@$][A-Za-z0-9_.@$-]*")


class TokensCli(CliCore):
    def user_token(self, who: Identity, user: str, lifespan: int) -> str:
        if not _NAME.fullmatch(user) or lifespan <= 0:
            raise ValueError(f"not a user name and lifespan: {user!r}, {lifespan!r}")
        out = self.run(["scontrol", "token", f"username={user}", f"lifespan={lifespan}"], who)
        m = _TOKEN_LINE.search(out.stdout.decode("utf-8", "replace"))
        if out.returncode == 0 and m:
            return m[1]
        err = slurm_error(out.stderr, TOKEN_SOURCE, default="scontrol token failed")
        refused = refusal_error(err.error_number) or err.error_number in _DENIED
        raise SlurmCommandError([err], status=401 if refused else 500)

    def token_refused(self, who: Identity) -> bool:
        if not who.token:
            return False
        try:
            out = self.run(["scontrol", "--oneliner", "show", "licenses"], who)
        except SlurmCommandError:
            return False
        if out.returncode == 0:
            return False
        return refusal_error(slurm_error(out.stderr, "slurm_load_licenses").error_number)
