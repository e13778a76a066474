"""Configuration: one frozen :class:`Config` built by the CLI, and every limit with its reason.

Owns the names and defaults of every knob. Knows nothing of file descriptors or HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# -- limits -------------------------------------------------------------------------------

#: Largest request header block (request line + headers). slurmrestd has no limit at all; a
#: Slurm JWT is well under 2 KiB, so 64 KiB is generous for real clients and still stops a
#: client from making us buffer without bound (h11 itself defaults to 16 KiB, citing node).
MAX_HEADER_BYTES = 64 * 1024

#: Largest request body. slurmrestd answers 413 above 50 MiB (MAX_BODY_BYTES in its source);
#: a job script plus its description is far smaller, so we keep the same ceiling.
MAX_BODY_BYTES = 50 * 1024 * 1024

#: Seconds to wait for the first byte of a request on an idle connection. slurmrestd waits
#: forever, which lets one silent client pin a process (and an xinetd instance) for good.
IDLE_TIMEOUT = 60.0

#: Seconds of silence allowed while a request is incomplete (slow or stuck uploads).
READ_TIMEOUT = 30.0

#: Seconds a client may refuse to take our output before we give up on it (a client that
#: stops reading would otherwise hold the process forever, blocked in write()).
WRITE_TIMEOUT = 30.0

#: Seconds any one Slurm command may take. Slurm's own RPC timeout (MessageTimeout) is 10 s
#: by default and commands retry a missing slurm.conf for up to 60 s; 60 s bounds every case.
COMMAND_TIMEOUT = 60.0

#: Read size for the connection: large enough to take a typical request in one read.
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int = MAX_HEADER_BYTES
    max_body_bytes: int = MAX_BODY_BYTES
    idle_timeout: float = IDLE_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    write_timeout: float = WRITE_TIMEOUT
    command_timeout: float = COMMAND_TIMEOUT


# -- plugins and security tokens, named as slurmrestd names them ---------------------------

#: with no -a, both: a request carrying a token is JWT's, any other falls to local auth
AUTH_PLUGINS = ("rest_auth/jwt", "rest_auth/local")
OPENAPI_PLUGINS = ("openapi/v0.0.38", "openapi/dbv0.0.38")
SECURITY_TOKENS = frozenset(
    {"disable_user_check", "disable_unshare_files", "disable_unshare_sysv", "become_user"}
)

DEFAULT_SLURM_CONF = "/etc/slurm/slurm.conf"

# -- JWT ----------------------------------------------------------------------------------

#: slurmctld's HS256 key when AuthAltParameters names no ``jwt_key=``: this file in
#: StateSaveLocation (Slurm's own default; slurmdbd has none and needs jwt_key)
DEFAULT_JWT_KEY_NAME = "jwt_hs256.key"

#: Seconds a token obtained for proxy mode (``scontrol token username=<user>``) lives. Long
#: enough for a request's commands (each bounded by COMMAND_TIMEOUT) to finish under it,
#: short enough that a token lost from a process is of little use to anyone.
PROXY_TOKEN_LIFESPAN = 300

#: A proxy token is reused for later requests of the same connection only while this many
#: seconds of it remain, so that no request starts with a token about to expire.
PROXY_TOKEN_MARGIN = 2 * COMMAND_TIMEOUT


@dataclass(frozen=True)
class Config:
    """Everything one run needs; built once by the CLI."""

    auth_types: tuple[str, ...] = AUTH_PLUGINS
    openapi_plugins: tuple[str, ...] = OPENAPI_PLUGINS
    slurm_conf: str | None = None
    uid: int | None = None
    gid: int | None = None
    #: Python logging level for our own messages (logging.INFO = 20, DEBUG = 10, ...)
    log_level: int = 20
    #: force logs to stderr at this level (SLURMRESTD_DEBUG_STDERR), else None = automatic
    log_stderr_level: int | None = None
    security: frozenset[str] = field(default_factory=frozenset)
    limits: Limits = field(default_factory=Limits)
    #: relay sacct/sacctmgr's slurmdbd connections (backend/dbdrelay.py); False: direct
    slurmdbd_relay: bool = True
    #: things the operator should know (ignored options), logged once logging is set up
    notices: tuple[str, ...] = ()

    @property
    def slurm_conf_path(self) -> str:
        return self.slurm_conf or DEFAULT_SLURM_CONF


#: one ``Key=Value`` of slurm.conf: spaces around ``=`` allowed, the value quoted or one word
#: (``+=``-style operators are read as ``=``), as Slurm's own parser reads them; compiled
#: on first use, not at every start-up
_PAIR = r'\s*([\w.]+)\s*[-*+/]?=\s*(?:"([^"]*)"|(\S*))(?=\s|$)'
#: keywords that begin a record (a node, a partition, ...): the rest of their line are its
#: attributes, not settings
_RECORDS = frozenset({"nodename", "partitionname", "frontendname", "nodeset", "downnodes",
                      "switchname"})


def slurm_conf_entries(text: str) -> Iterator[tuple[str, str]]:
    """slurm.conf's settings in order, as (lower-cased key, value); an ``Include`` line is
    ``("include", its file)`` (the caller decides whether to follow it). Comments are
    dropped and lines continued with ``\\`` joined; of a record line (``NodeName=``,
    ``PartitionName=``, ...) only the record's name is given."""
    pending = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        yield from _line_entries(pending + line)
        pending = ""
    yield from _line_entries(pending)


def _line_entries(line: str) -> Iterator[tuple[str, str]]:
    words = line.split()
    if len(words) > 1 and words[0].lower() == "include":
        yield "include", words[1]
        return
    pair = re.compile(_PAIR)  # re keeps it compiled after the first time
    at = 0
    while found := pair.match(line, at):
        key = found[1].lower()
        yield key, found[2] if found[2] is not None else found[3]
        if at == 0 and key in _RECORDS:
            return
        at = found.end()


def parse_slurm_conf(text: str) -> dict[str, str]:
    """slurm.conf's settings with lower-cased keys, the latest value of a key winning as
    in Slurm. ``Include`` lines are not followed (nothing that reads this needs them)."""
    return {key: value for key, value in slurm_conf_entries(text) if key != "include"}
