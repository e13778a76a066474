"""A relay between ``sacct``/``sacctmgr`` and slurmdbd that takes the waiting out of each RPC.

Why it exists. Slurm 22.05 writes every message on a slurmdbd connection in two pieces,
a 4-byte length and then the body, and neither end sets ``TCP_NODELAY``. Once a
connection has carried a request and its answer, the kernel delays its ACKs, so the body
of each message waits for the ACK of its length (Nagle's rule) and that ACK waits for the
delayed-ACK timer: about 40 ms in each direction, about 90 ms per RPC, every time, on a
quiet loopback. A ``sacctmgr show assoc`` with limits makes four RPCs and spends ~355 ms
waiting on its own connection. slurmrestd pays the same per RPC.

What it does. While a request runs, this process listens on an ephemeral loopback port
and hands the accounting commands a slurm.conf of three lines: ``Include`` of the real
one, then ``AccountingStorageHost``/``AccountingStoragePort`` pointing at that port
(Slurm uses the latest value of a repeated key). Each connection the command opens is
relayed byte for byte to the real slurmdbd, with ``TCP_NODELAY`` on both sockets and
``TCP_QUICKACK`` renewed after every read and write, so neither piece of a message ever
waits. Nothing is parsed or changed: authentication stays munge or the client's JWT,
checked by slurmdbd as before, and the relay serves only this process's lifetime.

When it steps aside (the command then reaches slurmdbd itself, exactly as without it):
the slurm.conf cannot be read or names no slurmdbd, its path cannot be included as is
(whitespace, ``%``, ``#`` or ``\\``), or slurmdbd cannot be reached at the moment the
relay starts (so Slurm's own "cannot connect" error is what the client sees).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from dataclasses import dataclass

from slurmrest_stdio.config import slurm_conf_entries

#: slurmdbd's port when slurm.conf names none (Slurm's SLURMDBD_PORT)
DEFAULT_DBD_PORT = 6819
#: Slurm's own limit on nested Include directives is lower; this only stops a loop
_MAX_INCLUDE_DEPTH = 16
_WANTED = ("accountingstoragetype", "accountingstoragehost", "accountingstorageport")
_READ_SIZE = 256 * 1024
#: seconds a connection made ahead (to learn that slurmdbd is there) stays usable for the
#: first command; an older one is dropped for a new one, well before slurmdbd would give
#: up on a connection that never says anything
_SPARE_LIFE = 2.0
#: seconds to wait for slurmdbd to take a connection (Slurm's own TCPTimeout default):
#: a silent slurmdbd host must not hold a command longer than it would hold it directly
CONNECT_TIMEOUT = 2.0
#: connections relayed at once, at most: a request's commands open a few; anyone on the
#: host can connect to the port, and must not make this process start threads without end
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class DbdAddress:
    host: str
    port: int


def _read_settings(path: str, settings: dict[str, str], depth: int) -> bool:
    """Add the wanted keys of ``path`` and its includes (relative ones to the including
    file's directory) to ``settings``, the latest value winning, as in Slurm. False when
    it cannot be followed."""
    if depth > _MAX_INCLUDE_DEPTH:
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as conf:
            text = conf.read()
    except OSError:
        return False
    for key, value in slurm_conf_entries(text):
        if key == "include":
            if "%" in value:  # per-cluster file names: not resolved here
                return False
            name = os.path.join(os.path.dirname(path), value)  # kept when absolute
            if not _read_settings(name, settings, depth + 1):
                return False
        elif key in _WANTED:
            settings[key] = value
    return True


def dbd_address(conf_path: str) -> DbdAddress | None:
    """The slurmdbd that ``conf_path`` (with its includes) sends accounting to, or None
    when it sends it nowhere we can name."""
    settings: dict[str, str] = {}
    if not _read_settings(conf_path, settings, 0):
        return None
    if settings.get("accountingstoragetype", "").lower() != "accounting_storage/slurmdbd":
        return None
    host = settings.get("accountingstoragehost", "")
    port_text = settings.get("accountingstorageport", "") or str(DEFAULT_DBD_PORT)
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return DbdAddress(host, int(port_text))


def _quickack(sock: socket.socket) -> None:
    """ACK what arrives at once instead of after the delayed-ACK timer (the kernel drops
    back to delaying after a while, so this is renewed after every read and write)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _quickack(sock)


#: a persistent-connection message's type: Slurm's PERSIST_RC (a return code)
_PERSIST_RC = 1433
#: the return codes after which slurmdbd closes the connection (ESLURM_ACCESS_DENIED,
#: SLURM_PROTOCOL_VERSION_ERROR)
_CLOSING_RCS = frozenset({2002, 1005})


def closing_rc(message: bytes) -> bool:
    """Whether ``message`` (one whole message: its 4-byte length, then the body) is a
    return code after which slurmdbd closes the connection.

    The body of a PERSIST_RC is its type (16 bits), the comment (a 32-bit length, zero
    for none, then that many bytes including a NUL), flags (16 bits), the return code
    (32 bits) and ret_info (16 bits), all big-endian.
    """
    if len(message) < 10 or int.from_bytes(message[4:6], "big") != _PERSIST_RC:
        return False
    comment = int.from_bytes(message[6:10], "big")
    at = 10 + comment + 2
    if len(message) < at + 4:
        return False
    rc = int.from_bytes(message[at:at + 4], "big", signed=True)
    return rc in _CLOSING_RCS


class _Replies:
    """Follows slurmdbd's messages as they stream to the client, so that a return code
    after which slurmdbd hangs up reaches the client together with the hang-up.

    Why: slurmdbd closes the connection right after sending such a code, and the client
    checks for a closed connection before each request, reconnecting if it is. Sent
    directly, the code and slurmdbd's FIN arrive together (the code waits on the delayed
    ACK, the FIN queues behind it). Relayed without waiting, the code would arrive first,
    the client would send its next request into a connection already closed and fail. So
    a PERSIST_RC message is held until it is whole (they are a few dozen bytes), and a
    closing one is sent with the FIN in the same segment.

    Other messages pass at once, chunk by chunk; anything that does not frame as
    expected turns the following off (plain relaying).
    """

    def __init__(self) -> None:
        self._head = b""  # the start of a message: its length and type
        self._left = 0  # bytes of the current message still to come
        self._held: bytearray | None = None  # a PERSIST_RC message, until whole
        self._off = False

    def feed(self, data: bytes) -> tuple[bytes, bytes | None]:
        """What to send on now, and a closing message to send with a FIN (or None)."""
        if self._off:
            return data, None
        out = bytearray()
        at = 0
        while at < len(data):
            if self._left == 0:
                take = min(6 - len(self._head), len(data) - at)
                self._head += data[at:at + take]
                at += take
                if len(self._head) < 6:
                    break
                length = int.from_bytes(self._head[:4], "big")
                if length < 2:
                    out += self._head + data[at:]
                    self._off = True
                    return bytes(out), None
                if int.from_bytes(self._head[4:6], "big") == _PERSIST_RC:
                    self._held = bytearray(self._head)
                else:
                    out += self._head
                self._left = length - 2
                self._head = b""
            else:
                take = min(self._left, len(data) - at)
                if self._held is not None:
                    self._held += data[at:at + take]
                else:
                    out += data[at:at + take]
                at += take
                self._left -= take
            if self._left == 0 and self._held is not None:
                held, self._held = bytes(self._held), None
                if closing_rc(held):
                    self._off = True
                    if at < len(data):  # slurmdbd sends nothing after it; pass it on
                        out += held + data[at:]
                        return bytes(out), None
                    return bytes(out), held
                out += held
        return bytes(out), None

    def flush(self) -> bytes:
        """What is held back (slurmdbd's side ended in the middle of a message)."""
        rest = self._head + (self._held or b"")
        self._head, self._held = b"", None
        return bytes(rest)


class _Pair:
    """One relayed connection, a pump per direction (this thread and one more).

    An end of stream is passed on as one (``shutdown(SHUT_WR)``) and the other direction
    goes on, as on a direct connection; an error on either side resets both (the other
    side then sees a reset, not a clean end). The last pump out closes both sockets.
    """

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self._sockets = (client, server)
        self._running = 2
        self._aborted = False
        self._lock = threading.Lock()
        for sock in self._sockets:
            _tune(sock)

    def run(self) -> None:
        client, server = self._sockets
        try:
            threading.Thread(target=self._pump, args=(client, server, None),
                             daemon=True).start()
        except RuntimeError:  # no thread to be had: this one connection fails
            self._aborted = True
            self._close()
            return
        self._pump(server, client, _Replies())

    def _pump(self, src: socket.socket, dst: socket.socket, replies: _Replies | None) -> None:
        try:
            while True:
                data = src.recv(_READ_SIZE)
                _quickack(src)
                if not data:
                    if not self._aborted:
                        rest = replies.flush() if replies is not None else b""
                        if rest:
                            dst.sendall(rest)
                        dst.shutdown(socket.SHUT_WR)
                    break
                last: bytes | None = None
                if replies is not None:
                    data, last = replies.feed(data)
                if data:
                    dst.sendall(data)
                if last is not None:
                    # the code and the FIN in one segment: corked, then shut down
                    dst.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                    dst.sendall(last)
                    dst.shutdown(socket.SHUT_WR)
                _quickack(dst)
        except OSError:
            self._abort()
        finally:
            with self._lock:
                self._running -= 1
                last_out = self._running == 0
            if last_out:
                self._close()

    def _abort(self) -> None:
        """Wake the other pump (SHUT_RD sends nothing); the close then resets both."""
        self._aborted = True
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)

    def _close(self) -> None:
        for sock in self._sockets:
            if self._aborted:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            sock.close()


