"""The sans-IO protocol and the conversation loop, fed raw bytes whole and byte by byte."""

from __future__ import annotations

import random

import pytest

from slurmrest_stdio import errors
from slurmrest_stdio.config import Limits
from slurmrest_stdio.protocol import CLOSED, NEED_DATA, Request, Response, ServerProtocol
from slurmrest_stdio.serve import ExitCode
from tests.helpers import parse_responses, request
from tests.unit.fakes import talk

PING = request("GET", "/slurm/v0.0.38/ping")
BOTH = pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])


def feed(proto: ServerProtocol, data: bytes, bytewise: bool) -> list[object]:
    events: list[object] = []
    chunks = [data[i:i + 1] for i in range(len(data))] if bytewise else [data]
    for chunk in [*chunks, b""]:
        proto.receive_data(chunk)
        while True:
            event = proto.next_event()
            if event is NEED_DATA:
                break
            events.append(event)
            if event is CLOSED:
                return events
            proto.send_response(Response(204))
    return events


@BOTH
def test_request_fields(bytewise: bool) -> None:
    data = request("POST", "/x?y=1", "Host: h", "X-Slurm-User-Name: alice", body=b"{}")
    events = feed(ServerProtocol(), data, bytewise)
    assert len(events) == 2 and events[1] is CLOSED
    req = events[0]
    assert isinstance(req, Request)
    assert (req.method, req.target, req.body, req.http_version) == ("POST", "/x?y=1", b"{}", "1.1")
    assert req.header("x-slurm-user-name") == "alice"
    assert req.header("X-SLURM-USER-NAME") == "alice"


