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
from dataclasses import dataclass

from slurmrest_stdio import codec
from slurmrest_stdio.api import Context, Payload, Result, passthrough, read_collection
from slurmrest_stdio.api.values import C_SPACE, clamp_long, path_text, printable
from slurmrest_stdio.backend.base import SlurmYaml
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Response

#: Slurm's ESLURM_REST_INVALID_QUERY
INVALID_QUERY = SlurmError("Query empty or not RFC7320 compliant", 9000)
#: Slurm's ESLURM_REST_INVALID_JOBS_DESC: slurmrestd's answer to an id that names no job
INVALID_JOBS_DESC = SlurmError(
    "Jobs description entry not found, empty or not dictionary or list", 9002
)

# -- Slurm's documents ----------------------------------------------------------------------

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
    while i < len(text) and text[i] in C_SPACE:
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
    return clamp_long(sign * int(text[digits:i])), i


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


# -- handlers --------------------------------------------------------------------------------

def get_jobs(ctx: Context) -> Result:
    """``GET jobs``: every job the client may see (``update_time``: 304 when unchanged)."""
    return read_collection(ctx, "jobs", lambda: slurm_body(ctx, "jobs"))


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
