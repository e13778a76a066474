"""``/slurmdb/v0.0.38/``: GET jobs, GET job/{job_id} (accounting records).

The bodies are Slurm's own: on 22.05 ``sacct --json`` (and ``--yaml``) runs slurmrestd's
dbv0.0.38 jobs handler with a query made from its options, so what is decided here is the
``sacct`` command line that gives that handler the query the client sent:

* each filter slurmrestd accepts becomes the ``sacct`` option that puts the same field
  into the handler's query (always ``--opt=value``); names match without regard to case,
  as slurmrestd matches them;
* filters ``sacct`` 22.05 cannot pass on (``submit_time``, ``exit_code``, ``reason``,
  ``reservation``, ``constraints``) are refused with 400 rather than silently ignored;
* an unknown filter is 400 naming it (slurmrestd: 500 "Unknown Query field", unnamed);
* values are checked the way slurmrestd checks them (times, integers, job states, step
  ids) before ``sacct`` runs, and answered with 400 (slurmrestd: 500).

``sacct`` always sends a start time (it defaults to midnight); slurmrestd without one looks
at all time, so without ``start_time`` the window starts at the epoch.

A request without any query is special in slurmrestd: it asks slurmdbd with no condition
at all, which slurmdbd reads as "whole time, times truncated to the window, no duplicate
records". ``sacct`` cannot ask that way (its handler query always keeps full times and
duplicates), so that one answer is ``sacct``'s document adjusted the way slurmdbd adjusts
it (:func:`truncate_like_slurmdbd`) and written again with json-c's layout.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from slurmrest_stdio import codec
from slurmrest_stdio.api import Context, Payload, Result, passthrough
from slurmrest_stdio.api.values import guess_value, path_text, printable
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Response

PREFIX = "/slurmdb/v0.0.38"

#: Slurm's ESLURM_REST_INVALID_QUERY
INVALID_QUERY = SlurmError("Query empty or not RFC7320 compliant", 9000)
#: the start of every window when the client gives none (sacct would use midnight)
EPOCH_START = "1970-01-01T00:00:01"

#: comma separated list filters -> sacct option
_LISTS = {
    "account": "--accounts",
    "association": "--associations",
    "cluster": "--clusters",
    "format": "--format",
    "group": "--group",
    "groups": "--group",
    "job_name": "--name",
    "partition": "--partition",
    "qos": "--qos",
    "state": "--state",
    "wckey": "--wckeys",
}
#: filters slurmrestd accepts that sacct 22.05 has no option for
_UNSUPPORTED = ("submit_time", "exit_code", "reason", "reservation", "constraints")
_TIMES = {"start_time": "--starttime", "end_time": "--endtime"}
_INTEGERS = ("cpus_max", "cpus_min", "nodes_max", "nodes_min")
#: sacct reads a range of C ints; its upper end INT_MAX means "no maximum"
_INT_MAX = 2**31 - 1
_FLAGS = ("skip_steps", "disable_wait_for_result")

#: job states as Slurm names them (base states, any case) or their numbers
_STATES = {
    "PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT",
    "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY",
    "PD", "R", "S", "CD", "CA", "F", "TO", "NF", "PR", "BF", "DL", "OOM",
}
#: one item of a list filter: what Slurm names things with (no spaces, quotes, commas)
_ITEM = re.compile(r"[A-Za-z0-9_.:@+\-/%\[\]]+")
#: a time as Slurm's parse_time reads it, in the forms we pass on
_TIME = re.compile(
    r"now([+-][0-9]+(seconds|minutes|hours|days|weeks)?)?|today|midnight|noon|tomorrow"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"
    r"|[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?|[0-9]{4}([0-9]{2})?"
    r"|[0-9]{1,2}/[0-9]{1,2}(/[0-9]{2})?(-[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?",
    re.IGNORECASE,
)
#: a job or step id as sacct's --jobs reads it: 123, 123_4, 123+1, 123.batch, 123.0
_STEP = re.compile(
    r"[0-9]+(_[0-9]+|\+[0-9]+)?"
    r"(\.([0-9]+|batch|extern|interactive)(\+[0-9]+)?)?"
)


class QueryError(Exception):
    """A filter the client sent cannot be used: 400 with this description."""

    def __init__(self, description: str, key: str) -> None:
        super().__init__(description)
        self.error = SlurmError(INVALID_QUERY.error, INVALID_QUERY.error_number,
                                description, key)


def _items(key: str, values: list[str]) -> list[str]:
    items = [item for value in values for item in value.split(",") if item != ""]
    if not items:
        raise QueryError("Unable to parse CSV list", key)
    for item in items:
        if not _ITEM.fullmatch(item):
            raise QueryError(f"Unable to parse CSV list: bad item {printable(item)!r}", key)
    return items


def _integer(key: str, text: str) -> int:
    value = guess_value(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise QueryError("must be an integer", key)
    number = int(value)
    if not 0 <= number <= 0xFFFFFFFF:
        raise QueryError("must be an integer from 0 to 4294967295", key)
    return number


def _flag(text: str) -> bool:
    value = guess_value(text)
    return value is True or (isinstance(value, int) and not isinstance(value, bool)
                             and value != 0)


def sacct_options(query: dict[str, list[str]]) -> list[str]:
    """The ``sacct`` options that give slurmrestd's jobs handler the query ``query``.

    Raises:
        QueryError: a filter is unknown, unsupported or has a value slurmrestd refuses.
    """
    options: list[str] = []
    numbers: dict[str, int] = {}
    window_start = False
    for raw_key, values in query.items():
        key = raw_key.lower()
        last = values[-1]
        if key in _LISTS:
            items = _items(key, values)
            if key == "state":
                for item in items:
                    if not (item.isdigit() or item.upper() in _STATES):
                        raise QueryError("Unable to parse CSV list", key)
            options.append(f"{_LISTS[key]}={','.join(items)}")
        elif key in _TIMES:
            if not _TIME.fullmatch(last):
                raise QueryError("Unable to parse time format", key)
            options.append(f"{_TIMES[key]}={last}")
            window_start = window_start or key == "start_time"
        elif key in _INTEGERS:
            numbers[key] = _integer(key, last)
        elif key in _FLAGS:
            if key == "skip_steps" and _flag(last):
                options.append("--allocations")
            # disable_wait_for_result only changes how long slurmdbd may take: sacct
            # 22.05 has no option for it, and the answer is the same without it
        elif key == "node":
            if not _ITEM.fullmatch(last):
                raise QueryError("format must be a string", key)
            options.append(f"--nodelist={last}")
        elif key == "step":
            steps = [item for value in values for item in value.split(",") if item]
            if not steps or not all(_STEP.fullmatch(step) for step in steps):
                raise QueryError("Unable to parse job/step format", key)
            options.append(f"--jobs={','.join(steps)}")
            window_start = True  # sacct looks at all time for given jobs
        elif key in _UNSUPPORTED:
            raise QueryError(
                f"filter {key} is not supported: sacct 22.05 cannot pass it on", key)
        else:
            raise QueryError(f"Unknown Query field: {printable(raw_key)}", raw_key)
    for kind, option in (("cpus", "--ncpus"), ("nodes", "--nnodes")):
        low, high = numbers.get(f"{kind}_min", 0), numbers.get(f"{kind}_max", 0)
        if high:
            options.append(f"{option}={low}-{high}")
        elif low:
            options.append(f"{option}={low}-{_INT_MAX}")
    if not window_start:
        options.append(f"--starttime={EPOCH_START}")
    return options


def _load(ctx: Context, options: list[str], key: str = "jobs") -> Result:
    try:
        if codec.MEDIA_TYPES[ctx.media_type] == "yaml":
            return Response(200, ctx.backend.db_jobs(ctx.identity, options, "yaml"),
                            ctx.media_type)
        return passthrough(ctx, ctx.backend.db_jobs(ctx.identity, options))
    except SlurmCommandError as exc:
        return Payload({key: []}, exc.status, tuple(e.to_dict() for e in exc.errors))


def truncate_like_slurmdbd(doc: dict[str, Any], now: int) -> None:
    """Change a full-times, with-duplicates jobs document (what ``sacct --json`` prints)
    into what slurmdbd answers a query with no condition: the window is [0, now], so a job
    that has not ended ends now, a job that never started starts when it ended (no
    ``null`` start), and of consecutive records of one job id only the first (the newest
    submission) is kept, unless a record is a resize."""
    kept: list[dict[str, Any]] = []
    last_id = None
    for job in doc.get("jobs", []):
        job_id = job.get("job_id")
        state = job.get("state")
        current = state.get("current") if isinstance(state, dict) else None
        if job_id == last_id and current != "RESIZING":
            continue
        last_id = job_id
        times = job.get("time")
        if isinstance(times, dict) and isinstance(times.get("end"), int):
            if times["end"] == 0 or times["end"] > now:
                times["end"] = now
            if not times.get("start"):
                times["start"] = times["end"]
                times["elapsed"] = 0
        kept.append(job)
    doc["jobs"] = kept


#: a YAML job record's block of times, its top level lines (Slurm's YAML: 2 spaces per level)
_YAML_TIME = re.compile(rb"(?m)^  !!str time: !!map\n((?:    .*\n)*)")
_YAML_TIME_FIELD = re.compile(
    rb"(?m)^    !!str (start|end|elapsed): !!(?:int (-?[0-9]+)|null null)$")
_YAML_JOB_ID = re.compile(rb"(?m)^  !!str job_id: !!int ([0-9]+)$")
_YAML_RESIZING = re.compile(rb"(?m)^  !!str state: !!map\n(?:    .*\n)*?    !!str current: "
                            rb"!!str RESIZING$")


def _truncate_yaml_record(record: bytes, now: int) -> bytes:
    block = _YAML_TIME.search(record)
    if block is None:
        return record
    fields = {m[1]: (None if m[2] is None else int(m[2]))
              for m in _YAML_TIME_FIELD.finditer(block[1])}
    end, start = fields.get(b"end"), fields.get(b"start")
    if not isinstance(end, int):
        return record
    changed = dict(fields)
    if end == 0 or end > now:
        changed[b"end"] = end = now
    if not start:
        changed[b"start"] = end
        changed[b"elapsed"] = 0
    if changed == fields:
        return record

    def line(m: re.Match[bytes]) -> bytes:
        return b"    !!str " + m[1] + b": !!int " + str(changed[m[1]]).encode()

    text = _YAML_TIME_FIELD.sub(line, block[1])
    return record[:block.start(1)] + text + record[block.end(1):]


def truncate_yaml_like_slurmdbd(body: bytes, now: int) -> bytes:
    """:func:`truncate_like_slurmdbd` for Slurm's YAML document (``sacct --yaml``), done
    on its text so that everything else stays Slurm's own bytes."""
    marker = b"\n!!str jobs: !!seq\n"
    at = body.find(marker)
    if at < 0:
        return body
    head_end = at + len(marker)
    end = len(body) - len(b"...\n") if body.endswith(b"\n...\n") else len(body)
    text = body[head_end:end]
    starts = [m.start() for m in re.finditer(rb"(?m)^- ", text)]
    out: list[bytes] = []
    last_id = None
    for a, b in zip(starts, [*starts[1:], len(text)], strict=True):
        record = text[a:b]
        found = _YAML_JOB_ID.search(record)
        job_id = found[1] if found else None
        if job_id is not None and job_id == last_id and not _YAML_RESIZING.search(record):
            continue
        last_id = job_id
        out.append(_truncate_yaml_record(record, now))
    return body[:head_end] + text[:starts[0] if starts else len(text)] + b"".join(out) \
        + body[end:]


