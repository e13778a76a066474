from __future__ import annotations

import pytest

from slurmrest_stdio import errors
from slurmrest_stdio.router import Router, parse_target


@pytest.mark.parametrize(
    ("target", "segments", "query"),
    [
        ("/slurm/v0.0.38/ping", ("slurm", "v0.0.38", "ping"), ""),
        ("/slurm/v0.0.38/ping/", ("slurm", "v0.0.38", "ping"), ""),
        ("//slurm///v0.0.38//ping", ("slurm", "v0.0.38", "ping"), ""),
        ("/slurm/./v0.0.38/ping", ("slurm", "v0.0.38", "ping"), ""),
        ("/slurm/v0.0.38/%70ing", ("slurm", "v0.0.38", "ping"), ""),
        ("http://localhost:6820/slurm/v0.0.38/ping?a=1", ("slurm", "v0.0.38", "ping"), "a=1"),
        ("http://localhost", (), ""),
        ("/jobs?update_time=1%2F2", ("jobs",), "update_time=1%2F2"),
        ("/slurm/v0.0.38/ping%2F", ("slurm", "v0.0.38", "ping/"), ""),
        ("/a/%80b", ("a", "\udc80b"), ""),
        ("/a/%C3%A9", ("a", "\u00e9"), ""),
        ("/", (), ""),
    ],
)
def test_parse_target_normalises(target: str, segments: tuple[str, ...], query: str) -> None:
    parsed = parse_target(target)
    assert (parsed.segments, parsed.query) == (segments, query)


@pytest.mark.parametrize(
    "target",
    ["/a/../b", "/a/%2e%2e/b", "/a b", "/a/%zz", "/a/%4", "/a/%00", "/a/%FF", "/a/%ff", "*",
     "/p!ng", "/p$ng", "/p&ng", "/p'ng", "/p(ng", "/p)ng", "/p*ng", "/p+ng", "/p,ng", "/p;ng",
     "/p=ng", "/p:ng", "/p@ng"],
)
def test_parse_target_rejects(target: str) -> None:
    with pytest.raises(errors.BadRequest):
        parse_target(target)


def make_router() -> Router:
    r = Router()
    r.add("GET", "/slurm/v0.0.38/job/{job_id}", "get_job")
    r.add("POST", "/slurm/v0.0.38/job/{job_id}", "update_job")
    r.add("POST", "/slurm/v0.0.38/job/submit", "submit")
    r.add("GET", "/slurm/v0.0.38/ping", "ping")
    return r


def test_match_captures_parameters() -> None:
    route, params = make_router().match("GET", ("slurm", "v0.0.38", "job", "42"))
    assert route.handler == "get_job" and params == {"job_id": "42"}


def test_literal_segment_beats_parameter() -> None:
    route, params = make_router().match("POST", ("slurm", "v0.0.38", "job", "submit"))
    assert route.handler == "submit" and params == {}


def test_get_on_literal_path_is_405_not_the_parameter_route() -> None:
    with pytest.raises(errors.MethodNotAllowed) as info:
        make_router().match("GET", ("slurm", "v0.0.38", "job", "submit"))
    assert info.value.allowed == ("POST",)


def test_head_uses_get_route() -> None:
    route, _ = make_router().match("HEAD", ("slurm", "v0.0.38", "ping"))
    assert route.handler == "ping"


def test_unknown_path_is_404_wrong_method_405() -> None:
    r = make_router()
    with pytest.raises(errors.NotFound):
        r.match("GET", ("slurm", "v0.0.38", "pong"))
    with pytest.raises(errors.MethodNotAllowed) as info:
        r.match("DELETE", ("slurm", "v0.0.38", "ping"))
    assert info.value.status == 405 and info.value.allowed == ("GET",)
