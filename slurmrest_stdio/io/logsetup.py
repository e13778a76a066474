"""Where log lines go. Never into the connection.

* stderr is a TTY (and not the connection itself): interactive, human-readable lines.
* ``SLURMRESTD_DEBUG_STDERR`` set: stderr at that level, if stderr is not the connection.
* otherwise syslog (``/dev/log``, facility daemon), like slurmrestd. Where no syslog socket
  exists (containers), stderr is used if it is safe (not the connection); else nothing.

Under xinetd, fd 2 is the client's socket too; that is why "is stderr the connection?" is
checked by inode and not assumed.
"""

from __future__ import annotations

import logging
import os

LOGGER = "slurmrest_stdio"
SYSLOG_SOCKET = "/dev/log"


def stderr_is_connection(in_fd: int, out_fd: int) -> bool:
    """True when fd 2 is the same open file as the connection (xinetd, inetd)."""
    try:
        err = os.fstat(2)
    except OSError:
        return True  # closed: nowhere to write
    for fd in {in_fd, out_fd}:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == (err.st_dev, err.st_ino) and not os.isatty(2):
            return True
    return False


def setup(level: int, stderr_level: int | None, in_fd: int, out_fd: int) -> str:
    """Configure the package logger; return where logs go ("tty", "stderr", "syslog", "none")."""
    # a failing handler must never print its traceback to stderr: it may be the client
    logging.raiseExceptions = False
    logger = logging.getLogger(LOGGER)
    logger.propagate = False
    logger.handlers.clear()
    unsafe = stderr_is_connection(in_fd, out_fd)
    handler: logging.Handler
    if not unsafe and stderr_level is not None:
        where, level = "stderr", stderr_level
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("slurmrest-stdio[%(process)d]: %(message)s"))
    elif not unsafe and os.isatty(2):
        where = "tty"
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")
        )
    else:
        handler, where = _syslog(unsafe)
    logger.addHandler(handler)
    logger.setLevel(level)
    return where


def _syslog(stderr_unsafe: bool) -> tuple[logging.Handler, str]:
    from logging.handlers import SysLogHandler

    try:
        if not os.path.exists(SYSLOG_SOCKET):
            raise FileNotFoundError(SYSLOG_SOCKET)
        handler: logging.Handler = SysLogHandler(
            address=SYSLOG_SOCKET, facility=SysLogHandler.LOG_DAEMON
        )
    except OSError:
        if stderr_unsafe:
            return logging.NullHandler(), "none"
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("slurmrest-stdio[%(process)d]: %(message)s"))
        return handler, "stderr"
    handler.setFormatter(logging.Formatter("slurmrest-stdio[%(process)d]: %(message)s"))
    return handler, "syslog"
