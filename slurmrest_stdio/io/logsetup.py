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


class SyslogHandler(logging.Handler):
    """Log records through the C library's ``syslog()`` (``LOG_DAEMON``, ident and PID).

    The standard library's ``logging.handlers`` module imports socket, pickle and more:
    several milliseconds of every connection's start, for one datagram per request.
    """

    #: logging level -> syslog priority
    PRIORITIES = ((logging.ERROR, "LOG_ERR"), (logging.WARNING, "LOG_WARNING"),
                  (logging.INFO, "LOG_INFO"))

    def __init__(self) -> None:
        import syslog

        super().__init__()
        self._syslog = syslog
        syslog.openlog("slurmrest-stdio", syslog.LOG_PID, syslog.LOG_DAEMON)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            priority = self._syslog.LOG_DEBUG
            for level, name in self.PRIORITIES:
                if record.levelno >= level:
                    priority = getattr(self._syslog, name)
                    break
            self._syslog.syslog(priority, self.format(record))
        except Exception:  # a log line must never end a connection
            self.handleError(record)


def _syslog(stderr_unsafe: bool) -> tuple[logging.Handler, str]:
    if os.path.exists(SYSLOG_SOCKET):
        return SyslogHandler(), "syslog"
    if stderr_unsafe:
        return logging.NullHandler(), "none"
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("slurmrest-stdio[%(process)d]: %(message)s"))
    return handler, "stderr"
