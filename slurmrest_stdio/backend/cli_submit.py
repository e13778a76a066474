"""Batch submission: ``sbatch --parsable``, the script on stdin, the environment on a fd.

How the job gets exactly the environment it was given: sbatch would take the job's
environment from its own (ours: PATH, SLURM_CONF, maybe SLURM_JWT). Instead each
component's variables travel as ``NAME=value\\0`` records in an anonymous in-memory file
whose descriptor sbatch gets (``--export-file=<fd>``); with that option sbatch clears its
own environment once it has read its options, so nothing of ours reaches the job. Slurm
adds its own ``SLURM_*`` variables as always (sbatch: SLURM_SUBMIT_DIR, SLURM_SUBMIT_HOST,
SLURM_PRIO_PROCESS, SLURM_UMASK). Components of a heterogeneous job each get their own
descriptor, so each has its own environment.

A limitation that follows: a client configuration with ``AuthType=auth/jwt`` (where
sbatch authenticates with SLURM_JWT) cannot submit this way, because sbatch clears the
token with the rest of its environment before it authenticates; Slurm then answers
"Protocol authentication error". With munge (the usual client setup) this does not arise.

``--ignore-pbs``: slurmrestd reads nothing from the script, so neither do we where sbatch
lets us (``#PBS`` lines). ``#SBATCH`` lines are sbatch's own and do apply; the request's
properties, given on the command line, win over them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import SubmitResult
from slurmrest_stdio.backend.clicore import CliCore, Outcome, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: what sbatch --parsable prints: the job id, and ";cluster" when one was chosen
_PARSABLE = re.compile(r"([0-9]+)(?:;\S+)?")
_FAILED = "Batch job submission failed:"
_SBATCH_PREFIX = re.compile(r"^sbatch: ")


class SubmitCli(CliCore):
    def submit(
        self,
        who: Identity,
        components: Sequence[Sequence[str]],
        script: bytes,
        environments: Sequence[Mapping[str, str]],
    ) -> SubmitResult:
        if not components or len(components) != len(environments):
            raise ValueError("one environment per component, at least one component")
        for option in (o for opts in components for o in opts):
            # options come from the operation's table; a value never travels alone
            if not option.startswith("--") or "\x00" in option:
                raise ValueError(f"not an sbatch option: {option!r}")
        fds = [_environment_fd(env) for env in environments]
        try:
            argv = ["sbatch", "--parsable"]
            for index, (options, fd) in enumerate(zip(components, fds, strict=True)):
                if index:
                    argv.append(":")
                argv += ["--ignore-pbs", f"--export-file={fd}", *options]
            out = self.run(argv, who, stdin=script, pass_fds=fds)
        finally:
            for fd in fds:
                os.close(fd)
        return _result(out, het=len(components) > 1)


def _environment_fd(env: Mapping[str, str]) -> int:
    """A readable descriptor, at offset 0, of ``env`` as NUL-terminated records."""
    data = b"".join(f"{name}={value}".encode() + b"\0" for name, value in env.items())
    try:
        fd = os.memfd_create("slurmrest-stdio-env", os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # no memfd: an unlinked temporary file does it too
        import tempfile

        fd = os.dup(tempfile.TemporaryFile().fileno())  # noqa: SIM115
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _result(out: Outcome, *, het: bool) -> SubmitResult:
    source = "slurm_submit_batch_het_job" if het else "slurm_submit_batch_job"
    lines = out.stdout.decode("utf-8", "replace").split()
    found = _PARSABLE.fullmatch(lines[-1]) if lines else None
    if out.returncode == 0 and found:
        return SubmitResult(int(found[1]), "BATCH", _user_message(out.stderr))
    text = out.stderr.decode("utf-8", "replace")
    if out.returncode == 0:
        raise SlurmCommandError([SlurmError(
            "Unspecified error", -1, "sbatch reported no job id (nothing was submitted)"
            + (f": {text.strip()}" if text.strip() else ""), source)])
    err = slurm_error(out.stderr, source, default="sbatch failed")
    if _FAILED in text or err.error_number != -1 or "fatal:" in text:
        # slurmctld refused the job (or Slurm is not usable): nothing was submitted
        return _raise(SlurmError(err.error, err.error_number, err.description, source), 500)
    # sbatch itself refused a value of the request before asking slurmctld
    problems = "; ".join(
        _SBATCH_PREFIX.sub("", ln).removeprefix("error: ")
        for ln in text.splitlines() if ln.strip()
    )
    return _raise(SlurmError("Failure during parsing", 9001, problems, "sbatch"), 400)


def _raise(error: SlurmError, status: int) -> SubmitResult:
    raise SlurmCommandError([error], status=status)


def _user_message(stderr: bytes) -> str:
    """A job_submit plugin's message to the user: what sbatch printed besides errors and
    warnings (it prints the message line by line, with its "sbatch: " prefix)."""
    kept = []
    for raw in stderr.decode("utf-8", "replace").splitlines():
        line = _SBATCH_PREFIX.sub("", raw)
        if line.startswith(("error:", "warning:", "fatal:")):
            continue
        kept.append(line)
    return "\n".join(kept).strip("\n")
