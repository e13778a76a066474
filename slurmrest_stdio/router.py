"""Routes: a table of (method, path template, handler), and URL path normalisation.

Owns how a request target becomes a route and its path parameters. As in slurmrestd, a
path segment may hold only RFC 3986 unreserved characters and ``%xx`` escapes (``%00`` and
``%FF`` excepted); anything else, and ``..``, is 400 ``Unable to parse URL path.``. Empty
segments (``//``, a trailing ``/``) are dropped and an absolute URI is reduced to its path.
Escapes are decoded per segment, so ``%2F`` never splits one. ``.`` segments are resolved
(slurmrestd 22.05 gets most of them wrong: a deliberate difference). An unknown path is
404 and a known path with the wrong method 405, both raised as HTTPError.

Knows nothing of authentication, bodies or Slurm; handlers are opaque values here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slurmrest_stdio import errors

#: characters allowed in a path segment: RFC 3986 unreserved, and "%" for escapes
_SEGMENT_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%"
)
#: escapes slurmrestd refuses outright
_BAD_ESCAPES = ("%00", "%ff", "%FF", "%fF", "%Ff")
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Any
    #: the template split into segments; "{name}" segments capture one path segment
    segments: tuple[str, ...] = ()

    @classmethod
    def make(cls, method: str, template: str, handler: Any) -> Route:
        return cls(method, template, handler, tuple(s for s in template.split("/") if s))


@dataclass(frozen=True)
class Target:
    """A parsed request target: decoded path segments and the raw query string."""

    segments: tuple[str, ...]
    query: str

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)


def parse_target(target: str) -> Target:
    """Split a request target into normalised path segments and a query string.

    Raises:
        errors.BadRequest: the path has characters outside RFC 3986, a bad ``%`` escape,
            or a ``..`` segment.
    """
    if target == "*":
        raise errors.BadRequest("Unable to parse URL path.")
    if "://" in target.split("?", 1)[0]:  # absolute form: http://host[:port]/path
        after = target.split("://", 1)[1]
        slash = after.find("/")
        target = after[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("?")
    path = path.split("#", 1)[0]
    segments: list[str] = []
    for raw in path.split("/"):
        if not raw:
            continue
        if not _SEGMENT_CHARS.issuperset(raw) or not _valid_escapes(raw):
            raise errors.BadRequest("Unable to parse URL path.")
        if "%" in raw:
            if any(bad in raw for bad in _BAD_ESCAPES):
                raise errors.BadRequest("Unable to parse URL path.")
            # (imported here: most paths have no escapes, and urllib.parse costs ~2 ms)
            from urllib.parse import unquote_to_bytes

            # bytes that are not UTF-8 survive as surrogates: they match no route (404)
            seg = unquote_to_bytes(raw).decode("utf-8", "surrogateescape")
        else:
            seg = raw
        if seg == ".":
            continue
        if seg == "..":
            raise errors.BadRequest("Unable to parse URL path.")
        segments.append(seg)
    return Target(tuple(segments), query)


def _valid_escapes(raw: str) -> bool:
    i = raw.find("%")
    while i >= 0:
        if raw[i + 1 : i + 2] not in _HEX or raw[i + 2 : i + 3] not in _HEX:
            return False
        i = raw.find("%", i + 3)
    return True


class Router:
    """Match (method, segments) against a table of routes."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self.routes: list[Route] = list(routes)

    def add(self, method: str, template: str, handler: Any) -> None:
        self.routes.append(Route.make(method, template, handler))

    def match(self, method: str, segments: tuple[str, ...]) -> tuple[Route, dict[str, str]]:
        """Return the route for ``method`` at ``segments`` and its path parameters.

        ``HEAD`` matches a ``GET`` route. Literal segments win over ``{parameters}``
        (``job/submit`` before ``job/{job_id}``).

        Raises:
            errors.NotFound: no route has this path.
            errors.MethodNotAllowed: routes have this path, none with this method.
        """
        want = "GET" if method == "HEAD" else method
        found: list[tuple[int, Route, dict[str, str]]] = []
        for route in self.routes:
            params = _match_segments(route.segments, segments)
            if params is not None:
                literal = sum(1 for s in route.segments if not s.startswith("{"))
                found.append((literal, route, params))
        if not found:
            raise errors.NotFound()
        best = max(literal for literal, _, _ in found)
        allowed = [(route, params) for literal, route, params in found if literal == best]
        for route, params in allowed:
            if route.method == want:
                return route, params
        raise errors.MethodNotAllowed(tuple(sorted({r.method for r, _ in allowed})))


def _match_segments(template: tuple[str, ...], path: tuple[str, ...]) -> dict[str, str] | None:
    if len(template) != len(path):
        return None
    params: dict[str, str] = {}
    for want, got in zip(template, path, strict=True):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


Handler = Callable[..., Any]
