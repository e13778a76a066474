"""The HTTP/1.1 server side of one connection, sans-IO, on top of h11.

Rule 1: this module never touches a file descriptor, a socket, the clock or the
environment. Bytes come in through :meth:`ServerProtocol.receive_data` (``b""`` is EOF),
:class:`Request` objects come out of :meth:`ServerProtocol.next_event`, and every byte to
write is returned to the caller. ``serve`` does the I/O; tests feed bytes directly.

Rule 2: a protocol failure is raised as an :class:`~slurmrest_stdio.errors.HTTPError` with
the right status (h11's hint is kept, so an oversized header block is 431, not 400). The
caller answers it with :meth:`ServerProtocol.send_error`, which writes a complete response
only while h11 still allows one, and then closes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import h11

from slurmrest_stdio import errors
from slurmrest_stdio.config import Limits

#: Methods whose requests carry a body; for them a missing length is 411, not "no body".
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout",
    411: "Length Required", 413: "Content Too Large", 415: "Unsupported Media Type",
    417: "Expectation Failed", 422: "Unprocessable Content",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}


@dataclass(frozen=True)
class Request:
    """One complete request. Header names are lower case; values are latin-1 text."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    http_version: str = "1.1"

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())
    #: close the connection after this response
    close: bool = False


class NeedData:
    """next_event(): feed more bytes (or EOF) first."""


class Closed:
    """next_event(): the client ended the conversation cleanly."""


NEED_DATA = NeedData()
CLOSED = Closed()


def text_response(status: int, message: str, *, close: bool = False) -> Response:
    """A short ``text/plain`` response, as slurmrestd sends for HTTP-level errors."""
    return Response(status, message.encode("utf-8"), "text/plain", close=close)


