"""The pure decisions of the privilege model: which identities are refused, what -u/-g
mean, when become_user may start and whom it may become, what is unshared.

Nothing here changes the test process's identity; the real changes are proven on a real
process in tests/integration/test_privileges.py.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from slurmrest_stdio.auth.base import Peer, PeerKind
from slurmrest_stdio.config import Config
from slurmrest_stdio.io import privileges
from slurmrest_stdio.io.detect import Endpoint, StartupError
from slurmrest_stdio.io.privileges import (
    CLONE_FILES,
    CLONE_SYSVSEM,
    OVERFLOW_ID,
    Forbidden,
    Ids,
    become_user_peer_problem,
    become_user_start_problem,
    drop_target,
    refusal,
    security_problem,
    supplementary_change_needed,
    unshare_flags,
)

ALICE, SLURM = 1001, 64030
#: a host where SlurmUser is slurm (uid = primary gid = 64030) and the names of a few ids
USERS = {0: "root", ALICE: "alice", SLURM: "slurm", 99: "nobody", OVERFLOW_ID: "nobody"}
GROUPS = {0: "root", ALICE: "alice", SLURM: "slurm", 99: "nobody", 4242: "nogroup"}
HOST = Forbidden("slurm", SLURM, SLURM, USERS.get, GROUPS.get)


def config(*security: str, **kwargs: object) -> Config:
    return Config(security=frozenset(security), **kwargs)  # type: ignore[arg-type]


# -- SLURMRESTD_SECURITY ------------------------------------------------------------------------


def test_known_security_values_pass() -> None:
    assert security_problem(config()) is None
    assert security_problem(config("disable_user_check", "disable_unshare_files",
                                   "disable_unshare_sysv")) is None
    assert security_problem(config("become_user", auth_types=("rest_auth/local",))) is None


def test_unknown_security_value_is_named_with_the_known_ones() -> None:
    problem = security_problem(config("disable_user_check", "bogus"))
    assert problem is not None
    assert "bogus" in problem
    assert "become_user" in problem and "disable_unshare_sysv" in problem


@pytest.mark.parametrize("ids", [{"uid": ALICE}, {"gid": ALICE}, {"uid": ALICE, "gid": ALICE}])
def test_become_user_excludes_user_and_group_options(ids: dict[str, int]) -> None:
    problem = security_problem(config("become_user", auth_types=("rest_auth/local",), **ids))
    assert problem is not None and "-u/-g" in problem


@pytest.mark.parametrize("chain", [
    ("rest_auth/jwt",),
    ("rest_auth/local", "rest_auth/jwt"),
    ("rest_auth/jwt", "rest_auth/local"),
])
def test_become_user_refuses_the_jwt_plugin(chain: tuple[str, ...]) -> None:
    problem = security_problem(config("become_user", auth_types=chain))
    assert problem is not None
    assert "rest_auth/jwt" in problem and "-a rest_auth/local" in problem


def test_jwt_without_become_user_is_fine() -> None:
    assert security_problem(config(auth_types=("rest_auth/jwt", "rest_auth/local"))) is None


def test_check_security_raises_the_problem() -> None:
    with pytest.raises(StartupError, match="bogus"):
        privileges.check_security(config("bogus"))


# -- who may serve -----------------------------------------------------------------------------


def test_an_ordinary_user_may_serve() -> None:
    assert refusal(Ids.of(ALICE, ALICE, [ALICE]), HOST) is None
    assert refusal(Ids.of(ALICE, ALICE), HOST) is None


@pytest.mark.parametrize(("ids", "reason"), [
    pytest.param(Ids.of(0, ALICE), "root user", id="uid-0"),
    pytest.param(Ids((ALICE, 0, ALICE), (ALICE,) * 3), "root user", id="euid-0"),
    pytest.param(Ids((ALICE, ALICE, 0), (ALICE,) * 3), "root user", id="saved-uid-0"),
    pytest.param(Ids.of(ALICE, 0), "root group", id="gid-0"),
    pytest.param(Ids((ALICE,) * 3, (ALICE, ALICE, 0)), "root group", id="saved-gid-0"),
    pytest.param(Ids.of(ALICE, ALICE, [ALICE, 0]), "root group", id="group-0"),
    pytest.param(Ids.of(SLURM, ALICE), "as SlurmUser (slurm)", id="slurm-uid"),
    pytest.param(Ids.of(ALICE, SLURM), "SlurmUser's group (slurm)", id="slurm-gid"),
    pytest.param(Ids.of(ALICE, ALICE, [SLURM]), "SlurmUser's group", id="slurm-group"),
    pytest.param(Ids.of(OVERFLOW_ID, ALICE), "as nobody", id="uid-65534"),
    pytest.param(Ids.of(99, ALICE), "as nobody", id="nobody-by-name"),
    pytest.param(Ids.of(ALICE, OVERFLOW_ID), "nobody group", id="gid-65534"),
    pytest.param(Ids.of(ALICE, 4242), "nobody group", id="nogroup-by-name"),
    pytest.param(Ids.of(ALICE, 99), "nobody group", id="nobody-group-by-name"),
    pytest.param(Ids.of(ALICE, ALICE, [OVERFLOW_ID]), "nobody group", id="group-65534"),
])
def test_privileged_and_anonymous_identities_are_refused(ids: Ids, reason: str) -> None:
    problem = refusal(ids, HOST)
    assert problem is not None
    assert reason in problem


def test_root_is_reported_before_slurm_user() -> None:
    """SlurmUser=root (Slurm's default) is simply root."""
    forbidden = Forbidden("root", 0, 0, USERS.get, GROUPS.get)
    assert refusal(Ids.of(0, 0), forbidden) == "slurmrest-stdio should not be run as the root user"


def test_unknown_slurm_user_and_names_refuse_only_by_id() -> None:
    unknown = Forbidden()
    assert refusal(Ids.of(SLURM, SLURM), unknown) is None
    assert refusal(Ids.of(99, 99), unknown) is None  # no name known: 99 is just an id
    assert refusal(Ids.of(OVERFLOW_ID, ALICE), unknown) is not None


def test_disable_user_check_skips_the_check() -> None:
    privileges.check_user(config("disable_user_check"), Forbidden(slurm_uid=-2))


def test_slurm_user_from_slurm_conf(tmp_path: Path) -> None:
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=lab\nSlurmUser=root  # the default anyway\n")
    assert privileges.slurm_user(Config(slurm_conf=str(conf))) == ("root", 0, 0)
    conf.write_text("ClusterName=lab\n")
    assert privileges.slurm_user(Config(slurm_conf=str(conf))) == ("root", 0, 0)
    conf.write_text("SlurmUser=424242\n")
    assert privileges.slurm_user(Config(slurm_conf=str(conf))) == ("424242", 424242, None)
    conf.write_text("SlurmUser=no-such-user-here\n")
    assert privileges.slurm_user(Config(slurm_conf=str(conf))) == (
        "no-such-user-here", None, None)
    missing = Config(slurm_conf=str(tmp_path / "absent.conf"))
    assert privileges.slurm_user(missing) is None
    assert privileges.read_forbidden(missing).slurm_uid is None


# -- -u / -g -----------------------------------------------------------------------------------


def primary(uid: int) -> int | None:
    return {ALICE: ALICE, 0: 0}.get(uid)


def test_user_alone_takes_the_primary_group() -> None:
    assert drop_target(ALICE, None, 0, primary) == (ALICE, ALICE)


def test_group_alone_keeps_the_effective_uid() -> None:
    assert drop_target(None, 4242, ALICE, primary) == (ALICE, 4242)


def test_user_and_group_are_taken_as_given() -> None:
    assert drop_target(ALICE, 4242, 0, primary) == (ALICE, 4242)


def test_user_without_a_primary_group_needs_g() -> None:
    with pytest.raises(StartupError, match="-g"):
        drop_target(777777, None, 0, primary)


def test_nothing_to_drop_without_options() -> None:
    assert privileges.drop(Config()) is None


@pytest.mark.parametrize(("current", "target", "gid", "needed"), [
    ([], [], ALICE, False),
    ([ALICE], [], ALICE, False),  # only the primary gid: grants nothing more
    ([], [ALICE], ALICE, False),
    ([0], [], ALICE, True),
    ([ALICE, 4], [ALICE], ALICE, True),
    ([4], [4, ALICE], ALICE, False),
])
def test_supplementary_change_needed(current: list[int], target: list[int], gid: int,
                                     needed: bool) -> None:
    assert supplementary_change_needed(current, target, gid) is needed


# -- unshare -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("security", "flags"), [
    ((), CLONE_FILES | CLONE_SYSVSEM),
    (("disable_unshare_files",), CLONE_SYSVSEM),
    (("disable_unshare_sysv",), CLONE_FILES),
    (("disable_unshare_files", "disable_unshare_sysv"), 0),
    (("disable_user_check",), CLONE_FILES | CLONE_SYSVSEM),
])
def test_unshare_flags(security: tuple[str, ...], flags: int) -> None:
    assert unshare_flags(frozenset(security)) == flags


