"""The harness itself: the tolerant parser, masks, ordered comparison, ``exchange``."""

from __future__ import annotations

import json

import pytest

from tests.conformance.cases import PING, get
from tests.conformance.harness import (
    MASKED,
    Case,
    Mode,
    Program,
    compare_bodies,
    exchange,
    mask,
    ordered,
    parse_tolerant,
    run_case,
)
from tests.helpers import ParsedResponse

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


def test_parse_tolerant_plain() -> None:
    responses, quirks = parse_tolerant(OK + OK)
    assert [r.status for r in responses] == [200, 200]
    assert responses[1].body == b"{}" and responses[0].reason == "OK"
    assert quirks == []


def test_parse_tolerant_stray_close() -> None:
    responses, quirks = parse_tolerant(OK.replace(b"1.1", b"1.0") + b"Connection: Close\r\n")
    assert [(r.version, r.status, r.body) for r in responses] == [("1.0", 200, b"{}")]
    assert quirks == ["stray_connection_close"]


def test_parse_tolerant_unterminated_error() -> None:
    raw = OK + b"HTTP/1.1 400 BAD REQUEST\r\nConnection: Close\r\n"
    responses, quirks = parse_tolerant(raw)
    assert [r.status for r in responses] == [200, 400]
    assert responses[1].header("connection") == "Close" and responses[1].body == b""
    assert quirks == ["malformed_error_responses"]


def test_parse_tolerant_reports_the_unknown() -> None:
    responses, quirks = parse_tolerant(OK + b"garbage")
    assert len(responses) == 1
    assert quirks == ["unparsed: b'garbage'"]
    _, quirks = parse_tolerant(OK.replace(b"{}", b"{"))
    assert quirks == ["unparsed: body cut short, 1 of 2 bytes"]


def test_mask() -> None:
    data = {"meta": {"release": "22.05.8"}, "jobs": [{"id": 1, "t": 5}, {"id": 2}]}
    assert mask(data, ["meta.release", "jobs.*.t", "absent.path"]) == {
        "meta": {"release": MASKED}, "jobs": [{"id": 1, "t": MASKED}, {"id": 2}],
    }
    assert mask({"a": {"x": 1, "y": 2}}, ["a.*"]) == {"a": {"x": MASKED, "y": MASKED}}
    assert data["meta"] == {"release": "22.05.8"}  # the input is left alone


def test_ordered_makes_key_order_count() -> None:
    assert {"a": 1, "b": 2} == {"b": 2, "a": 1}
    assert ordered({"a": 1, "b": 2}) != ordered({"b": 2, "a": 1})
    assert ordered({"a": [{"x": 1}]}) == ordered(json.loads('{"a": [{"x": 1}]}'))


def _json(body: dict[str, object]) -> ParsedResponse:
    return ParsedResponse("1.1", 200, "OK", [("Content-Type", "application/json")],
                          json.dumps(body).encode())


def test_compare_bodies_masks_volatile_fields() -> None:
    mine, yours = _json({"t": 1, "x": "same"}), _json({"t": 2, "x": "same"})
    with pytest.raises(AssertionError, match="body differs"):
        compare_bodies(mine, yours, Mode.BODY)
    compare_bodies(mine, yours, Mode.BODY, masks=["t"])
    with pytest.raises(AssertionError, match="data differs"):
        compare_bodies(mine, _json({"x": "same", "t": 2}), Mode.BODY, masks=["t"])


def test_exchange_runs_each_program() -> None:
    ours = exchange(Program.OURS, get(PING))
    theirs = exchange(Program.THEIRS, get(PING))
    assert [r.status for r in ours] == [r.status for r in theirs] == [200]
    assert ours[0].body == theirs[0].body


def test_masks_apply_to_real_bodies() -> None:
    """The mechanism on real output: ping has no volatile field on one host, but masking
    one in both bodies must keep them equal (JSON and YAML)."""
    run_case(Case("masked_ping", get(PING), (200,), mask=("pings.*.hostname", "meta.Slurm")))
    run_case(Case("masked_ping_yaml", get(PING, "Accept: text/yaml"), (200,),
                  mask=("pings.*.ping",)))