def get_jobs(ctx: Context) -> Result:
    """``GET jobs``: the accounting records matching the filters in the query."""
    try:
        options = sacct_options(ctx.query)
    except QueryError as exc:
        # like slurmrestd, whose handler stops before it makes the jobs list
        return Payload({}, 400, (exc.error.to_dict(),))
    if ctx.query:
        return _load(ctx, options)
    fmt = "yaml" if codec.MEDIA_TYPES[ctx.media_type] == "yaml" else "json"
    try:
        body = ctx.backend.db_jobs(ctx.identity, options, fmt)
    except SlurmCommandError as exc:
        return Payload({"jobs": []}, exc.status, tuple(e.to_dict() for e in exc.errors))
    now = int(time.time())
    if fmt == "yaml":
        return Response(200, truncate_yaml_like_slurmdbd(body, now), ctx.media_type)
    doc = json.loads(body)
    truncate_like_slurmdbd(doc, now)
    return Response(200, codec.dump_json(doc).encode("utf-8"), ctx.media_type)


def get_job(ctx: Context) -> Result:
    """``GET job/{job_id}``: the accounting records of one job (or step, array task,
    heterogeneous component; or several, comma separated, as Slurm reads the id): every
    record with that id, in every time."""
    text = path_text(ctx.params["job_id"])
    if not all(_STEP.fullmatch(step) for step in text.split(",")):
        # slurmrestd exits (Slurm's "Bad job/step specified" is fatal) and answers nothing
        return Payload({}, 400, (SlurmError(
            INVALID_QUERY.error, INVALID_QUERY.error_number,
            f"Bad job/step specified: {printable(text)}", "job_id").to_dict(),))
    return _load(ctx, [f"--jobs={text}"])


ROUTES: tuple[tuple[str, str, Callable[[Context], Result]], ...] = (
    ("GET", f"{PREFIX}/jobs", get_jobs),
    ("GET", f"{PREFIX}/job/{{job_id}}", get_job),
)
