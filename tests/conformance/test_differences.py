"""Where we deliberately answer differently from slurmrestd 22.05.

Each test names its entry in ``differences.py`` and asserts OUR documented behaviour; on
slurmrestd's side it asserts only as much as makes the difference real, so that a
slurmrestd that changes shows up here and the list gets updated.
"""

from __future__ import annotations

import ast
import json
from http import HTTPStatus
from pathlib import Path

import pytest

from tests.conformance.cases import NOPE, PING, accept, get
from tests.conformance.differences import DIFFERENCES, ref
from tests.conformance.harness import (
    Conversation,
    Mode,
    Program,
    compare_bodies,
    converse,
    converse_both,
    load_body,
    media_type,
)
from tests.helpers import OTHER_USER, ParsedResponse, request

HERE = Path(__file__).parent
JSON = "application/json"


def only(conv: Conversation) -> ParsedResponse:
    assert len(conv.responses) == 1, conv.describe()
    return conv.responses[0]


def plain_ping(prog: Program = Program.THEIRS) -> ParsedResponse:
    return only(converse(prog, get(PING)))


# -- the HTTP layer ----------------------------------------------------------------------

@pytest.mark.parametrize(("data", "owner", "status"), [
    (get(PING), None, 200),
    (request("GET", PING, body=b"{}"), None, 400),
    (get(PING), OTHER_USER, 401),
    (get(NOPE), None, 404),
    (request("DELETE", PING), None, 405),
    (accept("text/html"), None, 415),
], ids=["200", "400", "401", "404", "405", "415"])
def test_reason_phrases(data: bytes, owner: str | None, status: int) -> None:
    ref("reason_phrases")
    ours, theirs = converse_both(data, pipe_owner=owner)
    mine, yours = only(ours), only(theirs)
    assert mine.status == yours.status == status
    assert mine.reason == HTTPStatus(status).phrase
    assert yours.reason == yours.reason.upper()


@pytest.mark.parametrize("data", [
    get(PING, version="1.0"),
    get(PING, "Connection: close"),
    get(PING, "Connection: keep-alive", version="1.0"),
], ids=["http10", "connection_close", "http10_keep_alive"])
def test_connection_close_is_a_header(data: bytes) -> None:
    ref("stray_connection_close")
    ours, theirs = converse_both(data)
    mine = only(ours)  # strictly parsed: nothing after the body
    assert (mine.header("connection") or "").lower() == "close"
    assert theirs.raw.endswith(b"}Connection: Close\r\n"), theirs.describe()
    assert "stray_connection_close" in theirs.quirks
    compare_bodies(mine, only(theirs), Mode.BODY)


def test_response_http_version() -> None:
    ref("response_http_version")
    ours, theirs = converse_both(get(PING, version="1.0"))
    assert only(ours).version == "1.1"
    assert only(theirs).version == "1.0"


@pytest.mark.parametrize(("first", "owner", "status"), [
    (get(NOPE), None, 404),
    (request("DELETE", PING), None, 405),
    (accept("text/html"), None, 415),
    (request("GET", PING, body=b"{}"), None, 400),
    (get(PING), OTHER_USER, 401),
], ids=["404", "405", "415", "400", "401"])
def test_errors_keep_alive(first: bytes, owner: str | None, status: int) -> None:
    ref("errors_keep_alive")
    ref("malformed_error_responses")
    ours, theirs = converse_both(first + get(PING), pipe_owner=owner)
    after = 401 if owner else 200
    assert ours.statuses == [status, after], ours.describe()
    assert ours.returncode == 0
    # the error itself conforms
    assert theirs.statuses[0] == status, theirs.describe()
    compare_bodies(ours.responses[0], theirs.responses[0], Mode.BODY)
    assert theirs.responses[0].header("connection") == "Close"
    # ...but slurmrestd does not answer the request behind it
    assert after not in theirs.statuses[1:], theirs.describe()
    assert "malformed_error_responses" in theirs.quirks, theirs.describe()