@BOTH
def test_missing_host_is_accepted_like_slurmrestd(bytewise: bool) -> None:
    events = feed(ServerProtocol(), b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", bytewise)
    assert [e.target for e in events if isinstance(e, Request)] == ["/a", "/b"]


@BOTH
def test_pipelined_requests_in_order(bytewise: bool) -> None:
    data = b"".join(request("GET", f"/r{i}") for i in range(5))
    events = feed(ServerProtocol(), data, bytewise)
    assert [e.target for e in events if isinstance(e, Request)] == [f"/r{i}" for i in range(5)]


@BOTH
def test_chunked_body_is_decoded(bytewise: bool) -> None:
    data = (b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    req = feed(ServerProtocol(), data, bytewise)[0]
    assert isinstance(req, Request) and req.body == b"abcde"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"POST /x HTTP/1.1\r\nHost: h\r\n\r\n", 411),
        (b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world", 413),
        (b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", 413),
        (b"GET /x HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 3000 + b"\r\n\r\n", 431),
        (b"POST /x HTTP/1.1\r\nHost: h\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", 417),
        (b"INVALID\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nHo\x00st: h\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"0\r\n\r\n", 400),
        (b"GET /x HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"GET /x HTTP/9.9\r\nHost: h\r\n\r\n", 505),
    ],
)
@BOTH
def test_protocol_errors_carry_their_status(data: bytes, status: int, bytewise: bool) -> None:
    proto = ServerProtocol(Limits(max_header_bytes=2048, max_body_bytes=10))
    with pytest.raises(errors.HTTPError) as info:
        feed(proto, data, bytewise)
    assert info.value.status == status
    out = proto.send_error(info.value)
    (resp,) = parse_responses(out)
    assert resp.status == status and resp.header("connection") == "close"
    assert resp.body == str(info.value).encode()


@pytest.mark.parametrize(
    "data",
    [b"GET /x HTTP/1.1\r\nHost: h\r\n", b"POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"],
    ids=["headers", "body"],
)
def test_truncated_request_is_an_error(data: bytes) -> None:
    code, out = talk(data)
    assert code == ExitCode.PROTOCOL
    (resp,) = parse_responses(out)
    assert resp.status == 400 and b"truncated" in resp.body


def test_expect_100_continue_sends_interim_response() -> None:
    proto = ServerProtocol()
    proto.receive_data(b"POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                       b"Content-Length: 2\r\n\r\n")
    assert proto.next_event() is NEED_DATA
    assert proto.data_to_send() == b"HTTP/1.1 100 Continue\r\n\r\n"
    proto.receive_data(b"{}")
    req = proto.next_event()
    assert isinstance(req, Request) and req.body == b"{}"
    assert proto.data_to_send() == b""


def test_head_response_has_length_but_no_body() -> None:
    proto = ServerProtocol()
    proto.receive_data(request("HEAD", "/x"))
    assert isinstance(proto.next_event(), Request)
    out = proto.send_response(Response(200, b"0123456789", "application/json"), head=True)
    assert out.endswith(b"\r\n\r\n") and b"Content-Length: 10\r\n" in out


@BOTH
def test_connection_close_then_more_input_answers_only_the_first(bytewise: bool) -> None:
    code, out = talk(request("GET", "/slurm/v0.0.38/ping", "Connection: close") + PING,
                     bytewise=bytewise)
    assert code == ExitCode.OK
    (resp,) = parse_responses(out)  # strict: nothing after the first response
    assert resp.status == 200 and resp.header("connection") == "close"


@BOTH
def test_http10_then_more_input_answers_only_the_first(bytewise: bool) -> None:
    code, out = talk(request("GET", "/slurm/v0.0.38/ping", version="1.0") + PING,
                     bytewise=bytewise)
    assert code == ExitCode.OK
    (resp,) = parse_responses(out)
    assert resp.status == 200


@BOTH
def test_keep_alive_until_eof(bytewise: bool) -> None:
    code, out = talk(PING + request("GET", "/nope") + PING, bytewise=bytewise)
    assert code == ExitCode.OK
    assert [r.status for r in parse_responses(out)] == [200, 404, 200]


def test_idle_timeout_is_408_and_clean_exit() -> None:
    code, out = talk(PING, end="timeout")
    assert code == ExitCode.OK
    assert [r.status for r in parse_responses(out)] == [200, 408]


def test_read_timeout_mid_request_is_408_and_error_exit() -> None:
    code, out = talk(b"GET /slurm/v0.0.38/ping HTTP/1.1\r\nHost:", end="timeout")
    assert code == ExitCode.TIMEOUT
    assert [r.status for r in parse_responses(out)] == [408]


def test_empty_input_is_a_clean_conversation() -> None:
    assert talk(b"") == (ExitCode.OK, b"")


def _mutations(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    base = [PING, request("POST", "/slurm/v0.0.38/ping", body=b'{"a": 1}'),
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"]
    out = []
    for _ in range(count):
        data = bytearray(rng.choice(base) * rng.randint(1, 2))
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(3)
            pos = rng.randrange(len(data))
            if op == 0:
                data[pos] = rng.randrange(256)
            elif op == 1:
                del data[pos:pos + rng.randint(1, 8)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("data", _mutations(2026, 300))
def test_any_input_gets_complete_responses_never_an_exception(data: bytes) -> None:
    for bytewise in (False, True):
        code, out = talk(data, bytewise=bytewise)
        responses = parse_responses(out)  # strict: every byte is a complete response
        assert code in (ExitCode.OK, ExitCode.PROTOCOL)
        if code == ExitCode.PROTOCOL:
            assert responses and responses[-1].status >= 400


@BOTH
def test_empty_lines_before_a_request_are_ignored(bytewise: bool) -> None:
    data = (b"\r\n\r\n" + request("POST", "/a", body=b"xy") + b"\r\n" + request("GET", "/b")
            + b"\n")
    events = feed(ServerProtocol(), data, bytewise)
    assert [e.target for e in events if isinstance(e, Request)] == ["/a", "/b"]
    assert events[-1] is CLOSED


def test_error_messages_carry_no_python_reprs() -> None:
    with pytest.raises(errors.HTTPError) as info:
        feed(ServerProtocol(), b"INVALID\r\n\r\n", False)
    assert "bytearray" not in str(info.value) and str(info.value)
