"""Send the same request bytes to slurmrest-stdio and to Debian's slurmrestd; compare.

Both programs run the way a user runs them in inetd mode: as an unprivileged user, with a
pipe on stdin that the user owns (created while acting as that user) and stdout a pipe we
read. slurmrestd gets ``-a rest_auth/local`` and a minimal environment (PATH, SLURM_CONF
if set; never SLURM_JWT).

Our output is parsed strictly (:func:`tests.helpers.parse_responses`): every byte must
belong to a well-formed response. slurmrestd's output is parsed tolerantly by
:func:`parse_tolerant`, which records each quirk it steps over under the name of the
deliberate difference it belongs to (see ``differences.py``), so a test can require or
forbid it.

A :class:`Case` is one row of the table in ``cases.py``: request bytes, the statuses
expected from both, and how bodies are compared (:class:`Mode`), with optional masks for
volatile fields.
"""

from __future__ import annotations

import contextlib
import enum
import io
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.conformance.differences import ref
from tests.helpers import (
    TEST_USER,
    ParsedResponse,
    acting_as,
    base_env,
    parse_responses,
    program,
    user,
)

SLURMRESTD = "/usr/sbin/slurmrestd"
#: no single exchange in these tests should take long; a hang is a failure, not a wait
TIMEOUT = 60.0
MASKED = "<masked>"


class Program(enum.Enum):
    OURS = "slurmrest-stdio"
    THEIRS = "slurmrestd"


# -- running one program ------------------------------------------------------------------

@dataclass
class Conversation:
    """What one program did with one input stream."""

    program: Program
    request: bytes
    returncode: int
    raw: bytes
    stderr: bytes
    responses: list[ParsedResponse]
    #: names of deliberate differences met while parsing slurmrestd's output
    quirks: list[str] = field(default_factory=list)

    @property
    def statuses(self) -> list[int]:
        return [r.status for r in self.responses]

    def describe(self) -> str:
        """A short account for assertion messages."""
        err = self.stderr.decode("utf-8", "replace").strip().splitlines()[-6:]
        return (
            f"{self.program.value}: exit {self.returncode}, statuses {self.statuses}, "
            f"quirks {self.quirks}\n  output: {self.raw[:400]!r}"
            f"{'...' if len(self.raw) > 400 else ''}\n  stderr: " + "\n          ".join(err)
        )


def _argv_env(prog: Program, as_user: str,
              extra: Sequence[tuple[str, str]] = ()) -> tuple[list[str], dict[str, str]]:
    u = user(as_user)
    if prog is Program.THEIRS:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if "SLURM_CONF" in os.environ:
            env["SLURM_CONF"] = os.environ["SLURM_CONF"]
        return [SLURMRESTD, "-a", "rest_auth/local"], {**env, **dict(extra)}
    return [program()], {**base_env(), "HOME": u.home, "USER": u.name, **dict(extra)}


class Running:
    """A started program: its stdin pipe is being fed by a thread (large request bodies
    cannot deadlock against a program that answers before reading everything)."""

    def __init__(self, prog: Program, data: bytes, as_user: str, pipe_owner: str,
                 env: Sequence[tuple[str, str]] = ()) -> None:
        self.program = prog
        self.data = data
        argv, env_ = _argv_env(prog, as_user, env)
        assert "SLURM_JWT" not in env_
        u = user(as_user)
        # the pipe belongs to whoever creates it: that is what rest_auth/local checks
        with acting_as(user(pipe_owner)):
            read_end, self._write_end = os.pipe()
        try:
            self.proc = subprocess.Popen(
                argv, stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=env_, user=u.uid, group=u.gid, extra_groups=[], cwd="/",
            )
        except BaseException:
            os.close(self._write_end)
            raise
        finally:
            os.close(read_end)
        self._writer = threading.Thread(target=self._feed, daemon=True)
        self._writer.start()

    def _feed(self) -> None:
        view = memoryview(self.data)
        with contextlib.suppress(BrokenPipeError):
            while view:
                view = view[os.write(self._write_end, view):]
        os.close(self._write_end)

    def finish(self) -> Conversation:
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(
                f"{self.program.value} did not finish within {TIMEOUT}s; output {out[:300]!r}"
            ) from None
        finally:
            self._writer.join(TIMEOUT)
        quirks: list[str] = []
        if self.program is Program.OURS:
            try:
                responses = parse_responses(out, strict=True)
            except AssertionError as exc:
                raise AssertionError(
                    f"slurmrest-stdio wrote malformed HTTP: {exc}\n  output: {out[:600]!r}\n"
                    f"  stderr: {err.decode('utf-8', 'replace')[-800:]}"
                ) from None
        else:
            responses, quirks = parse_tolerant(out)
        return Conversation(self.program, self.data, self.proc.returncode, out, err,
                            responses, quirks)


def start(prog: Program, request: bytes, as_user: str = TEST_USER,
          pipe_owner: str | None = None, env: Sequence[tuple[str, str]] = ()) -> Running:
    """Start ``prog`` as ``as_user`` with ``request`` on a pipe owned by ``pipe_owner``
    (default: ``as_user``), ``env`` added to its environment. Call
    :meth:`Running.finish` for the result."""
    return Running(prog, request, as_user, pipe_owner or as_user, env)


