from __future__ import annotations

import stat

import pytest

from slurmrest_stdio import errors
from slurmrest_stdio.auth.base import Decision, Peer, PeerKind, authenticate
from slurmrest_stdio.auth.local import LocalAuth
from slurmrest_stdio.protocol import Request

REQ = Request("GET", "/")


def peer(kind: PeerKind, **kw: object) -> Peer:
    return Peer(kind, 1001, "alice", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [PeerKind.FIFO, PeerKind.CHAR, PeerKind.FILE])
def test_own_input_is_accepted(kind: PeerKind) -> None:
    result = LocalAuth().authenticate(REQ, peer(kind, owner_uid=1001, mode=0o600))
    assert result.decision is Decision.ACCEPT
    assert result.identity is not None
    assert (result.identity.user, result.identity.uid, result.identity.token) == (
        "alice", 1001, None)


def test_tty_with_group_write_is_accepted() -> None:
    # a terminal is typically crw--w---- (group tty may write): no "other" bits
    mode = stat.S_IFCHR | 0o620
    assert LocalAuth().authenticate(REQ, peer(PeerKind.CHAR, owner_uid=1001, mode=mode)
                                    ).decision is Decision.ACCEPT


@pytest.mark.parametrize(
    ("owner", "mode", "why"),
    [
        (1002, 0o600, "owned by uid 1002"),
        (1001, 0o604, "other users"),
        (1001, 0o601, "other users"),
        (1001, stat.S_ISUID | 0o600, "set-id"),
        (1001, stat.S_ISGID | 0o600, "set-id"),
    ],
)
def test_foreign_or_open_input_is_rejected(owner: int, mode: int, why: str) -> None:
    result = LocalAuth().authenticate(REQ, peer(PeerKind.FIFO, owner_uid=owner, mode=mode))
    assert result.decision is Decision.REJECT and why in result.reason


def test_unix_socket_uses_peer_credentials() -> None:
    same = peer(PeerKind.UNIX, cred_pid=42, cred_uid=1001, cred_gid=1001)
    other = peer(PeerKind.UNIX, cred_pid=42, cred_uid=1002, cred_gid=1002)
    missing = peer(PeerKind.UNIX, cred_pid=0, cred_uid=1001)
    assert LocalAuth().authenticate(REQ, same).decision is Decision.ACCEPT
    assert LocalAuth().authenticate(REQ, other).decision is Decision.REJECT
    assert LocalAuth().authenticate(REQ, missing).decision is Decision.REJECT


def test_tcp_skips_and_other_kinds_reject() -> None:
    assert LocalAuth().authenticate(REQ, peer(PeerKind.TCP)).decision is Decision.SKIP
    assert LocalAuth().authenticate(REQ, peer(PeerKind.OTHER)).decision is Decision.REJECT


def test_chain_nothing_accepting_is_401_with_reasons_noted() -> None:
    with pytest.raises(errors.Unauthorized) as info:
        authenticate([LocalAuth()], REQ, peer(PeerKind.TCP))
    assert info.value.status == 401 and str(info.value) == "Authentication failure"
    assert "rest_auth/local: skip" in " ".join(info.value.__notes__)
    with pytest.raises(errors.Unauthorized):
        authenticate([], REQ, peer(PeerKind.FIFO, owner_uid=1001))
