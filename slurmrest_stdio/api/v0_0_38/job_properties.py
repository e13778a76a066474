"""v0.0.38 job properties -> Slurm's command-line words: the one table for job writes.

A job property (``v0.0.38_job_properties``) reaches Slurm in one of two ways:

* at submission, as an ``sbatch`` option, always one ``--option=value`` argv item (or a
  bare ``--flag``), built by :func:`sbatch_options`;
* in an update, as a ``Key=value`` item of ``scontrol update JobId=<id> ...``, built by
  :func:`update_settings`.

Every property of the schema has a row in :data:`PROPERTIES`. Where one of the two ways
has no equivalent, the row says why, and a request using it is refused (400, naming the
property by its JSON path): nothing is ever silently dropped.

What is decided here is pure (no Slurm, no I/O): the types and ranges beyond what the
JSON schema says, text that Slurm's argv cannot carry (NUL) or that would split Slurm's
one-line records (CR, LF), the job environment, the batch script's own requirements
(those of ``sbatch``, which reads it) and the ``#SBATCH`` directives that would stop the
submission from working.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: the pseudo-setting that asks for ``scontrol release`` (what Slurm's own release sends:
#: priority INFINITE, which ``scontrol update`` cannot express)
RELEASE = "Priority=INFINITE"

#: job environment limits of ``sbatch --export-file`` (Slurm's env.c): a longer name or
#: value would be dropped without a word, so it is refused instead
MAX_ENV_NAME = 255
MAX_ENV_VALUE = 256 * 1024 - 1
#: variables ``sbatch --export-file`` drops (Slurm's _discard_env). Slurm sets HOSTNAME and
#: ENVIRONMENT itself when the job starts, so they are accepted (their value is Slurm's
#: anyway); DISPLAY would be lost, so it is refused.
ENV_SET_BY_SLURM = frozenset({"HOSTNAME", "ENVIRONMENT"})
ENV_REFUSED = frozenset({"DISPLAY"})

#: the largest value of Slurm's 32-bit fields that still means a number (NO_VAL - 2)
U32_MAX = 0xFFFFFFFD


class Problems(list[str]):
    """"<JSON path>: <what is wrong>" lines collected while reading a request."""

    def add(self, path: str, message: str) -> None:
        self.append(f"{path}: {message}")


# -- text checks ---------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"[\r\n]")


def is_utf8(value: str) -> bool:
    """False for text with lone surrogates (JSON can carry them; a command line cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: str, path: str, problems: Problems) -> bool:
    """A value that travels inside one argv item: no NUL (argv cannot carry it), no line
    breaks (Slurm prints these values in one-line records), valid Unicode."""
    if not is_utf8(value):
        problems.add(path, "must be valid Unicode text (it has a lone surrogate)")
        return False
    if "\x00" in value:
        problems.add(path, "must not contain NUL characters")
        return False
    if _LINE_BREAKS.search(value):
        problems.add(path, "must not contain line breaks")
        return False
    return True


# -- one row per property ----------------------------------------------------------------------

Value = Any
#: (value, JSON path, problems) -> the command-line words, or None when refused
Render = Callable[[Value, str, Problems], "list[str] | None"]


@dataclass(frozen=True)
class Property:
    """How one property reaches Slurm."""

    #: sbatch words for a value; a str is the reason there are none
    sbatch: Render | str
    #: scontrol update words for a value; a str is the reason there are none
    update: Render | str


def _text(option: str) -> Render:
    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        if not check_text(value, path, problems):
            return None
        return [f"{option}={value}"]

    return render


def _number(option: str) -> Render:
    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        return [f"{option}={int(value)}"]

    return render


def _number_or_text(option: str) -> Render:
    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        if isinstance(value, str) and not check_text(value, path, problems):
            return None
        return [f"{option}={value}"]

    return render


def _flag(on: str, off: str | None = None) -> Render:
    """A boolean: ``on`` for true, ``off`` (or nothing: Slurm's default) for false."""

    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        if value:
            return [on]
        return [off] if off else []

    return render


