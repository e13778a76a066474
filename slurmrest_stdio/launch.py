"""The ``slurmrest-stdio`` console script: serve at once, or hand the command line to click.

A super-server starts one process per connection with the same few options every time;
:func:`options.fast_parse` reads those without importing click. Help, listings, version,
the spec and anything it does not take (including every usage error) go to
:func:`slurmrest_stdio.cli.main`, which parses the same arguments with click.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from slurmrest_stdio import options

    values = options.fast_parse(sys.argv[1:], os.environ)
    if values is not None:
        try:
            config = options.make_config(values, os.environ)
        except options.UsageError:
            values = None
    if values is None:
        from slurmrest_stdio import cli

        cli.main()
        return
    from slurmrest_stdio import serve

    exit_now(serve.run(config))


def exit_now(code: int) -> None:
    """End the process with ``code`` once the logs and stdio are flushed, without the
    interpreter's teardown (a few milliseconds of freeing what the kernel frees anyway).
    The connection's output is written with ``os.write`` and already complete here."""
    import contextlib
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):  # None when the fd was closed at start
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    os._exit(code)
