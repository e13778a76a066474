"""What is the connection? stdin/stdout as pipes, a TTY, a file, an inherited socket, or
the one socket systemd passes with ``LISTEN_FDS=1``; and who is on the other end.

Rules (slurmrestd's, plus systemd's): a socket on stdin must be the very same socket as
stdout; ``LISTEN_FDS`` counts only when ``LISTEN_PID`` is this process, and is then removed
from the environment so that no child inherits it.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import MutableMapping
from dataclasses import dataclass

from slurmrest_stdio.auth.base import Peer, PeerKind

SD_LISTEN_FDS_START = 3  # systemd hands sockets over from fd 3 on


class StartupError(Exception):
    """The process cannot serve this connection; the message says why (exit 1)."""


@dataclass(frozen=True)
class Endpoint:
    in_fd: int
    out_fd: int
    peer: Peer
    is_socket: bool
    is_tty: bool


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def detect(environ: MutableMapping[str, str]) -> Endpoint:
    """Find the connection's fds and describe the peer.

    Raises:
        StartupError: the fds are unusable (closed, or a socket on stdin that is not stdout,
            or a LISTEN_FDS count other than 1).
    """
    in_fd, out_fd = 0, 1
    if "LISTEN_FDS" in environ and environ.get("LISTEN_PID") == str(os.getpid()):
        count = environ.pop("LISTEN_FDS")
        environ.pop("LISTEN_PID", None)
        environ.pop("LISTEN_FDNAMES", None)
        if count != "1":
            raise StartupError(
                f"systemd passed LISTEN_FDS={count}; one connection socket is expected "
                "(use Accept=yes)"
            )
        in_fd = out_fd = SD_LISTEN_FDS_START
    try:
        st_in = os.fstat(in_fd)
        st_out = os.fstat(out_fd) if out_fd != in_fd else st_in
    except OSError as exc:
        raise StartupError(f"connection fd is not open: {exc}") from exc
    own_uid = os.getuid()
    own = user_name(own_uid)
    mode = st_in.st_mode
    if stat.S_ISSOCK(mode):
        if (st_in.st_dev, st_in.st_ino) != (st_out.st_dev, st_out.st_ino):
            raise StartupError("STDIN and STDOUT must be the same socket")
        return Endpoint(in_fd, out_fd, _socket_peer(in_fd, own_uid, own), True, False)
    if in_fd == SD_LISTEN_FDS_START:
        raise StartupError("LISTEN_FDS names fd 3 but it is not a socket")
    if stat.S_ISFIFO(mode):
        kind, desc = PeerKind.FIFO, "pipe"
    elif stat.S_ISCHR(mode):
        kind = PeerKind.CHAR
        try:
            desc = os.ttyname(in_fd)
        except OSError:
            desc = "character device"
    elif stat.S_ISREG(mode):
        kind, desc = PeerKind.FILE, "file"
    else:
        kind, desc = PeerKind.OTHER, f"file type {stat.S_IFMT(mode):o}"
    peer = Peer(kind, own_uid, own, owner_uid=st_in.st_uid, mode=mode, description=desc)
    return Endpoint(in_fd, out_fd, peer, False, os.isatty(in_fd))


def _socket_peer(fd: int, own_uid: int, own: str) -> Peer:
    import socket
    import struct

    sock = socket.socket(fileno=os.dup(fd))
    try:
        if sock.family == socket.AF_UNIX:
            raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pid, uid, gid = struct.unpack("3i", raw)
            return Peer(
                PeerKind.UNIX, own_uid, own, cred_pid=pid, cred_uid=uid, cred_gid=gid,
                description=f"unix socket, peer pid {pid} uid {uid}",
            )
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                host, port = sock.getpeername()[:2]
                desc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            except OSError:
                desc = "tcp"
            return Peer(PeerKind.TCP, own_uid, own, description=desc)
        return Peer(PeerKind.OTHER, own_uid, own, description=f"socket family {sock.family}")
    finally:
        sock.close()
