"""Changing jobs: ``scontrol update`` / ``scontrol release``, and ``scancel``.

User values reach these commands only as ``Key=value`` items (scontrol) and the job id,
which the operation has checked to start with a digit (scancel; after ``--`` besides).

Errors are reported the way slurmrestd reports the same Slurm call failing:

* scontrol update: ``<error> for job <id>`` is the update call failing (500);
  ``<id>: <error>`` is one array task refusing (slurmrestd: 200 with the error); any other
  complaint is scontrol refusing a value before asking slurmctld (400).
* scancel: ``Kill job error on job id <id>: <error>`` (500), except that a job that has
  already ended is not an error (slurmctld's "already completing or completed", or, for a
  signal, scancel not finding the ended job among the active ones).
* A signal other than KILL only reaches running jobs; slurmctld refuses it for others and
  scancel would then retry for a minute and a half. So the job's records are read first
  (``scontrol show job``): a job that is not running gets slurmctld's answer without
  scancel -- "already done" (success) for an ended job, "can not be altered now" for a
  pending one ("not permitted on individual component" for a pending component of a
  heterogeneous job), "permission denied" when it is not the client's. (An operator
  signalling another user's job that is not running gets "permission denied" too.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, Outcome, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: the setting that stands for a release (priority INFINITE: what Slurm's own release
#: sends, and what ``scontrol update`` cannot express); carried out by ``scontrol release``
RELEASE = "Priority=INFINITE"
UPDATE_SOURCE = "_parse_job_list"
KILL_SOURCE = "slurm_kill_job"
ALREADY_DONE = "Job/step already completing or completed"
ACCESS_DENIED = "Access/permission denied"
NOT_NOW = "Job can not be altered now, try again later"
NOT_WHOLE_HET_JOB = "Operation not permitted on individual component of heterogeneous job"
_NONE_LEFT = "No active jobs match ALL job filters"
#: job states (as scontrol prints them) in which slurmctld delivers a signal
_RUNNING = frozenset({"RUNNING", "CONFIGURING", "SIGNALING"})
_ENDED = frozenset({"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                    "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"})
# the fields around these two are not free text (job names and comments are), which
# keeps a job's name from passing for its owner or state
_OWNER = re.compile(r" UserId=([^\s(]+)\([0-9]+\) GroupId=\S+ MCS_label=")
_STATE = re.compile(r" WCKey=\S* JobState=([A-Z_]+) ")
INVALID_JOB_ID = SlurmError("Invalid job id specified", 2017)

_SETTING = re.compile(r"[A-Za-z]+=[^\x00]*")
_RPC_FAILED = re.compile(r"^(?P<error>.+) for job (?P<job>\S+)$")
_TASK_FAILED = re.compile(r"^(?P<job>[0-9][0-9_+\[\]\-,]*): (?P<error>.+)$")
_KILL_FAILED = re.compile(r"Kill job error on job (?:step )?id \S+: (?P<error>.+)$")
_PREFIX = re.compile(r"^(?:scontrol|scancel|slurm_\w+)?:? ?(?:error: )?")


def _lines(stderr: bytes) -> list[str]:
    return [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]


def _named(error_text: str, source: str, description: str) -> SlurmError:
    """Slurm's error for ``error_text`` (its number from Slurm's table)."""
    err = slurm_error(error_text.encode(), source, default=error_text)
    return SlurmError(err.error, err.error_number, description, source)


class JobControlCli(CliCore):
    def update_job(self, who: Identity, job_id: str, settings: Sequence[str]) -> None:
        for setting in settings:
            if not _SETTING.fullmatch(setting):
                raise ValueError(f"not a Key=value setting: {setting!r}")
        plain = [s for s in settings if s != RELEASE]
        if plain:
            out = self.run(["scontrol", "update", f"JobId={job_id}", *plain], who)
            if out.returncode != 0:
                raise _update_error(job_id, out)
        if len(plain) != len(settings):
            out = self.run(["scontrol", "release", f"JobId={job_id}"], who)
            if out.returncode != 0:
                raise _update_error(job_id, out)

    def signal_job(self, who: Identity, job_id: str, signal: str | None) -> None:
        if not job_id[:1].isdigit():
            raise ValueError(f"not a job id: {job_id!r}")
        if signal is None:
            # -v: without it scancel stays silent about unknown jobs when cancelling
            self._scancel(who, job_id, "9", ["scancel", "--full", "-v", "--", job_id])
            return
        if not signal.isdigit():
            raise ValueError(f"not a signal number: {signal!r}")
        # slurmctld only signals running jobs; for any other job scancel would retry
        # for a minute and a half, so the answer is decided here from the job's records
        states = self._job_states(who, job_id)
        if states is None:
            raise _kill_error(job_id, signal, INVALID_JOB_ID.error)
        owners = {owner for owner, _ in states}
        if not any(state in _RUNNING for _, state in states):
            if who.user not in owners:
                raise _kill_error(job_id, signal, ACCESS_DENIED)
            if all(state in _ENDED for _, state in states):
                return  # slurmctld: already done, which slurmrestd takes as success
            if _component(job_id) and any(state == "PENDING" for _, state in states):
                raise _kill_error(job_id, signal, NOT_WHOLE_HET_JOB)
            raise _kill_error(job_id, signal, NOT_NOW)
        self._scancel(who, job_id, signal, [
            "scancel", "--full", "--state=RUNNING", f"--signal={signal}", "--", job_id])

    def _scancel(self, who: Identity, job_id: str, signal: str, argv: list[str]) -> None:
        out = self.run(argv, who)
        lines = _lines(out.stderr)
        errors = [m["error"] for ln in lines if (m := _KILL_FAILED.search(ln))]
        if not errors and out.returncode == 0:
            return
        error = errors[0] if errors else ""
        if error == ALREADY_DONE or any(_NONE_LEFT in ln for ln in lines):
            return  # ended (or stopped running) meanwhile
        if error == INVALID_JOB_ID.error and signal != "9" and self._job_states(
                who, job_id) is not None:
            return  # ended: scancel looks among active jobs only; slurmctld says "done"
        if not error:
            err = slurm_error(out.stderr, KILL_SOURCE, default="scancel failed")
            error = err.error if err.error_number != -1 else INVALID_JOB_ID.error
        raise _kill_error(job_id, signal, error)

    def _job_states(self, who: Identity, job_id: str) -> list[tuple[str, str]] | None:
        """(owner, state) of each record slurmctld has of the job (ended ones included),
        or None when it has none."""
        # an array's task set and a het job's leader (+0) stand for every record of the job
        base = job_id if _component(job_id) else re.split(r"_\[|\+", job_id)[0]
        out = self.run(["scontrol", "-o", "show", "job", base], who)
        if out.returncode != 0:
            return None
        records = []
        for line in out.stdout.decode("utf-8", "replace").splitlines():
            owner, state = _OWNER.search(line), _STATE.search(line)
            if owner and state:
                records.append((owner[1], state[1]))
        return records or None


def _component(job_id: str) -> bool:
    """Whether ``job_id`` names one heterogeneous job component other than the leader."""
    _, plus, offset = job_id.partition("+")
    return bool(plus) and int(offset) > 0


def _kill_error(job_id: str, signal: str, error: str) -> SlurmCommandError:
    return SlurmCommandError([_named(
        error, KILL_SOURCE, f"unable to kill JobId={job_id} with signal {signal}: {error}")])


def _update_error(job_id: str, out: Outcome) -> SlurmCommandError:
    lines = [_PREFIX.sub("", ln) for ln in _lines(out.stderr)]
    for line in lines:
        if m := _RPC_FAILED.match(line):
            return SlurmCommandError([_named(
                m["error"], UPDATE_SOURCE, f"job update of JobId={job_id} failed")])
        if m := _TASK_FAILED.match(line):
            return SlurmCommandError([_named(
                m["error"], UPDATE_SOURCE, f"job array update of JobId={m['job']} failed")],
                status=200)
    err = slurm_error(out.stderr, UPDATE_SOURCE, default="scontrol update failed")
    if err.error_number != -1:
        return SlurmCommandError([SlurmError(err.error, err.error_number,
                                             f"job update of JobId={job_id} failed",
                                             UPDATE_SOURCE)])
    # scontrol refused a value before asking slurmctld
    return SlurmCommandError([SlurmError(
        "Failure during parsing", 9001,
        "; ".join(ln for ln in lines if ln != "Request aborted") or "scontrol update failed",
        "scontrol update",
    )], status=400)