def _only_true(key: str) -> Render:
    """An update flag that can be set but not taken back."""

    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        if not value:
            problems.add(path, f"false cannot be applied to a submitted job (only true, "
                               f"as {key})")
            return None
        return [key]

    return render


def _gpu(option: str, prefix: str) -> Render:
    """A GPU amount given alone (``2``, ``tesla:2``), as Slurm's TRES string for scontrol."""

    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        text = str(value)
        if not check_text(text, path, problems):
            return None
        return [f"{option}={prefix}{text}"]

    return render


def _begin(option: str) -> Render:
    """Unix seconds (the spec's integer) as Slurm's ``uts<seconds>``, or Slurm's own time
    text (``now+1hour``, ``2030-01-01T10:00``) as it is."""

    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        if isinstance(value, int):
            if value < 1000000:
                problems.add(path, "Unix seconds must be at least 1000000")
                return None
            return [f"{option}=uts{value}"]
        if not check_text(value, path, problems):
            return None
        return [f"{option}={value}"]

    return render


def _nodes(option: str) -> Render:
    """``[count]`` or ``[min, max]`` (the spec's form), or Slurm's own text (``2-4``)."""

    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        if isinstance(value, list):
            if len(value) == 2 and value[0] > value[1]:
                problems.add(path, "the minimum node count is larger than the maximum")
                return None
            return [f"{option}={'-'.join(str(v) for v in value)}"]
        if not check_text(value, path, problems):
            return None
        return [f"{option}={value}"]

    return render


_EXCLUSIVE = {
    "true": "--exclusive", "exclusive": "--exclusive", "user": "--exclusive=user",
    "mcs": "--exclusive=mcs", "oversubscribe": "--oversubscribe",
}


def _exclusive(value: Value, path: str, problems: Problems) -> list[str] | None:
    # "false" asks for nothing special: the partition's own sharing rule applies
    option = _EXCLUSIVE.get(value)
    return [option] if option else []


_SHARED = {"true": "OverSubscribe=no", "exclusive": "OverSubscribe=no",
           "oversubscribe": "OverSubscribe=yes"}


def _exclusive_update(value: Value, path: str, problems: Problems) -> list[str] | None:
    setting = _SHARED.get(value)
    if setting is None:
        problems.add(path, f"{value!r} cannot be applied to a submitted job with scontrol "
                           "(only 'true', 'exclusive' or 'oversubscribe')")
        return None
    return [setting]


_PRIORITY_TEXT = re.compile(r"[0-9]+|TOP", re.IGNORECASE)


def _priority(option: str, *, top: bool) -> Render:
    def render(value: Value, path: str, problems: Problems) -> list[str] | None:
        if isinstance(value, str):
            if not _PRIORITY_TEXT.fullmatch(value) or (not top and not value.isdigit()):
                what = "a number or TOP" if top else "a number"
                problems.add(path, f"must be {what}, not {value!r}")
                return None
            if value.isdigit() and not 1 <= int(value) <= U32_MAX:
                problems.add(path, f"must be between 1 and {U32_MAX}")
                return None
        return [f"{option}={value}"]

    return render


def _throttle(value: Value, path: str, problems: Problems) -> list[str] | None:
    m = re.fullmatch(r"%([0-9]{1,5})", value)
    if not m:
        problems.add(path, "a submitted array can only change its throttle: '%<count>'")
        return None
    return [f"ArrayTaskThrottle={int(m[1])}"]


def _hold(value: Value, path: str, problems: Problems) -> list[str] | None:
    # a user's Priority=0 is a user hold; a release is what "scontrol release" does
    return ["Priority=0"] if value else [RELEASE]


def _requeue_update(value: Value, path: str, problems: Problems) -> list[str] | None:
    return [f"Requeue={1 if value else 0}"]


_NOT_SBATCH = "sbatch has no such option"
_NOT_UPDATABLE = "Slurm cannot change this on a submitted job"


def _row(sbatch: Render | str, update: Render | str = _NOT_UPDATABLE) -> Property:
    return Property(sbatch, update)


