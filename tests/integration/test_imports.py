"""Import discipline of the real process: a ping must not pay for what it does not use.

The program runs under ``python -X importtime``; the interpreter reports every module it
imports on stderr, so the test sees exactly what the real process loaded.
"""

from __future__ import annotations

import json
import tempfile

from tests.integration.support import (
    PING,
    Outcome,
    get_close,
    imported_modules,
    pipe_session,
    python_module_command,
)

#: heavy modules that only some requests need (schema validation, YAML, JWT)
HEAVY = ("jsonschema", "ruamel", "jwt")


def traced(request_bytes: bytes) -> tuple[Outcome, set[str]]:
    """Serve one request under ``-X importtime``; return the outcome and the modules."""
    with tempfile.TemporaryFile() as err_file:
        command = python_module_command("-X", "importtime")
        with pipe_session(command=command, stderr=err_file) as s:
            s.send(request_bytes)
            out = s.finish()
        err_file.seek(0)
        stderr = err_file.read().decode("utf-8", "replace")
    return Outcome(out.returncode, out.output, stderr), imported_modules(stderr)


def heavy_in(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def test_ping_imports_no_heavy_module(cluster: None, test_user: str) -> None:
    out, modules = traced(get_close(PING))
    assert out.returncode == 0, out.stderr[-2000:]
    (resp,) = out.responses()
    assert resp.status == 200
    assert json.loads(resp.body)["pings"][0]["ping"] == "UP"
    # the trace really covers the serving code (else the next assertion proves nothing)
    assert {"h11", "slurmrest_stdio.serve", "slurmrest_stdio.app"} <= modules
    assert heavy_in(modules) == set()


def test_yaml_request_does_import_ruamel(cluster: None, test_user: str) -> None:
    """The converse, so that the test above can fail: asking for YAML loads ruamel.yaml."""
    out, modules = traced(get_close(PING, "Accept: application/x-yaml"))
    assert out.returncode == 0, out.stderr[-2000:]
    (resp,) = out.responses()
    assert resp.status == 200
    assert resp.content_type == "application/x-yaml"
    assert b"ping: UP" in resp.body
    assert "ruamel.yaml" in modules
    assert not {m for m in heavy_in(modules) if not m.startswith("ruamel")}
