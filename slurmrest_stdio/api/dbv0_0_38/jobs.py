"""``/slurmdb/v0.0.38/``: GET jobs, GET job/{job_id} (accounting records).

The bodies are Slurm's own: on 22.05 ``sacct --json`` (and ``--yaml``) runs slurmrestd's
dbv0.0.38 jobs handler with a query made from its options, so what is decided here is the
``sacct`` command line that gives that handler the query the client sent:

* each filter slurmrestd accepts becomes the ``sacct`` option that puts the same field
  into the handler's query (always ``--opt=value``); names match without regard to case,
  as slurmrestd matches them;
* filters ``sacct`` 22.05 has no option for are done the way slurmdbd 22.05 does them
  (:class:`AfterSacct`): ``reason`` and ``constraints`` pick records from ``sacct``'s
  document here; ``submit_time`` is a window start that skips Slurm's default window,
  given to ``sacct`` as a window that finds the same records (except together with
  both ``step`` and ``end_time``: refused with 400); ``exit_code`` and
  ``reservation`` are checked and then have no effect, as in slurmdbd 22.05 (its job
  query never reads the exit code, and its reservation lookup asks the job table for a
  column it does not have, fails and goes on without that condition);
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
from dataclasses import dataclass
from typing import Any

from slurmrest_stdio import codec
from slurmrest_stdio.api import Context, Payload, Result, passthrough
from slurmrest_stdio.api.values import guess_value, path_text, printable
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Response

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
#: every job state, for a window that must not ask for eligibility (see submit_time)
_ALL_STATES = "PD,R,S,CD,CA,F,TO,NF,PR,BF,DL,OOM,RQ,RS,RV"
#: the end of that window: later than any time a job can have
_NO_END = "9999-12-31T23:59:59"
#: Slurm 22.05's job state reasons, by number (enum job_state_reason): how slurmdbd stores
#: a job's reason, and the names its documents print
_REASON_NAMES = (
    "None Priority Dependency Resources PartitionNodeLimit PartitionTimeLimit "
    "PartitionDown PartitionInactive JobHeldAdmin BeginTime Licenses "
    "AssociationJobLimit AssociationResourceLimit AssociationTimeLimit Reservation "
    "ReqNodeNotAvail JobHeldUser FrontEndDown SchedDefer PartitionDown NodeDown "
    "BadConstraints SystemFailure JobLaunchFailure NonZeroExitCode TimeLimit "
    "InactiveLimit InvalidAccount InvalidQOS QOSUsageThreshold QOSJobLimit "
    "QOSResourceLimit QOSTimeLimit BlockMaxError BlockFreeAction Cleaning Prolog "
    "QOSNotAllowed AccountNotAllowed DependencyNeverSatisfied QOSGrpCpuLimit "
    "QOSGrpCPUMinutesLimit QOSGrpCPURunMinutesLimit QOSGrpJobsLimit QOSGrpMemLimit "
    "QOSGrpNodeLimit QOSGrpSubmitJobsLimit QOSGrpWallLimit QOSMaxCpuPerJobLimit "
    "QOSMaxCpuMinutesPerJobLimit QOSMaxNodePerJobLimit QOSMaxWallDurationPerJobLimit "
    "QOSMaxCpuPerUserLimit QOSMaxJobsPerUserLimit QOSMaxNodePerUserLimit "
    "QOSMaxSubmitJobPerUserLimit QOSMinCpuNotSatisfied AssocGrpCpuLimit "
    "AssocGrpCPUMinutesLimit AssocGrpCPURunMinutesLimit AssocGrpJobsLimit "
    "AssocGrpMemLimit AssocGrpNodeLimit AssocGrpSubmitJobsLimit AssocGrpWallLimit "
    "AssocMaxJobsLimit AssocMaxCpuPerJobLimit AssocMaxCpuMinutesPerJobLimit "
    "AssocMaxNodePerJobLimit AssocMaxWallDurationPerJobLimit AssocMaxSubmitJobLimit "
    "JobHoldMaxRequeue JobArrayTaskLimit BurstBufferResources BurstBufferStageIn "
    "BurstBufferOperation PowerNotAvail PowerReserved AssocGrpUnknown "
    "AssocGrpUnknownMinutes AssocGrpUnknownRunMinutes AssocMaxUnknownPerJob "
    "AssocMaxUnknownPerNode AssocMaxUnknownMinutesPerJob AssocMaxCpuPerNode "
    "AssocGrpMemMinutes AssocGrpMemRunMinutes AssocMaxMemPerJob AssocMaxMemPerNode "
    "AssocMaxMemMinutesPerJob AssocGrpNodeMinutes AssocGrpNodeRunMinutes "
    "AssocMaxNodeMinutesPerJob AssocGrpEnergy AssocGrpEnergyMinutes "
    "AssocGrpEnergyRunMinutes AssocMaxEnergyPerJob AssocMaxEnergyPerNode "
    "AssocMaxEnergyMinutesPerJob AssocGrpGRES AssocGrpGRESMinutes "
    "AssocGrpGRESRunMinutes AssocMaxGRESPerJob AssocMaxGRESPerNode "
    "AssocMaxGRESMinutesPerJob AssocGrpLicense AssocGrpLicenseMinutes "
    "AssocGrpLicenseRunMinutes AssocMaxLicensePerJob AssocMaxLicenseMinutesPerJob "
    "AssocGrpBB AssocGrpBBMinutes AssocGrpBBRunMinutes AssocMaxBBPerJob "
    "AssocMaxBBPerNode AssocMaxBBMinutesPerJob QOSGrpUnknown QOSGrpUnknownMinutes "
    "QOSGrpUnknownRunMinutes QOSMaxUnknownPerJob QOSMaxUnknownPerNode "
    "QOSMaxUnknownPerUser QOSMaxUnknownMinutesPerJob QOSMinUnknown QOSMaxCpuPerNode "
    "QOSGrpMemoryMinutes QOSGrpMemoryRunMinutes QOSMaxMemoryMinutesPerJob "
    "QOSMaxMemoryPerJob QOSMaxMemoryPerNode QOSMaxMemoryPerUser QOSMinMemory "
    "QOSGrpEnergy QOSGrpEnergyMinutes QOSGrpEnergyRunMinutes QOSMaxEnergyPerJob "
    "QOSMaxEnergyPerNode QOSMaxEnergyPerUser QOSMaxEnergyMinutesPerJob QOSMinEnergy "
    "QOSGrpNodeMinutes QOSGrpNodeRunMinutes QOSMaxNodeMinutesPerJob QOSMinNode "
    "QOSGrpGRES QOSGrpGRESMinutes QOSGrpGRESRunMinutes QOSMaxGRESPerJob "
    "QOSMaxGRESPerNode QOSMaxGRESPerUser QOSMaxGRESMinutesPerJob QOSMinGRES "
    "QOSGrpLicense QOSGrpLicenseMinutes QOSGrpLicenseRunMinutes QOSMaxLicensePerJob "
    "QOSMaxLicensePerUser QOSMaxLicenseMinutesPerJob QOSMinLicense QOSGrpBB "
    "QOSGrpBBMinutes QOSGrpBBRunMinutes QOSMaxBBPerJob QOSMaxBBPerNode "
    "QOSMaxBBPerUser AssocMaxBBMinutesPerJob QOSMinBB DeadLine MaxBBPerAccount "
    "MaxCpuPerAccount MaxEnergyPerAccount MaxGRESPerAccount MaxNodePerAccount "
    "MaxLicensePerAccount MaxMemoryPerAccount MaxUnknownPerAccount MaxJobsPerAccount "
    "MaxSubmitJobsPerAccount PartitionConfig AccountingPolicy FedJobLock OutOfMemory "
    "MaxMemPerLimit AssocGrpBilling AssocGrpBillingMinutes AssocGrpBillingRunMinutes "
    "AssocMaxBillingPerJob AssocMaxBillingPerNode AssocMaxBillingMinutesPerJob "
    "QOSGrpBilling QOSGrpBillingMinutes QOSGrpBillingRunMinutes QOSMaxBillingPerJob "
    "QOSMaxBillingPerNode QOSMaxBillingPerUser QOSMaxBillingMinutesPerJob "
    "MaxBillingPerAccount QOSMinBilling ReservationDeleted"
)
REASONS = tuple(_REASON_NAMES.split())
#: reason name -> its numbers (two names are printed for two numbers each)
_REASON_IDS: dict[str, set[int]] = {}
for _number, _name in enumerate(REASONS):
    _REASON_IDS.setdefault(_name, set()).add(_number)
#: the leading number MySQL reads in a text it compares with a number column
_MYSQL_NUMBER = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
#: slurmdbd's answer when no record matches
NOTHING_FOUND = {"description": "Nothing found", "error_number": 9003,
                 "error": "Nothing found with query", "source": "slurmdb_jobs_get"}
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
#: one item of the constraints filter (never on a command line): no quotes, no controls
_CONSTRAINT = re.compile(r"[^\x00-\x1f\x7f,'\"]+")
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


def _items(key: str, values: list[str], item_pattern: re.Pattern[str] = _ITEM) -> list[str]:
    items = [item for value in values for item in value.split(",") if item != ""]
    if not items:
        raise QueryError("Unable to parse CSV list", key)
    for item in items:
        if not item_pattern.fullmatch(item):
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


def mysql_number(text: str) -> float:
    """The number MySQL makes of ``text`` when it compares it with a number column (its
    leading number; 0 when there is none): how slurmdbd's reason condition reads a value."""
    found = _MYSQL_NUMBER.match(text)
    return float(found[0]) if found else 0.0


