"""The real backend's pure parts: environments, error mapping, timeouts (no cluster)."""

from __future__ import annotations

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
