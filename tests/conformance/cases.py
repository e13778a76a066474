"""The conformance table: request bytes that both programs must answer alike.

Each :class:`~tests.conformance.harness.Case` goes, byte for byte, to slurmrest-stdio and
to Debian's slurmrestd; ``test_cases.py`` compares statuses, media types and bodies. To
cover a new endpoint, add rows here (with ``mask=`` for volatile fields such as times and
job ids). Requests where we deliberately answer differently do not belong here: they are
tests in ``test_differences.py``, each naming its entry in ``differences.py``.
"""

from __future__ import annotations

from tests.conformance.harness import Case, Mode
from tests.helpers import OTHER_USER, request

PING = "/slurm/v0.0.38/ping"
NOPE = "/slurm/v0.0.38/nope"
SPEC_PATHS = ("/openapi", "/openapi.json", "/openapi.yaml", "/openapi/v3")


def get(path: str, *headers: str, version: str = "1.1") -> bytes:
    return request("GET", path, *headers, version=version)


def accept(value: str, path: str = PING) -> bytes:
    return get(path, f"Accept: {value}")


# -- GET ping and content negotiation ------------------------------------------------------

PING_CASES = [
    Case("ping", get(PING), (200,)),
    Case("ping_host_header", get(PING, "Host: localhost"), (200,)),
    Case("ping_query_ignored", get(PING + "?x=1"), (200,)),
    Case("ping_accept_any", accept("*/*"), (200,)),
    Case("ping_accept_json", accept("application/json"), (200,)),
    Case("ping_accept_json_upper_case", accept("APPLICATION/JSON"), (200,)),
    Case("ping_accept_json_charset", accept("application/json; charset=utf-8"), (200,)),
    Case("ping_accept_jsonrequest", accept("application/jsonrequest"), (200,)),
    Case("ping_accept_x_yaml", accept("application/x-yaml"), (200,)),
    Case("ping_accept_text_yaml", accept("text/yaml"), (200,)),
    Case("ping_accept_unsupported", accept("text/html"), (415,)),
    Case("ping_accept_unsupported_list", accept("text/html, image/png"), (415,)),
    # q-values where slurmrestd's broken sort cannot matter: one acceptable type, or
    # every acceptable entry resolving to the same type (see differences: qvalue_handling)
    Case("ping_q_json_alone", accept("application/json;q=0.5"), (200,)),
    Case("ping_q_yaml_alone", accept("text/yaml;q=0.5"), (200,)),
    Case("ping_q_json_after_unsupported", accept("text/html, application/json"), (200,)),
    Case("ping_q_yaml_after_unsupported", accept("text/html;q=0.9, text/yaml"), (200,)),
    Case("ping_q_any_alone", accept("*/*;q=0.8"), (200,)),
    Case("ping_q_any_after_unsupported", accept("text/html, */*"), (200,)),
    Case("ping_q_json_and_any", accept("application/json;q=0.9, */*;q=0.1"), (200,)),
]


# -- the OpenAPI paths: status and media type only (differences: spec_content) -------------

def _spec_cases() -> list[Case]:
    cases = []
    for path in SPEC_PATHS:
        slug = path.strip("/").replace("/", "_").replace(".", "_")
        variants: list[tuple[str, str | None]] = [
            ("no_accept", None), ("json", "application/json"), ("any", "*/*"),
            ("x_yaml", "application/x-yaml"), ("text_yaml", "text/yaml"),
        ]
        for label, value in variants:
            # .yaml answers YAML and .json answers JSON whatever Accept says: only the
            # combinations where that agrees with slurmrestd are conformance cases
            if path == "/openapi.yaml" and label != "x_yaml":
                continue  # differences: openapi_yaml_format
            if path == "/openapi.json" and label in ("x_yaml", "text_yaml"):
                continue  # differences: openapi_json_format
            data = get(path) if value is None else accept(value, path)
            cases.append(Case(f"spec_{slug}_{label}", data, (200,), mode=Mode.STATUS,
                              differences=("spec_content",)))
        cases.append(Case(f"spec_{slug}_accept_unsupported", accept("text/html", path),
                          (415,)))
    return cases


SPEC_CASES = _spec_cases()


# -- authentication: a pipe owned by someone else is 401, before anything else -----------

def _unauth(name: str, data: bytes) -> Case:
    return Case(f"unauthenticated_{name}", data, (401,), pipe_owner=OTHER_USER)


AUTH_CASES = [
    _unauth("ping", get(PING)),
    _unauth("unknown_path", get(NOPE)),
    _unauth("root", get("/")),
    _unauth("spec", get("/openapi/v3")),
    _unauth("wrong_method", request("DELETE", PING)),
    _unauth("unsupported_accept", accept("text/html")),
    _unauth("body_on_get", request("GET", PING, body=b"{}")),
    _unauth("bad_path", get("/slurm/v0.0.38/../ping")),
]


# -- routing errors ----------------------------------------------------------------------

