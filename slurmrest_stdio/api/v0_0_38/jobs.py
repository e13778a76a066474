"""``/slurm/v0.0.38/``: GET jobs, GET job/{job_id}.

The bodies are Slurm's own (``squeue --json`` or ``--yaml``, see ``backend.cli_jobs``), sent
as printed. What is decided here is what slurmrestd decides before and after it asks
slurmctld, so that the same request gets the same answer:

* ``?update_time=`` is read the way slurmrestd reads query values (a whole number, or a
  decimal rounded to one; anything else is 400) and answered with 304 when slurmctld says
  nothing changed since then.
* A ``{job_id}`` path segment first goes through slurmrestd's guessing of a value's type
  (``0011`` becomes ``11``, ``yes`` becomes ``true``, ``2.5`` becomes ``2``), then is read
  like Slurm reads a job id (``slurm_xlate_job_id``): a number, ``<job>_<task>`` for an
  array task, ``<job>+<offset>`` for a heterogeneous job component. What cannot name a
  job is 400 (ESLURM_REST_INVALID_JOBS_DESC) without asking Slurm; a job Slurm does not
  know is 500 (ESLURM_INVALID_JOB_ID) with an empty ``jobs`` list.

Numbers wrap like Slurm's C types do (a job id is unsigned 32-bit, an array task and a
component offset unsigned 16-bit, the parsed value a signed 64-bit long), so odd ids give
slurmrestd's answers too.

YAML is Slurm's own too when the backend can print it (:class:`SlurmYaml`): slurmrestd's
YAML says ``null`` for a string Slurm does not have, where its JSON says ``""``, so YAML
converted from the JSON would not be slurmrestd's data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl

from slurmrest_stdio import codec
from slurmrest_stdio.api import Context, Payload, Result, passthrough
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Response

PREFIX = "/slurm/v0.0.38"

#: Slurm's ESLURM_REST_INVALID_QUERY
INVALID_QUERY = SlurmError("Query empty or not RFC7320 compliant", 9000)
#: Slurm's ESLURM_REST_INVALID_JOBS_DESC: slurmrestd's answer to an id that names no job
INVALID_JOBS_DESC = SlurmError(
    "Jobs description entry not found, empty or not dictionary or list", 9002
)

# slurmrestd's value guessing (YAML 1.1 style): booleans, integers, decimals
_TRUE = re.compile(r"[Yy](?:|[eE][sS])|[tT](?:[rR][uU][eE]|)|[Oo][nN]")
_FALSE = re.compile(r"[nN](?:[Oo]|)|[fF](?:|[aA][lL][sS][eE])|[oO][fF][fF]")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?[0-9]*[.][0-9]*(?:|[eE][+-]?[0-9]+)")

LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1
#: what C's whitespace test (isspace) accepts, which strtol skips
_C_SPACE = " \t\n\v\f\r"


def _clamp_long(value: int) -> int:
    return max(LONG_MIN, min(LONG_MAX, value))


def _round_long(value: float) -> int:
    """C's lrint(): round half to even; out of range (or not finite) gives LONG_MIN, as
    on x86."""
    if not math.isfinite(value):
        return LONG_MIN
    rounded = round(value)
    return rounded if LONG_MIN <= rounded <= LONG_MAX else LONG_MIN


def guess_value(text: str) -> bool | int | float | str | None:
    """The typed value slurmrestd makes of a path segment or query value."""
    if text == "":
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT.fullmatch(text):
        return _clamp_long(int(text))
    if _FLOAT.fullmatch(text):
        try:
            return float(text)
        except ValueError:  # "-." and the like: a pattern match, but no number
            return text
    return text


def path_text(segment: str) -> str:
    """A path parameter as slurmrestd hands it to an operation: guessed, then written
    back as text (integers in decimal, decimals rounded to integers)."""
    value = guess_value(segment)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(_round_long(value))
    return str(value)


def printable(text: str) -> str:
    """``text`` safe to put in a JSON/YAML body (bytes that were not UTF-8 become U+FFFD)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# -- Slurm's documents ----------------------------------------------------------------------

@runtime_checkable
class SlurmYaml(Protocol):
    """What a backend offers when it can print slurmrestd's YAML itself (``squeue --yaml``,
    ``sinfo --yaml``): the same operations as ``jobs_json``/``nodes_json``, in YAML. A
    backend without them gets its JSON converted."""

    def jobs_yaml(self, who: Identity, job_id: str | None = None) -> bytes:
        """Raises: SlurmCommandError, as ``jobs_json``."""
        ...

    def nodes_yaml(self, who: Identity, node_name: str | None = None) -> bytes:
        """Raises: SlurmCommandError, as ``nodes_json``."""
        ...


def slurm_body(ctx: Context, kind: str, name: str | None = None) -> Response:
    """Slurm's own document of ``kind`` (``jobs`` or ``nodes``; one job or node when
    ``name`` is given) in the negotiated format.

    Raises:
        SlurmCommandError: Slurm refused or failed.
    """
    backend, who = ctx.backend, ctx.identity
    if codec.MEDIA_TYPES[ctx.media_type] == "yaml" and isinstance(backend, SlurmYaml):
        load = backend.jobs_yaml if kind == "jobs" else backend.nodes_yaml
        return Response(200, load(who, name), ctx.media_type)
    load = backend.jobs_json if kind == "jobs" else backend.nodes_json
    return passthrough(ctx, load(who, name))


