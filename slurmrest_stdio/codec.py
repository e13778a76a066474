"""JSON and YAML bodies, and ``Accept`` / ``Content-Type`` negotiation.

Owns the byte format of every JSON and YAML body. JSON is written exactly as slurmrestd
writes it (json-c's pretty printer: two-space indent, ``"key": value``, ``/`` escaped as
``\\/``, an empty container still broken over two lines, no trailing newline), so a
byte-for-byte comparison with slurmrestd is possible. YAML is plain YAML 1.2 from
ruamel.yaml, imported only when a client asks for YAML.

Knows nothing of file descriptors, Slurm or routing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from slurmrest_stdio import errors

JSON = "application/json"
#: media types we produce, by name; the value is the encoder's key
MEDIA_TYPES: dict[str, str] = {
    "application/json": "json",
    "application/jsonrequest": "json",
    "application/x-yaml": "yaml",
    "application/yaml": "yaml",
    "text/yaml": "yaml",
}
#: what a wildcard resolves to, in order of preference
WILDCARDS: dict[str, str] = {"*/*": JSON, "application/*": JSON}


# -- negotiation ---------------------------------------------------------------------------

def negotiate(accept: str | None) -> str:
    """Pick the response media type for an ``Accept`` header value.

    No header means JSON. q-values are honoured (highest first, ties in header order);
    ``q=0`` excludes a type.

    Raises:
        errors.UnsupportedMediaType: nothing acceptable is a type we produce (415).
    """
    if accept is None or not accept.strip():
        return JSON
    choices: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0 or math.isnan(q):
                    q = 0.0
        if q <= 0.0:
            continue
        resolved = media if media in MEDIA_TYPES else WILDCARDS.get(media)
        if resolved is not None:
            choices.append((-q, index, resolved))
    if not choices:
        raise errors.UnsupportedMediaType()
    return min(choices)[2]


def body_format(content_type: str | None) -> str | None:
    """The decoder for a request ``Content-Type`` ('json', 'yaml') or None if unknown.

    Parameters such as ``; charset=utf-8`` are ignored.
    """
    if content_type is None:
        return None
    return MEDIA_TYPES.get(content_type.split(";", 1)[0].strip().lower())


# -- encoding --------------------------------------------------------------------------

def encode(data: Any, media_type: str) -> bytes:
    """Encode ``data`` for ``media_type`` (one of :data:`MEDIA_TYPES`)."""
    if MEDIA_TYPES[media_type] == "yaml":
        return dump_yaml(data)
    return dump_json(data).encode("utf-8")


_ESCAPES = {
    '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f",
    "\n": "\\n", "\r": "\\r", "\t": "\\t",
}


def _escape(text: str) -> str:
    out = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            # json-c would print nan/inf, which no JSON parser reads back
            return "null"
        # json-c prints "%.17g" and appends ".0" to integral values
        text = format(value, ".17g")
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(value, str):
        return _escape(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dump_json(data: Any) -> str:
    """Serialise like json-c's ``JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED``."""
    parts: list[str] = []
    _dump(data, 0, parts)
    return "".join(parts)


def _dump(value: Any, level: int, out: list[str]) -> None:
    if isinstance(value, Mapping):
        out.append("{\n")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",\n")
            first = False
            out.append("  " * (level + 1))
            out.append(_escape(str(key)))
            out.append(": ")
            _dump(item, level + 1, out)
        out.append("\n" if not first else "")
        out.append("  " * level + "}")
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        out.append("[\n")
        first = True
        for item in value:
            if not first:
                out.append(",\n")
            first = False
            out.append("  " * (level + 1))
            _dump(item, level + 1, out)
        out.append("\n" if not first else "")
        out.append("  " * level + "]")
    else:
        out.append(_scalar(value))


def dump_yaml(data: Any) -> bytes:
    """Plain block-style YAML 1.2 (ruamel.yaml is imported here, on first use only)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep slurmrestd's key order
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue().encode("utf-8")


# -- decoding --------------------------------------------------------------------------

def decode(body: bytes, fmt: str) -> Any:
    """Decode a request body in format ``fmt`` ('json' or 'yaml').

    Raises:
        errors.BadRequest: the body does not parse; the message says where.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.BadRequest(f"Unable to parse query: body is not UTF-8 ({exc})") from exc
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise errors.BadRequest(
                f"Unable to parse query: invalid JSON at line {exc.lineno} column {exc.colno}:"
                f" {exc.msg}"
            ) from exc
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, deep nesting
            raise errors.BadRequest(f"Unable to parse query: invalid JSON ({exc})") from exc
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise errors.BadRequest(f"Unable to parse query: invalid YAML: {exc}") from exc
