"""The REST operations, one package per API version, and what every handler shares.

A version package (``api/v0_0_38``) exposes ``PLUGINS``: a mapping of slurmrestd plugin
name (``openapi/v0.0.38``) to its :class:`Plugin` (type/name for the envelope's ``meta``,
its routes). Adding a version is a new folder plus one line in :data:`VERSIONS`.

Handlers are plain functions ``handler(ctx) -> Result``; they never see bytes or file
descriptors, and they reach Slurm only through ``ctx.backend``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slurmrest_stdio import errors
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.protocol import Request, Response

if TYPE_CHECKING:  # for annotations only: handlers import this module first thing
    from slurmrest_stdio.backend.base import Backend, SlurmVersion

#: Slurm's "Failure during parsing": a body that is not valid for the operation
ESLURM_REST_FAIL_PARSING = 9001

#: slurmrestd plugin name -> module that defines it (imported only when loaded)
VERSIONS: dict[str, str] = {
    "openapi/v0.0.38": "slurmrest_stdio.api.v0_0_38",
    "openapi/dbv0.0.38": "slurmrest_stdio.api.dbv0_0_38",
}


@dataclass(frozen=True)
class Plugin:
    """One openapi plugin: what ``meta.plugin`` says and which routes it serves."""

    type: str
    name: str
    routes: tuple[tuple[str, str, Callable[[Context], Result]], ...]
    #: OpenAPI fragments (paths + components), relative to ``api/``, describing the routes
    spec_files: tuple[str, ...] = ()


@dataclass
class Context:
    """Everything a handler may use for one request."""

    request: Request
    params: dict[str, str]
    query_string: str
    identity: Identity
    backend: Backend
    media_type: str
    plugin: Plugin | None = None
    _query: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def query(self) -> dict[str, list[str]]:
        """The URL query, decoded (``a=1&a=2`` -> ``{"a": ["1", "2"]}``).

        Raises:
            errors.BadRequest: the query is not valid form encoding.
        """
        if self._query is None:
            from urllib.parse import parse_qs  # only requests with a query pay for it

            try:
                self._query = parse_qs(
                    self.query_string, keep_blank_values=True, strict_parsing=True,
                    errors="strict",
                ) if self.query_string else {}
            except (ValueError, UnicodeDecodeError) as exc:
                raise errors.BadRequest("Unable to parse query.") from exc
        return self._query

    def query_value(self, name: str) -> str | None:
        """The last value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[-1] if values else None

    def update_time(self) -> int | None:
        """``?update_time=<Unix seconds>`` as slurmrestd reads it, or None when absent.

        Raises:
            errors.SlurmCommandError: 400, not a number (Slurm's "invalid query" error).
        """
        from slurmrest_stdio.api.values import update_time

        return update_time(self.query_string)

    def body_data(self, schema: str | None = None) -> Any:
        """The request body, decoded by its Content-Type (JSON when none is given) and,
        when ``schema`` names a component of our OpenAPI document, validated against it
        (jsonschema is imported here, by the requests that carry a body, only).

        Raises:
            errors.BadRequest: the body does not parse (the message says where), or its
                Content-Type is not one we read.
            errors.SlurmCommandError: it parses but does not fit ``schema`` (400, the
                JSON path and the problem in the envelope's errors).
        """
        from slurmrest_stdio import codec

        content_type = self.request.header("content-type")
        fmt = codec.body_format(content_type) if content_type else "json"
        if fmt is None:  # slurmrestd 22.05 answers 400 here (its parser finds no reader)
            raise errors.BadRequest(
                f"Unable to parse query: unknown Content-Type {content_type!r}"
            )
        data = codec.decode(self.request.body, fmt)
        if schema is not None and self.plugin is not None:
            problems = validate(data, schema, self.plugin)
            if problems:
                raise errors.SlurmCommandError(
                    [errors.SlurmError("Failure during parsing", ESLURM_REST_FAIL_PARSING,
                                       problem, "request body") for problem in problems],
                    status=400,
                )
        return data


@dataclass(frozen=True)
class Payload:
    """A handler's answer: the fields after ``meta``/``errors`` in the envelope."""

    data: dict[str, Any]
    status: int = 200
    errors: tuple[dict[str, Any], ...] = ()


#: a handler returns a Payload (enveloped and encoded for it) or a finished Response
Result = Payload | Response


