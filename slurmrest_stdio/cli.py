"""The ``slurmrest-stdio`` command: slurmrestd's options and environment, then ``serve.run``.

Kept thin on purpose: parse, validate, build a :class:`~slurmrest_stdio.config.Config`,
call :func:`slurmrest_stdio.serve.run`, exit with its status. Usage errors exit 2.

``main`` is the console script; ``command`` is the click command it runs. The listing
modes (``-a list``, ``-s list``, ``-V``, ``--generate-openapi-spec``) write to stdout and
exit; in serving mode stdout is the client's connection and nothing else is written to it.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from slurmrest_stdio import __version__
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

#: slurmrestd's debug levels (SLURMRESTD_DEBUG, 1-10) as Python logging levels
_DEBUG_LEVELS = {0: logging.CRITICAL + 10, 1: logging.CRITICAL, 2: logging.ERROR,
                 3: logging.INFO, 4: 15}
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
    raise click.UsageError(f"{what}: unknown debug level {value!r}")


def _python_level(slurm_level: int) -> int:
    return _DEBUG_LEVELS.get(slurm_level, logging.DEBUG)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


def _uid(value: str) -> int:
    import pwd

    try:
        return pwd.getpwnam(value).pw_uid
    except KeyError:
        if value.isdigit():
            return int(value)
    raise click.BadParameter(f"unknown user {value!r}", param_hint="-u")


def _gid(value: str) -> int:
    import grp

    try:
        return grp.getgrnam(value).gr_gid
    except KeyError:
        if value.isdigit():
            return int(value)
    raise click.BadParameter(f"unknown group {value!r}", param_hint="-g")


def _choose(requested: tuple[str, ...], available: tuple[str, ...], prefix: str,
            flag: str) -> tuple[str, ...]:
    if not requested:
        return available
    chosen = []
    for name in requested:
        full = name if "/" in name else f"{prefix}/{name}"
        if full not in available:
            raise click.UsageError(
                f"{flag}: unknown plugin {name!r}; available: {', '.join(available)}"
            )
        chosen.append(full)
    return tuple(chosen)


@click.command("slurmrest-stdio", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("listen", nargs=-1, metavar="[LISTEN]...")
@click.option("-a", "auth_types", envvar="SLURMRESTD_AUTH_TYPES", metavar="PLUGINS",
              help="Authentication plugins in order, comma separated, or 'list'.")
@click.option("-f", "slurm_conf", envvar="SLURM_CONF", metavar="FILE",
              help="slurm.conf to use (passed on to every Slurm command).")
@click.option("-g", "group", metavar="GROUP", help="Run as this group (needs privilege).")
@click.option("-u", "user", metavar="USER", help="Run as this user (needs privilege).")
@click.option("-s", "openapi_plugins", envvar="SLURMRESTD_OPENAPI_PLUGINS",
              metavar="PLUGINS", help="OpenAPI plugins to serve, comma separated, or 'list'.")
@click.option("-t", "threads", type=int, metavar="N",
              help="Accepted for slurmrestd compatibility; one connection needs no pool.")
@click.option("--max-connections", type=int, metavar="N",
              help="Accepted for slurmrestd compatibility; the super-server limits this.")
@click.option("-v", "verbose", count=True, help="More detail in the logs (repeatable).")
@click.option("-V", "show_version", is_flag=True, help="Print the version and exit.")
@click.option("--generate-openapi-spec", is_flag=True,
              help="Print the OpenAPI document of what is served, and exit.")
@click.option("--max-header-bytes", type=click.IntRange(1024), default=MAX_HEADER_BYTES,
              envvar="SLURMREST_STDIO_MAX_HEADER_BYTES", show_default=True,
              help="Largest request header block; larger gets 431.")
@click.option("--max-body-bytes", type=click.IntRange(0), default=MAX_BODY_BYTES,
              envvar="SLURMREST_STDIO_MAX_BODY_BYTES", show_default=True,
              help="Largest request body; larger gets 413.")
@click.option("--idle-timeout", type=click.FloatRange(0), default=IDLE_TIMEOUT,
              envvar="SLURMREST_STDIO_IDLE_TIMEOUT", show_default=True,
              help="Seconds to wait for a new request (0: forever); then 408 and exit.")
@click.option("--read-timeout", type=click.FloatRange(0), default=READ_TIMEOUT,
              envvar="SLURMREST_STDIO_READ_TIMEOUT", show_default=True,
              help="Seconds of silence allowed inside a request (0: forever); then 408.")
@click.option("--write-timeout", type=click.FloatRange(0), default=WRITE_TIMEOUT,
              envvar="SLURMREST_STDIO_WRITE_TIMEOUT", show_default=True,
              help="Seconds a client may refuse our output (0: forever); then exit 5.")
@click.option("--command-timeout", type=click.FloatRange(0.1), default=COMMAND_TIMEOUT,
              envvar="SLURMREST_STDIO_COMMAND_TIMEOUT", show_default=True,
              help="Seconds any one Slurm command may run.")
@click.version_option(__version__, "--version", prog_name="slurmrest-stdio")
@click.pass_context
def command(
    ctx: click.Context,
    listen: tuple[str, ...], auth_types: str | None, slurm_conf: str | None,
    group: str | None, user: str | None, openapi_plugins: str | None,
    threads: int | None, max_connections: int | None, verbose: int, show_version: bool,
    generate_openapi_spec: bool, max_header_bytes: int, max_body_bytes: int,
    idle_timeout: float, read_timeout: float, write_timeout: float, command_timeout: float,
) -> None:
    """Serve Slurm's REST API (slurmrestd-compatible) on one connection: HTTP/1.1 on
    standard input and output, as started by xinetd, a systemd socket unit (Accept=yes)
    or a shell pipe. Exits when the client is done."""
    if show_version:
        click.echo(f"slurmrest-stdio {__version__}")
        return
    if auth_types == "list":
        click.echo("\n".join(AUTH_PLUGINS))
        return
    if openapi_plugins == "list":
        click.echo("\n".join(OPENAPI_PLUGINS))
        return
    notices = []
    if listen:
        notices.append(f"listen addresses {' '.join(listen)} ignored: this program serves "
                       "the one connection on stdin/stdout (use xinetd or systemd to listen)")
    if threads is not None:
        notices.append("-t ignored: one connection per process needs no thread pool")
    if max_connections is not None:
        notices.append("--max-connections ignored: the super-server limits connections")
    level = _debug_level(os.environ.get("SLURMRESTD_DEBUG"), "SLURMRESTD_DEBUG") + verbose
    stderr_env = os.environ.get("SLURMRESTD_DEBUG_STDERR")
    config = Config(
        auth_types=_choose(_split(auth_types), AUTH_PLUGINS, "rest_auth", "-a"),
        openapi_plugins=_choose(_split(openapi_plugins), OPENAPI_PLUGINS, "openapi", "-s"),
        slurm_conf=slurm_conf or None,
        uid=_uid(user) if user else None,
        gid=_gid(group) if group else None,
        log_level=_python_level(level),
        log_stderr_level=(
            _python_level(_debug_level(stderr_env, "SLURMRESTD_DEBUG_STDERR") + verbose)
            if stderr_env else None
        ),
        security=frozenset(_split(os.environ.get("SLURMRESTD_SECURITY"))),
        limits=Limits(
            max_header_bytes=max_header_bytes, max_body_bytes=max_body_bytes,
            idle_timeout=idle_timeout, read_timeout=read_timeout, write_timeout=write_timeout,
            command_timeout=command_timeout,
        ),
        notices=tuple(notices),
    )
    if generate_openapi_spec:
        from slurmrest_stdio import api, codec
        from slurmrest_stdio.api.openapi import build_spec

        spec = build_spec(api.load_plugins(config.openapi_plugins))
        sys.stdout.write(codec.dump_json(spec) + "\n")
        return
    from slurmrest_stdio import serve

    ctx.exit(serve.run(config))


def main() -> None:
    """The console script: run :func:`command`; keep usage errors out of a connection.

    Under xinetd, stderr is the client's socket, so a usage error is logged (syslog)
    instead of printed there.
    """
    try:
        code = command.main(standalone_mode=False)
    except click.ClickException as exc:
        _report(exc)
        code = exc.exit_code
    except click.Abort:
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


def _report(exc: click.ClickException) -> None:
    from slurmrest_stdio.io import logsetup

    if not logsetup.stderr_is_connection(0, 1):
        exc.show()
        return
    logsetup.setup(logging.ERROR, None, 0, 1)
    logging.getLogger(logsetup.LOGGER).error("usage error: %s", exc.format_message())