#: every v0.0.38 job property (plus three that slurmrestd also accepts), in the spec's order
PROPERTIES: dict[str, Property] = {
    "account": _row(_text("--account"), _text("Account")),
    "account_gather_frequency": _row(_text("--acctg-freq")),
    "argv": _row("script arguments would be separate command-line words; pass them in the "
                 "script instead", "script arguments are fixed at submission"),
    "array": _row(_text("--array"), _throttle),
    "batch_features": _row(_text("--batch")),
    "begin_time": _row(_begin("--begin"), _begin("StartTime")),
    "burst_buffer": _row(_text("--bb"), _text("BurstBuffer")),
    "cluster_constraint": _row(_text("--cluster-constraint"), _text("ClusterFeatures")),
    "comment": _row(_text("--comment"), _text("Comment")),
    "constraints": _row(_text("--constraint"), _text("Features")),
    "container": _row(_text("--container")),
    "core_specification": _row(_number("--core-spec"), _number("CoreSpec")),
    "cores_per_socket": _row(_number("--cores-per-socket"), _number("ReqCores")),
    "cpu_binding": _row("CPU binding applies to job steps (srun), not to a batch job",
                        "CPU binding applies to job steps (srun), not to a batch job"),
    "cpu_binding_hint": _row(_text("--hint")),
    "cpu_frequency": _row(_text("--cpu-freq")),
    "cpus_per_gpu": _row(_number_or_text("--cpus-per-gpu"), _gpu("CpusPerTres", "gres:gpu:")),
    "cpus_per_task": _row(_number("--cpus-per-task"), _number("CPUsPerTask")),
    "current_working_directory": _row(_text("--chdir"), _text("WorkDir")),
    "deadline": _row(_text("--deadline"), _text("Deadline")),
    "delay_boot": _row(_number("--delay-boot"), _number("DelayBoot")),
    "dependency": _row(_text("--dependency"), _text("Dependency")),
    "distribution": _row(_text("--distribution")),
    "environment": _row("handled by the submission itself",
                        "the environment is fixed at submission"),
    "exclusive": _row(_exclusive, _exclusive_update),
    "get_user_environment": _row(_flag("--get-user-env")),
    "gres": _row(_text("--gres"), _text("Gres")),
    "gres_flags": _row(_text("--gres-flags")),
    "gpu_binding": _row(_text("--gpu-bind"), _gpu("TresBind", "gpu:")),
    "gpu_frequency": _row(_text("--gpu-freq"), _gpu("TresFreq", "gpu:")),
    "gpus": _row(_text("--gpus"), _gpu("TresPerJob", "gres:gpu:")),
    "gpus_per_node": _row(_text("--gpus-per-node"), _gpu("TresPerNode", "gres:gpu:")),
    "gpus_per_socket": _row(_text("--gpus-per-socket"), _gpu("TresPerSocket", "gres:gpu:")),
    "gpus_per_task": _row(_text("--gpus-per-task"), _gpu("TresPerTask", "gres:gpu:")),
    "hold": _row(_flag("--hold"), _hold),
    "kill_on_invalid_dependency": _row(
        _flag("--kill-on-invalid-dep=yes", "--kill-on-invalid-dep=no")),
    "licenses": _row(_text("--licenses"), _text("Licenses")),
    "mail_type": _row(_text("--mail-type"), _text("MailType")),
    "mail_user": _row(_text("--mail-user"), _text("MailUser")),
    "mcs_label": _row(_text("--mcs-label")),
    "memory_binding": _row(_text("--mem-bind")),
    "memory_per_cpu": _row(_number("--mem-per-cpu"), _number("MinMemoryCPU")),
    "memory_per_gpu": _row(_number("--mem-per-gpu"), _gpu("MemPerTres", "gres:gpu:")),
    "memory_per_node": _row(_number("--mem"), _number("MinMemoryNode")),
    "minimum_cpus_per_node": _row(_number("--mincpus"), _number("MinCPUsNode")),
    "minimum_nodes": _row(_flag("--use-min-nodes")),
    "name": _row(_text("--job-name"), _text("Name")),
    "nice": _row(_number("--nice"), _number("Nice")),
    "no_kill": _row(_flag("--no-kill")),
    "nodes": _row(_nodes("--nodes"), _nodes("NumNodes")),
    "open_mode": _row(_text("--open-mode")),
    "oversubscribe": _row(_flag("--oversubscribe"), _only_true("OverSubscribe=yes")),
    "partition": _row(_text("--partition"), _text("Partition")),
    "prefer": _row(_text("--prefer"), _text("Prefer")),
    "priority": _row(_priority("--priority", top=True), _priority("Priority", top=False)),
    "qos": _row(_text("--qos"), _text("QOS")),
    "requeue": _row(_flag("--requeue", "--no-requeue"), _requeue_update),
    "reservation": _row(_text("--reservation"), _text("ReservationName")),
    "signal": _row(_text("--signal")),
    "sockets_per_node": _row(_number("--sockets-per-node"), _number("ReqSockets")),
    "spread_job": _row(_flag("--spread-job")),
    "standard_error": _row(_text("--error")),
    "standard_input": _row(_text("--input")),
    "standard_output": _row(_text("--output"), _text("StdOut")),
    "tasks": _row(_number("--ntasks"), _number("NumTasks")),
    "tasks_per_core": _row(_number("--ntasks-per-core")),
    "tasks_per_node": _row(_number("--ntasks-per-node"), _number("TasksPerNode")),
    "tasks_per_socket": _row(_number("--ntasks-per-socket")),
    "thread_specification": _row(_number("--thread-spec"), _number("ThreadSpec")),
    "threads_per_core": _row(_number("--threads-per-core"), _number("ReqThreads")),
    "time_limit": _row(_number("--time"), _number("TimeLimit")),
    "time_minimum": _row(_number("--time-min"), _number("TimeMin")),
    "wait_all_nodes": _row(_flag("--wait-all-nodes=1", "--wait-all-nodes=0")),
    "wckey": _row(_text("--wckey"), _text("WCKey")),
    # not in the v0.0.38 schema, but accepted by slurmrestd 22.05 under these names
    "nodelist": _row(_text("--nodelist"), _text("ReqNodeList")),
    "exclude_nodes": _row(_text("--exclude"), _text("ExcNodeList")),
    "temporary_disk_per_node": _row(_number("--tmp"), _number("MinTmpDiskNode")),
}

