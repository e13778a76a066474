"""Reads through the real program for the cluster tests: pipelined GETs on one connection,
their JSON bodies, and a check of each body against the schema our spec gives for it."""

from __future__ import annotations

import json
from typing import Any

from openapi_schema_validator import OAS30Validator

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.config import OPENAPI_PLUGINS
from tests.helpers import ParsedResponse, parse_responses, request, run_pipe

SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))


def ask(*paths: str, accept: str | None = None) -> list[ParsedResponse]:
    """Pipelined GETs on one connection; every response must be well-formed."""
    headers = (f"Accept: {accept}",) if accept else ()
    run = run_pipe(b"".join(request("GET", p, *headers) for p in paths))
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    responses = parse_responses(run.stdout)  # strict: every byte belongs to a response
    assert len(responses) == len(paths), run.stdout[:500]
    return responses


def body(resp: ParsedResponse) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resp.body)
    return data


def validate(path: str, resp: ParsedResponse) -> None:
    """The real response fits the schema our spec gives for its status (or the default)."""
    check_body(path, body(resp), resp.status)


def check_body(path: str, data: dict[str, Any], status: int = 200) -> None:
    """``data`` fits the schema our spec gives a GET of ``path`` (a route template) for
    ``status`` (or the default)."""
    responses = SPEC["paths"][path]["get"]["responses"]
    response = responses.get(str(status), responses.get("default"))
    schema = response["content"]["application/json"]["schema"]
    OAS30Validator({**schema, "components": SPEC["components"]}).validate(data)
