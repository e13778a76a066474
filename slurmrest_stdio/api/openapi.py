"""``/openapi``, ``/openapi.json``, ``/openapi.yaml``, ``/openapi/v3``: our own spec.

The document is assembled from ``api/openapi.json`` (shared parts) and the fragment of each
loaded version plugin, so it always describes exactly what this process serves. It is
read from disk only when a client asks for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from slurmrest_stdio import codec
from slurmrest_stdio.api import Context, Plugin, Result
from slurmrest_stdio.config import OPENAPI_PLUGINS
from slurmrest_stdio.protocol import Response

#: this package's folder (plain string work: pathlib costs milliseconds to import)
HERE = __file__.rpartition("/")[0]


def _load(name: str) -> Any:
    with open(f"{HERE}/{name}", encoding="utf-8") as fragment:
        return json.load(fragment)


def build_spec(plugins: Sequence[Plugin]) -> dict[str, Any]:
    """The complete OpenAPI document for ``plugins``."""
    spec: dict[str, Any] = _load("openapi.json")
    for plugin in plugins:
        for name in plugin.spec_files:
            part = _load(name)
            for path, operations in part.get("paths", {}).items():
                spec["paths"].setdefault(path, {}).update(operations)
            for kind, items in part.get("components", {}).items():
                spec["components"].setdefault(kind, {}).update(items)
    return spec


#: the JSON document of the default plugins, exactly as served, rendered in advance by
#: ``tools/render-spec.py`` (a unit test keeps it equal to what build_spec makes): encoding
#: a quarter of a megabyte the way json-c spaces it costs more than all the rest of the
#: request
RENDERED = "openapi.rendered.json"


def rendered(plugins: Sequence[Plugin]) -> bytes | None:
    """The pre-rendered JSON document when ``plugins`` are the default ones, else None."""
    if tuple(plugin.type for plugin in plugins) != OPENAPI_PLUGINS:
        return None
    try:
        with open(f"{HERE}/{RENDERED}", "rb") as document:
            return document.read()
    except OSError:
        return None


def make_routes(
    plugins: Sequence[Plugin],
) -> tuple[tuple[str, str, Callable[[Context], Result]], ...]:
    """The four spec routes, bound to the plugins this process serves."""

    def serve(forced: str | None) -> Callable[[Context], Result]:
        def handler(ctx: Context) -> Result:
            media = forced or ctx.media_type
            if codec.MEDIA_TYPES[media] == "json" and (body := rendered(plugins)) is not None:
                return Response(200, body, media)
            return Response(200, codec.encode(build_spec(plugins), media), media)

        return handler

    return (
        ("GET", "/openapi", serve(None)),
        ("GET", "/openapi/v3", serve(None)),
        ("GET", "/openapi.json", serve(codec.JSON)),
        ("GET", "/openapi.yaml", serve("application/x-yaml")),
    )