@pytest.mark.parametrize("first", [
    get(PING, "Connection: close"),
    get(PING, version="1.0"),
    get(PING, "Connection: keep-alive", version="1.0"),
], ids=["connection_close", "http10", "http10_keep_alive"])
def test_close_then_more_input(first: bytes) -> None:
    ref("close_then_more_input")
    ours, theirs = converse_both(first + get(PING))
    assert ours.statuses == [200], ours.describe()
    assert (ours.responses[0].header("connection") or "").lower() == "close"
    assert ours.returncode == 0, ours.describe()
    compare_bodies(ours.responses[0], plain_ping(), Mode.BODY)
    # slurmrestd 22.05 dies (SIGSEGV) before writing anything
    assert theirs.responses == [] and theirs.returncode != 0, theirs.describe()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize(("path", "theirs_status"), [(PING, 405), (NOPE, 404)],
                         ids=["ping", "unknown"])
def test_length_required(method: str, path: str, theirs_status: int) -> None:
    ref("length_required")
    ours, theirs = converse_both(request(method, path))
    mine = only(ours)
    assert mine.status == 411
    assert (mine.header("connection") or "").lower() == "close"
    assert theirs.statuses == [theirs_status], theirs.describe()


# -- content negotiation ------------------------------------------------------------------

@pytest.mark.parametrize("value", ["application/x-yaml", "text/yaml"])
def test_yaml_tags(value: str) -> None:
    ref("yaml_tags")
    ours, theirs = converse_both(accept(value))
    mine, yours = only(ours), only(theirs)
    assert media_type(mine) == media_type(yours) == value
    assert yours.body.startswith(b"%YAML 1.1\n")
    assert b"!!str " in yours.body and b"!!int " in yours.body
    assert b"!!" not in mine.body and not mine.body.startswith(b"%")
    assert load_body(mine) == load_body(yours) == json.loads(plain_ping().body)


#: Accept value -> (our status and media type, what slurmrestd 22.05 may answer)
QVALUES: dict[str, tuple[tuple[int, str], set[tuple[int, str]]]] = {
    "application/json, text/yaml": ((200, JSON), {(200, JSON), (200, "text/yaml")}),
    "text/yaml, application/json": ((200, "text/yaml"), {(200, JSON), (200, "text/yaml")}),
    "application/json;q=0.9, text/yaml;q=0.1":
        ((200, JSON), {(200, JSON), (200, "text/yaml")}),
    "application/json;q=0.1, text/yaml;q=0.9":
        ((200, "text/yaml"), {(200, JSON), (200, "text/yaml")}),
    "text/yaml;q=1, application/json;q=0.2":
        ((200, "text/yaml"), {(200, JSON), (200, "text/yaml")}),
    "*/*, text/yaml": ((200, JSON), {(200, JSON), (200, "text/yaml")}),
    "application/x-yaml;q=0, application/json":
        ((200, JSON), {(200, JSON), (200, "application/x-yaml")}),
    # q=0 excludes the only type: 415 for us; slurmrestd ignores q=0
    "application/json;q=0": ((415, "text/plain"), {(200, JSON)}),
}


@pytest.mark.parametrize("value", list(QVALUES))
def test_qvalue_handling(value: str) -> None:
    ref("qvalue_handling")
    ours_expected, theirs_allowed = QVALUES[value]
    ours, theirs = converse_both(accept(value))
    mine, yours = only(ours), only(theirs)
    assert (mine.status, media_type(mine)) == ours_expected, ours.describe()
    assert (yours.status, media_type(yours)) in theirs_allowed, theirs.describe()
    if (mine.status, media_type(mine)) == (yours.status, media_type(yours)):
        compare_bodies(mine, yours, Mode.BODY)


@pytest.mark.parametrize("value", ["application/*", "application/*;q=0.5, text/html"])
def test_application_wildcard(value: str) -> None:
    ref("application_wildcard")
    ours, theirs = converse_both(accept(value))
    mine = only(ours)
    assert (mine.status, media_type(mine)) == (200, JSON)
    compare_bodies(mine, plain_ping(), Mode.BODY)
    assert theirs.statuses == [415], theirs.describe()


