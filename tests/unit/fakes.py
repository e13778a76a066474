"""Test doubles at interfaces the project owns: a Backend and a byte Stream."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.app import App
from slurmrest_stdio.auth.base import Identity, Peer, PeerKind
from slurmrest_stdio.auth.local import LocalAuth
from slurmrest_stdio.backend.base import Backend, ControllerPing, SlurmVersion, SubmitResult
from slurmrest_stdio.config import OPENAPI_PLUGINS, Limits
from slurmrest_stdio.errors import SlurmCommandError
from slurmrest_stdio.serve import converse

VERSION = SlurmVersion(22, 5, 8, "22.05.8")
OWN_PIPE = Peer(PeerKind.FIFO, 1001, "alice", owner_uid=1001, mode=0o10600, description="pipe")


@dataclass
class FakeBackend:
    pings: list[ControllerPing] = field(
        default_factory=lambda: [ControllerPing("ctl", "UP", 0, "primary")]
    )
    fail: SlurmCommandError | None = None
    crash: Exception | None = None
    calls: list[tuple[str, Identity]] = field(default_factory=list)

    def version(self) -> SlurmVersion:
        return VERSION

    def ping(self, who: Identity) -> list[ControllerPing]:
        self.calls.append(("ping", who))
        if self.crash is not None:
            raise self.crash
        if self.fail is not None:
            raise self.fail
        return self.pings

    # every other operation fails loudly unless a test's subclass provides it
    def diag(self, who: Identity) -> dict[str, Any]:
        raise NotImplementedError

    def licenses(self, who: Identity) -> list[dict[str, str]]:
        raise NotImplementedError

    def changed_since(self, kind: str, update_time: int, who: Identity) -> bool:
        raise NotImplementedError

    def jobs_json(self, who: Identity, job_id: str | None = None) -> bytes:
        raise NotImplementedError

    def nodes_json(self, who: Identity, node_name: str | None = None) -> bytes:
        raise NotImplementedError

    def partitions(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        raise NotImplementedError

    def reservations(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        raise NotImplementedError

    def submit(self, who: Identity, components: Sequence[Sequence[str]], script: bytes,
               environments: Sequence[Mapping[str, str]]) -> SubmitResult:
        raise NotImplementedError

    def update_job(self, who: Identity, job_id: str, settings: Sequence[str]) -> None:
        raise NotImplementedError

    def signal_job(self, who: Identity, job_id: str, signal: str | None) -> None:
        raise NotImplementedError

    def user_token(self, who: Identity, user: str, lifespan: int) -> str:
        raise NotImplementedError

    def token_refused(self, who: Identity) -> bool:
        raise NotImplementedError


def make_app(backend: FakeBackend | None = None, peer: Peer = OWN_PIPE) -> App:
    return App(
        peer=peer,
        auth_chain=[LocalAuth()],
        # the fake implements what these tests use; anything else fails loudly at call time
        backend=cast(Backend, backend or FakeBackend()),
        plugins=load_plugins(OPENAPI_PLUGINS),
    )


class ScriptedStream:
    """Hands out the given chunks one read at a time, then EOF (or a timeout)."""

    def __init__(self, chunks: Iterable[bytes], *, end: str = "eof") -> None:
        self.chunks = list(chunks)
        self.end = end
        self.out = bytearray()
        self.closed = False

    def read(self, timeout: float | None) -> bytes | None:
        if self.chunks:
            return self.chunks.pop(0)
        return b"" if self.end == "eof" else None

    def write(self, data: bytes) -> None:
        self.out += data

    def close(self) -> None:
        self.closed = True


def talk(
    data: bytes,
    *,
    bytewise: bool = False,
    backend: FakeBackend | None = None,
    peer: Peer = OWN_PIPE,
    limits: Limits | None = None,
    end: str = "eof",
) -> tuple[int, bytes]:
    """Run a whole conversation through the real loop, protocol and app."""
    chunks = [data[i:i + 1] for i in range(len(data))] if bytewise else [data]
    stream = ScriptedStream([c for c in chunks if c], end=end)
    code = converse(make_app(backend, peer), stream, limits or Limits(), timed=True)
    return code, bytes(stream.out)
