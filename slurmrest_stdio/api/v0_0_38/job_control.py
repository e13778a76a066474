"""``/slurm/v0.0.38/``: POST job/{job_id} (update), DELETE job/{job_id} (signal, cancel).

An update is one ``scontrol update JobId=<id> Key=value ...`` with a setting for every
property given (``job_properties``); a property Slurm cannot change on a submitted job is
refused (400, by name) instead of being dropped. ``hold: true`` is ``Priority=0`` (a user
hold, what slurmrestd sends); ``hold: false`` is a release (``scontrol release``).

A signal or a cancel is ``scancel``: without ``?signal=`` (or with KILL) the job is
cancelled, another signal goes to every step of the job, batch script included, as
slurmrestd does it (``--full``). The signal is read like slurmrestd reads it (a name with
or without SIG, or a number 1-63); a job that has already ended is not an error.

The ``{job_id}`` segment is first read the way slurmrestd reads path values (shared with
GET job/{job_id}), then it must look like a job id -- ``<id>``, ``<id>_<task>``,
``<id>_[<tasks>]``, ``<id>+<offset>`` -- before it is handed to a Slurm command (as one
``JobId=`` item for scontrol, or a positional item that can only start with a digit for
scancel). Anything else names no job: slurmrestd's 500 "Invalid job id specified", with
no command run.
"""

from __future__ import annotations

import re

from slurmrest_stdio.api import ESLURM_REST_FAIL_PARSING, Context, Payload, Result, validate
from slurmrest_stdio.api.values import guess_value, path_text, printable
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

SCHEMA = "v0.0.38_job_properties"

INVALID_JOB_ID = SlurmError("Invalid job id specified", 2017)
INVALID_QUERY = SlurmError("Query empty or not RFC7320 compliant", 9000)
INVALID_JOBS_DESC = SlurmError(
    "Jobs description entry not found, empty or not dictionary or list", 9002
)
FAIL_PARSING = SlurmError("Failure during parsing", ESLURM_REST_FAIL_PARSING)
UPDATE_SOURCE = "_parse_job_list"
KILL_SOURCE = "slurm_kill_job"

SIGKILL = 9
#: signals 1 .. SIGRTMAX - 1 can be sent (Linux)
SIGRTMAX = 64
#: signal names Slurm knows (its sig_name2num table), with their Linux numbers
SIGNALS: dict[str, int] = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ABRT": 6, "KILL": 9, "ALRM": 14, "TERM": 15,
    "USR1": 10, "USR2": 12, "URG": 23, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21,
    "TTOU": 22, "XCPU": 24,
}
_C_SPACE = " \t\n\v\f\r"
#: the job ids we hand to Slurm; the number itself is checked to fit in 32 bits (a
#: pattern string: the re module compiles it on first use, not at start-up)
_JOB_ID = r"([0-9]{1,10})(?:_[0-9]{1,10}|_\[[0-9,\-]{1,200}\]|\+[0-9]{1,10})?"
_MAX_JOB_ID = 0xFFFFFFFD


def job_id_text(ctx: Context) -> tuple[str, bool]:
    """The ``{job_id}`` as slurmrestd hands it on, and whether it can name a job."""
    text = path_text(ctx.params["job_id"])
    m = re.fullmatch(_JOB_ID, text)
    return text, m is not None and 0 < int(m[1]) <= _MAX_JOB_ID


# -- POST: update ----------------------------------------------------------------------------

def post_update(ctx: Context) -> Result:
    """``POST job/{job_id}``: change the job's properties (scontrol update / release)."""
    from slurmrest_stdio.api.v0_0_38 import job_properties as jp  # POST only: lazily

    data = ctx.body_data() if ctx.request.body else {}
    if not isinstance(data, dict):
        raise SlurmCommandError([SlurmError(
            INVALID_JOBS_DESC.error, INVALID_JOBS_DESC.error_number,
            "the body must be one object of job properties", UPDATE_SOURCE,
        )], status=400)
    problems = jp.Problems()
    for name in data:
        if name not in jp.PROPERTIES:
            problems.add(name, "unknown property")
    if not problems and ctx.plugin is not None:
        problems.extend(validate(data, SCHEMA, ctx.plugin))
    settings = [] if problems else jp.update_settings(data, "", problems)
    if problems:
        raise SlurmCommandError([
            SlurmError(FAIL_PARSING.error, FAIL_PARSING.error_number, text, "request body")
            for text in problems
        ], status=400)
    text, valid = job_id_text(ctx)
    if not valid:
        raise SlurmCommandError([SlurmError(
            INVALID_JOB_ID.error, INVALID_JOB_ID.error_number,
            f"job update of JobId={printable(text)} failed", UPDATE_SOURCE,
        )])
    if settings:
        ctx.backend.update_job(ctx.identity, text, settings)
    return Payload({})


# -- DELETE: signal / cancel --------------------------------------------------------------------

def signal_number(text: str) -> int:
    """Slurm's reading of a signal text (sig_name2num): a number (blanks after it allowed),
    or a name with or without SIG in any case; 0 when it is neither."""
    stripped = text.lstrip(_C_SPACE)
    m = re.match(r"[+-]?[0-9]+", stripped)
    if m:
        if stripped[m.end():].strip(_C_SPACE):
            return 0
        return _c_int(int(m[0]))
    name = stripped.upper()
    if name.startswith("SIG"):
        name = name[3:]
    for known, number in SIGNALS.items():
        if name.startswith(known) and not name[len(known):].strip(_C_SPACE):
            return number
    return 0


def _c_int(value: int) -> int:
    """A long as C's (int) cast leaves it."""
    value = max(-(2**63), min(2**63 - 1, value))
    return (value + 2**31) % 2**32 - 2**31


def requested_signal(ctx: Context) -> int:
    """The signal ``?signal=`` asks for (KILL when absent or empty).

    Raises:
        SlurmCommandError: 400, not a signal Slurm can send.
    """
    raw = ctx.query_value("signal")
    if raw is None:
        return SIGKILL
    value = guess_value(raw)
    if value is None:
        return SIGKILL
    if isinstance(value, int) and not isinstance(value, bool):
        number = _c_int(value)
    elif isinstance(value, str):
        number = signal_number(value)
    else:
        number = 0  # true/false and decimals are no signal
    if not 1 <= number < SIGRTMAX:
        shown: object = printable(raw) if isinstance(value, bool | float) else number
        raise SlurmCommandError([SlurmError(
            INVALID_QUERY.error, INVALID_QUERY.error_number, f"invalid signal: {shown}",
            "HTTP request: signal",
        )], status=400)
    return number


def delete_job(ctx: Context) -> Result:
    """``DELETE job/{job_id}``: cancel the job, or send it ``?signal=``."""
    number = requested_signal(ctx)
    text, valid = job_id_text(ctx)
    if not valid:
        raise SlurmCommandError([SlurmError(
            INVALID_JOB_ID.error, INVALID_JOB_ID.error_number,
            f"unable to kill JobId={printable(text)} with signal {number}: "
            f"{INVALID_JOB_ID.error}", KILL_SOURCE,
        )])
    ctx.backend.signal_job(ctx.identity, text, None if number == SIGKILL else str(number))
    return Payload({})
