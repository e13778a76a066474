"""Submitting for a client that authenticated with a token, without Slurm: what sbatch is
given (argv, its whole environment, the user-namespace prefix) for token and local
identities, and every refusal, with the host's facts (our uid, the user database, PATH)
and sbatch's answer replaced."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend import cli_submit
from slurmrest_stdio.backend.base import SubmitResult
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.backend.slurmcli import SlurmCli
from slurmrest_stdio.config import Config
from slurmrest_stdio.errors import SlurmCommandError

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdW4iOiJhbGljZSJ9.c2ln"
ALICE_JWT = Identity("alice", 1001, "rest_auth/jwt", token=TOKEN)
ALICE_LOCAL = Identity("alice", 1001, "rest_auth/local")
SCRIPT = b"#!/bin/sh\necho hi\n"
SBATCH = "/usr/bin/sbatch"
UNSHARE = "/usr/bin/unshare"
NS = [UNSHARE, "--user", "--map-user=1001", "--map-group=1001", "--"]
OK = Outcome(0, b"123\n", b"")


class Probe(SlurmCli):
    """The real submission with the host's facts and the command replaced."""

    def __init__(self, *, own_uid: int = 1002, outcome: Outcome = OK,
                 programs: Mapping[str, str] | None = None,
                 slurm_conf: str | None = None) -> None:
        super().__init__(Config(slurm_conf=slurm_conf), environ={"PATH": "/ours/bin:/usr/bin"})
        self.own = own_uid
        self.outcome = outcome
        self.programs = {"sbatch": SBATCH, "unshare": UNSHARE} if programs is None \
            else dict(programs)
        self.calls: list[tuple[str, list[str], dict[str, str] | None, bytes]] = []
        self.fd_data: list[bytes] = []

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.calls.append(("run", list(argv), None, stdin or b""))
        self.fd_data += [os.read(fd, 1 << 20) for fd in pass_fds]
        return self.outcome

    def run_with_env(self, argv: Sequence[str], env: Mapping[str, str], *,
                     stdin: bytes | None = None, pass_fds: Sequence[int] = (),
                     enveloped: bool = True) -> Outcome:
        assert not pass_fds
        self.calls.append(("run_with_env", list(argv), dict(env), stdin or b""))
        return self.outcome

    def _own_uid(self) -> int:
        return self.own

    def _account(self, who: Identity) -> tuple[int, int]:
        return {"alice": (1001, 1001), "bob": (1002, 1002), "root": (0, 0)}[who.user]

    def _program(self, name: str) -> str | None:
        return self.programs.get(name)


def refused(probe: Probe, *args: object, status: int = 400) -> list[str]:
    """Submit (expecting a refusal with ``status``); the descriptions; nothing ran."""
    with pytest.raises(SlurmCommandError) as info:
        probe.submit(*args)  # type: ignore[arg-type]
    assert info.value.status == status
    assert probe.calls == []
    return [e.description for e in info.value.errors]


# -- what sbatch gets -----------------------------------------------------------------------------

def test_token_for_another_user_runs_sbatch_in_a_user_namespace() -> None:
    probe = Probe(own_uid=1002)
    env = {"A": "1", "B": "x\ny = 'z', \"q\"", "PATH": "/job/bin", "LANG": "C.UTF-8"}
    result = probe.submit(ALICE_JWT, [["--job-name=a", "--hold"]], SCRIPT, [env])
    assert result == SubmitResult(123, "BATCH", "")
    ((how, argv, sbatch_env, stdin),) = probe.calls
    assert how == "run_with_env"
    assert argv == [*NS, SBATCH, "--parsable", "--ignore-pbs", "--export=ALL",
                    "--job-name=a", "--hold"]
    # exactly the job's variables and the token: none of ours (PATH, LC_ALL)
    assert sbatch_env == {**env, "SLURM_JWT": TOKEN}
    assert stdin == SCRIPT