#: Linux's MFD_NOEXEC_SEAL (6.3 and later): the file can never be made executable
_MFD_NOEXEC_SEAL = 0x0008


def _memfd() -> int:
    """An in-memory file for the commands' slurm.conf: close-on-exec (it is passed on by
    name only), and not executable where the kernel can say so."""
    try:
        return os.memfd_create("slurm.conf", os.MFD_CLOEXEC | _MFD_NOEXEC_SEAL)
    except OSError:  # an older kernel does not know the flag
        return os.memfd_create("slurm.conf", os.MFD_CLOEXEC)


class DbdRelay:
    """The relay of one process (see the module's text); :meth:`start` makes it."""

    #: why the last :meth:`start` that returned None stepped aside
    why_not = ""

    def __init__(self, target: DbdAddress, listener: socket.socket,
                 first: socket.socket, conf_fd: int) -> None:
        self.target = target
        self._listener = listener
        self._spare: socket.socket | None = first
        self._lock = threading.Lock()
        self._serving = 0
        #: the slurm.conf to give the commands (an in-memory file they inherit)
        self.conf_fd = conf_fd
        self.conf_path = f"/proc/self/fd/{conf_fd}"
        self.port: int = listener.getsockname()[1]
        # a connection made ahead and not taken soon is not kept open for long
        expiry = threading.Timer(_SPARE_LIFE, self._drop_spare)
        expiry.daemon = True
        expiry.start()
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def start(cls, conf_path: str) -> DbdRelay | None:
        """A running relay for the slurmdbd of ``conf_path``, or None when it should step
        aside (see the module's text)."""
        conf_path = os.path.abspath(conf_path)
        if any(c.isspace() or c in "%#\\" for c in conf_path):
            cls.why_not = f"{conf_path} cannot be included as it is named"
            return None
        target = dbd_address(conf_path)
        if target is None:
            cls.why_not = f"{conf_path} (with its includes) names no slurmdbd we can read"
            return None
        try:
            # slurmdbd must be there now; if it is not, the command finds out by itself
            first = socket.create_connection((target.host, target.port),
                                             timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            cls.why_not = f"slurmdbd at {target.host}:{target.port}: {exc.strerror or exc}"
            return None
        first.settimeout(None)
        listener = None
        try:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            port = listener.getsockname()[1]
            conf_fd = _memfd()
        except OSError as exc:
            first.close()
            if listener is not None:
                listener.close()
            cls.why_not = f"no loopback port or in-memory file: {exc.strerror or exc}"
            return None
        text = (f"Include {conf_path}\n"
                f"AccountingStorageHost=127.0.0.1\n"
                f"AccountingStoragePort={port}\n")
        os.write(conf_fd, text.encode())  # a few dozen bytes into memory: one write
        return cls(target, listener, first, conf_fd)

    def _drop_spare(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()

    def _connect(self) -> socket.socket:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            return spare
        sock = socket.create_connection((self.target.host, self.target.port),
                                        timeout=CONNECT_TIMEOUT)
        sock.settimeout(None)
        return sock

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                room = self._serving < MAX_CONNECTIONS
                if room:
                    self._serving += 1
            if not room:
                client.close()
                continue
            try:
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()
            except RuntimeError:  # no thread to be had: this one connection fails
                client.close()
                self._served()

    def _served(self) -> None:
        with self._lock:
            self._serving -= 1

    def _serve(self, client: socket.socket) -> None:
        """Connect ``client`` to slurmdbd (on this connection's own thread, so a slow
        slurmdbd holds no other command up) and relay until slurmdbd's side is done."""
        try:
            try:
                server = self._connect()
            except OSError:
                client.close()  # the command reports the lost connection itself
                return
            try:
                pair = _Pair(client, server)
            except OSError:
                client.close()
                server.close()
                return
            pair.run()
        finally:
            self._served()

    def close(self) -> None:
        """Stop accepting (connections in flight end with their commands)."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._drop_spare()
        with contextlib.suppress(OSError):
            os.close(self.conf_fd)