#: pairs that ask Slurm for two contradictory things (Slurm would keep one, silently)
CONFLICTS = (("hold", "priority"), ("exclusive", "oversubscribe"))


def _render(props: Mapping[str, Value], where: str, problems: Problems,
            pick: Callable[[Property], Render | str]) -> list[str]:
    def at(name: str) -> str:
        return f"{where}.{name}" if where else name

    for first, second in CONFLICTS:
        if first in props and second in props:
            problems.add(at(second), f"cannot be combined with {first}")
    words: list[str] = []
    for name, value in props.items():
        path = at(name)
        row = PROPERTIES.get(name)
        if row is None:
            problems.add(path, "unknown property")
            continue
        how = pick(row)
        if isinstance(how, str):
            problems.add(path, f"not supported: {how}")
            continue
        rendered = how(value, path, problems)
        if rendered is not None:
            words.extend(rendered)
    return words


def sbatch_options(props: Mapping[str, Value], where: str, problems: Problems) -> list[str]:
    """The sbatch options for one job (or het job component) ``props`` (already valid for
    the JSON schema), every one a single ``--option[=value]`` item. ``environment`` is
    skipped here (see :func:`job_environment`); problems are added to ``problems``."""
    return _render({k: v for k, v in props.items() if k != "environment"}, where, problems,
                   lambda row: row.sbatch)


def update_settings(props: Mapping[str, Value], where: str, problems: Problems) -> list[str]:
    """The ``Key=value`` items of ``scontrol update`` for ``props`` (valid for the JSON
    schema); :data:`RELEASE` stands for a release. Problems go to ``problems``, their
    paths under ``where`` ("" for the top level)."""
    return _render(props, where, problems, lambda row: row.update)


# -- the job environment ---------------------------------------------------------------------

_ENV_NAME = re.compile(r"[^=\x00]+")