def test_token_of_our_own_user_needs_no_namespace() -> None:
    probe = Probe(own_uid=1001)
    probe.submit(ALICE_JWT, [[]], SCRIPT, [{"A": "1"}])
    ((how, argv, sbatch_env, _),) = probe.calls
    assert how == "run_with_env"
    assert argv == [SBATCH, "--parsable", "--ignore-pbs", "--export=ALL"]
    assert sbatch_env == {"A": "1", "SLURM_JWT": TOKEN}
    # and unshare is not needed for it
    probe = Probe(own_uid=1001, programs={"sbatch": SBATCH})
    probe.submit(ALICE_JWT, [[]], SCRIPT, [{"A": "1"}])
    assert probe.calls[0][1][0] == SBATCH


def test_namespace_maps_to_the_token_users_ids() -> None:
    probe = Probe(own_uid=1001)
    probe.submit(Identity("bob", 1002, "rest_auth/jwt", token=TOKEN), [[]], SCRIPT, [{"A": "1"}])
    assert probe.calls[0][1][:5] == [UNSHARE, "--user", "--map-user=1002", "--map-group=1002",
                                     "--"]
    probe = Probe(own_uid=1002)
    probe.submit(Identity("root", 0, "rest_auth/jwt", token=TOKEN), [[]], SCRIPT, [{"A": "1"}])
    assert probe.calls[0][1][:5] == [UNSHARE, "--user", "--map-user=0", "--map-group=0", "--"]


def test_configured_slurm_conf_goes_to_sbatch() -> None:
    probe = Probe(slurm_conf="/etc/other/slurm.conf")
    probe.submit(ALICE_JWT, [[]], SCRIPT, [{"A": "1"}])
    assert probe.calls[0][2] == {"A": "1", "SLURM_JWT": TOKEN,
                                 "SLURM_CONF": "/etc/other/slurm.conf"}


def test_local_identity_keeps_the_export_file_way() -> None:
    probe = Probe(own_uid=1001)
    probe.submit(ALICE_LOCAL, [["--job-name=a"]], SCRIPT, [{"A": "1"}])
    ((how, argv, sbatch_env, _),) = probe.calls
    assert how == "run" and sbatch_env is None
    assert argv[:3] == ["sbatch", "--parsable", "--ignore-pbs"]
    assert argv[3].startswith("--export-file=") and argv[4:] == ["--job-name=a"]
    assert probe.fd_data == [b"A=1\x00"]
    assert not any(a.startswith(UNSHARE) for a in argv)


def test_het_job_with_one_environment() -> None:
    probe = Probe()
    env = {"A": "1"}
    probe.submit(ALICE_JWT, [["--job-name=a"], ["--job-name=b"]], SCRIPT, [env, dict(env)])
    ((_, argv, sbatch_env, _),) = probe.calls
    assert argv == [*NS, SBATCH, "--parsable", "--ignore-pbs", "--export=ALL", "--job-name=a",
                    ":", "--ignore-pbs", "--export=ALL", "--job-name=b"]
    assert sbatch_env == {"A": "1", "SLURM_JWT": TOKEN}


def test_sbatch_answers_are_read_as_usual() -> None:
    probe = Probe(outcome=Outcome(0, b"77;lab\n", b"sbatch: adjusted\n"))
    assert probe.submit(ALICE_JWT, [[]], SCRIPT, [{"A": "1"}]) == SubmitResult(
        77, "BATCH", "adjusted")
    # slurmctld's guard (the job's user is not the token's): Slurm's own error, no namespace
    # message
    probe = Probe(outcome=Outcome(1, b"", b"sbatch: error: Batch job submission failed: "
                                         b"Invalid user id\n"))
    with pytest.raises(SlurmCommandError) as info:
        probe.submit(ALICE_JWT, [[]], SCRIPT, [{"A": "1"}])
    assert info.value.status == 500
    assert [(e.error_number, e.source) for e in info.value.errors] == [
        (2010, "slurm_submit_batch_job")]


# -- no user namespace: 500, nothing submitted ----------------------------------------------------

@pytest.mark.parametrize("stderr", [
    b"unshare: unshare failed: Operation not permitted\n",
    b"unshare: write failed /proc/self/uid_map: Operation not permitted\n",
    b"unshare: unrecognized option '--map-user=1001'\nTry 'unshare --help'\n",
])
def test_namespace_refused_by_the_system(stderr: bytes) -> None:
    probe = Probe(outcome=Outcome(1, b"", stderr))
    with pytest.raises(SlurmCommandError) as info:
        probe.submit(ALICE_JWT, [[]], SCRIPT, [{"A": "1"}])
    assert info.value.status == 500
    (err,) = info.value.errors
    assert err.source == "unshare"
    assert "needs an unprivileged user namespace" in err.description
    assert stderr.decode().splitlines()[0] in err.description
    assert "Nothing was submitted" in err.description


