"""The connection loop: the only code that reads the connection and writes to it.

read bytes -> protocol -> app -> protocol -> write bytes, until the client is done. Exits
with an :class:`ExitCode`: 0 after a clean conversation, non-zero when the client broke
the protocol (a truncated request included), timed out, or vanished mid-response.
"""

from __future__ import annotations

import enum
import logging
import os
import select
import signal
import time
from typing import TYPE_CHECKING, Protocol

from slurmrest_stdio import errors
from slurmrest_stdio.config import READ_CHUNK, Config, Limits
from slurmrest_stdio.io.detect import Endpoint, StartupError
from slurmrest_stdio.protocol import CLOSED, NEED_DATA, Request, ServerProtocol

if TYPE_CHECKING:
    from slurmrest_stdio.app import App

log = logging.getLogger("slurmrest_stdio")


class ExitCode(enum.IntEnum):
    OK = 0
    #: start-up refused (root, bad fds, unknown SLURMRESTD_SECURITY, ...)
    STARTUP = 1
    #: command-line usage error (click's own code)
    USAGE = 2
    #: the client sent something that is not valid HTTP, or stopped mid-request
    PROTOCOL = 3
    #: the client went silent in the middle of a request
    TIMEOUT = 4
    #: the connection failed while we wrote (client gone)
    CONNECTION = 5


class WriteTimeout(TimeoutError):
    """The client stopped taking our output."""


def _alarm(signum: int, frame: object) -> None:
    raise WriteTimeout("the client stopped reading")


class Connection:
    """Blocking reads with a timeout, complete writes with a timeout, and a polite close
    for sockets."""

    def __init__(self, endpoint: Endpoint, write_timeout: float = 0.0) -> None:
        self.endpoint = endpoint
        self._poll = select.poll()
        self._poll.register(endpoint.in_fd, select.POLLIN | select.POLLPRI)
        # a blocked write() is interrupted by SIGALRM; the fd stays blocking, so nothing
        # changes for other holders of the same open file (a shell, a super-server)
        self._write_timeout = 0.0 if endpoint.is_tty else write_timeout
        if self._write_timeout:
            signal.signal(signal.SIGALRM, _alarm)

    def read(self, timeout: float | None) -> bytes | None:
        """Up to READ_CHUNK bytes; b"" at EOF; None when ``timeout`` seconds pass first."""
        if timeout and not self._poll.poll(timeout * 1000):
            return None
        try:
            return os.read(self.endpoint.in_fd, READ_CHUNK)
        except ConnectionResetError:
            return b""

    def write(self, data: bytes) -> None:
        """Write all of ``data``.

        Raises:
            WriteTimeout: no progress for the write timeout (the client stopped reading).
            OSError: the connection failed (EPIPE, ECONNRESET).
        """
        view = memoryview(data)
        while view:
            if self._write_timeout:
                signal.setitimer(signal.ITIMER_REAL, self._write_timeout)
            try:
                written = os.write(self.endpoint.out_fd, view[:READ_CHUNK])
            finally:
                if self._write_timeout:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            view = view[written:]

    def close(self) -> None:
        """For sockets: send FIN, then drain briefly so unread input cannot turn our last
        response into a connection reset on the client's side."""
        if not self.endpoint.is_socket:
            return
        import socket

        sock = socket.socket(fileno=os.dup(self.endpoint.out_fd))
        try:
            sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 2.0
            while (left := deadline - time.monotonic()) > 0:
                if not self._poll.poll(left * 1000):
                    break
                if not os.read(self.endpoint.in_fd, READ_CHUNK):
                    break
        except OSError:
            pass
        finally:
            sock.close()


