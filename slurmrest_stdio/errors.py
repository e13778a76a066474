"""Errors that become HTTP responses, and Slurm's errors as the envelope carries them.

Every failure a client can cause is an :class:`HTTPError` subclass that knows its own
status; ``app`` and ``serve`` are the only places that turn one into a response. The
message is what the client reads: plain, short, never a traceback. Details go to the log.
"""

from __future__ import annotations

from dataclasses import dataclass


class HTTPError(Exception):
    """A request failed with an HTTP status; ``str(err)`` is the body sent to the client."""

    status = 500
    #: the protocol cannot continue after this error: answer, then close the connection
    fatal = False

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or self.default_message)
        if status is not None:
            self.status = status

    default_message = "Internal error"


class BadRequest(HTTPError):
    status = 400
    default_message = "Bad request"


class Unauthorized(HTTPError):
    status = 401
    default_message = "Authentication failure"


class NotFound(HTTPError):
    status = 404
    # slurmrestd's exact text, so that clients matching on it keep working
    default_message = "Unable find requested URL. Please view /openapi/v3 for API reference."


class MethodNotAllowed(HTTPError):
    status = 405
    default_message = (
        "Requested REST method is not defined at URL. Please view /openapi/v3 for API reference."
    )

    def __init__(self, allowed: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.allowed = allowed


class RequestTimeout(HTTPError):
    status = 408
    fatal = True
    default_message = "Timed out waiting for the request"


class LengthRequired(HTTPError):
    status = 411
    fatal = True
    default_message = "A request with a body needs Content-Length or chunked Transfer-Encoding"


class PayloadTooLarge(HTTPError):
    status = 413
    fatal = True
    default_message = "Request body too large"


class UnsupportedMediaType(HTTPError):
    status = 415
    default_message = "Accept content type is unknown"


class ExpectationFailed(HTTPError):
    status = 417
    fatal = True
    default_message = "Only 'Expect: 100-continue' is supported"


class HeaderFieldsTooLarge(HTTPError):
    status = 431
    fatal = True
    default_message = "Request header block too large"


class HTTPVersionNotSupported(HTTPError):
    status = 505
    fatal = True
    default_message = "Only HTTP/1.0 and HTTP/1.1 are supported"


class ProtocolViolation(BadRequest):
    """The bytes are not HTTP/1.1 we can parse: answer 400 (or h11's hint) and close."""

    fatal = True


class InternalError(HTTPError):
    status = 500
    default_message = "Internal error"


@dataclass(frozen=True)
class SlurmError:
    """One entry of the envelope's ``errors`` list (v0.0.38 ``error``/``error_number``
    plus the ``description``/``source`` that slurmrestd adds)."""

    error: str
    error_number: int
    description: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "description": self.description,
            "error_number": self.error_number,
            "error": self.error,
            "source": self.source,
        }


class SlurmCommandError(Exception):
    """A Slurm command failed; carries the envelope errors and the HTTP status to use."""

    def __init__(self, errors: list[SlurmError], status: int = 500) -> None:
        super().__init__("; ".join(e.description or e.error for e in errors))
        self.errors = errors
        self.status = status
