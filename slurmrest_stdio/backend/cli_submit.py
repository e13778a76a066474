"""Batch submission: ``sbatch --parsable``, the script on stdin, the job's environment
exactly as requested. There are two ways, one per kind of client.

**Local clients** (the process is the client; Slurm authenticates it with munge): each
component's variables travel as ``NAME=value\\0`` records in an anonymous in-memory file
whose descriptor sbatch gets (``--export-file=<fd>``); with that option sbatch clears its
own environment once it has read its options, so nothing of ours reaches the job. Slurm
adds its own ``SLURM_*`` variables as always (SLURM_SUBMIT_DIR, SLURM_SUBMIT_HOST,
SLURM_PRIO_PROCESS, SLURM_UMASK). Components of a heterogeneous job each get their own
descriptor, so each has its own environment.

**Token clients** (``who.token``): sbatch must authenticate with ``SLURM_JWT``, so that
slurmctld itself checks the token and the job belongs to the token's user. That rules out
``--export-file``: in 22.05 sbatch empties its environment before its first request, the
client auth layer then finds no SLURM_JWT and quietly uses munge, i.e. the *process's*
identity. What is done instead:

* sbatch's environment is the requested variables plus SLURM_JWT (and SLURM_CONF when one
  is configured), nothing of ours (no PATH, no LC_ALL), and ``--export=ALL``: the job gets
  exactly that environment. (``--export=<names>`` would not do: sbatch then marks the job
  SLURM_GET_USER_ENV=1 and slurmd adds the user's login environment.) sbatch is named by
  its absolute path, resolved in our PATH.
* sbatch sets the job's user from getuid() and slurmctld requires it to be the token's user.
  When the process runs as someone else, sbatch runs in a new unprivileged user namespace
  that maps our uid/gid to the token user's uid and primary gid (util-linux ``unshare
  --user --map-user=UID --map-group=GID``, by absolute path). Where the system forbids user
  namespaces the answer is a 500 that says so; nothing is submitted.
* The requested variables are now the environment of programs that run with *our*
  privileges before slurmctld has seen the token, and inside that namespace they still
  reach our files. So a token submission refuses (400, nothing submitted) what would let
  the client steer them: variables that the dynamic loader and C library honour (``LD_*``,
  ``GLIBC_*``, ``MALLOC_*`` and glibc's list of variables unsafe for set-user-ID programs,
  TMPDIR among them), those of Slurm's client side (``SLURM*``, ``_SLURM*``, ``SBATCH_*``,
  ``LUA_*`` for Lua client plugins), and the options that make sbatch read a local file,
  on the request or as ``#SBATCH`` lines (``--export-file``, ``--bbf``, ``--nodefile``/
  ``-F``, ``--nodelist``/``-w`` and ``--exclude``/``-x`` with a ``/``). ``--export-file``
  would moreover drop the token (see above).
* One environment for the whole sbatch means one for every component of a heterogeneous
  job: components with different environments are refused (400).
* Slurm 22.05's sbatch copies every ``SLURM_*`` variable of its environment into the job,
  so the job's environment also has SLURM_JWT (as for anyone running sbatch with
  SLURM_JWT; Slurm drops it from 26.05 on). Within such a job, ``srun`` tries the token
  with slurmd and fails: the script should ``unset SLURM_JWT`` before using srun.

``--ignore-pbs``: slurmrestd reads nothing from the script, so neither do we where sbatch
lets us (``#PBS`` lines). ``#SBATCH`` lines are sbatch's own and do apply; the request's
properties, given on the command line, win over them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import SubmitResult
from slurmrest_stdio.backend.clicore import CliCore, Outcome, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: what sbatch --parsable prints: the job id, and ";cluster" when one was chosen
_PARSABLE = re.compile(r"([0-9]+)(?:;\S+)?")
_FAILED = "Batch job submission failed:"
_SBATCH_PREFIX = re.compile(r"^sbatch: ")
#: Slurm's ESLURM_REST_FAIL_PARSING, as the request checks answer
_FAIL_PARSING = ("Failure during parsing", 9001)
_REQUEST = "request body"

# -- what a token submission refuses (see the module's documentation) -------------------------

#: environment families that the dynamic loader, the C library or Slurm's client side read
_REFUSED_PREFIXES = ("LD_", "GLIBC_", "MALLOC_", "SLURM", "_SLURM", "SBATCH_", "LUA_")
#: glibc's variables that are unsafe for programs running with privileges the caller lacks
#: (unsecvars.h), beyond the families above
_REFUSED_NAMES = frozenset({
    "GCONV_PATH", "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "NIS_PATH",
    "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
})
#: long options of sbatch that read a file of the submitting host, and whether always or
#: only when the value has a "/" (a host list may be a file name)
_FILE_OPTIONS = {"export-file": False, "bbf": False, "nodefile": False,
                 "nodelist": True, "exclude": True}
_FILE_LETTERS = {"F": False, "w": True, "x": True}
#: long options that are exactly named and are prefixes of one of the above
_NOT_ABBREVIATIONS = frozenset({"export", "bb"})
#: short options of sbatch that take no argument (a bundle goes on after them)
_SHORT_FLAGS = frozenset("HOQVWhsv")
#: C's isspace() in the C locale, as sbatch splits #SBATCH lines
_C_SPACE = " \t\n\v\f\r"
#: Linux: one argument or environment string, its NUL included (MAX_ARG_STRLEN)
_MAX_EXEC_STRING = 32 * 4096
#: room left under ARG_MAX for what exec adds (the auxiliary vector, the file name)
_EXEC_MARGIN = 4096


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
        if who.token:
            return self._submit_with_token(who, components, script, environments)
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

    def _submit_with_token(
        self,
        who: Identity,
        components: Sequence[Sequence[str]],
        script: bytes,
        environments: Sequence[Mapping[str, str]],
    ) -> SubmitResult:
        """Submit with ``SLURM_JWT`` so that the job is the token user's or nothing is
        submitted; see the module's documentation.

        Raises:
            SlurmCommandError: 400 for what a token submission cannot pass on; 500 when
                the job could not be made the token user's; else as :func:`_result`.
        """
        token = who.token or ""
        if "\x00" in token:
            raise ValueError("not a usable token")
        options = [o for opts in components for o in opts]
        if any(o.startswith("--export") for o in options):
            raise ValueError("a token submission sets --export itself")
        problems = _environment_problems(environments)
        problems += _file_reads(options, "the request (as sbatch option)")
        problems += _file_reads(_directive_words(script.decode("utf-8", "replace")),
                                "an #SBATCH line of the script")
        if problems:
            raise SlurmCommandError(
                [SlurmError(*_FAIL_PARSING, text, _REQUEST) for text in problems], status=400)

        uid, gid = self._account(who)
        sbatch = self._program("sbatch")
        if sbatch is None:
            raise SlurmCommandError([SlurmError(
                "Unspecified error", -1, "sbatch is not installed", "sbatch")])
        prefix: list[str] = []
        own = self._own_uid()
        if own != uid:
            unshare = self._program("unshare")
            if unshare is None:
                raise _no_namespace(who, uid, own, "util-linux's unshare is not installed")
            prefix = [unshare, "--user", f"--map-user={uid}", f"--map-group={gid}", "--"]
        env = dict(environments[0])
        env["SLURM_JWT"] = token
        if self.config.slurm_conf:
            env["SLURM_CONF"] = self.config.slurm_conf
        argv = [*prefix, sbatch, "--parsable"]
        for index, opts in enumerate(components):
            if index:
                argv.append(":")
            argv += ["--ignore-pbs", "--export=ALL", *opts]
        _check_exec_size(argv, env)
        out = self.run_with_env(argv, env, stdin=script)
        if prefix and out.returncode != 0 and out.stderr.lstrip().startswith(b"unshare:"):
            # unshare failed before it could start sbatch
            text = out.stderr.decode("utf-8", "replace").strip().splitlines()[0]
            raise _no_namespace(who, uid, own, text)
        return _result(out, het=len(components) > 1)

    # -- facts about this host (tests replace them) ----------------------------------------
    def _own_uid(self) -> int:
        return os.getuid()

    def _account(self, who: Identity) -> tuple[int, int]:
        """The token user's uid and primary gid, from the user database.

        Raises:
            SlurmCommandError: 500 when the user is unknown here or the ids disagree.
        """
        import pwd

        try:
            entry = pwd.getpwnam(who.user)
        except KeyError:
            entry = None
        if entry is None or (who.uid is not None and entry.pw_uid != who.uid):
            found = "unknown" if entry is None else f"uid {entry.pw_uid}, not {who.uid}"
            raise SlurmCommandError([SlurmError(
                "Invalid user id", 2010,
                f"the token's user {who.user!r} is {found} on this host: the job cannot be "
                "submitted as that user (nothing was submitted)", "sbatch")])
        return entry.pw_uid, entry.pw_gid

    def _program(self, name: str) -> str | None:
        """``name``'s absolute path in our PATH, or None."""
        import shutil  # token submissions only: off the start-up path

        found = shutil.which(name, path=self._path)
        return os.path.abspath(found) if found else None