def run(config: Config) -> int:
    """Serve one connection on stdin/stdout with ``config``; return the exit status."""
    from slurmrest_stdio.io import detect, logsetup, privileges

    changed: str | None = None
    fds = (0, 1)  # where the connection is, for the log's "is stderr the connection?"
    try:
        privileges.check_security(config)
        # read while we may still be root: slurm.conf need not be readable after a drop
        forbidden = privileges.read_forbidden(config)
        if privileges.BECOME_USER in config.security:
            privileges.check_become_user_start()
            endpoint = detect.detect(os.environ)
            fds = (endpoint.in_fd, endpoint.out_fd)
            # the switch happens before a single request byte is read
            endpoint, changed = privileges.become_peer(endpoint, config, forbidden)
        else:
            changed = privileges.drop(config)
            privileges.check_user(config, forbidden)
            endpoint = detect.detect(os.environ)
    except StartupError as exc:
        logsetup.setup(config.log_level, config.log_stderr_level, *fds)
        log.critical("fatal: %s", exc)
        return ExitCode.STARTUP
    logsetup.setup(config.log_level, config.log_stderr_level, endpoint.in_fd, endpoint.out_fd)
    if changed:
        log.info("%s", changed)
    for notice in config.notices:
        log.warning("%s", notice)
    return serve(config, endpoint, Connection(endpoint, config.limits.write_timeout))


class Stream(Protocol):
    """What the loop needs from a connection (:class:`Connection`, or a test's stream)."""

    def read(self, timeout: float | None) -> bytes | None: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


def serve(config: Config, endpoint: Endpoint, conn: Stream) -> int:
    """Build this connection's application and run the conversation."""
    from slurmrest_stdio import api
    from slurmrest_stdio.app import App
    from slurmrest_stdio.auth import load_chain
    from slurmrest_stdio.backend.slurmcli import SlurmCli
    from slurmrest_stdio.io.keys import jwt_facts

    backend = SlurmCli(config)
    app = App(
        peer=endpoint.peer,
        auth_chain=load_chain(config.auth_types, {"rest_auth/jwt": jwt_facts(config, backend)}),
        backend=backend,
        plugins=api.load_plugins(config.openapi_plugins),
    )
    log.debug("connection from %s (%s)", endpoint.peer.description, endpoint.peer.kind.value)
    try:
        # a person at a terminal sets their own pace; timeouts protect super-server slots
        return converse(app, conn, config.limits, timed=not endpoint.is_tty)
    finally:
        backend.close()


def converse(app: App, conn: Stream, limits: Limits, *, timed: bool = True) -> int:
    """The keep-alive loop: read, parse, answer, until the client is done.

    Never raises for anything the client does; returns the exit status.
    """
    proto = ServerProtocol(limits)
    code = ExitCode.OK
    try:
        while True:
            try:
                event = proto.next_event()
            except errors.HTTPError as err:
                conn.write(proto.send_error(err))
                log.warning("%s %s: %s", err.status, type(err).__name__, err)
                code = ExitCode.PROTOCOL
                break
            if pending := proto.data_to_send():
                conn.write(pending)  # 100 Continue
            if event is NEED_DATA:
                in_request = proto.request_in_progress
                timeout = limits.read_timeout if in_request else limits.idle_timeout
                data = conn.read(timeout if timed else None)
                if data is None:
                    conn.write(proto.send_error(errors.RequestTimeout()))
                    log.info("408 %s timeout after %gs", "read" if in_request else "idle",
                             timeout)
                    code = ExitCode.TIMEOUT if in_request else ExitCode.OK
                    break
                proto.receive_data(data)
                continue
            if event is CLOSED:
                break
            assert isinstance(event, Request)
            started = time.monotonic()
            exchange = app.handle(event)
            conn.write(proto.send_response(exchange.response, head=event.method == "HEAD"))
            log.info(
                "%s %s HTTP/%s user=%s status=%d bytes=%d %.1fms%s",
                event.method, event.target, event.http_version, exchange.user,
                exchange.response.status, len(exchange.response.body),
                (time.monotonic() - started) * 1000,
                f" ({exchange.note})" if exchange.note else "",
            )
            if proto.finished:
                break
    except OSError as exc:  # EPIPE, ECONNRESET: the client left while we wrote
        log.warning("connection lost: %s", exc)
        return ExitCode.CONNECTION
    conn.close()
    return code