def job_environment(value: Mapping[str, Value] | None, where: str,
                    problems: Problems) -> dict[str, str]:
    """The job's environment: exactly these variables (integers are written in decimal,
    as slurmrestd does)."""
    env: dict[str, str] = {}
    for name, item in (value or {}).items():
        path = f"{where}.{name}"
        if not _ENV_NAME.fullmatch(name) or not is_utf8(name):
            problems.add(path, "a variable name must be text without '=' or NUL")
            continue
        if len(name.encode("utf-8")) > MAX_ENV_NAME:
            problems.add(path, f"a variable name is limited to {MAX_ENV_NAME} bytes")
            continue
        if name in ENV_REFUSED:
            problems.add(path, "sbatch does not pass this variable to a job")
            continue
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if "\x00" in text or not is_utf8(text):
            problems.add(path, "must be valid Unicode text without NUL characters")
            continue
        if len(text.encode("utf-8")) > MAX_ENV_VALUE:
            problems.add(path, f"a value is limited to {MAX_ENV_VALUE} bytes")
            continue
        env[name] = text
    return env


# -- the batch script ---------------------------------------------------------------------------

#: directives that would make sbatch wait for the job to end, or submit nothing
_REFUSED_LONG = ("wait", "test-only")
#: short options of sbatch that take no argument ("W" is --wait)
_SHORT_FLAGS = frozenset("HOQVWhsv")


def check_script(script: str, path: str, problems: Problems) -> None:
    """What ``sbatch`` requires of a script it reads (it refuses the others): not empty,
    ``#!`` first, no NUL, no DOS line breaks; and no ``#SBATCH`` directive that would keep
    the submission from answering (``--wait``, ``--test-only``) or split it into
    heterogeneous components behind the request's back (``hetjob``)."""
    if not script.strip():
        problems.add(path, "the batch script is empty")
        return
    if not script.startswith("#!"):
        problems.add(path, "the first line must start with #! and the path of an "
                           "interpreter (e.g. #!/bin/sh)")
    if "\x00" in script:
        problems.add(path, "Slurm refuses scripts that contain NUL characters")
    if not is_utf8(script):
        problems.add(path, "must be valid Unicode text (it has a lone surrogate)")
    if "\r\n" in script:
        problems.add(path, "the script has DOS line breaks (\\r\\n); sbatch wants \\n")
    for word in directive_words(script):
        refused = _refused_directive(word)
        if refused:
            problems.add(path, f"the #SBATCH directive {word!r} is not allowed here "
                               f"({refused})")


def directive_words(script: str) -> list[str]:
    """The words of the ``#SBATCH`` (and old ``#SLURM``) lines of ``script`` that sbatch
    reads: those of the leading block of comment and blank lines. Quotes are dropped; the
    split is a little coarser than sbatch's, which only makes the check stricter."""
    words: list[str] = []
    for line in script.split("\n"):
        if line.startswith(("#SBATCH", "#SLURM")):
            rest = line[7:] if line.startswith("#SBATCH") else line[6:]
            for word in rest.split():
                if word.startswith("#"):
                    break
                words.append(word.replace('"', "").replace("'", ""))
        elif line.strip() and not line.lstrip().startswith("#"):
            break
    return words


def _refused_directive(word: str) -> str | None:
    lower = word.lower()
    if lower in ("hetjob", "packjob"):
        return "give heterogeneous job components as jobs[]"
    if word.startswith("--"):
        name = word[2:].split("=", 1)[0]
        # getopt accepts any unambiguous abbreviation: refuse every prefix too
        if name and any(option.startswith(name) for option in _REFUSED_LONG):
            return "the request would wait for the job, or submit nothing"
        return None
    if word.startswith("-"):
        for letter in word[1:]:
            if letter == "W":
                return "the request would wait for the job to end"
            if letter not in _SHORT_FLAGS:
                break  # the rest is this option's argument
    return None


def names_the_job(script: str) -> bool:
    """True when the script's directives may set the job name (``-J``, ``--job-name``)."""
    for word in directive_words(script):
        if word.startswith("--j") or (word.startswith("-") and not word.startswith("--")
                                       and "J" in word):
            return True
    return False
