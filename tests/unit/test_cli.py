"""The click layer: options and environment become a Config; run() is patched out."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from click.testing import CliRunner, Result

from slurmrest_stdio import cli, launch, options, serve
from slurmrest_stdio.config import Config


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Config]:
    seen: list[Config] = []

    def fake_run(config: Config) -> int:
        seen.append(config)
        return 0

    monkeypatch.setattr(serve, "run", fake_run)
    for var in ("SLURMRESTD_AUTH_TYPES", "SLURMRESTD_OPENAPI_PLUGINS", "SLURMRESTD_DEBUG",
                "SLURMRESTD_SECURITY", "SLURM_CONF", "SLURMRESTD_DEBUG_STDERR"):
        monkeypatch.delenv(var, raising=False)
    return seen


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli.command, list(args), env=env)


def test_defaults(captured: list[Config]) -> None:
    result = invoke()
    assert result.exit_code == 0, result.output
    (config,) = captured
    assert config.auth_types == ("rest_auth/jwt", "rest_auth/local")
    assert config.openapi_plugins == ("openapi/v0.0.38", "openapi/dbv0.0.38")
    assert config.log_level == logging.INFO and config.log_stderr_level is None
    assert config.limits.max_body_bytes == 50 * 1024 * 1024
    assert config.notices == ()
    assert config.slurmdbd_relay is True


def test_slurmdbd_relay_on_and_off(captured: list[Config]) -> None:
    assert invoke("--slurmdbd-relay", "off").exit_code == 0
    assert invoke("--slurmdbd-relay=ON").exit_code == 0
    assert invoke(env={"SLURMREST_STDIO_SLURMDBD_RELAY": "off"}).exit_code == 0
    assert [c.slurmdbd_relay for c in captured] == [False, True, False]
    result = invoke("--slurmdbd-relay", "maybe")
    assert result.exit_code == 2 and "neither 'on' nor 'off'" in result.output


def test_slurmrestd_environment(captured: list[Config]) -> None:
    result = invoke(env={"SLURMRESTD_AUTH_TYPES": "local", "SLURM_CONF": "/x/slurm.conf",
                         "SLURMRESTD_DEBUG": "5", "SLURMRESTD_SECURITY": "disable_user_check",
                         "SLURMRESTD_OPENAPI_PLUGINS": "openapi/v0.0.38"})
    assert result.exit_code == 0, result.output
    (config,) = captured
    assert config.auth_types == ("rest_auth/local",)
    assert config.slurm_conf == "/x/slurm.conf"
    assert config.log_level == logging.DEBUG
    assert config.security == frozenset({"disable_user_check"})


def test_options_override_and_verbosity(captured: list[Config]) -> None:
    result = invoke("-a", "rest_auth/local", "-f", "/y.conf", "-v", "-v", "--idle-timeout", "5",
                    "--max-body-bytes", "100", env={"SLURM_CONF": "/x"})
    assert result.exit_code == 0, result.output
    (config,) = captured
    assert config.slurm_conf == "/y.conf" and config.log_level == logging.DEBUG
    assert config.limits.idle_timeout == 5 and config.limits.max_body_bytes == 100


def test_ignored_options_become_notices(captured: list[Config]) -> None:
    result = invoke("-t", "8", "--max-connections", "10", "localhost:6820", "unix:/run/x")
    assert result.exit_code == 0, result.output
    notices = " ".join(captured[0].notices)
    assert "localhost:6820 unix:/run/x ignored" in notices
    assert "-t ignored" in notices and "--max-connections ignored" in notices


def test_listings(captured: list[Config]) -> None:
    assert invoke("-a", "list").output == "rest_auth/jwt\nrest_auth/local\n"
    assert invoke("-s", "list").output == "openapi/v0.0.38\nopenapi/dbv0.0.38\n"
    assert invoke("-V").output.startswith("slurmrest-stdio ")
    spec = json.loads(invoke("--generate-openapi-spec").output)
    assert spec["openapi"].startswith("3.0") and "/slurm/v0.0.38/ping" in spec["paths"]
    assert captured == []


@pytest.mark.parametrize(
    "args",
    [["-a", "rest_auth/nope"], ["-s", "openapi/v9"], ["--bogus"], ["-u", "no-such-user-x"],
     ["-g", "no-such-group-x"], ["--idle-timeout", "-1"]],
)
def test_usage_errors_exit_2(captured: list[Config], args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert captured == []


def test_debug_level_names(captured: list[Config]) -> None:
    assert invoke(env={"SLURMRESTD_DEBUG": "debug"}).exit_code == 0
    assert invoke(env={"SLURMRESTD_DEBUG": "loud"}).exit_code == 2
    assert invoke(env={"SLURMRESTD_DEBUG_STDERR": "error"}).exit_code == 0
    assert captured[0].log_level == logging.DEBUG
    assert captured[1].log_stderr_level == logging.ERROR


def test_user_and_group_resolve(captured: list[Config]) -> None:
    assert invoke("-u", "root", "-g", "root").exit_code == 0
    assert (captured[0].uid, captured[0].gid) == (0, 0)


def test_exit_status_of_run_is_the_process_exit_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "run", lambda config: 3)
    monkeypatch.setattr("sys.argv", ["slurmrest-stdio"])
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 3


def test_usage_error_from_main_exits_2(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["slurmrest-stdio", "--bogus"])
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 2
    assert "No such option" in capsys.readouterr().err


# -- the serving case without click (options.fast_parse) ------------------------------------

SERVING = [
    [], ["-a", "rest_auth/local"], ["-arest_auth/jwt,rest_auth/local"], ["-f", "/x.conf"],
    ["-v"], ["-vvv", "-v"], ["-u", "alice", "-g", "alice"], ["-s", "openapi/v0.0.38"],
    ["-t", "8", "--max-connections", "10", "localhost:6820", "unix:/run/x"],
    ["host:1", "-a", "local", "-", "host:2"], ["--idle-timeout", "5", "--read-timeout=0"],
    ["--max-header-bytes", "1024", "--max-body-bytes=0", "--write-timeout", "1e1"],
    ["--command-timeout=0.1", "-t", "-3"], ["-a", "-v"], ["--slurmdbd-relay", "off"],
]
SERVING_ENV = [
    {}, {"SLURMRESTD_AUTH_TYPES": "local", "SLURM_CONF": "/e.conf"},
    {"SLURMREST_STDIO_IDLE_TIMEOUT": "7", "SLURMREST_STDIO_MAX_BODY_BYTES": "12",
     "SLURMRESTD_OPENAPI_PLUGINS": "", "SLURMREST_STDIO_SLURMDBD_RELAY": "off"},
]
LEFT_TO_CLICK = [
    ["-h"], ["--help"], ["-V"], ["--version"], ["--generate-openapi-spec"], ["-a", "list"],
    ["-s", "list"], ["--bogus"], ["-x"], ["-a"], ["--idle-timeout", "-1"],
    ["--max-header-bytes", "10"], ["-t", "many"], ["--", "x"], ["-v=1"], ["-va"],
    ["--command-timeout", "0.01"], ["--idle-timeout="],
]


def _click_values(argv: list[str], env: dict[str, str],
                  monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ctx = cli.command.make_context("slurmrest-stdio", list(argv))
    return dict(ctx.params)


@pytest.mark.parametrize("env", SERVING_ENV)
@pytest.mark.parametrize("argv", SERVING)
def test_fast_parser_reads_what_click_reads(argv: list[str], env: dict[str, str],
                                            captured: list[Config],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fast = options.fast_parse(argv, env)
    assert fast is not None
    assert fast == _click_values(argv, env, monkeypatch)


@pytest.mark.parametrize("argv", LEFT_TO_CLICK)
def test_fast_parser_leaves_the_rest_to_click(argv: list[str]) -> None:
    assert options.fast_parse(argv, {}) is None


def test_fast_parser_leaves_a_bad_environment_value_to_click() -> None:
    assert options.fast_parse([], {"SLURMREST_STDIO_IDLE_TIMEOUT": "soon"}) is None
    assert options.fast_parse([], {"SLURMRESTD_AUTH_TYPES": "list"}) is None


def test_console_script_serves_without_click(monkeypatch: pytest.MonkeyPatch,
                                             captured: list[Config]) -> None:
    monkeypatch.setattr("sys.argv", ["slurmrest-stdio", "-a", "rest_auth/local", "-v"])
    monkeypatch.setattr(cli, "main", lambda: pytest.fail("click was used"))
    monkeypatch.setattr(launch, "exit_now", sys.exit)
    with pytest.raises(SystemExit) as info:
        launch.main()
    assert info.value.code == 0
    assert captured[0].auth_types == ("rest_auth/local",) and captured[0].log_level == 15


@pytest.mark.parametrize("argv", [["--bogus"], ["-a", "rest_auth/nope"], ["-u", "no-such-x"]])
def test_console_script_usage_errors_come_from_click(
        argv: list[str], monkeypatch: pytest.MonkeyPatch, captured: list[Config],
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["slurmrest-stdio", *argv])
    with pytest.raises(SystemExit) as info:
        launch.main()
    assert info.value.code == 2 and captured == []
    assert "Error" in capsys.readouterr().err
