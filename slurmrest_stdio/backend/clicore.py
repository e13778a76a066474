"""The core of the real backend: how Slurm's own commands are run, as the client.

``CliCore`` runs commands, builds their environment, knows Slurm's version and turns
Slurm's error text into envelope errors. The operations themselves live in one mixin per
area (``cli_jobs``, ``cli_nodes``, ...), combined into ``slurmcli.SlurmCli``.

Rules every mixin keeps:

* No shell, ever. Every command is an argument list; user-supplied values only ever travel
  as ``--option=value`` (one argv item that cannot be mistaken for another option) or on
  stdin.
* Every command has a timeout (:data:`~slurmrest_stdio.config.COMMAND_TIMEOUT` by default)
  and is killed when it runs out.
* Every command's environment is built on purpose, not inherited: ``PATH`` and
  ``SLURM_CONF`` from our configuration, ``LC_ALL=C`` so the text we parse is stable, and
  ``SLURM_JWT`` only when the client authenticated with a token. Nothing else of our own
  environment (or the client's) reaches Slurm.
* Slurm's error text becomes envelope errors (``error``, ``error_number`` from Slurm's own
  table, ``description``, ``source``) with the HTTP status slurmrestd gives.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import SlurmVersion
from slurmrest_stdio.config import Config
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

if TYPE_CHECKING:
    from slurmrest_stdio.backend.dbdrelay import DbdRelay

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: the commands whose only server is slurmdbd: they go through the relay (``dbdrelay``)
DBD_COMMANDS = ("sacct", "sacctmgr")


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: bytes
    stderr: bytes


class CliCore:
    """Running Slurm commands for a client; the base of every ``cli_*`` mixin."""

    def __init__(self, config: Config, environ: dict[str, str] | None = None) -> None:
        self.config = config
        base = os.environ if environ is None else environ
        self._path = base.get("PATH") or DEFAULT_PATH
        self._timeout = config.limits.command_timeout
        self._version: SlurmVersion | None = None
        self._version_proc: subprocess.Popen[bytes] | None = None
        #: a handler may run several commands at once (api.together): one version query
        self._version_lock = threading.Lock()
        #: the slurmdbd relay of this process, tried at the first accounting command
        self._relay: DbdRelay | None = None
        self._relay_tried = False
        self._relay_lock = threading.Lock()
        #: commands running now: close() ends those nobody waits for any more (a handler
        #: may return before reading all it started with api.together)
        self._children: set[subprocess.Popen[bytes]] = set()
        self._children_lock = threading.Lock()
        self._closed = False

    # -- environment and execution --------------------------------------------------------
    def environment(self, who: Identity | None) -> dict[str, str]:
        """The complete environment for a Slurm command run on behalf of ``who``."""
        env = {"PATH": self._path, "LC_ALL": "C"}
        if self.config.slurm_conf:
            env["SLURM_CONF"] = self.config.slurm_conf
        if who is not None and who.token:
            env["SLURM_JWT"] = who.token
        return env

    def run(
        self,
        argv: Sequence[str],
        who: Identity | None,
        *,
        stdin: bytes | None = None,
        pass_fds: Sequence[int] = (),
        enveloped: bool = True,
    ) -> Outcome:
        """Run one Slurm command; return its exit status and output. ``pass_fds`` are
        descriptors the command inherits (sbatch's ``--export-file=<fd>``). ``enveloped``:
        the answer will carry Slurm's version (so ``scontrol --version`` runs alongside);
        False for output that is the answer itself (``squeue --json``), which has it.

        Raises:
            SlurmCommandError: it could not be started or ran out of time.
        """
        return self.run_with_env(argv, self.environment(who), stdin=stdin, pass_fds=pass_fds,
                                 enveloped=enveloped)

    def run_with_env(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        stdin: bytes | None = None,
        pass_fds: Sequence[int] = (),
        enveloped: bool = True,
    ) -> Outcome:
        """:meth:`run` with exactly ``env`` as the command's environment instead of
        :meth:`environment`; the caller answers for every variable in it (a token
        submission, ``cli_submit``, hands the job's environment to sbatch this way).

        Raises:
            SlurmCommandError: it could not be started or ran out of time.
        """
        self._check_conf()
        if enveloped:
            self._start_version()  # overlaps `scontrol --version` with the real work
        if argv and argv[0] in DBD_COMMANDS:
            relay = self.dbd_relay()
            if relay is not None:
                env = {**env, "SLURM_CONF": relay.conf_path}
                pass_fds = (*pass_fds, relay.conf_fd)
        try:
            proc = self._spawn(argv, env, stdin is not None, pass_fds)
        except FileNotFoundError as exc:
            raise SlurmCommandError(
                [SlurmError("Unspecified error", -1, f"{argv[0]} is not installed", argv[0])]
            ) from exc
        try:
            out, err = proc.communicate(stdin, timeout=self._timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.communicate()
            raise SlurmCommandError(
                [SlurmError(
                    "Socket timed out on send/recv operation", 5004,
                    f"{argv[0]} did not finish within {self._timeout:g} seconds", argv[0],
                )],
                status=504,
            ) from exc
        finally:
            with self._children_lock:
                self._children.discard(proc)
        return Outcome(proc.returncode, out, err)

    def _spawn(self, argv: Sequence[str], env: Mapping[str, str], with_stdin: bool,
               pass_fds: Sequence[int]) -> subprocess.Popen[bytes]:
        """Start a command and keep it on the list :meth:`close` ends."""
        with self._children_lock:
            if self._closed:
                raise SlurmCommandError([SlurmError(
                    "Unspecified error", -1, "the connection is ending", argv[0])])
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if with_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                pass_fds=tuple(pass_fds),
            )
            self._children.add(proc)
        return proc

    def dbd_relay(self) -> DbdRelay | None:
        """This process's relay to slurmdbd for sacct and sacctmgr (see ``dbdrelay``),
        started on first use; None when it is off or steps aside."""
        with self._relay_lock:
            if not self._relay_tried:
                self._relay_tried = True
                if self.config.slurmdbd_relay:
                    from slurmrest_stdio.backend.dbdrelay import DbdRelay

                    self._relay = DbdRelay.start(self.config.slurm_conf_path)
                    import logging

                    log = logging.getLogger("slurmrest_stdio")
                    if self._relay is None:
                        log.debug("sacct and sacctmgr reach slurmdbd directly: %s",
                                  DbdRelay.why_not)
                    else:
                        log.debug("sacct and sacctmgr reach slurmdbd at %s:%d through "
                                  "127.0.0.1:%d", self._relay.target.host,
                                  self._relay.target.port, self._relay.port)
            return self._relay

    def _check_conf(self) -> None:
        """Fail at once when the slurm.conf we were told to use does not exist: every Slurm
        command would otherwise retry it for 60 seconds. (Without -f/SLURM_CONF nothing is
        checked: a configless client has no slurm.conf file at all.)"""
        path = self.config.slurm_conf
        if path and not os.path.exists(path):
            raise SlurmCommandError(
                [SlurmError("Unspecified error", -1, f"slurm.conf {path} does not exist",
                            "slurm_conf")]
            )

    # -- version --------------------------------------------------------------------------
    def _start_version(self) -> None:
        with self._version_lock:
            self._start_version_locked()

    def _start_version_locked(self) -> None:
        if self._version is None and self._version_proc is None:
            try:
                self._version_proc = subprocess.Popen(
                    ["scontrol", "--version"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=self.environment(None),
                )
            except OSError:
                self._version_proc = None

    def close(self) -> None:
        """End the commands still running (their answers are no longer wanted), reap a
        version query that nobody waited for, then stop the slurmdbd relay: no command
        outlives it, so none can reconnect to its port once it is free."""
        with self._children_lock:
            self._closed = True
            running = list(self._children)
        for proc in running:
            with contextlib.suppress(OSError):
                proc.kill()
        for proc in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=self._timeout)
        with self._relay_lock:
            relay, self._relay = self._relay, None
            self._relay_tried = True  # and none is started after this
        if relay is not None:
            relay.close()
        version, self._version_proc = self._version_proc, None
        if version is not None:
            version.kill()
            version.communicate()

    def version(self) -> SlurmVersion:
        with self._version_lock:
            return self._version_locked()

    def _version_locked(self) -> SlurmVersion:
        if self._version is not None:
            return self._version
        self._check_conf()
        self._start_version_locked()
        proc, self._version_proc = self._version_proc, None
        text = ""
        if proc is not None:
            try:
                out, _ = proc.communicate(timeout=self._timeout)
                text = out.decode("utf-8", "replace").strip()
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        try:
            # "slurm 22.05.8", or "slurm-wlm 22.05.8" on Debian
            self._version = SlurmVersion.parse(text.split()[-1])
        except (ValueError, IndexError) as exc:
            raise SlurmCommandError(
                [SlurmError("Unspecified error", -1,
                            f"cannot tell Slurm's version from {text!r}", "scontrol --version")]
            ) from exc
        return self._version


# -- Slurm's error text -> envelope errors ---------------------------------------------------

@functools.cache
def _errtab() -> list[tuple[str, int]]:
    """(message, number) pairs from Slurm's error table, longest message first."""
    rows = []
    table = os.path.join(os.path.dirname(__file__), "slurm_errors.tsv")
    with open(table, encoding="utf-8") as rows_file:
        text = rows_file.read()
    for line in text.splitlines()[1:]:
        number, _name, message = line.split("\t", 2)
        if int(number) > 0:  # "No error" / "Unspecified error" are not matches
            rows.append((message, int(number)))
    return sorted(rows, key=lambda r: -len(r[0]))


# "scontrol: error: ", "slurm_load_jobs error: ", "error: "
_PREFIX = re.compile(r"^(?:[\w.-]+:? )?(?:error|fatal): ")


def slurm_error(stderr: bytes, source: str, *, default: str = "") -> SlurmError:
    """Turn a command's stderr into one envelope error.

    ``error``/``error_number`` come from Slurm's own message table when the text contains
    one of its messages; ``description`` is the command's last meaningful line.
    """
    lines = [
        _PREFIX.sub("", ln.strip())
        for ln in stderr.decode("utf-8", "replace").splitlines()
        if ln.strip()
    ]
    description = lines[-1] if lines else default
    text = "\n".join(lines)
    for message, number in _errtab():
        if message and message in text:
            return SlurmError(message, number, description, source)
    return SlurmError("Unspecified error", -1, description or default, source)