def _like(pattern: str) -> re.Pattern[str]:
    """MySQL's ``LIKE '%<pattern>%'`` (``%``, ``_`` wildcards, ``\\`` escape; case
    ignored) as a regular expression searched for."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


@dataclass
class AfterSacct:
    """What is done to ``sacct``'s document for filters it has no option for."""

    #: ``reason``: keep jobs whose reason number is one of these
    reasons: tuple[float, ...] | None = None
    #: ``constraints``: keep jobs whose constraints match every one of these
    constraints: tuple[str, ...] | None = None
    #: ``submit_time`` without ``end_time``: slurmdbd's step window ends at 0, so no job
    #: has steps
    no_steps: bool = False
    #: ``submit_time`` with ``state`` and no ``end_time``: slurmdbd's state windows end at
    #: 0 and match nothing, so nothing is asked
    nothing: bool = False

    @property
    def needed(self) -> bool:
        return (self.reasons is not None or self.constraints is not None or self.no_steps
                or self.nothing)

    def keep(self, job: dict[str, Any]) -> bool:
        """Whether slurmdbd's conditions for these filters let ``job`` through."""
        if self.reasons is not None:
            state = job.get("state")
            name = state.get("reason") if isinstance(state, dict) else None
            ids = _REASON_IDS.get(name, set()) if isinstance(name, str) else set()
            if not any(number in ids for number in self.reasons):
                return False
        if self.constraints is not None:
            text = job.get("constraints")
            text = text if isinstance(text, str) else ""
            for item in self.constraints:
                if not (_like(item).search(text) if item else text == ""):
                    return False
        return True