def together(*calls: Callable[[], Any]) -> list[Callable[[], Any]]:
    """Start ``calls`` at once and return one getter per call, in order, that gives the
    call's result or raises what it raised.

    Each call is a Slurm command (a process, its start-up, its round trips to slurmctld
    or slurmdbd) that spends most of its time waiting, so the reads a handler needs run
    side by side on threads rather than one after the other. The first runs on the
    caller's thread. A getter not used leaves its call's result unread: handlers read
    them in their own order and stop at the first problem, exactly as if the calls had
    been made one by one.
    """
    import threading

    results: list[Any] = [None] * len(calls)
    failures: list[BaseException | None] = [None] * len(calls)

    def work(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # handed to whoever reads this result
            failures[index] = exc

    threads = [threading.Thread(target=work, args=(i,), daemon=True)
               for i in range(1, len(calls))]
    for thread in threads:
        thread.start()
    if calls:
        work(0)

    def getter(index: int) -> Callable[[], Any]:
        def get() -> Any:
            if index:
                threads[index - 1].join()
            failure = failures[index]
            if failure is not None:
                raise failure
            return results[index]

        return get

    return [getter(i) for i in range(len(calls))]


class LazyHandler:
    """A handler imported on its first call. A process serves one connection, usually a
    request or two of one resource: it imports the modules of the routes it meets, not
    every module of every API version."""

    __slots__ = ("_function", "_module", "_target")

    def __init__(self, module: str, function: str) -> None:
        self._module = module
        self._function = function
        self._target: Callable[[Context], Result] | None = None

    def __call__(self, ctx: Context) -> Result:
        if self._target is None:
            self._target = getattr(importlib.import_module(self._module), self._function)
        return self._target(ctx)

    def __repr__(self) -> str:
        return f"{self._module}:{self._function}"


def plugin_from_table(plugin_type: str, name: str, package: str,
                      table: tuple[tuple[str, str, str], ...]) -> Plugin:
    """A plugin from a route table of ``(method, template, "module:function")`` rows, the
    modules being those of ``package``; each module's OpenAPI fragment is
    ``<package>/spec/<module>.json`` (fragments merge in the order modules first appear)."""
    modules: dict[str, None] = {}
    routes = []
    for method, template, target in table:
        module, _, function = target.partition(":")
        modules[module] = None
        routes.append((method, template, LazyHandler(f"{package}.{module}", function)))
    leaf = package.rpartition(".")[2]
    return Plugin(
        type=plugin_type,
        name=name,
        routes=tuple(routes),
        spec_files=tuple(f"{leaf}/spec/{module}.json" for module in modules),
    )


def validate(data: Any, schema: str, plugin: Plugin) -> list[str]:
    """Check ``data`` against ``#/components/schemas/<schema>`` of ``plugin``'s spec;
    return one "<JSON path>: <problem>" line per error (none when it fits)."""
    import jsonschema

    from slurmrest_stdio.api.openapi import build_spec

    components = build_spec([plugin])["components"]
    validator = jsonschema.Draft4Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": components}
    )
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
        ) or "."
        problems.append(f"{where.lstrip('.') or '(body)'}: {error.message}")
    return problems


def read_collection(
    ctx: Context, kind: str, load: Callable[[], Result], key: str | None = None
) -> Result:
    """A read of the ``kind`` collection (one of ``backend.base.CHANGE_KINDS``) the way
    slurmrestd answers it: 304 with no body when ``?update_time=`` is given and Slurm says
    nothing changed since then; else ``load()``; and when that fails, the envelope with
    Slurm's errors and an empty ``key`` list (default: ``kind``)."""
    try:
        since = ctx.update_time()
        if since is not None and not ctx.backend.changed_since(kind, since, ctx.identity):
            return Response(304)
        return load()
    except errors.SlurmCommandError as exc:
        return Payload({key or kind: []}, exc.status, tuple(e.to_dict() for e in exc.errors))


def passthrough(ctx: Context, body: bytes, status: int = 200) -> Response:
    """A body Slurm already printed in the v0.0.38 shape (``squeue --json``): sent as is
    for JSON, decoded and written as YAML when YAML was asked for."""
    from slurmrest_stdio import codec

    if codec.MEDIA_TYPES[ctx.media_type] == "json":
        return Response(status, body, ctx.media_type)
    return Response(status, codec.encode(codec.decode(body, "json"), ctx.media_type),
                    ctx.media_type)


def load_plugins(names: tuple[str, ...]) -> list[Plugin]:
    """The plugins named, in order.

    Raises:
        KeyError: a name that no version package provides.
    """
    plugins = []
    for name in names:
        module = importlib.import_module(VERSIONS[name])
        plugins.append(module.PLUGINS[name])
    return plugins


def envelope(
    plugin: Plugin, version: SlurmVersion, errs: list[dict[str, Any]], data: dict[str, Any]
) -> dict[str, Any]:
    """The v0.0.38 response body: ``meta``, ``errors``, then the payload's fields."""
    body: dict[str, Any] = {
        "meta": {
            "plugin": {"type": plugin.type, "name": plugin.name},
            "Slurm": {
                "version": {
                    "major": version.major, "micro": version.micro, "minor": version.minor,
                },
                "release": version.release,
            },
        },
        "errors": errs,
    }
    body.update(data)
    return body