def _no_namespace(who: Identity, uid: int, own: int, why: str) -> SlurmCommandError:
    return SlurmCommandError([SlurmError(
        "Unspecified error", -1,
        f"submitting with a token of {who.user} (uid {uid}) from this service (uid {own}) "
        f"needs an unprivileged user namespace, and none could be made: {why}. Nothing "
        "was submitted.", "unshare")])


def _environment_problems(environments: Sequence[Mapping[str, str]]) -> list[str]:
    """What in the requested environments a token submission cannot pass on."""
    problems = []
    first = environments[0]
    for name, value in first.items():
        if "=" in name or "\x00" in name or "\x00" in value or not name:
            raise ValueError(f"not an environment variable: {name!r}")
    for index, env in enumerate(environments[1:], 1):
        if dict(env) != dict(first):
            problems.append(
                f"component {index}: its environment differs from component 0's; with "
                "token authentication sbatch gives every component of a heterogeneous "
                "job the same environment")
    refused = sorted(name for name in first
                     if name.startswith(_REFUSED_PREFIXES) or name in _REFUSED_NAMES)
    if refused:
        problems.append(
            f"environment: {', '.join(refused)} cannot be passed on with token "
            "authentication: sbatch runs with this service's privileges and would read "
            "them itself (dynamic loader, C library and Slurm variables); set them in the "
            "script instead")
    for name, value in first.items():
        if len(_exec_bytes(f"{name}={value}")) + 1 > _MAX_EXEC_STRING:
            problems.append(
                f"environment.{name}: with token authentication a variable travels in "
                f"sbatch's own environment, where NAME=value is limited to "
                f"{_MAX_EXEC_STRING - 1} bytes")
    return problems


