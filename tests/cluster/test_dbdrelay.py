"""The slurmdbd relay on the lab cluster: Slurm's own commands and our answers are the same
through it as without it, refusals included; and the program really uses it.

Timing is not asserted here (bench/ measures it); what is asserted is that nothing a
client can see changes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from slurmrest_stdio.backend.dbdrelay import DbdRelay
from tests.helpers import base_env, request, run_pipe, user

pytestmark = pytest.mark.usefixtures("cluster", "test_user")

D = "/slurmdb/v0.0.38"
NEW_USER = "zt_relay_u"


@pytest.fixture(scope="module")
def relay() -> Iterator[DbdRelay]:
    started = DbdRelay.start("/etc/slurm/slurm.conf")
    assert started is not None, DbdRelay.why_not
    yield started
    started.close()


def as_alice(argv: list[str], relay: DbdRelay | None) -> tuple[int, str, str]:
    u = user()
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": u.home}
    fds: tuple[int, ...] = ()
    if relay is not None:
        env["SLURM_CONF"] = relay.conf_path
        fds = (relay.conf_fd,)
    out = subprocess.run(argv, env=env, pass_fds=fds, user=u.uid, group=u.gid,
                         extra_groups=[], cwd="/", capture_output=True, text=True,
                         timeout=60, check=False)
    return out.returncode, out.stdout, out.stderr


COMMANDS = [
    ["sacctmgr", "-P", "-n", "show", "assoc",
     "format=cluster,account,user,partition,parentname,id,lft,defaultqos,fairshare,"
     "grptres,grpjobs,maxtresperjob,maxwalldurationperjob,qos"],
    ["sacctmgr", "-P", "-n", "show", "account", "withassoc", "withcoord"],
    ["sacctmgr", "-P", "-n", "show", "user", "withdeleted"],
    ["sacctmgr", "-P", "-n", "show", "qos"],
    ["sacctmgr", "-P", "-n", "show", "tres"],
    ["sacctmgr", "-P", "-n", "show", "cluster"],
    ["sacct", "-a", "-X", "-P", "-S", "2020-01-01", "-E", "2020-01-02"],
    ["sacctmgr", "show", "user", "no_such_user_zz"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:4]))
def test_commands_say_the_same_through_the_relay(argv: list[str], relay: DbdRelay) -> None:
    direct = as_alice(argv, None)
    assert direct[0] == 0, direct
    assert as_alice(argv, relay) == direct


@pytest.fixture
def no_new_user() -> Iterator[None]:
    subprocess.run(["sacctmgr", "-i", "delete", "user", NEW_USER], capture_output=True,
                   timeout=60, check=False)
    yield
    subprocess.run(["sacctmgr", "-i", "delete", "user", NEW_USER], capture_output=True,
                   timeout=60, check=False)


def test_a_refusal_says_the_same_every_time(relay: DbdRelay, no_new_user: None) -> None:
    """slurmdbd hangs up after "permission denied"; sacctmgr must see that before its
    next request, through the relay as much as without it (this failed at random before
    the relay sent the code and the hang-up together)."""
    argv = ["sacctmgr", "-i", "add", "user", NEW_USER, "account=physics"]
    direct = as_alice(argv, None)
    assert direct[0] != 0 and "Access/permission denied" in direct[2], direct
    for _ in range(10):
        assert as_alice(argv, relay) == direct


#: every GET that reads through sacctmgr; wckeys is a 500 for alice (slurmdbd refuses her)
PATHS = ["accounts", "users", "associations", "qos", "tres", "clusters", "wckeys",
         "account/root", f"user/{user().name}", "associations?account=physics"]


def test_answers_are_the_same_with_the_relay_off() -> None:
    data = b"".join(request("GET", f"{D}/{path}") for path in PATHS)
    on = run_pipe(data)
    off = run_pipe(data, args=["--slurmdbd-relay=off"])
    assert on.returncode == off.returncode == 0
    assert len(on.responses) == len(PATHS)
    assert [r.status for r in on.responses] == [
        500 if path == "wckeys" else 200 for path in PATHS]
    assert [(r.status, r.body) for r in on.responses] == [
        (r.status, r.body) for r in off.responses]


def test_the_program_uses_the_relay() -> None:
    env = {**base_env(), "SLURMRESTD_DEBUG_STDERR": "debug"}
    run = run_pipe(request("GET", f"{D}/accounts"), env=env)
    assert run.responses[0].status == 200
    assert b"sacct and sacctmgr reach slurmdbd at" in run.stderr
    off = run_pipe(request("GET", f"{D}/accounts"), env=env, args=["--slurmdbd-relay=off"])
    assert off.responses[0].body == run.responses[0].body
    assert b"reach slurmdbd" not in off.stderr