class ServerProtocol:
    """h11.Connection(SERVER) plus our limits, 411/417 rules and request assembly."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._conn = h11.Connection(
            h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes
        )
        self._outbox = bytearray()
        self._head: h11.Request | None = None
        self._body = bytearray()
        # bytes of the request now being read, kept until its head parses (see _add_host)
        self._shadow = bytearray()
        self._eof = False

    # -- input ---------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the client; ``b""`` means end of input."""
        if not data:
            self._eof = True
        elif self._conn.their_state is h11.IDLE:
            if not self._shadow:
                # RFC 9112 2.2: ignore empty lines before a request line
                data = data.lstrip(b"\r\n")
                if not data:
                    return
            self._shadow += data
        self._conn.receive_data(data)

    def next_event(self) -> Request | NeedData | Closed:
        """Return the next complete request, NEED_DATA or CLOSED.

        Raises:
            errors.HTTPError: a fatal protocol error (400, 411, 413, 417, 431, ...).
        """
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                if self._add_host(exc):
                    continue
                raise self._protocol_error(exc) from exc
            if event is h11.NEED_DATA:
                if self._conn.they_are_waiting_for_100_continue:
                    interim = h11.InformationalResponse(
                        status_code=100, headers=[], reason="Continue"
                    )
                    self._outbox += self._conn.send(interim) or b""
                return NEED_DATA
            if isinstance(event, h11.Request):
                self._start(event)
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > self.limits.max_body_bytes:
                    raise errors.PayloadTooLarge(self._too_large_message())
            elif isinstance(event, h11.EndOfMessage):
                return self._finish()
            elif isinstance(event, h11.ConnectionClosed):
                return CLOSED
            else:  # h11.PAUSED: the caller must answer before reading on
                return NEED_DATA

    def _add_host(self, exc: h11.RemoteProtocolError) -> bool:
        """Accept an HTTP/1.1 request without ``Host``, as slurmrestd does.

        h11 enforces RFC 9112's "MUST 400" for a missing Host. Clients of slurmrestd (and
        ``printf 'GET /slurm/v0.0.38/ping HTTP/1.1\\r\\n\\r\\n' | ...``) rely on it
        working, so the request is read again with ``Host: localhost`` after its request
        line. At a request boundary a fresh h11 connection is in the same state as this one.
        """
        if "Missing mandatory Host" not in str(exc) or not self._shadow:
            return False
        raw = bytes(self._shadow)
        cut = raw.find(b"\n") + 1
        self._restart(raw[:cut] + b"Host: localhost\r\n" + raw[cut:])
        self._shadow.clear()
        return True

    def _restart(self, pending: bytes) -> None:
        """A fresh h11 connection holding ``pending``: only ever at a request boundary,
        where it is in the same state as the old one."""
        self._conn = h11.Connection(
            h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes
        )
        self._conn.receive_data(pending)
        if self._eof:
            self._conn.receive_data(b"")

    def _start(self, event: h11.Request) -> None:
        self._shadow.clear()
        self._head = event
        self._body = bytearray()
        if event.http_version not in (b"1.0", b"1.1"):
            raise errors.HTTPVersionNotSupported()
        method = event.method.decode("ascii")
        # h11 bounds only a block still arriving; one that arrived whole is measured here
        size = len(event.method) + len(event.target) + sum(
            len(k) + len(v) + 4 for k, v in event.headers
        )
        if size > self.limits.max_header_bytes:
            raise errors.HeaderFieldsTooLarge()
        headers = dict(event.headers)  # h11 lower-cases the names
        expect = headers.get(b"expect")
        if expect is not None and expect.lower() != b"100-continue":
            raise errors.ExpectationFailed()
        length = headers.get(b"content-length")
        chunked = b"transfer-encoding" in headers
        if length is not None and chunked:
            # the classic request-smuggling shape: RFC 9112 6.1 says answer and close
            raise errors.ProtocolViolation("Content-Length and Transfer-Encoding together")
        if method in BODY_METHODS and length is None and not chunked:
            raise errors.LengthRequired()
        if length is not None and int(length) > self.limits.max_body_bytes:
            raise errors.PayloadTooLarge(self._too_large_message())

    def _finish(self) -> Request:
        head = self._head
        assert head is not None  # EndOfMessage always follows a Request
        self._head = None
        return Request(
            method=head.method.decode("ascii"),
            target=head.target.decode("latin-1"),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers),
            body=bytes(self._body),
            http_version=head.http_version.decode("ascii"),
        )

    def _too_large_message(self) -> str:
        return f"Request body larger than {self.limits.max_body_bytes} bytes"

    def _protocol_error(self, exc: h11.RemoteProtocolError) -> errors.HTTPError:
        status = exc.error_status_hint
        if status == 431:
            return errors.HeaderFieldsTooLarge()
        # h11 quotes the offending bytes as a Python repr: keep the words only
        message = re.sub(r":? *bytearray\(.*\)$", "", str(exc)) or "Malformed HTTP request"
        if (self._eof and self._conn.their_state is not h11.IDLE) or "unexpectedly" in message:
            message = f"Request truncated by end of input ({message})"
        return errors.ProtocolViolation(message, status=status)

    # -- state ---------------------------------------------------------------------------
    @property
    def request_in_progress(self) -> bool:
        """True while part of a request has arrived (read timeouts apply, not idle ones)."""
        if self._conn.their_state is not h11.IDLE:
            return True
        return bool(self._conn.trailing_data[0])

    @property
    def can_send_error(self) -> bool:
        return self._conn.our_state in (h11.IDLE, h11.SEND_RESPONSE)

    @property
    def finished(self) -> bool:
        """True when the connection cannot carry another request: the caller should close."""
        return self._conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE)

    # -- output --------------------------------------------------------------------------
    def data_to_send(self) -> bytes:
        """Bytes produced while reading (an interim ``100 Continue``); empties the outbox."""
        out = bytes(self._outbox)
        self._outbox.clear()
        return out

    def send_response(self, response: Response, *, head: bool = False) -> bytes:
        """Serialise ``response``; when ``head`` is true send the headers only.

        After a response that closes, :attr:`finished` is true; otherwise the protocol is
        ready for the next pipelined request.
        """
        headers: list[tuple[str, str]] = []
        if response.content_type is not None:
            headers.append(("Content-Type", response.content_type))
        if response.status >= 200 and response.status not in (204, 304):
            headers.append(("Content-Length", str(len(response.body))))
        headers.extend(response.headers)
        if response.close:
            headers.append(("Connection", "close"))
        out = self._conn.send(
            h11.Response(
                status_code=response.status,
                headers=headers,
                reason=REASONS.get(response.status, "Unknown"),
            )
        ) or b""
        if response.body and not head and response.status not in (204, 304):
            out += self._conn.send(h11.Data(data=response.body)) or b""
        out += self._conn.send(h11.EndOfMessage()) or b""
        if (
            self._conn.our_state is h11.DONE
            and self._conn.their_state is h11.DONE
        ):
            self._conn.start_next_cycle()
            pending = self._conn.trailing_data[0]
            if pending[:1] in (b"\r", b"\n"):  # a stray CRLF after a body
                pending = pending.lstrip(b"\r\n")
                self._restart(pending)
            self._shadow = bytearray(pending)
        return out

    def send_error(self, err: errors.HTTPError) -> bytes:
        """A complete ``text/plain`` error response that closes, or b"" when none may be sent."""
        if not self.can_send_error:
            return b""
        try:
            return self.send_response(text_response(err.status, str(err), close=True))
        except h11.LocalProtocolError:
            return b""
