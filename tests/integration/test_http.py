"""HTTP behaviour of the real process, and each slurmrestd 22.05 defect proven absent.

The table "HTTP" in docs/slurmrestd-behaviour.md lists what slurmrestd does wrong in inetd
mode; every test here names the defect it guards against. All output is parsed strictly:
every byte the program writes must belong to a complete response.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from slurmrest_stdio.serve import ExitCode
from tests.helpers import ParsedResponse, request, run_pipe
from tests.integration.support import (
    NOPE,
    NOT_FOUND_TEXT,
    PING,
    SPEC,
    Outcome,
    assert_error_response,
    assert_no_traceback,
    get,
    get_close,
    has_complete_response,
    pipe_session,
)

PROTOCOL_ERROR = ExitCode.PROTOCOL
READ_TIMEOUT_EXIT = ExitCode.TIMEOUT
CONNECTION_LOST = ExitCode.CONNECTION

BODY_NOT_ALLOWED = b"Unexpected http body provided for non-POST method"


def converse(data: bytes, *args: str) -> Outcome:
    """Pipe ``data`` in (one write, then EOF) and collect everything."""
    run = run_pipe(data, args=args, timeout=15)
    return Outcome(run.returncode, run.stdout, run.stderr.decode("utf-8", "replace"))


def only(out: Outcome, head: int = 0) -> ParsedResponse:
    """The one and only response (strictly parsed: nothing before, after or between)."""
    responses = out.responses(head)
    assert len(responses) == 1, [r.status for r in responses]
    return responses[0]


# -- closing: slurmrestd crashes (SIGSEGV) on these and writes a stray header ---------------


def test_connection_close_then_another_request(cluster: None, test_user: str) -> None:
    out = converse(get_close(PING) + get(NOPE))
    assert out.returncode == 0, out.stderr
    resp = only(out)  # strict: no stray "Connection: Close" line after the body
    assert resp.status == 200
    assert resp.header("connection") == "close"
    assert json.loads(resp.body)["pings"][0]["ping"] == "UP"
    assert not any("/nope" in line for line in out.log_lines()), "second request was served"


def test_http_1_0_then_another_request(cluster: None, test_user: str) -> None:
    out = converse(get(PING, version="1.0") + get(NOPE))
    assert out.returncode == 0, out.stderr
    resp = only(out)
    assert resp.status == 200
    assert json.loads(resp.body)["pings"][0]["ping"] == "UP"


def test_http_1_0_without_host_is_answered(test_user: str) -> None:
    out = converse(b"GET /nope HTTP/1.0\r\n\r\n")
    assert out.returncode == 0, out.stderr
    assert_error_response(only(out), 404, NOT_FOUND_TEXT)


def test_keep_alive_until_eof_without_stray_bytes(test_user: str) -> None:
    out = converse(get(SPEC) + get(NOPE) + get(SPEC))
    assert out.returncode == 0, out.stderr
    first, second, third = out.responses()
    assert (first.status, second.status, third.status) == (200, 404, 200)
    assert first.body == third.body
    assert json.loads(first.body)["paths"]


# -- HEAD: slurmrestd answers a bogus 411 followed by 400 ------------------------------------


def test_head_ping_has_get_headers_and_no_body(cluster: None, test_user: str) -> None:
    out = converse(request("HEAD", PING) + get(PING))
    assert out.returncode == 0, out.stderr
    head, full = out.responses(head=1)  # strict: HEAD's answer carries no body bytes
    assert head.status == full.status == 200
    assert head.body == b""
    assert head.header("content-length") == full.header("content-length") == str(len(full.body))
    assert head.content_type == full.content_type == "application/json"


def test_head_unknown_path_is_404_without_body(test_user: str) -> None:
    out = converse(request("HEAD", NOPE) + get(NOPE))
    assert out.returncode == 0, out.stderr
    head, full = out.responses(head=1)
    assert head.status == full.status == 404
    assert head.body == b""
    assert head.header("content-length") == str(len(NOT_FOUND_TEXT))


def test_wrong_method_is_405_with_allow(test_user: str) -> None:
    out = converse(request("DELETE", SPEC) + request("POST", SPEC, "Content-Length: 0"))
    assert out.returncode == 0, out.stderr
    for resp in out.responses():
        assert_error_response(resp, 405)
        assert resp.header("allow") == "GET, HEAD"


# -- split and pipelined input: slurmrestd answers 400 to a request split across reads -------


def test_request_split_across_many_writes(cluster: None, test_user: str) -> None:
    with pipe_session() as s:
        s.send_slowly(get(PING, "Accept: application/json", "User-Agent: slow"), 25, 0.01)
        s.read_until(has_complete_response)
        s.send_slowly(get_close(NOPE), 5, 0.01)
        out = s.finish()
    assert out.returncode == 0, out.stderr
    ping, missing = out.responses()
    assert ping.status == 200
    assert json.loads(ping.body)["pings"]
    assert_error_response(missing, 404, NOT_FOUND_TEXT)


def test_request_fed_one_byte_per_write(test_user: str) -> None:
    with pipe_session() as s:
        for byte in get_close(NOPE):
            s.send(bytes([byte]))
        out = s.finish()
    assert out.returncode == 0, out.stderr
    assert_error_response(only(out), 404, NOT_FOUND_TEXT)


def test_five_pipelined_requests_answered_in_order(cluster: None, test_user: str) -> None:
    data = (
        get(PING)
        + get(NOPE)
        + request("POST", PING, "Content-Length: 0")
        + get(PING, "Accept: text/html")
        + get(SPEC)
    )
    with pipe_session() as s:
        s.send(data)  # one write
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    responses = out.responses()
    assert [r.status for r in responses] == [200, 404, 405, 415, 200]
    assert b'"pings"' in responses[0].body
    assert responses[3].body == b"Accept content type is unknown"
    assert b'"openapi"' in responses[4].body


# -- Expect -------------------------------------------------------------------------------


def test_expect_100_continue(test_user: str) -> None:
    body = b'{"job": {}}'
    head = request("POST", PING, "Expect: 100-continue", "Content-Type: application/json",
                   f"Content-Length: {len(body)}", "Connection: close")
    with pipe_session() as s:
        s.send(head)  # headers only: the client waits for the interim response
        interim = s.read_until(lambda got: b"\r\n\r\n" in got)
        assert interim.startswith(b"HTTP/1.1 100 ")
        assert not has_complete_response(interim)
        s.send(body)
        out = s.finish()
    assert out.returncode == 0, out.stderr
    cont, final = out.responses()
    assert cont.status == 100
    assert cont.body == b""
    assert_error_response(final, 405)


def test_expect_100_continue_with_too_large_body_gets_413_and_no_100(test_user: str) -> None:
    head = request("POST", PING, "Expect: 100-continue", "Content-Length: 5000")
    with pipe_session(args=["--max-body-bytes", "1000"]) as s:
        s.send(head)
        out = s.finish()
    assert_error_response(only(out), 413)
    assert out.returncode != 0


def test_expect_other_than_100_continue_is_417(test_user: str) -> None:
    out = converse(request("POST", PING, "Expect: 200-ok", body=b"{}") + get(NOPE))
    resp = only(out)
    assert_error_response(resp, 417)
    assert resp.header("connection") == "close"
    assert_no_traceback(out.stderr)


# -- bodies -------------------------------------------------------------------------------


def test_chunked_body_is_decoded(test_user: str) -> None:
    """slurmrestd answers 406 to any chunked body. Here the body is decoded: the POST is
    routed (405: ping has no POST) and the request after it is read from the right
    place."""
    chunked = (
        b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\n{\"a\"\r\n5\r\n: 1}\n\r\n0\r\n\r\n"
    )
    out = converse(chunked + get(NOPE))
    assert out.returncode == 0, out.stderr
    post, missing = out.responses()
    assert_error_response(post, 405)
    assert_error_response(missing, 404, NOT_FOUND_TEXT)


@pytest.mark.parametrize("bad_body", [
    b"zz\r\nabc\r\n0\r\n\r\n",          # chunk size is not hex
    b"3\r\nabcdef\r\n0\r\n\r\n",         # chunk longer than announced
    b"3\r\nabc0\r\n\r\n",               # missing CRLF after the chunk data
])
def test_malformed_chunked_body_is_400(test_user: str, bad_body: bytes) -> None:
    head = (b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    out = converse(head + bad_body + get(NOPE))
    assert_error_response(only(out), 400)
    assert out.returncode == PROTOCOL_ERROR


@pytest.mark.parametrize("framing", [
    pytest.param(b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", id="length-first"),
    pytest.param(b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", id="chunked-first"),
])
def test_length_and_chunked_together_end_the_connection(test_user: str, framing: bytes) -> None:
    """RFC 9112 section 6.1: a request with both Content-Length and Transfer-Encoding may be
    rejected or read as chunked, but "regardless, the server MUST close the connection
    after responding" (the classic request-smuggling shape). The GET after it must not be
    served."""
    head = b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: localhost\r\n" + framing + b"\r\n"
    out = converse(head + b"0\r\n\r\n" + get(NOPE))
    resp = only(out)
    assert resp.status in (400, 405)
    assert resp.header("connection") == "close"


def test_post_without_length_is_411(test_user: str) -> None:
    """slurmrestd ignores the body and parses it as the next request."""
    out = converse(b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"
                   + get(NOPE))
    resp = only(out)
    assert_error_response(resp, 411)
    assert resp.header("connection") == "close"


def test_body_over_limit_with_content_length_is_413(test_user: str) -> None:
    out = converse(request("POST", PING, body=b"x" * 2000), "--max-body-bytes", "1000")
    assert_error_response(only(out), 413)


def test_body_at_limit_is_accepted(test_user: str) -> None:
    out = converse(request("POST", PING, body=b"x" * 1000) + get(NOPE),
                   "--max-body-bytes", "1000")
    assert out.returncode == 0, out.stderr
    post, missing = out.responses()
    assert_error_response(post, 405)
    assert_error_response(missing, 404)


def test_chunked_body_over_limit_is_413(test_user: str) -> None:
    head = (b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"200\r\n" + b"x" * 0x200 + b"\r\n"
    out = converse(head + chunk * 4 + b"0\r\n\r\n", "--max-body-bytes", "1000")
    assert_error_response(only(out), 413)


def test_header_block_over_limit_is_431(test_user: str) -> None:
    """slurmrestd buffers headers without bound."""
    out = converse(get(NOPE, "X-Filler: " + "a" * 3000), "--max-header-bytes", "1024")
    assert_error_response(only(out), 431)


def test_header_block_over_limit_sent_slowly_is_431(test_user: str) -> None:
    data = get(NOPE, *(f"X-Filler-{i}: {'b' * 100}" for i in range(30)))
    with pipe_session(args=["--max-header-bytes", "1024"]) as s:
        # the answer may come (and the program go) before we are done sending
        with contextlib.suppress(BrokenPipeError):
            s.send_slowly(data, 10, 0.01)
        out = s.finish()
    assert_error_response(only(out), 431)


def test_header_block_under_limit_is_served(test_user: str) -> None:
    out = converse(get(NOPE, "X-Filler: " + "a" * 500), "--max-header-bytes", "1024")
    assert out.returncode == 0, out.stderr
    assert_error_response(only(out), 404, NOT_FOUND_TEXT)


def test_get_with_body_is_400(test_user: str) -> None:
    out = converse(request("GET", PING, body=b"{}") + get(NOPE))
    first, second = out.responses()
    assert_error_response(first, 400, BODY_NOT_ALLOWED)
    assert_error_response(second, 404, NOT_FOUND_TEXT)


# -- garbage and truncation: slurmrestd answers with a status line and no body, or nothing ---


@pytest.mark.parametrize("garbage", [
    pytest.param(b"INVALID\r\n\r\n", id="word"),
    pytest.param(bytes(range(256)) * 4, id="binary"),
    pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, id="tls"),
    pytest.param(b"GET /nope HTTP/1.1\r\nHost: x\r\nX\x00Y: 1\r\n\r\n", id="nul-in-name"),
    pytest.param(b"GET /nope HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n", id="no-colon"),
    pytest.param(b"GET /nope HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                 id="negative-length"),
    pytest.param(b"GET /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                 b"Content-Length: 2\r\n\r\nab", id="two-lengths"),
])
def test_garbage_gets_a_complete_400(test_user: str, garbage: bytes) -> None:
    out = converse(garbage + get(NOPE))
    resp = only(out)
    assert_error_response(resp, 400)
    assert resp.header("connection") == "close"
    assert out.returncode == PROTOCOL_ERROR
    assert_no_traceback(out.stderr)


@pytest.mark.parametrize("truncated", [
    pytest.param(b"GET /slu", id="request-line"),
    pytest.param(b"GET /nope HTTP/1.1\r\nHost: x\r\n", id="headers"),
    pytest.param(b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
                 b"\r\nabc", id="body"),
    pytest.param(b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n5\r\nab", id="chunked-body"),
])
def test_request_truncated_by_eof_is_400_and_an_error_exit(test_user: str,
                                                           truncated: bytes) -> None:
    """slurmrestd exits 0 silently here; a cut request is an error."""
    out = converse(truncated)
    assert_error_response(only(out), 400)
    assert out.returncode == PROTOCOL_ERROR


def test_truncated_second_request_after_a_good_one(test_user: str) -> None:
    out = converse(get(NOPE) + b"GET /nope HTTP/1.1\r\nHo")
    first, second = out.responses()
    assert_error_response(first, 404, NOT_FOUND_TEXT)
    assert_error_response(second, 400)
    assert out.returncode == PROTOCOL_ERROR


def test_empty_input_is_a_clean_exit(test_user: str) -> None:
    out = converse(b"")
    assert out.returncode == 0, out.stderr
    assert out.output == b""


# -- timeouts: slurmrestd waits forever --------------------------------------------------------


def test_idle_timeout_is_408_and_a_clean_exit(test_user: str) -> None:
    with pipe_session(args=["--idle-timeout", "0.5"]) as s:
        out = s.finish(timeout=10)  # we keep the pipe open and say nothing
    assert out.returncode == 0, out.stderr
    resp = only(out)
    assert_error_response(resp, 408)
    assert resp.header("connection") == "close"
    assert any("408" in line and "idle" in line for line in out.log_lines())


def test_idle_timeout_after_a_request(test_user: str) -> None:
    with pipe_session(args=["--idle-timeout", "0.5"]) as s:
        s.send(get(NOPE))
        out = s.finish(timeout=10)
    assert out.returncode == 0, out.stderr
    first, second = out.responses()
    assert_error_response(first, 404, NOT_FOUND_TEXT)
    assert_error_response(second, 408)


def test_read_timeout_inside_a_request_is_408(test_user: str) -> None:
    with pipe_session(args=["--read-timeout", "0.5", "--idle-timeout", "30"]) as s:
        s.send(get(NOPE)[:12])
        out = s.finish(timeout=10)
    assert out.returncode == READ_TIMEOUT_EXIT, out.stderr
    resp = only(out)
    assert_error_response(resp, 408)
    assert any("408" in line and "read" in line for line in out.log_lines())


def test_read_timeout_inside_a_body_is_408(test_user: str) -> None:
    with pipe_session(args=["--read-timeout", "0.5"]) as s:
        s.send(request("POST", PING, "Content-Length: 100") + b"{")
        out = s.finish(timeout=10)
    assert out.returncode == READ_TIMEOUT_EXIT, out.stderr
    assert_error_response(only(out), 408)


def test_slow_but_steady_client_is_not_timed_out(test_user: str) -> None:
    """The read timeout is about silence: pauses shorter than it are fine."""
    with pipe_session(args=["--read-timeout", "0.5"]) as s:
        s.send_slowly(get_close(NOPE), 8, 0.15)  # 1.2 s in total
        out = s.finish()
    assert out.returncode == 0, out.stderr
    assert_error_response(only(out), 404, NOT_FOUND_TEXT)


def test_zero_timeouts_mean_no_timeout(test_user: str) -> None:
    """``--idle-timeout 0 --read-timeout 0``: wait for ever (0 is not "at once")."""
    whole = get(NOPE)
    with pipe_session(args=["--idle-timeout", "0", "--read-timeout", "0"]) as s:
        assert s.quiet_for(0.4)
        s.send(whole[:10])
        assert s.quiet_for(0.4)
        s.send(whole[10:])
        s.close_input()
        out = s.finish()
    assert out.returncode == 0, out.stderr
    assert_error_response(only(out), 404, NOT_FOUND_TEXT)


# -- the client goes away ----------------------------------------------------------------------


def test_client_closes_its_read_end_before_the_response(test_user: str) -> None:
    with pipe_session() as s:
        s.stop_reading()
        s.send(get(SPEC) + get(NOPE))
        s.close_input()
        code = s.proc.wait(timeout=10)
        err = (s.proc.stderr.read() if s.proc.stderr else b"").decode()
    assert code == CONNECTION_LOST, err
    assert_no_traceback(err)
    assert "connection lost" in err


def test_client_that_stops_reading_is_given_up_after_the_write_timeout(
    test_user: str,
) -> None:
    # 40 spec responses (~9 KB each) overflow the 64 KiB pipe while nobody reads
    with pipe_session(args=["--write-timeout", "0.5", "--idle-timeout", "0"]) as s:
        s.send(b"".join(get(SPEC) for _ in range(40)))
        started = time.monotonic()
        code = s.proc.wait(timeout=20)
        took = time.monotonic() - started
        err = (s.proc.stderr.read() if s.proc.stderr else b"").decode()
    assert code == CONNECTION_LOST, err
    assert "the client stopped reading" in err
    assert_no_traceback(err)
    assert took < 15
