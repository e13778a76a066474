from __future__ import annotations

import json

import pytest

from slurmrest_stdio import codec, errors


def test_json_matches_json_c_pretty_layout() -> None:
    data = {"meta": {"a": 1, "list": [], "obj": {}}, "errors": [], "s": "a/b", "n": None,
            "t": True, "f": False, "x": [1, {"y": "z"}]}
    assert codec.dump_json(data) == (
        '{\n  "meta": {\n    "a": 1,\n    "list": [\n    ],\n    "obj": {\n    }\n  },\n'
        '  "errors": [\n  ],\n  "s": "a\\/b",\n  "n": null,\n  "t": true,\n  "f": false,\n'
        '  "x": [\n    1,\n    {\n      "y": "z"\n    }\n  ]\n}'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0.0"), (1.0, "1.0"), (0.1, "0.10000000000000001"), (1e20, "1e+20"),
     (-2.5, "-2.5"), (float("nan"), "null"), (float("inf"), "null")],
)
def test_doubles_print_like_json_c(value: float, text: str) -> None:
    assert codec.dump_json(value) == text


def test_strings_escape_like_json_c() -> None:
    assert codec.dump_json('q"b\\s/\n\r\t\b\f\x01\x1f\x7fé') == (
        '"q\\"b\\\\s\\/\\n\\r\\t\\b\\f\\u0001\\u001f\x7fé"'
    )


def test_json_round_trips() -> None:
    data = {"k": ["a", 1, 2.5, None, {"z": [True]}], "é": "/"}
    assert json.loads(codec.dump_json(data)) == data


def test_yaml_round_trips_and_keeps_key_order() -> None:
    data = {"zeta": 1, "alpha": [1, "two"], "mid": {"b": None, "a": True}}
    text = codec.dump_yaml(data).decode()
    assert text.index("zeta") < text.index("alpha") < text.index("mid")
    assert codec.decode(text.encode(), "yaml") == data


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/x-yaml", "application/x-yaml"),
        ("text/yaml", "text/yaml"),
        ("application/yaml", "application/yaml"),
        ("text/html, application/x-yaml", "application/x-yaml"),
        ("application/json;q=0.5, application/x-yaml", "application/x-yaml"),
        ("application/x-yaml;q=0.2, application/json;q=0.9", "application/json"),
        ("application/json, application/x-yaml", "application/json"),
        ("application/x-yaml;q=0, */*;q=0.1", "application/json"),
        ("APPLICATION/JSON", "application/json"),
        ("application/*", "application/json"),
    ],
)
def test_negotiate_honours_q_values(accept: str | None, media: str) -> None:
    assert codec.negotiate(accept) == media


@pytest.mark.parametrize("accept", ["text/html", "application/json;q=0", "image/*", "a;q=x"])
def test_negotiate_415(accept: str) -> None:
    with pytest.raises(errors.UnsupportedMediaType) as info:
        codec.negotiate(accept)
    assert info.value.status == 415 and str(info.value) == "Accept content type is unknown"


def test_body_format() -> None:
    assert codec.body_format("application/json; charset=utf-8") == "json"
    assert codec.body_format("application/x-yaml") == "yaml"
    assert codec.body_format("text/plain") is None
    assert codec.body_format(None) is None


@pytest.mark.parametrize(("body", "fmt", "where"), [
    (b'{"a": 1,\n "b": }', "json", "line 2 column"),
    (b"\xff\xfe", "json", "UTF-8"),
    (b"a: [1, 2", "yaml", "YAML"),
])
def test_decode_errors_say_what_and_where(body: bytes, fmt: str, where: str) -> None:
    with pytest.raises(errors.BadRequest) as info:
        codec.decode(body, fmt)
    assert where in str(info.value) and info.value.status == 400


@pytest.mark.parametrize("body", [b'{"n": ' + b"9" * 5000 + b"}", b"[" * 100000])
def test_json_that_python_cannot_hold_is_a_bad_request(body: bytes) -> None:
    """Past the 4300-digit integer limit or the recursion limit json raises ValueError or
    RecursionError, not JSONDecodeError: still a 400, never an internal error."""
    with pytest.raises(errors.BadRequest):
        codec.decode(body, "json")