def test_no_unshare_program() -> None:
    (text,) = refused(Probe(programs={"sbatch": SBATCH}), ALICE_JWT, [[]], SCRIPT,
                      [{"A": "1"}], status=500)
    assert "user namespace" in text and "unshare is not installed" in text


def test_no_sbatch_program() -> None:
    (text,) = refused(Probe(programs={"unshare": UNSHARE}), ALICE_JWT, [[]], SCRIPT,
                      [{"A": "1"}], status=500)
    assert text == "sbatch is not installed"


# -- what a token submission refuses: 400, nothing submitted ------------------------------------

@pytest.mark.parametrize("name", [
    "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GLIBC_TUNABLES", "MALLOC_TRACE",
    "MALLOC_CHECK_", "GCONV_PATH", "NLSPATH", "LOCPATH", "HOSTALIASES", "RES_OPTIONS",
    "TMPDIR", "TZDIR", "SLURM_CONF", "SLURM_CONF_SERVER", "SLURM_JWT", "SLURM_HOSTFILE",
    "SLURMD_NODENAME", "_SLURM_SPANK_OPTION_x", "SBATCH_WAIT", "SBATCH_EXPORT",
    "LUA_CPATH",
])
def test_variables_the_submitting_programs_read_are_refused(name: str) -> None:
    (text,) = refused(Probe(), ALICE_JWT, [[]], SCRIPT, [{"A": "1", name: "/tmp/x"}])
    assert text.startswith(f"environment: {name} cannot be passed on with token")


def test_refused_variables_are_named_together() -> None:
    (text,) = refused(Probe(), ALICE_JWT, [[]], SCRIPT,
                      [{"TMPDIR": "/t", "LD_PRELOAD": "x", "OK": "1"}])
    assert text.startswith("environment: LD_PRELOAD, TMPDIR cannot")


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "A B",
                                  "BASH_FUNC_ml%%", "SLUR", "LD", "ld_preload", "MY_SLURM_X"])
def test_other_variables_pass(name: str) -> None:
    probe = Probe()
    probe.submit(ALICE_JWT, [[]], SCRIPT, [{name: "v"}])
    assert probe.calls[0][2] == {name: "v", "SLURM_JWT": TOKEN}


def test_het_components_with_different_environments_are_refused() -> None:
    texts = refused(Probe(), ALICE_JWT, [[], [], []], SCRIPT,
                    [{"A": "1"}, {"A": "2"}, {"A": "1", "B": "1"}])
    assert len(texts) == 2
    assert texts[0].startswith("component 1: its environment differs from component 0's")
    assert texts[1].startswith("component 2:")


@pytest.mark.parametrize("line", [
    "#SBATCH --export-file=/home/bob/x",
    "#SBATCH --export-file /home/bob/x",
    "#SBATCH --export-f=x",
    "#SBATCH --export-=x",
    "#SBATCH --bbf=/home/bob/.ssh/id_rsa",
    "#SBATCH --nodefile=/etc/shadow",
    "#SBATCH --nod=/etc/shadow",
    "#SBATCH -F /etc/shadow",
    "#SBATCH -F/etc/shadow",
    "#SBATCH -HF/etc/shadow",
    "#SBATCH --nodelist=/etc/shadow",
    "#SBATCH --nodelist /etc/shadow",
    "#SBATCH -w /etc/shadow",
    "#SBATCH -w/etc/shadow",
    "#SBATCH --exclude=./hosts",
    "#SBATCH -x /x",
    "#SBATCH --time=5 --bbf=x # a comment",
    "#SBATCH \"--bbf=x\"",
    "#SBATCH '--export-file'=x",
    "#SBATCH \\-\\-bbf=x",
    "#SBATCH--bbf=x",
    "#SLURM --bbf=x",
])
def test_directives_that_read_local_files_are_refused(line: str) -> None:
    script = f"#!/bin/sh\n# a comment\n\n{line}\necho hi\n".encode()
    (text,) = refused(Probe(), ALICE_JWT, [[]], script, [{"A": "1"}])
    assert text.startswith("an #SBATCH line of the script ")
    assert "would read that file with this service's privileges" in text