#: filters done on sacct's document (or only checked)
_AFTER = ("exit_code", "reservation", "reason", "constraints")


def _after_filter(key: str, values: list[str], after: AfterSacct) -> None:
    if key == "exit_code":
        value = guess_value(values[-1])  # read, never used by slurmdbd 22.05
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise QueryError("must be an integer", key)
    elif key == "reservation":
        _items(key, values)  # read, then dropped by slurmdbd 22.05 (see above)
    elif key == "reason":
        after.reasons = tuple(mysql_number(item) for item in _items(key, values))
    else:  # compared here only, so Slurm's feature expressions may be given
        after.constraints = tuple(_items(key, values, _CONSTRAINT))


def _submit_window(submit: str, after: AfterSacct, *, has_end: bool, has_state: bool,
                   has_step: bool) -> list[str]:
    """The sacct options for ``submit_time`` (slurmdbd: window start, no default end)."""
    after.no_steps = not has_end
    if has_step and has_end:
        # slurmdbd: no window for the jobs but one for their steps; sacct cannot ask that
        raise QueryError("submit_time cannot be combined with both step and end_time here",
                         "submit_time")
    if has_step:
        return []  # given jobs: slurmdbd has no window then, nor sacct from the epoch
    if has_state and not has_end:
        after.nothing = True
        return []
    if has_end:
        return [f"--starttime={submit}"]
    return [f"--starttime={submit}", f"--endtime={_NO_END}", f"--state={_ALL_STATES}"]