def test_application_yaml() -> None:
    ref("application_yaml")
    ours, theirs = converse_both(accept("application/yaml"))
    mine = only(ours)
    assert (mine.status, media_type(mine)) == (200, "application/yaml")
    assert load_body(mine) == load_body(only(converse(Program.THEIRS, accept("text/yaml"))))
    assert theirs.statuses == [415], theirs.describe()


# -- the OpenAPI document -----------------------------------------------------------------

@pytest.mark.parametrize(("value", "theirs_media"), [
    (None, JSON), ("application/json", JSON), ("*/*", JSON), ("text/yaml", "text/yaml"),
], ids=["no_accept", "json", "any", "text_yaml"])
def test_openapi_yaml_format(value: str | None, theirs_media: str) -> None:
    ref("openapi_yaml_format")
    data = get("/openapi.yaml") if value is None else accept(value, "/openapi.yaml")
    ours, theirs = converse_both(data)
    mine, yours = only(ours), only(theirs)
    assert (mine.status, media_type(mine)) == (200, "application/x-yaml")
    assert {"openapi", "paths"} <= set(load_body(mine))
    assert (yours.status, media_type(yours)) == (200, theirs_media)


@pytest.mark.parametrize("value", ["application/x-yaml", "text/yaml"])
def test_openapi_json_format(value: str) -> None:
    ref("openapi_json_format")
    ours, theirs = converse_both(accept(value, "/openapi.json"))
    mine, yours = only(ours), only(theirs)
    assert (mine.status, media_type(mine)) == (200, JSON)
    assert {"openapi", "paths"} <= set(load_body(mine))
    assert (yours.status, media_type(yours)) == (200, value)


def _operations(spec: dict[str, object]) -> set[tuple[str, str]]:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    verbs = {"get", "put", "post", "delete", "patch", "head", "options"}
    return {
        ("/" + path.strip("/"), method)
        for path, item in paths.items()
        for method in item
        if method in verbs
    }


def test_spec_content() -> None:
    ref("spec_content")
    ours, theirs = converse_both(accept(JSON, "/openapi/v3"))
    mine, yours = only(ours), only(theirs)
    assert (mine.status, media_type(mine)) == (yours.status, media_type(yours)) == (200, JSON)
    our_ops, their_ops = _operations(load_body(mine)), _operations(load_body(yours))
    assert ("/slurm/v0.0.38/ping", "get") in our_ops
    # we describe nothing that slurmrestd does not serve...
    assert our_ops <= their_ops, sorted(our_ops - their_ops)
    # ...and describe only what we implement, so the documents differ
    assert our_ops != their_ops


def test_plugin_versions() -> None:
    ref("plugin_versions")
    ours, theirs = converse_both(get("/slurm/v0.0.37/ping"))
    assert ours.statuses == [404], ours.describe()
    yours = only(theirs)
    assert yours.status == 200
    assert load_body(yours)["meta"]["plugin"]["type"] == "openapi/v0.0.37"


# -- URL paths ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "theirs_status"), [
    ("/./slurm/v0.0.38/ping", 404),
    ("/slurm/./v0.0.38/ping", 404),
    ("/slurm/v0.0.38/./ping", 404),
    ("/slurm/%2e/v0.0.38/ping", 404),
    ("/slurm/v0.0.38/ping/./.", 400),
])
def test_dot_segments(path: str, theirs_status: int) -> None:
    ref("dot_segments")
    ours, theirs = converse_both(get(path))
    mine = only(ours)
    assert mine.status == 200
    compare_bodies(mine, plain_ping(), Mode.BODY)
    assert theirs.statuses == [theirs_status], theirs.describe()


# -- the list itself ----------------------------------------------------------------------

def test_every_difference_is_exercised() -> None:
    """Each entry of differences.py is named by some test or case (no stale entries)."""
    named: set[str] = set()
    for path in HERE.glob("*.py"):
        if path.name == "differences.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named.add(node.value)
    assert set(DIFFERENCES) <= named, sorted(set(DIFFERENCES) - named)