def converse(prog: Program, request: bytes, as_user: str = TEST_USER,
             pipe_owner: str | None = None) -> Conversation:
    """Run ``prog`` on ``request`` to the end; the whole conversation."""
    return start(prog, request, as_user, pipe_owner).finish()


def exchange(prog: Program, request: bytes, as_user: str = TEST_USER,
             pipe_owner: str | None = None) -> list[ParsedResponse]:
    """The responses ``prog`` gives to the request bytes ``request`` (one or more pipelined
    requests), sent by ``as_user`` through a pipe owned by ``pipe_owner``.

    Raises:
        AssertionError: slurmrest-stdio wrote malformed HTTP, or a program hung.
    """
    return converse(prog, request, as_user, pipe_owner).responses


def converse_both(request: bytes, as_user: str = TEST_USER, pipe_owner: str | None = None,
                  env: Sequence[tuple[str, str]] = ()) -> tuple[Conversation, Conversation]:
    """(ours, theirs) for the same bytes; both programs run at the same time."""
    ours = start(Program.OURS, request, as_user, pipe_owner, env)
    theirs = start(Program.THEIRS, request, as_user, pipe_owner, env)
    return ours.finish(), theirs.finish()


# -- slurmrestd's output, read tolerantly ------------------------------------------------

_STATUS = re.compile(rb"HTTP/(1\.[01]) (\d{3})(?: ([^\r\n]*))?\r\n")
_STRAY_CLOSE = b"Connection: Close\r\n"


def parse_tolerant(raw: bytes) -> tuple[list[ParsedResponse], list[str]]:
    """Split slurmrestd's output into responses, stepping over its known quirks.

    Returns the responses and the quirks met: ``stray_connection_close`` (a bare
    ``Connection: Close`` line after a body), ``malformed_error_responses`` (a status line
    and headers, then the end of the output or the next status line, with no blank line),
    or ``unparsed: ...`` for anything else (the test then fails, showing what was left).
    """
    out: list[ParsedResponse] = []
    quirks: list[str] = []
    pos = 0
    while pos < len(raw):
        if out and raw.startswith(_STRAY_CLOSE, pos):
            quirks.append(ref("stray_connection_close"))
            pos += len(_STRAY_CLOSE)
            continue
        m = _STATUS.match(raw, pos)
        if not m:
            quirks.append(f"unparsed: {raw[pos:pos + 80]!r}")
            break
        pos = m.end()
        headers: list[tuple[str, str]] = []
        terminated = False
        while pos < len(raw):
            if raw.startswith(b"\r\n", pos):
                pos += 2
                terminated = True
                break
            if _STATUS.match(raw, pos):
                break
            eol = raw.find(b"\r\n", pos)
            if eol < 0:
                quirks.append(f"unparsed: {raw[pos:pos + 80]!r}")
                pos = len(raw)
                break
            name, sep, value = raw[pos:eol].partition(b":")
            if not sep:
                quirks.append(f"unparsed: {raw[pos:pos + 80]!r}")
                pos = len(raw)
                break
            headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
            pos = eol + 2
        length = 0
        if terminated:
            length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        else:
            quirks.append(ref("malformed_error_responses"))
        body = raw[pos:pos + length]
        if len(body) < length:
            quirks.append(f"unparsed: body cut short, {len(body)} of {length} bytes")
        pos += len(body)
        out.append(ParsedResponse(m.group(1).decode(), int(m.group(2)),
                                  (m.group(3) or b"").decode("latin-1"), headers, body))
    return out, quirks


# -- comparing --------------------------------------------------------------------------

def media_type(resp: ParsedResponse) -> str | None:
    """The Content-Type's media type, lower case, without parameters."""
    ct = resp.content_type
    return None if ct is None else ct.split(";", 1)[0].strip().lower()


def is_yaml(media: str | None) -> bool:
    return media is not None and "yaml" in media


def is_json(media: str | None) -> bool:
    return media is not None and media.startswith("application/json")


class Mode(enum.Enum):
    """How the bodies of two responses are compared (status and media type always are)."""

    #: JSON and text: the same bytes (with masks: the same JSON data, key order included);
    #: YAML: the same data (slurmrestd's YAML has tags, ours does not: ``yaml_tags``)
    BODY = "body"
    #: parse JSON/YAML and compare the data (key order included); text: the same bytes
    DATA = "data"
    #: status and media type only (documents that legitimately differ, such as the spec)
    STATUS = "status"


def load_body(resp: ParsedResponse) -> Any:
    """Parse a JSON or YAML body (ruamel's safe loader reads slurmrestd's tagged YAML)."""
    media = media_type(resp)
    text = resp.body.decode("utf-8")
    if is_yaml(media):
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(io.StringIO(text))
    if is_json(media):
        return json.loads(text)
    raise AssertionError(f"not a JSON or YAML body: {media}")


