"""Who is the client? The peer description, the identity, and the plugin chain.

The chain follows slurmrestd's rule: plugins run in the configured order; a plugin that
does not apply says SKIP and the next one runs; ACCEPT ends the chain with an identity;
REJECT ends it with 401. Nothing accepting is also 401 ``Authentication failure``.

Pure policy: the facts about the connection arrive as a :class:`Peer` built by
``io.peer``; nothing here looks at file descriptors itself.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from slurmrest_stdio import errors
from slurmrest_stdio.protocol import Request


class PeerKind(enum.Enum):
    FIFO = "fifo"
    CHAR = "chr"
    FILE = "reg"
    UNIX = "unix"
    TCP = "tcp"
    OTHER = "other"


@dataclass(frozen=True)
class Peer:
    """What the I/O edge learned about the other end of the connection."""

    kind: PeerKind
    #: this process's real uid and its user name
    own_uid: int
    own_user: str
    #: fifo/chr/reg: the input's owner and mode bits (fstat)
    owner_uid: int | None = None
    mode: int = 0
    #: unix sockets: SO_PEERCRED of the connecting process
    cred_pid: int | None = None
    cred_uid: int | None = None
    cred_gid: int | None = None
    #: for logs: "pipe", "/dev/pts/3", "127.0.0.1:4242", ...
    description: str = ""


@dataclass(frozen=True)
class Identity:
    """The authenticated client. Slurm commands run as this user."""

    user: str
    uid: int | None
    #: "rest_auth/local" or "rest_auth/jwt"
    method: str
    #: the JWT to hand to Slurm (SLURM_JWT) when the client sent one
    token: str | None = None


class Decision(enum.Enum):
    ACCEPT = "accept"
    SKIP = "skip"
    REJECT = "reject"


@dataclass(frozen=True)
class AuthResult:
    decision: Decision
    identity: Identity | None = None
    #: why, for the log (never sent to the client)
    reason: str = ""


class AuthPlugin(Protocol):
    name: str

    def authenticate(self, request: Request, peer: Peer) -> AuthResult: ...


def authenticate(
    chain: Sequence[AuthPlugin], request: Request, peer: Peer
) -> tuple[Identity, list[str]]:
    """Run the plugins in order; return the identity and the log notes collected.

    Raises:
        errors.Unauthorized: a plugin rejected the request, or none accepted it (401).
    """
    notes: list[str] = []
    for plugin in chain:
        result = plugin.authenticate(request, peer)
        if result.decision is Decision.ACCEPT and result.identity is not None:
            return result.identity, notes
        notes.append(f"{plugin.name}: {result.decision.value}: {result.reason}")
        if result.decision is Decision.REJECT:
            break
    err = errors.Unauthorized()
    err.add_note("; ".join(notes) or "no authentication plugin loaded")
    raise err
