"""The command line, once: the option table, a click-free parser for serving, and Config.

Every connection starts a process, so every connection pays for parsing its command line.
click costs about 15 ms to import, more than the rest of a ping; yet a super-server always
starts us the same way, with a few plain options. So:

* :data:`OPTIONS` names each option once (flags, environment variable, type, default,
  lower bound, help); ``cli.py`` builds the click command from it;
* :func:`fast_parse` reads the serving case (values only: no help, no listing, no version)
  without click, and gives up (``None``) on anything else, so that click then parses the
  same arguments and gives its usual messages and exit status 2;
* :func:`make_config` turns the values, whichever parser found them, into a
  :class:`~slurmrest_stdio.config.Config`, or raises :class:`UsageError`.

A unit test holds the two parsers to the same result for the same arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from slurmrest_stdio.config import (
    AUTH_PLUGINS,
    COMMAND_TIMEOUT,
    IDLE_TIMEOUT,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    OPENAPI_PLUGINS,
    READ_TIMEOUT,
    WRITE_TIMEOUT,
    Config,
    Limits,
)


class Option(NamedTuple):
    """One option. ``kind``: text, int, float (these take a value), count or flag."""

    dest: str
    flags: tuple[str, ...]
    kind: str
    help: str
    envvar: str | None = None
    default: int | float | None = None
    minimum: int | float | None = None
    metavar: str | None = None


OPTIONS: tuple[Option, ...] = (
    Option("auth_types", ("-a",), "text",
           "Authentication plugins in order, comma separated, or 'list'.",
           envvar="SLURMRESTD_AUTH_TYPES", metavar="PLUGINS"),
    Option("slurm_conf", ("-f",), "text",
           "slurm.conf to use (passed on to every Slurm command).",
           envvar="SLURM_CONF", metavar="FILE"),
    Option("group", ("-g",), "text", "Run as this group (needs privilege).",
           metavar="GROUP"),
    Option("user", ("-u",), "text", "Run as this user (needs privilege).", metavar="USER"),
    Option("openapi_plugins", ("-s",), "text",
           "OpenAPI plugins to serve, comma separated, or 'list'.",
           envvar="SLURMRESTD_OPENAPI_PLUGINS", metavar="PLUGINS"),
    Option("threads", ("-t",), "int",
           "Accepted for slurmrestd compatibility; one connection needs no pool.",
           metavar="N"),
    Option("max_connections", ("--max-connections",), "int",
           "Accepted for slurmrestd compatibility; the super-server limits this.",
           metavar="N"),
    Option("verbose", ("-v",), "count", "More detail in the logs (repeatable)."),
    Option("show_version", ("-V",), "flag", "Print the version and exit."),
    Option("generate_openapi_spec", ("--generate-openapi-spec",), "flag",
           "Print the OpenAPI document of what is served, and exit."),
    Option("max_header_bytes", ("--max-header-bytes",), "int",
           "Largest request header block; larger gets 431.",
           envvar="SLURMREST_STDIO_MAX_HEADER_BYTES", default=MAX_HEADER_BYTES,
           minimum=1024),
    Option("max_body_bytes", ("--max-body-bytes",), "int",
           "Largest request body; larger gets 413.",
           envvar="SLURMREST_STDIO_MAX_BODY_BYTES", default=MAX_BODY_BYTES, minimum=0),
    Option("idle_timeout", ("--idle-timeout",), "float",
           "Seconds to wait for a new request (0: forever); then 408 and exit.",
           envvar="SLURMREST_STDIO_IDLE_TIMEOUT", default=IDLE_TIMEOUT, minimum=0),
    Option("read_timeout", ("--read-timeout",), "float",
           "Seconds of silence allowed inside a request (0: forever); then 408.",
           envvar="SLURMREST_STDIO_READ_TIMEOUT", default=READ_TIMEOUT, minimum=0),
    Option("write_timeout", ("--write-timeout",), "float",
           "Seconds a client may refuse our output (0: forever); then exit 5.",
           envvar="SLURMREST_STDIO_WRITE_TIMEOUT", default=WRITE_TIMEOUT, minimum=0),
    Option("command_timeout", ("--command-timeout",), "float",
           "Seconds any one Slurm command may run.",
           envvar="SLURMREST_STDIO_COMMAND_TIMEOUT", default=COMMAND_TIMEOUT, minimum=0.1),
    Option("slurmdbd_relay", ("--slurmdbd-relay",), "text",
           "'on' (default): relay sacct and sacctmgr to slurmdbd without delayed ACKs; "
           "'off': they connect themselves.",
           envvar="SLURMREST_STDIO_SLURMDBD_RELAY", metavar="on|off"),
)

#: options whose only purpose is to print something: always click's business
_PRINTING = frozenset({"show_version", "generate_openapi_spec"})

_BY_FLAG = {flag: opt for opt in OPTIONS for flag in opt.flags}


class UsageError(Exception):
    """A value that cannot be served; ``hint`` names the option or variable."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


# -- the serving case without click -----------------------------------------------------------

def _convert(opt: Option, text: str) -> int | float | str | None:
    """``text`` as ``opt``'s type, or None when click would refuse it."""
    if opt.kind == "text":
        return text
    try:
        value: int | float = int(text) if opt.kind == "int" else float(text)
    except ValueError:
        return None
    if opt.minimum is not None and value < opt.minimum:
        return None
    return value