def ordered(value: Any) -> Any:
    """Make dict key order significant in ``==`` (slurmrestd's order is part of the API
    as far as byte-comparing clients are concerned)."""
    if isinstance(value, dict):
        return ("{}", [(k, ordered(v)) for k, v in value.items()])
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def mask(value: Any, paths: Iterable[str]) -> Any:
    """A copy of ``value`` with every field named by ``paths`` replaced by ``MASKED``.

    A path is dotted keys from the top; ``*`` stands for every item of a list or every
    value of a mapping: ``"jobs.*.submit_time"``, ``"meta.Slurm.release"``. A path that
    names nothing masks nothing (an empty list has no volatile fields).
    """
    for path in paths:
        value = _mask_one(value, path.split("."))
    return value


def _mask_one(value: Any, keys: Sequence[str]) -> Any:
    if not keys:
        return MASKED
    head, rest = keys[0], keys[1:]
    if isinstance(value, dict):
        if head == "*":
            return {k: _mask_one(v, rest) for k, v in value.items()}
        if head in value:
            return {k: (_mask_one(v, rest) if k == head else v) for k, v in value.items()}
        return value
    if isinstance(value, list) and head == "*":
        return [_mask_one(v, rest) for v in value]
    return value


@dataclass(frozen=True)
class Case:
    """One row of the conformance table: the same bytes to both programs."""

    name: str
    request: bytes
    #: the statuses both programs must give, in order (one per pipelined request); a case
    #: where both fail the same way must not pass as "conformant"
    expect: tuple[int, ...]
    mode: Mode = Mode.BODY
    #: volatile fields, masked in both bodies before comparing (see :func:`mask`)
    mask: tuple[str, ...] = ()
    as_user: str = TEST_USER
    #: who owns the stdin pipe (None: ``as_user``); another user's pipe means 401
    pipe_owner: str | None = None
    #: deliberate differences this case meets and tolerates (names from differences.py);
    #: quirks of slurmrestd's output must be listed here, and listed ones must occur
    differences: tuple[str, ...] = ()
    #: added to both programs' environment (e.g. SLURM_CONF of a test configuration)
    env: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name in self.differences:
            ref(name)

    @property
    def id(self) -> str:
        return self.name


#: compared nowhere, by design (each entry says why)
NOT_COMPARED = (ref("reason_phrases"), ref("response_http_version"), ref("extra_headers"))
#: quirks of slurmrestd's output that a case may tolerate by naming them
QUIRKS = (ref("stray_connection_close"), ref("malformed_error_responses"))


def compare_bodies(ours: ParsedResponse, theirs: ParsedResponse, mode: Mode,
                   masks: Sequence[str] = (), where: str = "") -> None:
    """Assert the bodies agree under ``mode`` (media types are already known equal)."""
    if mode is Mode.STATUS:
        return
    media = media_type(ours)
    structured = is_json(media) or is_yaml(media)
    if structured and (mode is Mode.DATA or masks or is_yaml(media)):
        if is_yaml(media):
            ref("yaml_tags")  # the text differs by design; the data must not
        mine, yours = (ordered(mask(load_body(r), masks)) for r in (ours, theirs))
        assert mine == yours, (
            f"{where}: {media} data differs\n  ours:   {ours.body[:600]!r}\n"
            f"  theirs: {theirs.body[:600]!r}"
        )
        return
    assert ours.body == theirs.body, (
        f"{where}: {media} body differs\n  ours:   {ours.body[:600]!r}\n"
        f"  theirs: {theirs.body[:600]!r}"
    )


def compare(case: Case, ours: Conversation, theirs: Conversation) -> None:
    """Assert that both programs answered ``case`` alike: the expected statuses, the same
    media types, bodies agreeing under ``case.mode``; slurmrestd's quirks exactly those
    the case names. Reason phrases, the response's HTTP version and headers other than
    Content-Type are not compared (:data:`NOT_COMPARED`)."""
    context = f"case {case.name}\n{ours.describe()}\n{theirs.describe()}"
    unexpected = [q for q in theirs.quirks if q not in case.differences]
    assert not unexpected, f"slurmrestd output not understood / not tolerated: {context}"
    for quirk in QUIRKS:
        if quirk in case.differences:
            assert quirk in theirs.quirks, f"expected slurmrestd quirk {quirk!r}: {context}"
    assert theirs.statuses == list(case.expect), f"slurmrestd statuses changed: {context}"
    assert ours.statuses == theirs.statuses, f"statuses differ: {context}"
    for i, (mine, yours) in enumerate(zip(ours.responses, theirs.responses, strict=True)):
        where = f"{case.name} response {i + 1}"
        assert media_type(mine) == media_type(yours), (
            f"{where}: media type {media_type(mine)} != {media_type(yours)}: {context}"
        )
        compare_bodies(mine, yours, case.mode, case.mask, where)


def run_case(case: Case) -> tuple[Conversation, Conversation]:
    """Run ``case`` through both programs and :func:`compare`; return (ours, theirs)."""
    ours, theirs = converse_both(case.request, case.as_user, case.pipe_owner, case.env)
    compare(case, ours, theirs)
    return ours, theirs