def _jobs_option(key: str, values: list[str]) -> str:
    steps = [item for value in values for item in value.split(",") if item]
    if not steps or not all(_STEP.fullmatch(step) for step in steps):
        raise QueryError("Unable to parse job/step format", key)
    return f"--jobs={','.join(steps)}"


def sacct_options(query: dict[str, list[str]]) -> list[str]:
    """The ``sacct`` options that give slurmrestd's jobs handler the query ``query``
    (as far as ``sacct`` can: see :func:`sacct_plan`).

    Raises:
        QueryError: a filter is unknown or has a value slurmrestd refuses.
    """
    return sacct_plan(query)[0]


def sacct_plan(query: dict[str, list[str]]) -> tuple[list[str], AfterSacct]:
    """The ``sacct`` options for the query ``query`` and what to do to its document for
    the filters ``sacct`` has no option for.

    ``submit_time`` is slurmdbd's window start with its default window switched off: no
    end (so no eligibility condition) unless ``end_time`` is given. ``sacct`` always
    fills in an end, with which slurmdbd asks for jobs eligible before it; asking for
    every job state up to a far end instead uses slurmdbd's per-state windows, which
    together find the same records (jobs that ended since the start, and every job still
    pending, running or suspended), in the same order.

    Raises:
        QueryError: a filter is unknown or has a value slurmrestd refuses.
    """
    options: list[str] = []
    numbers: dict[str, int] = {}
    after = AfterSacct()
    times: dict[str, str] = {}
    has_state = has_step = False
    for raw_key, values in query.items():
        key = raw_key.lower()
        last = values[-1]
        if key in _LISTS:
            items = _items(key, values)
            if key == "state":
                has_state = True
                for item in items:
                    if not (item.isdigit() or item.upper() in _STATES):
                        raise QueryError("Unable to parse CSV list", key)
            options.append(f"{_LISTS[key]}={','.join(items)}")
        elif key in _TIMES or key == "submit_time":
            if {key, *times} >= {"start_time", "submit_time"}:
                raise QueryError("start_time and submit_time are mutually exclusive", key)
            if not _TIME.fullmatch(last):
                raise QueryError("Unable to parse time format", key)
            times[key] = last
            if key in _TIMES:
                options.append(f"{_TIMES[key]}={last}")
        elif key in _INTEGERS:
            numbers[key] = _integer(key, last)
        elif key in _AFTER:
            _after_filter(key, values, after)
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
            options.append(_jobs_option(key, values))
            has_step = True  # sacct looks at all time for given jobs
        else:
            raise QueryError(f"Unknown Query field: {printable(raw_key)}", raw_key)
    for kind, option in (("cpus", "--ncpus"), ("nodes", "--nnodes")):
        low, high = numbers.get(f"{kind}_min", 0), numbers.get(f"{kind}_max", 0)
        if high:
            options.append(f"{option}={low}-{high}")
        elif low:
            options.append(f"{option}={low}-{_INT_MAX}")
    if "submit_time" in times:
        options += _submit_window(times["submit_time"], after, has_end="end_time" in times,
                                  has_state=has_state, has_step=has_step)
    elif not (has_step or "start_time" in times):
        options.append(f"--starttime={EPOCH_START}")
    return options, after