def fast_parse(argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The values click would pass for ``argv`` and ``environ``, when ``argv`` is the
    serving case; None for anything this parser leaves to click."""
    given: dict[str, Any] = {}
    listen: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if not arg.startswith("-") or arg == "-":
            listen.append(arg)
            continue
        if arg.startswith("--"):
            flag, eq, attached = arg.partition("=")
            opt = _BY_FLAG.get(flag)
            if opt is None or (eq and opt.kind in ("count", "flag")):
                return None
            inline: str | None = attached if eq else None
        elif set(arg[1:]) == {"v"}:
            given["verbose"] = given.get("verbose", 0) + len(arg) - 1
            continue
        else:
            opt = _BY_FLAG.get(arg[:2])
            if opt is None:
                return None
            inline = arg[2:] or None
        if opt.dest in _PRINTING or opt.kind in ("count", "flag"):
            return None
        if inline is None:
            if not args:
                return None
            inline = args.pop(0)
        value = _convert(opt, inline)
        if value is None:
            return None
        given[opt.dest] = value
    values: dict[str, Any] = {"listen": tuple(listen)}
    for opt in OPTIONS:
        if opt.dest in given:
            values[opt.dest] = given[opt.dest]
        elif opt.kind == "count":
            values[opt.dest] = 0
        elif opt.kind == "flag":
            values[opt.dest] = False
        elif opt.envvar and environ.get(opt.envvar):
            value = _convert(opt, environ[opt.envvar])
            if value is None:
                return None
            values[opt.dest] = value
        else:
            values[opt.dest] = opt.default
    if "list" in (values["auth_types"], values["openapi_plugins"]):
        return None
    return values


# -- values -> Config ---------------------------------------------------------------------------

#: slurmrestd's debug levels (SLURMRESTD_DEBUG, 1-10) as Python logging levels
#: (logging's CRITICAL is 50, ERROR 40, INFO 20, DEBUG 10; 15 sits between INFO and DEBUG)
_DEBUG_LEVELS = {0: 60, 1: 50, 2: 40, 3: 20, 4: 15}
_LEVEL_NAMES = {"quiet": 0, "fatal": 1, "error": 2, "info": 3, "verbose": 4, "debug": 5,
                "debug2": 6, "debug3": 7, "debug4": 8, "debug5": 9}
DEFAULT_DEBUG = 3


def _debug_level(value: str | None, what: str) -> int:
    if value is None or value == "":
        return DEFAULT_DEBUG
    if value.isdigit():
        return int(value)
    if value.lower() in _LEVEL_NAMES:
        return _LEVEL_NAMES[value.lower()]
    raise UsageError(f"{what}: unknown debug level {value!r}")


def _python_level(slurm_level: int) -> int:
    return _DEBUG_LEVELS.get(slurm_level, 10)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


def _uid(value: str) -> int:
    import pwd

    try:
        return pwd.getpwnam(value).pw_uid
    except KeyError:
        if value.isdigit():
            return int(value)
    raise UsageError(f"unknown user {value!r}", "-u")


def _gid(value: str) -> int:
    import grp

    try:
        return grp.getgrnam(value).gr_gid
    except KeyError:
        if value.isdigit():
            return int(value)
    raise UsageError(f"unknown group {value!r}", "-g")


def _on_off(value: str | None, flag: str) -> bool:
    if value is None or value.lower() in ("on", "yes", "1", ""):
        return True
    if value.lower() in ("off", "no", "0"):
        return False
    raise UsageError(f"{flag}: {value!r} is neither 'on' nor 'off'", flag)


def _choose(requested: tuple[str, ...], available: tuple[str, ...], prefix: str,
            flag: str) -> tuple[str, ...]:
    if not requested:
        return available
    chosen = []
    for name in requested:
        full = name if "/" in name else f"{prefix}/{name}"
        if full not in available:
            raise UsageError(
                f"{flag}: unknown plugin {name!r}; available: {', '.join(available)}"
            )
        chosen.append(full)
    return tuple(chosen)


def make_config(values: Mapping[str, Any], environ: Mapping[str, str]) -> Config:
    """The Config for parsed ``values`` (as :func:`fast_parse` or click give them).

    Raises:
        UsageError: a plugin, user, group or debug level that does not exist.
    """
    notices = []
    if values["listen"]:
        notices.append(f"listen addresses {' '.join(values['listen'])} ignored: this "
                       "program serves the one connection on stdin/stdout (use xinetd or "
                       "systemd to listen)")
    if values["threads"] is not None:
        notices.append("-t ignored: one connection per process needs no thread pool")
    if values["max_connections"] is not None:
        notices.append("--max-connections ignored: the super-server limits connections")
    verbose = values["verbose"]
    level = _debug_level(environ.get("SLURMRESTD_DEBUG"), "SLURMRESTD_DEBUG") + verbose
    stderr_env = environ.get("SLURMRESTD_DEBUG_STDERR")
    return Config(
        auth_types=_choose(_split(values["auth_types"]), AUTH_PLUGINS, "rest_auth", "-a"),
        openapi_plugins=_choose(_split(values["openapi_plugins"]), OPENAPI_PLUGINS,
                                "openapi", "-s"),
        slurm_conf=values["slurm_conf"] or None,
        uid=_uid(values["user"]) if values["user"] else None,
        gid=_gid(values["group"]) if values["group"] else None,
        log_level=_python_level(level),
        log_stderr_level=(
            _python_level(_debug_level(stderr_env, "SLURMRESTD_DEBUG_STDERR") + verbose)
            if stderr_env else None
        ),
        security=frozenset(_split(environ.get("SLURMRESTD_SECURITY"))),
        limits=Limits(
            max_header_bytes=values["max_header_bytes"],
            max_body_bytes=values["max_body_bytes"], idle_timeout=values["idle_timeout"],
            read_timeout=values["read_timeout"], write_timeout=values["write_timeout"],
            command_timeout=values["command_timeout"],
        ),
        notices=tuple(notices),
        slurmdbd_relay=_on_off(values["slurmdbd_relay"], "--slurmdbd-relay"),
    )