# -- become_user --------------------------------------------------------------------------------


def test_become_user_starts_only_as_root() -> None:
    assert become_user_start_problem(Ids.of(0, 0)) is None
    for ids in (Ids.of(ALICE, ALICE), Ids.of(0, ALICE), Ids.of(ALICE, 0),
                Ids((ALICE, 0, 0), (0, 0, 0))):  # a set-uid start: real uid is not root
        problem = become_user_start_problem(ids)
        assert problem is not None and "must be started as root" in problem


def unix_peer(uid: int | None = ALICE, gid: int | None = ALICE, pid: int | None = 4321) -> Peer:
    return Peer(PeerKind.UNIX, 0, "root", cred_pid=pid, cred_uid=uid, cred_gid=gid,
                description=f"unix socket, peer pid {pid} uid {uid}")


def test_become_user_takes_a_unix_socket_peer() -> None:
    assert become_user_peer_problem(unix_peer(), HOST) is None


@pytest.mark.parametrize(("kind", "description"), [
    (PeerKind.FIFO, "pipe"),
    (PeerKind.FILE, "file"),
    (PeerKind.CHAR, "/dev/pts/7"),
    (PeerKind.TCP, "127.0.0.1:40000"),
    (PeerKind.OTHER, "socket family 16"),
])
def test_become_user_refuses_anything_but_a_unix_socket(kind: PeerKind,
                                                       description: str) -> None:
    peer = Peer(kind, 0, "root", owner_uid=ALICE, mode=stat.S_IFIFO | 0o600,
                description=description)
    problem = become_user_peer_problem(peer, HOST)
    assert problem is not None
    assert "only unix socket connections" in problem and description in problem