def filter_document(doc: dict[str, Any], after: AfterSacct) -> None:
    """Apply ``after`` to a jobs document (what ``sacct --json`` prints), in place; when
    that leaves no job, slurmdbd's "Nothing found" is the error, as slurmrestd reports."""
    jobs = [job for job in doc.get("jobs", []) if not after.nothing and after.keep(job)]
    if after.no_steps:
        for job in jobs:
            job["steps"] = []
    if not jobs and not doc.get("errors"):
        doc["errors"] = [dict(NOTHING_FOUND)]
    doc["jobs"] = jobs


#: Slurm's YAML: a job's list of steps (the key line and its deeper lines)
_YAML_STEPS = re.compile(rb"(?m)^  !!str steps: !!seq\n(?:  [- ] .*\n)*")
_YAML_NOTHING = (b"!!str errors: !!seq\n- !!map\n"
                 b"  !!str description: !!str Nothing found\n"
                 b"  !!str error_number: !!int 9003\n"
                 b"  !!str error: !!str Nothing found with query\n"
                 b"  !!str source: !!str slurmdb_jobs_get\n")


def filter_yaml(body: bytes, after: AfterSacct) -> bytes:
    """:func:`filter_document` for Slurm's YAML document (``sacct --yaml``), done on its
    text (records picked by what the decoded document says) so that the rest stays
    Slurm's own bytes."""
    from slurmrest_stdio.codec import decode

    marker = b"\n!!str jobs: !!seq\n"
    at = body.find(marker)
    if at < 0:
        return body
    doc = decode(body, "yaml")
    head_end = at + len(marker)
    end = len(body) - len(b"...\n") if body.endswith(b"\n...\n") else len(body)
    text = body[head_end:end]
    starts = [m.start() for m in re.finditer(rb"(?m)^- ", text)]
    records = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    jobs = (doc.get("jobs") or []) if isinstance(doc, dict) else []
    if len(jobs) != len(records):
        raise ValueError("sacct's YAML records do not match its document")
    kept = [record for record, job in zip(records, jobs, strict=True)
            if not after.nothing and after.keep(job)]
    if after.no_steps:
        kept = [_YAML_STEPS.sub(b"  !!str steps: !!seq []\n", record) for record in kept]
    if kept:
        return body[:head_end] + b"".join(kept) + body[end:]
    head = body[:at + 1]
    if b"\n!!str errors: !!seq []\n" in head:
        head = head.replace(b"!!str errors: !!seq []\n", _YAML_NOTHING)
    return head + b"!!str jobs: !!seq []\n" + body[end:]


def _load(ctx: Context, options: list[str], key: str = "jobs") -> Result:
    try:
        if codec.MEDIA_TYPES[ctx.media_type] == "yaml":
            return Response(200, ctx.backend.db_jobs(ctx.identity, options, "yaml"),
                            ctx.media_type)
        return passthrough(ctx, ctx.backend.db_jobs(ctx.identity, options))
    except SlurmCommandError as exc:
        return Payload({key: []}, exc.status, tuple(e.to_dict() for e in exc.errors))


def _load_filtered(ctx: Context, options: list[str], after: AfterSacct) -> Result:
    """``sacct``'s document with ``after`` applied (Slurm's bytes kept where they stay)."""
    fmt = "yaml" if codec.MEDIA_TYPES[ctx.media_type] == "yaml" else "json"
    if after.nothing:
        # nothing to ask: the empty document is made from sacct's answer for one job id
        # that cannot exist, which carries the same meta
        options = ["--jobs=4294967294"]
    try:
        body = ctx.backend.db_jobs(ctx.identity, options, fmt)
    except SlurmCommandError as exc:
        return Payload({"jobs": []}, exc.status, tuple(e.to_dict() for e in exc.errors))
    if fmt == "yaml":
        return Response(200, filter_yaml(body, after), ctx.media_type)
    doc = json.loads(body)
    filter_document(doc, after)
    return Response(200, codec.dump_json(doc).encode("utf-8"), ctx.media_type)


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
        options, after = sacct_plan(ctx.query)
    except QueryError as exc:
        # like slurmrestd, whose handler stops before it makes the jobs list
        return Payload({}, 400, (exc.error.to_dict(),))
    if ctx.query and after.needed:
        return _load_filtered(ctx, options, after)
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