ERROR_CASES = [
    Case("not_found", get(NOPE), (404,)),
    Case("not_found_root", get("/"), (404,)),
    Case("not_found_case_sensitive", get("/slurm/v0.0.38/PING"), (404,)),
    Case("not_found_extra_segment", get(PING + "/foo"), (404,)),
    Case("not_found_before_accept", get(NOPE, "Accept: text/html"), (404,)),
    Case("method_post", request("POST", PING, "Content-Length: 0"), (405,)),
    Case("method_post_json_body",
         request("POST", PING, "Content-Type: application/json", body=b"{}"), (405,)),
    Case("method_delete", request("DELETE", PING), (405,)),
    Case("method_put_with_length", request("PUT", PING, "Content-Length: 0"), (405,)),
    Case("method_delete_spec", request("DELETE", "/openapi/v3"), (405,)),
    Case("method_before_accept",
         request("POST", PING, "Accept: text/html", "Content-Length: 0"), (405,)),
    Case("body_on_get", request("GET", PING, body=b"{}"), (400,)),
    Case("body_on_get_yaml", request("GET", PING, "Content-Type: application/x-yaml",
                                     body=b"a: 1\n"), (400,)),
    # slurmrestd routes and negotiates before it looks at the body
    Case("body_on_get_unknown_path", request("GET", NOPE, body=b"{}"), (404,)),
    Case("body_on_delete", request("DELETE", PING, body=b"{}"), (405,)),
    Case("body_on_get_unsupported_accept",
         request("GET", PING, "Accept: text/html", body=b"{}"), (415,)),
    # a body we cannot read: both say 400 (ours names the type, so only status and type)
    *[Case(f"body_unknown_content_type_{kind}",
           request("POST", "/slurm/v0.0.38/job/submit", f"Content-Type: {kind}/x",
                   body=b'{"script": "#!/bin/sh\\n"}'), (400,), mode=Mode.STATUS)
      for kind in ("text", "application")],
]


# -- URL path normalisation --------------------------------------------------------------

PATH_CASES = [
    Case("path_trailing_slash", get(PING + "/"), (200,)),
    Case("path_double_slashes", get("//slurm//v0.0.38///ping"), (200,)),
    Case("path_escape", get("/slurm/v0.0.38/%70ing"), (200,)),
    Case("path_escapes", get("/slurm/v0.0.38/%70%69ng"), (200,)),
    Case("path_escape_lower_case_hex", get("/slurm/v0%2e0%2e38/ping"), (200,)),
    Case("path_absolute_uri", get("http://localhost" + PING), (200,)),
    Case("path_absolute_uri_port", get("http://localhost:6820" + PING), (200,)),
    Case("path_fragment", get(PING + "#frag"), (200,)),
    Case("path_trailing_dot", get(PING + "/."), (200,)),
    Case("path_trailing_escaped_dot", get(PING + "/%2e"), (200,)),
    Case("path_dot_dot", get("/slurm/v0.0.38/../v0.0.38/ping"), (400,)),
    Case("path_trailing_dot_dot", get(PING + "/.."), (400,)),
    Case("path_asterisk", get("*"), (400,)),
    Case("path_bad_escape", get(PING + "%zz"), (400,)),
    Case("path_escaped_nul", get(PING + "%00"), (400,)),
    Case("path_escaped_space", get(PING + "%20"), (404,)),
    Case("path_tilde", get("/slurm/v0.0.38/p~ng"), (404,)),
    Case("path_escaped_utf8", get("/slurm/v0.0.38/p%C3%A9ng"), (404,)),
    # slurmrestd 22.05 allows only unreserved characters and %XX in a path: RFC 3986's
    # sub-delims, ':' and '@' are 400 there (the path_char_* cases below)
    # an escaped byte that is not UTF-8 is just an unknown path; only %00 and %FF are 400
    Case("path_escaped_non_utf8", get("/slurm/v0.0.38/%80ping"), (404,)),
    Case("path_escaped_ff", get("/slurm/v0.0.38/%FFping"), (400,)),
    # %2F is part of the segment, not a separator: an unknown path, not a bad one
    Case("path_escaped_slash", get(PING + "%2F"), (404,)),
    Case("path_escaped_slash_inside", get("/slurm/v0.0.38%2Fping"), (404,)),
]


_RESERVED = {"!": "bang", "$": "dollar", "&": "ampersand", "'": "quote", "(": "paren",
             ")": "close_paren", "*": "star", "+": "plus", ",": "comma", ";": "semicolon",
             "=": "equals", ":": "colon", "@": "at"}
PATH_CASES += [
    Case(f"path_char_{name}", get(f"/slurm/v0.0.38/p{char}ng"), (400,))
    for char, name in _RESERVED.items()
]


# -- connections: keep-alive, pipelining, HTTP/1.0, Connection: close ---------------------

CONNECTION_CASES = [
    Case("keep_alive_three", get(PING) + accept("text/yaml") + accept("*/*"), (200, 200, 200)),
    Case("keep_alive_spec_then_ping", accept("application/json", "/openapi/v3") + get(PING),
         (200, 200), mode=Mode.STATUS, differences=("spec_content",)),
    Case("keep_alive_error_last", get(PING) + accept("text/yaml") + request("DELETE", PING),
         (200, 200, 405)),
    Case("keep_alive_not_found_last", get(PING) + get(NOPE), (200, 404)),
    Case("keep_alive_close_last", get(PING) + get(PING, "Connection: close"), (200, 200),
         differences=("stray_connection_close",)),
    Case("connection_close", get(PING, "Connection: close"), (200,),
         differences=("stray_connection_close",)),
    Case("http10", get(PING, version="1.0"), (200,),
         differences=("stray_connection_close", "response_http_version")),
    Case("http10_yaml", get(PING, "Accept: text/yaml", version="1.0"), (200,),
         differences=("stray_connection_close", "response_http_version")),
    Case("http10_not_found", get(NOPE, version="1.0"), (404,),
         differences=("response_http_version",)),
]


CASES: list[Case] = [
    *PING_CASES, *SPEC_CASES, *AUTH_CASES, *ERROR_CASES, *PATH_CASES, *CONNECTION_CASES,
]
