"""The real backend's pure parts: environments, error mapping, timeouts (no cluster)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import SlurmVersion
from slurmrest_stdio.backend.slurmcli import SlurmCli, slurm_error
from slurmrest_stdio.config import Config, Limits
from slurmrest_stdio.errors import SlurmCommandError

ALICE = Identity("alice", 1001, "rest_auth/local")


def test_environment_is_built_on_purpose() -> None:
    cli = SlurmCli(Config(slurm_conf="/etc/x.conf"),
                   environ={"PATH": "/opt/slurm/bin", "SLURM_JWT": "leak", "HOME": "/root",
                            "LD_PRELOAD": "evil.so"})
    assert cli.environment(ALICE) == {"PATH": "/opt/slurm/bin", "LC_ALL": "C",
                                      "SLURM_CONF": "/etc/x.conf"}
    token = Identity("alice", None, "rest_auth/jwt", token="t0k")
    assert cli.environment(token)["SLURM_JWT"] == "t0k"
    assert "SLURM_CONF" not in SlurmCli(Config(), environ={}).environment(ALICE)
    assert SlurmCli(Config(), environ={}).environment(None)["PATH"].startswith("/usr/local")


@pytest.mark.parametrize(
    ("stderr", "number", "error"),
    [
        (b"slurm_load_jobs error: Invalid job id specified\n", 2017, "Invalid job id specified"),
        (b"scontrol: error: Unable to contact slurm controller (connect failure)\n", 1800,
         "Unable to contact slurm controller (connect failure)"),
        (b"sbatch: error: Batch job submission failed: Invalid account or account/partition"
         b" combination specified\n", 2045,
         "Invalid account or account/partition combination specified"),
        (b"something odd happened\n", -1, "Unspecified error"),
    ],
)
def test_slurm_error_maps_text_to_slurm_numbers(stderr: bytes, number: int, error: str) -> None:
    err = slurm_error(stderr, "src")
    assert (err.error_number, err.error, err.source) == (number, error, "src")
    assert err.description == stderr.decode().strip().split("error: ")[-1]


def test_slurm_error_default_description() -> None:
    assert slurm_error(b"", "x", default="nothing said").description == "nothing said"


def test_command_timeout_is_504_and_missing_command_500() -> None:
    cli = SlurmCli(Config(limits=Limits(command_timeout=0.2)), environ={"PATH": "/usr/bin:/bin"})
    with pytest.raises(SlurmCommandError) as info:
        cli.run(["sleep", "5"], ALICE)
    assert info.value.status == 504 and "within 0.2 seconds" in str(info.value)
    with pytest.raises(SlurmCommandError) as info:
        cli.run(["no-such-slurm-command"], ALICE)
    assert info.value.status == 500 and "not installed" in str(info.value)
    cli.close()


def test_run_passes_stdin_and_argv_verbatim() -> None:
    cli = SlurmCli(Config(), environ={"PATH": "/usr/bin:/bin"})
    out = cli.run(["cat"], ALICE, stdin=b"--wrap=id\x00\n$(reboot)")
    assert out.stdout == b"--wrap=id\x00\n$(reboot)" and out.returncode == 0
    out = cli.run(["printf", "%s|", "--name=-x; rm -rf /", "$HOME"], ALICE)
    assert out.stdout == b"--name=-x; rm -rf /|$HOME|"
    cli.close()


@pytest.mark.parametrize(
    ("text", "version"),
    [("22.05.8", SlurmVersion(22, 5, 8, "22.05.8")),
     ("23.11.0-0rc1", SlurmVersion(23, 11, 0, "23.11.0-0rc1"))],
)
def test_version_parse(text: str, version: SlurmVersion) -> None:
    assert SlurmVersion.parse(text) == version


def test_missing_explicit_slurm_conf_fails_at_once() -> None:
    cli = SlurmCli(Config(slurm_conf="/nonexistent/slurm.conf"), environ={})
    with pytest.raises(SlurmCommandError) as info:
        cli.run(["true"], ALICE)
    assert "slurm.conf /nonexistent/slurm.conf does not exist" in str(info.value)
    with pytest.raises(SlurmCommandError):
        cli.version()


def test_change_check_never_speaks_for_another_identity() -> None:
    cli = SlurmCli(Config(), environ={})
    cli._libslurm = object()  # as if initialised for the first client's token
    cli._libslurm_token = "first-token"
    other = Identity("bob", 1002, "rest_auth/jwt", token="second-token")
    assert cli.changed_since("jobs", 2**40, other) is True
    assert cli.changed_since("jobs", 2**40, ALICE) is True  # no token: not the same either


def test_every_backend_operation_resolves_on_the_lazy_backend() -> None:
    """SlurmCli imports its mixins on first use: each operation of the Backend protocol
    is found, bound to the instance, and provided by the first mixin defining it."""
    from slurmrest_stdio.backend.base import Backend
    from slurmrest_stdio.backend.slurmcli import MIXINS, _mixin

    operations = {name for klass in Backend.__mro__ if klass.__module__.startswith(
        "slurmrest_stdio.backend") for name, value in vars(klass).items()
        if callable(value) and not name.startswith("_")}
    assert len(operations) > 30
    cli = SlurmCli(Config(), environ={})
    for name in sorted(operations):
        method = getattr(cli, name)
        assert method.__self__ is cli, name
        providers = [vars(_mixin(*entry))[name] for entry in MIXINS
                     if name in vars(_mixin(*entry))]
        if providers:  # else CliCore's own (version, close, ...)
            assert method.__func__ is providers[0], name
    try:
        getattr(cli, "no_such_operation")  # noqa: B009
    except AttributeError as exc:
        assert "no_such_operation" in str(exc)
    else:
        raise AssertionError("a missing operation must raise AttributeError")


def test_lazy_backend_imports_only_what_a_request_uses() -> None:
    """A ping imports cli_diag (and what that module itself needs), not the other areas."""
    from slurmrest_stdio.backend.slurmcli import MIXINS

    code = ("import sys; from slurmrest_stdio.backend.slurmcli import SlurmCli; "
            "from slurmrest_stdio.config import Config; SlurmCli(Config(), environ={}).ping; "
            "print(sorted(m for m in sys.modules if m.startswith('slurmrest_stdio.backend.cli_')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    imported = set(ast.literal_eval(out.stdout))
    assert "slurmrest_stdio.backend.cli_diag" in imported
    assert not imported & {f"slurmrest_stdio.backend.{module}" for module, _ in MIXINS[2:]
                           if module != "cli_partitions"}