def _file_reads(words: Sequence[str], where: str) -> list[str]:
    """The words of an sbatch command line that would make sbatch read a local file."""
    problems = []
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        hit = None
        if word.startswith("--"):
            name, equals, value = word[2:].partition("=")
            if name and name not in _NOT_ABBREVIATIONS:
                # getopt takes any unambiguous abbreviation: every prefix counts
                for option, if_slash in _FILE_OPTIONS.items():
                    if option.startswith(name) and (
                            not if_slash or "/" in (value if equals else following)):
                        hit = f"--{option}"
        elif word.startswith("-"):
            for at, letter in enumerate(word[1:], 2):
                if letter in _SHORT_FLAGS:
                    continue
                if letter in _FILE_LETTERS and (
                        not _FILE_LETTERS[letter] or "/" in (word[at:] or following)):
                    hit = f"-{letter}"
                break  # the rest of the word is this option's value
        if hit:
            problems.append(
                f"{where} {word!r}: with token authentication sbatch would read that file "
                f"with this service's privileges ({hit} naming a file is not allowed)")
    return problems


def _directive_words(script: str) -> list[str]:
    """The words sbatch reads from the ``#SBATCH`` (and old ``#SLURM``) lines of the
    script's leading block of comments and blank lines, split as sbatch splits them
    (quotes group, a backslash escapes, an unquoted ``#`` ends the line)."""
    words: list[str] = []
    for line in script.split("\n"):
        if line.startswith("#SBATCH"):
            words += _line_words(line[len("#SBATCH"):])
        elif line.startswith("#SLURM"):
            words += _line_words(line[len("#SLURM"):])
        elif line.strip(_C_SPACE) and not line.lstrip(_C_SPACE).startswith("#"):
            break
    return words


def _line_words(text: str) -> list[str]:
    words: list[str] = []
    at = 0
    while True:
        while at < len(text) and text[at] in _C_SPACE:
            at += 1
        if at >= len(text):
            return words
        word: list[str] = []
        quote = ""
        escaped = False
        while at < len(text) and (quote or text[at] not in _C_SPACE):
            char = text[at]
            at += 1
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
                continue
            elif quote:
                if char == quote:
                    quote = ""
                    continue
            elif char in "\"'":
                quote = char
                continue
            elif char == "#":  # the rest of the line is a comment
                return [*words, "".join(word)] if word else words
            word.append(char)
        words.append("".join(word))


def _exec_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _check_exec_size(argv: Iterable[str], env: Mapping[str, str]) -> None:
    """Refuse (400) what exec would refuse with E2BIG: sbatch's environment now carries the
    job's, and arguments plus environment share ARG_MAX."""
    strings = [*argv, *(f"{name}={value}" for name, value in env.items())]
    size = sum(len(_exec_bytes(s)) + 1 + 8 for s in strings)  # each string, its pointer
    try:
        limit = os.sysconf("SC_ARG_MAX")
    except (OSError, ValueError):
        limit = 2 * 1024 * 1024
    if size + _EXEC_MARGIN > limit:
        raise SlurmCommandError([SlurmError(
            *_FAIL_PARSING,
            f"environment: with token authentication the job's environment travels in "
            f"sbatch's own, and with the options it takes {size} bytes where the system "
            f"allows {limit - _EXEC_MARGIN}", _REQUEST)], status=400)


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
