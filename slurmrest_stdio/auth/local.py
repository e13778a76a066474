"""``rest_auth/local``: the client is whoever owns the connection, if that is us.

slurmrestd's rule for a pipe, FIFO, regular file or terminal on stdin: accept when the
input's owner is this process's real uid and neither set-id bits nor any "other"
permission bits are set; the client is then that user. On an AF_UNIX socket we go further
than slurmrestd 22.05 (which rejects every socket): the kernel's SO_PEERCRED names the
connecting process's uid, and the same uid is accepted. Local auth says nothing about a
TCP peer, so it SKIPs there and a later plugin (JWT) must decide.
"""

from __future__ import annotations

import stat

from slurmrest_stdio.auth.base import AuthResult, Decision, Identity, Peer, PeerKind
from slurmrest_stdio.protocol import Request

NAME = "rest_auth/local"


class LocalAuth:
    name = NAME

    def authenticate(self, request: Request, peer: Peer) -> AuthResult:
        if peer.kind in (PeerKind.FIFO, PeerKind.CHAR, PeerKind.FILE):
            return self._by_owner(peer)
        if peer.kind is PeerKind.UNIX:
            return self._by_peercred(peer)
        if peer.kind is PeerKind.TCP:
            return AuthResult(Decision.SKIP, reason="peer credentials do not exist on TCP")
        return AuthResult(Decision.REJECT, reason=f"unsupported input type {peer.kind.value}")

    @staticmethod
    def _by_owner(peer: Peer) -> AuthResult:
        if peer.mode & (stat.S_ISUID | stat.S_ISGID):
            return AuthResult(Decision.REJECT, reason="input has set-id bits")
        if peer.mode & stat.S_IRWXO:
            return AuthResult(Decision.REJECT, reason="input is accessible to other users")
        if peer.owner_uid != peer.own_uid:
            return AuthResult(
                Decision.REJECT,
                reason=f"input owned by uid {peer.owner_uid}, we run as uid {peer.own_uid}",
            )
        return AuthResult(Decision.ACCEPT, Identity(peer.own_user, peer.own_uid, NAME))

    @staticmethod
    def _by_peercred(peer: Peer) -> AuthResult:
        if peer.cred_uid is None or peer.cred_pid in (None, 0):
            return AuthResult(Decision.REJECT, reason="no peer credentials on the socket")
        if peer.cred_uid != peer.own_uid:
            return AuthResult(
                Decision.REJECT,
                reason=f"peer uid {peer.cred_uid} (pid {peer.cred_pid}) is not our uid"
                f" {peer.own_uid}",
            )
        return AuthResult(Decision.ACCEPT, Identity(peer.own_user, peer.own_uid, NAME))