@pytest.mark.parametrize("peer", [
    unix_peer(uid=None), unix_peer(gid=None), unix_peer(pid=0), unix_peer(pid=None),
])
def test_become_user_needs_peer_credentials(peer: Peer) -> None:
    problem = become_user_peer_problem(peer, HOST)
    assert problem is not None and "no usable peer credentials" in problem


@pytest.mark.parametrize("peer", [
    unix_peer(uid=OVERFLOW_ID), unix_peer(gid=OVERFLOW_ID), unix_peer(uid=99),
    unix_peer(gid=4242),
])
def test_become_user_refuses_a_nobody_peer(peer: Peer) -> None:
    problem = become_user_peer_problem(peer, HOST)
    assert problem is not None and "nobody" in problem


def test_become_peer_refuses_before_changing_anything() -> None:
    """Refusals come before any identity change, so they are safe to run here."""
    pipe = Endpoint(0, 1, Peer(PeerKind.FIFO, 0, "root", owner_uid=0, description="pipe"),
                    is_socket=False, is_tty=False)
    with pytest.raises(StartupError, match="only unix socket"):
        privileges.become_peer(pipe, config("become_user"), HOST)
    root_peer = Endpoint(0, 0, unix_peer(uid=0, gid=0), is_socket=True, is_tty=False)
    with pytest.raises(StartupError, match=r"refusing peer root .*root user"):
        privileges.become_peer(root_peer, config("become_user"), HOST)
    ghost = Endpoint(0, 0, unix_peer(uid=777777, gid=777777), is_socket=True, is_tty=False)
    with pytest.raises(StartupError, match="no user name"):
        privileges.become_peer(ghost, config("become_user"), HOST)
