"""One request in, one response out: authentication, routing, negotiation, the operation.

This is the one place where exceptions become responses:

* :class:`~slurmrest_stdio.errors.HTTPError` -> its status with a short ``text/plain`` body
  (401, 404, 405, 415, 400, ...), as slurmrestd answers them;
* :class:`~slurmrest_stdio.errors.SlurmCommandError` -> the v0.0.38 envelope with Slurm's
  errors, in the negotiated format, with the status slurmrestd would give;
* anything else -> 500 ``Internal error``; the traceback goes to the log, never the client.

The order is slurmrestd's: authenticate first (an unauthenticated request to an unknown path
is 401, not 404), then route, then negotiate the response type.

Knows nothing of file descriptors; ``serve`` hands it complete requests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from slurmrest_stdio import codec, errors
from slurmrest_stdio.api import Context, Payload, Plugin, Result, envelope
from slurmrest_stdio.auth.base import AuthPlugin, Identity, Peer, authenticate
from slurmrest_stdio.protocol import Request, Response, text_response
from slurmrest_stdio.router import Router, parse_target

if TYPE_CHECKING:
    from slurmrest_stdio.backend.base import Backend

log = logging.getLogger("slurmrest_stdio")

#: slurmrestd's text for a body on anything but POST
BODY_NOT_ALLOWED = "Unexpected http body provided for non-POST method"


@dataclass(frozen=True)
class Operation:
    handler: object
    plugin: Plugin | None


@dataclass(frozen=True)
class Exchange:
    """A response and what the log line about it needs."""

    response: Response
    user: str = "-"
    note: str = ""


class App:
    """The request handler of one connection (one peer, one backend, one route table)."""

    def __init__(
        self,
        *,
        peer: Peer,
        auth_chain: Sequence[AuthPlugin],
        backend: Backend,
        plugins: Sequence[Plugin],
    ) -> None:
        from slurmrest_stdio.api import openapi

        self.peer = peer
        self.auth_chain = list(auth_chain)
        self.backend = backend
        self.router = Router()
        for plugin in plugins:
            for method, template, handler in plugin.routes:
                self.router.add(method, template, Operation(handler, plugin))
        for method, template, handler in openapi.make_routes(plugins):
            self.router.add(method, template, Operation(handler, None))

    def handle(self, request: Request) -> Exchange:
        """Answer one request. Never raises: every failure becomes a response."""
        user = "-"
        try:
            identity, notes = authenticate(self.auth_chain, request, self.peer)
            user = identity.user
            for note in notes:
                log.debug("auth: %s", note)
            return Exchange(self._dispatch(request, identity), user)
        except errors.HTTPError as err:
            note = "; ".join(getattr(err, "__notes__", ()))
            return Exchange(self._error_response(request, err), user, note)
        except errors.SlurmCommandError as exc:  # outside an operation (Slurm's version)
            return Exchange(text_response(exc.status, f"Slurm is not usable: {exc}"), user,
                            str(exc))
        except Exception:
            log.exception("internal error while handling %s %s", request.method, request.target)
            return Exchange(text_response(500, "Internal error"), user, "internal error")

    def _dispatch(self, request: Request, identity: Identity) -> Response:
        # slurmrestd's order of checks: path, method, Accept, then the body
        target = parse_target(request.target)
        route, params = self.router.match(request.method, target.segments)
        media = codec.negotiate(request.header("accept"))
        if request.body and request.method != "POST":
            raise errors.BadRequest(BODY_NOT_ALLOWED)
        op: Operation = route.handler
        ctx = Context(
            request=request, params=params, query_string=target.query, identity=identity,
            backend=self.backend, media_type=media, plugin=op.plugin,
        )
        try:
            result = op.handler(ctx)  # type: ignore[operator]
        except errors.SlurmCommandError as exc:
            if op.plugin is None:
                raise
            result = Payload({}, exc.status, tuple(e.to_dict() for e in exc.errors))
        # A JWT that slurmctld refuses (forged, revoked) makes every command fail; that is
        # the client failing to authenticate: 401 with Slurm's errors (slurmrestd says 500)
        if (identity.token and _perhaps_refused(result)
                and self.backend.token_refused(identity)):
            result = _token_refused(result)
        if isinstance(result, Response):
            return result
        assert op.plugin is not None  # only plugin routes return payloads
        body = envelope(op.plugin, self.backend.version(), list(result.errors), result.data)
        return Response(result.status, codec.encode(body, media), media)

    @staticmethod
    def _error_response(request: Request, err: errors.HTTPError) -> Response:
        headers: tuple[tuple[str, str], ...] = ()
        if isinstance(err, errors.MethodNotAllowed) and err.allowed:
            allowed = set(err.allowed) | ({"HEAD"} if "GET" in err.allowed else set())
            headers = (("Allow", ", ".join(sorted(allowed))),)
        return Response(
            err.status, str(err).encode("utf-8"), "text/plain", headers, close=err.fatal
        )


def _perhaps_refused(result: Result) -> bool:
    """A 500 whose errors leave open that slurmctld refused the token (worth asking)."""
    if result.status != 500:
        return False
    if isinstance(result, Response):
        return True
    from slurmrest_stdio.auth.jwt import perhaps_refused  # requests with a token only

    return perhaps_refused(e.get("error_number", -1) for e in result.errors)


def _token_refused(result: Result) -> Result:
    """``result`` as a 401, slurmctld's refusal of the token heading its errors."""
    from slurmrest_stdio.auth.jwt import SLURM_REFUSED

    if isinstance(result, Response):
        return replace(result, status=401)
    return replace(result, status=401, errors=(SLURM_REFUSED.to_dict(), *result.errors))