@pytest.mark.parametrize("line", [
    "#SBATCH --export=NONE",
    "#SBATCH --bb=capacity=1G",
    "#SBATCH --nodelist=n[1-2]",
    "#SBATCH -w n1",
    "#SBATCH --exclude=n2 --nodes=1",
    "#SBATCH --exclusive",
    "#SBATCH --time=5 # --bbf=x",
    "#SBATCH --comment='a # --bbf=x'",
    "#SBATCH -J x -o /tmp/out",
    "#SBATCH -kF/x",  # -k takes the rest as its (optional) argument
    "echo first\n#SBATCH --bbf=x",  # after the first command: not read by sbatch
    "  #SBATCH --bbf=x",  # not at the start of the line: a plain comment
])
def test_other_directives_pass(line: str) -> None:
    probe = Probe()
    probe.submit(ALICE_JWT, [[]], f"#!/bin/sh\n{line}\necho hi\n".encode(), [{"A": "1"}])
    assert len(probe.calls) == 1


def test_request_options_naming_files_are_refused() -> None:
    (text,) = refused(Probe(), ALICE_JWT, [["--nodelist=/etc/shadow"]], SCRIPT, [{"A": "1"}])
    assert text.startswith("the request (as sbatch option) '--nodelist=/etc/shadow'")
    probe = Probe()
    probe.submit(ALICE_JWT, [["--nodelist=n1", "--exclude=n[2-3]"]], SCRIPT, [{"A": "1"}])
    assert len(probe.calls) == 1


def test_export_options_are_ours() -> None:
    for option in ("--export=A", "--export-file=3"):
        with pytest.raises(ValueError, match="sets --export itself"):
            Probe().submit(ALICE_JWT, [[option]], SCRIPT, [{"A": "1"}])


def test_sizes_exec_refuses_are_refused_first() -> None:
    limit = cli_submit._MAX_EXEC_STRING
    # "A=" + value + NUL: at most MAX_ARG_STRLEN bytes (131069 x's pass exec, 131070 not)
    (text,) = refused(Probe(), ALICE_JWT, [[]], SCRIPT, [{"A": "x" * (limit - 2)}])
    assert text.startswith("environment.A: with token authentication")
    probe = Probe()
    probe.submit(ALICE_JWT, [[]], SCRIPT, [{"A": "x" * (limit - 3)}])
    assert len(probe.calls) == 1
    many = {f"V{i}": "x" * 100_000 for i in range(os.sysconf("SC_ARG_MAX") // 100_000 + 1)}
    (text,) = refused(Probe(), ALICE_JWT, [[]], SCRIPT, [many])
    assert "where the system allows" in text


def test_a_token_with_nul_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a usable token"):
        Probe().submit(Identity("alice", 1001, "rest_auth/jwt", token="a\x00b"), [[]], SCRIPT,
                       [{"A": "1"}])


# -- the host's facts, for real -------------------------------------------------------------------

def test_account_comes_from_the_user_database() -> None:
    cli = SlurmCli(Config(), environ={"PATH": "/usr/bin"})
    assert cli._account(Identity("root", 0, "rest_auth/jwt", token=TOKEN)) == (0, 0)
    assert cli._account(Identity("root", None, "rest_auth/jwt", token=TOKEN)) == (0, 0)
    for who in (Identity("no-such-user-here", 4242, "rest_auth/jwt", token=TOKEN),
                Identity("root", 4242, "rest_auth/jwt", token=TOKEN)):
        with pytest.raises(SlurmCommandError) as info:
            cli._account(who)
        (err,) = info.value.errors
        assert (info.value.status, err.error_number) == (500, 2010)
        assert "nothing was submitted" in err.description


def test_programs_are_found_in_our_path_as_absolute_paths(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / "sbatch"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.chdir(tmp_path.parent)
    cli = SlurmCli(Config(), environ={"PATH": f"{tmp_path.name}:/nonexistent"})
    assert cli._program("sbatch") == str(tool)
    assert cli._program("no-such-program") is None
    assert SlurmCli(Config(), environ={})._own_uid() == os.getuid()