# -- job ids ---------------------------------------------------------------------------------

def _strtol(text: str, start: int) -> tuple[int, int]:
    """C's strtol(text + start, &end, 10): (value clamped to a long, end index); with no
    digits, (0, start)."""
    i = start
    while i < len(text) and text[i] in _C_SPACE:
        i += 1
    sign = 1
    if i < len(text) and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    digits = i
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    if i == digits:
        return 0, start
    return _clamp_long(sign * int(text[digits:i])), i


@dataclass(frozen=True)
class ArrayTask:
    """``<job>_<task>``: the record of task ``task`` of array ``job``."""

    job: int
    task: int


def parse_job_id(text: str) -> int | ArrayTask:
    """Read a job id like Slurm's ``slurm_xlate_job_id``: the job number (0 when the text
    names no job), or the array task to look up."""
    value, end = _strtol(text, 0)
    job = value % 2**32
    rest = text[end:]
    if rest == "":
        return job
    if rest[0] in "_+":
        second, end2 = _strtol(rest, 1)
        if rest[end2:] != "":
            return 0
        if rest[0] == "_":
            return ArrayTask(job, second % 2**16)
        return (job + second % 2**16) % 2**32
    return 0


def _invalid_job(text: str) -> Payload:
    return Payload({}, 400, (SlurmError(
        INVALID_JOBS_DESC.error, INVALID_JOBS_DESC.error_number,
        f"Unable to find JobId={printable(text)}", "_handle_job_get",
    ).to_dict(),))


def _failed_job(text: str, exc: SlurmCommandError) -> Payload:
    # slurmrestd names the job as asked and blames the load, whatever went wrong there
    errs = [
        SlurmError(err.error, err.error_number, f"Unable to find JobId={printable(text)}",
                   "slurm_load_job")
        if err.source in ("slurm_load_job", "slurm_load_jobs") else err
        for err in exc.errors
    ]
    return Payload({"jobs": []}, exc.status, tuple(err.to_dict() for err in errs))


# -- update_time -----------------------------------------------------------------------------

def update_time(ctx: Context) -> int | None:
    """``?update_time=`` as slurmrestd reads it (the last one given): None when absent,
    else Unix seconds (a decimal is rounded, like slurmrestd does).

    Raises:
        SlurmCommandError: 400, the value is not a number.
    """
    pairs = parse_qsl(ctx.query_string, keep_blank_values=True, errors="surrogateescape")
    values = [value for name, value in pairs if name == "update_time"]
    if not values:
        return None
    value = guess_value(values[-1])
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SlurmCommandError([SlurmError(
            INVALID_QUERY.error, INVALID_QUERY.error_number,
            f"update_time must be Unix seconds, not {printable(values[-1])!r}", "update_time",
        )], status=400)
    return value if isinstance(value, int) else _round_long(value)


def collection(ctx: Context, kind: str) -> Result:
    """GET of a whole collection (``jobs``, ``nodes``): 304 when unchanged since
    ``update_time``, else Slurm's document; a failure is the envelope with its errors and
    an empty list, as slurmrestd answers."""
    try:
        since = update_time(ctx)
        if since is not None and not ctx.backend.changed_since(kind, since, ctx.identity):
            return Response(304)
        return slurm_body(ctx, kind)
    except SlurmCommandError as exc:
        return Payload({kind: []}, exc.status, tuple(e.to_dict() for e in exc.errors))


# -- handlers --------------------------------------------------------------------------------

def get_jobs(ctx: Context) -> Result:
    """``GET jobs``: every job the client may see (``update_time``: 304 when unchanged)."""
    return collection(ctx, "jobs")


def get_job(ctx: Context) -> Result:
    """``GET job/{job_id}``: one job (with its array tasks or heterogeneous components)."""
    text = path_text(ctx.params["job_id"])
    ref = parse_job_id(text)
    if isinstance(ref, ArrayTask):
        return _array_task(ctx, text, ref)
    if ref == 0:
        return _invalid_job(text)
    try:
        return slurm_body(ctx, "jobs", str(ref))
    except SlurmCommandError as exc:
        return _failed_job(text, exc)


def _array_task(ctx: Context, text: str, ref: ArrayTask) -> Result:
    # Slurm finds the task's own job id among the array's records; when that fails for any
    # reason, the id names no job (400). The array's records also answer for the task.
    if ref.job == 0:
        return _invalid_job(text)
    try:
        body = ctx.backend.jobs_json(ctx.identity, str(ref.job))
    except SlurmCommandError:
        return _invalid_job(text)
    doc = json.loads(body)
    record = next((job for job in doc["jobs"] if job.get("array_task_id") == ref.task), None)
    if record is None:
        return _invalid_job(text)
    if codec.MEDIA_TYPES[ctx.media_type] == "yaml" and isinstance(ctx.backend, SlurmYaml):
        try:
            return slurm_body(ctx, "jobs", str(record["job_id"]))
        except SlurmCommandError as exc:
            return _failed_job(text, exc)
    if record.get("job_id") != ref.job:
        # a task record that is not the array's own record stands alone
        doc["jobs"] = [record]
        body = codec.dump_json(doc).encode("utf-8")
    return passthrough(ctx, body)


ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = (
    ("GET", f"{PREFIX}/jobs", get_jobs),
    ("GET", f"{PREFIX}/job/{{job_id}}", get_job),
)
