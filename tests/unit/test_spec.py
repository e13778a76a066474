"""Our OpenAPI document: valid OpenAPI 3.0, in step with the routes, true to the responses."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from slurmrest_stdio import codec
from slurmrest_stdio.api import load_plugins, openapi
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.config import OPENAPI_PLUGINS
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import make_app

SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))


def test_spec_is_valid_openapi_3_0() -> None:
    assert SPEC["openapi"].startswith("3.0.")
    validate(SPEC)


def test_every_route_is_documented_and_nothing_else() -> None:
    app = make_app()
    routes = {(r.method.lower(), r.template) for r in app.router.routes}
    documented = {(m, p) for p, ops in SPEC["paths"].items() for m in ops}
    assert routes == documented


def schema_for(path: str, status: str) -> dict[str, Any]:
    content = SPEC["paths"][path]["get"]["responses"][status]["content"]
    return {"$ref": content["application/json"]["schema"]["$ref"],
            "components": SPEC["components"]}


def test_ping_response_validates_against_the_spec() -> None:
    response = make_app().handle(Request("GET", "/slurm/v0.0.38/ping")).response
    body = json.loads(response.body)
    jsonschema.validate(body, schema_for("/slurm/v0.0.38/ping", "200"))
    body["pings"][0]["status"] = "0"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, schema_for("/slurm/v0.0.38/ping", "200"))


def test_rendered_spec_is_current() -> None:
    """The pre-rendered document served for the default plugins is what build_spec makes
    now (after changing a fragment: python3 tools/render-spec.py)."""
    fresh = codec.encode(build_spec(load_plugins(OPENAPI_PLUGINS)), codec.JSON)
    assert openapi.rendered(load_plugins(OPENAPI_PLUGINS)) == fresh, (
        "slurmrest_stdio/api/openapi.rendered.json is stale: run python3 tools/render-spec.py")


def test_rendered_spec_is_only_for_the_default_plugins() -> None:
    assert openapi.rendered(load_plugins(("openapi/v0.0.38",))) is None
    assert openapi.rendered(load_plugins(tuple(reversed(OPENAPI_PLUGINS)))) is None
