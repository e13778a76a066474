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
from typing import Any
from urllib.parse import parse_qs

from slurmrest_stdio import errors
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import Backend, SlurmVersion
from slurmrest_stdio.protocol import Request, Response

#: slurmrestd plugin name -> module that defines it (imported only when loaded)
VERSIONS: dict[str, str] = {
    "openapi/v0.0.38": "slurmrest_stdio.api.v0_0_38",
}


@dataclass(frozen=True)
class Plugin:
    """One openapi plugin: what ``meta.plugin`` says and which routes it serves."""

    type: str
    name: str
    routes: tuple[tuple[str, str, Callable[[Context], Result]], ...]
    #: the OpenAPI fragment (paths + components) describing these routes
    spec_file: str | None = None


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
            try:
                self._query = parse_qs(
                    self.query_string, keep_blank_values=True, strict_parsing=True,
                    errors="strict",
                ) if self.query_string else {}
            except (ValueError, UnicodeDecodeError) as exc:
                raise errors.BadRequest("Unable to parse query.") from exc
        return self._query


@dataclass(frozen=True)
class Payload:
    """A handler's answer: the fields after ``meta``/``errors`` in the envelope."""

    data: dict[str, Any]
    status: int = 200
    errors: tuple[dict[str, Any], ...] = ()


#: a handler returns a Payload (enveloped and encoded for it) or a finished Response
Result = Payload | Response


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
