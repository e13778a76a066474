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
from collections.abc import Callable
from typing import Any

import click

from slurmrest_stdio import __version__, options
from slurmrest_stdio.config import AUTH_PLUGINS, OPENAPI_PLUGINS


def _click_type(opt: options.Option) -> Any:
    if opt.kind == "int":
        return int if opt.minimum is None else click.IntRange(int(opt.minimum))
    if opt.kind == "float":
        return float if opt.minimum is None else click.FloatRange(opt.minimum)
    return None


def _with_options(func: Callable[..., None]) -> Callable[..., None]:
    """Apply :data:`options.OPTIONS` as click options, in the table's order."""
    for opt in reversed(options.OPTIONS):
        extra: dict[str, Any] = {}
        if opt.kind == "count":
            extra["count"] = True
        elif opt.kind == "flag":
            extra["is_flag"] = True
        else:
            extra["metavar"] = opt.metavar
            if opt.kind != "text":
                extra["type"] = _click_type(opt)
        if opt.default is not None:
            extra.update(default=opt.default, show_default=True)
        func = click.option(*opt.flags, opt.dest, envvar=opt.envvar, help=opt.help,
                            **extra)(func)
    return func


@click.command("slurmrest-stdio", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("listen", nargs=-1, metavar="[LISTEN]...")
@_with_options
@click.version_option(__version__, "--version", prog_name="slurmrest-stdio")
@click.pass_context
def command(ctx: click.Context, /, **values: Any) -> None:
    """Serve Slurm's REST API (slurmrestd-compatible) on one connection: HTTP/1.1 on
    standard input and output, as started by xinetd, a systemd socket unit (Accept=yes)
    or a shell pipe. Exits when the client is done."""
    if values["show_version"]:
        click.echo(f"slurmrest-stdio {__version__}")
        return
    if values["auth_types"] == "list":
        click.echo("\n".join(AUTH_PLUGINS))
        return
    if values["openapi_plugins"] == "list":
        click.echo("\n".join(OPENAPI_PLUGINS))
        return
    try:
        config = options.make_config(values, os.environ)
    except options.UsageError as exc:
        if exc.hint:
            raise click.BadParameter(str(exc), param_hint=exc.hint) from None
        raise click.UsageError(str(exc)) from None
    if values["generate_openapi_spec"]:
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

