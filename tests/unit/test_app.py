"""The application: auth before routing, envelopes, errors as responses."""

from __future__ import annotations

import json

import pytest

from slurmrest_stdio.app import Exchange
from slurmrest_stdio.auth.base import Peer, PeerKind
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import FakeBackend, make_app

FOREIGN = Peer(PeerKind.FIFO, 1001, "alice", owner_uid=0, mode=0o10600)


def get(path: str, *headers: tuple[str, str], body: bytes = b"", method: str = "GET",
        backend: FakeBackend | None = None, peer: Peer | None = None) -> Exchange:
    app = make_app(backend) if peer is None else make_app(backend, peer)
    return app.handle(Request(method, path, tuple(headers), body))


def test_ping_envelope() -> None:
    backend = FakeBackend()
    ex = get("/slurm/v0.0.38/ping", backend=backend)
    assert ex.response.status == 200 and ex.response.content_type == "application/json"
    assert ex.user == "alice"
    body = json.loads(ex.response.body)
    assert body == {
        "meta": {"plugin": {"type": "openapi/v0.0.38", "name": "Slurm OpenAPI v0.0.38"},
                 "Slurm": {"version": {"major": 22, "micro": 8, "minor": 5},
                           "release": "22.05.8"}},
        "errors": [],
        "pings": [{"hostname": "ctl", "ping": "UP", "status": 0, "mode": "primary"}],
    }
    assert backend.calls[0][1].user == "alice" and backend.calls[0][1].token is None


def test_authentication_comes_before_routing() -> None:
    ex = get("/no/such/path", peer=FOREIGN)
    assert (ex.response.status, ex.response.body) == (401, b"Authentication failure")
    assert ex.response.content_type == "text/plain"
    assert "owned by uid 0" in ex.note


def test_unknown_path_404_and_wrong_method_405_with_allow() -> None:
    ex = get("/slurm/v0.0.38/pong")
    assert ex.response.status == 404 and ex.response.content_type == "text/plain"
    assert ex.response.body.startswith(b"Unable find requested URL")
    ex = get("/slurm/v0.0.38/ping", method="DELETE")
    assert ex.response.status == 405
    assert dict(ex.response.headers)["Allow"] == "GET, HEAD"


def test_body_on_get_is_400() -> None:
    ex = get("/slurm/v0.0.38/ping", body=b"{}")
    assert ex.response.status == 400
    assert ex.response.body == b"Unexpected http body provided for non-POST method"


def test_yaml_and_415() -> None:
    ex = get("/slurm/v0.0.38/ping", ("accept", "application/x-yaml"))
    assert ex.response.content_type == "application/x-yaml"
    assert b"pings:\n- hostname: ctl\n" in ex.response.body
    ex = get("/slurm/v0.0.38/ping", ("accept", "text/html"))
    assert ex.response.status == 415


def test_slurm_failure_is_an_envelope_with_errors() -> None:
    err = SlurmError("Unable to contact slurm controller (connect failure)", 1800,
                     "down", "slurm_load_ctl_conf")
    ex = get("/slurm/v0.0.38/ping", backend=FakeBackend(fail=SlurmCommandError([err])))
    assert ex.response.status == 500 and ex.response.content_type == "application/json"
    body = json.loads(ex.response.body)
    assert body["errors"] == [{"description": "down", "error_number": 1800,
                               "error": err.error, "source": "slurm_load_ctl_conf"}]
    assert body["meta"]["plugin"]["type"] == "openapi/v0.0.38"


def test_unexpected_exception_is_a_plain_500_without_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ex = get("/slurm/v0.0.38/ping", backend=FakeBackend(crash=RuntimeError("secret detail")))
    assert (ex.response.status, ex.response.body) == (500, b"Internal error")
    assert "secret detail" in caplog.text  # logged, not sent


@pytest.mark.parametrize("path", ["/openapi", "/openapi/v3", "/openapi.json"])
def test_spec_paths_json(path: str) -> None:
    ex = get(path)
    assert ex.response.status == 200 and ex.response.content_type == "application/json"
    spec = json.loads(ex.response.body)
    assert "/slurm/v0.0.38/ping" in spec["paths"]


def test_spec_yaml_path_and_accept() -> None:
    ex = get("/openapi.yaml")
    assert ex.response.content_type == "application/x-yaml"
    assert b"openapi: 3.0.3" in ex.response.body
    ex = get("/openapi/v3", ("accept", "text/yaml"))
    assert ex.response.content_type == "text/yaml"


def test_spec_requires_authentication() -> None:
    assert get("/openapi/v3", peer=FOREIGN).response.status == 401
