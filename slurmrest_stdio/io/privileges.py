"""Start-up security: who may serve, ``-u``/``-g``, and ``SLURMRESTD_SECURITY=become_user``.

Owns every change of identity and every refusal of one. Knows nothing of HTTP: it runs
before the first byte of a request is read, and a refusal is a :class:`StartupError`
(exit 1, the reason logged, nothing written to the connection).

The three ways to start, and what each one guarantees before serving:

* **plain** (no ``-u``/``-g``): nothing changes; the identity we were started with is
  checked (real, effective and saved ids, supplementary groups).
* **-u/-g** (a service identity, normally from root): exactly that uid and gid, with no
  supplementary groups at all; ``-u`` alone takes the user's primary group, ``-g`` alone
  keeps the effective uid. Then the same check.
* **become_user** (started as root for one AF_UNIX connection): the connecting process's
  uid and gid from ``SO_PEERCRED``, with that user's groups from the group database (what
  a login gives them), before the first request is read. Then the same check, on the new
  identity. The change is for the life of the process; there is no way back.

Every identity change also: leaves the caller's session (so the new identity cannot push
input into a terminal its starter still uses, TIOCSTI), unshares the fd table and the
System V semaphore undo list (unless ``disable_unshare_files``/``disable_unshare_sysv``),
sets ``PR_SET_NO_NEW_PRIVS`` (no set-id or file-capability gains through exec), and is
verified afterwards: all three uids/gids are the target, the groups are the target's, and
``setuid(0)`` fails.

Without ``-u``/``-g``/become_user none of that runs, on purpose. The unshares would change
nothing there (execve already gave us a private fd table, a forked process starts with its
own empty semaphore undo list, and we start no threads and use no SysV semaphores), there
is no identity to keep from being regained, and the only programs we exec are Slurm's
client commands, none set-id. Calling them would need ctypes, whose import alone costs
about 2 ms of every start (the calls themselves: 0.03 ms).

The check refuses root (uid or any gid 0), SlurmUser (its uid or its primary group) and
nobody (uid/gid 65534, or the ``nobody``/``nogroup`` names), unless
``SLURMRESTD_SECURITY=disable_user_check``. None of them is an identity a connection
handler should have: Slurm commands run with it would carry its rights.
"""

from __future__ import annotations

import grp
import os
import pwd
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from slurmrest_stdio.auth.base import Peer, PeerKind
from slurmrest_stdio.config import SECURITY_TOKENS, Config, parse_slurm_conf
from slurmrest_stdio.io.detect import Endpoint, StartupError, user_name

BECOME_USER = "become_user"
DISABLE_USER_CHECK = "disable_user_check"
DISABLE_UNSHARE_FILES = "disable_unshare_files"
DISABLE_UNSHARE_SYSV = "disable_unshare_sysv"
#: the JWT plugin cannot be combined with become_user (slurmrestd refuses it as well: a
#: token names its own user, the process would run as the socket's)
JWT_PLUGIN = "rest_auth/jwt"

# Linux constants (<linux/prctl.h>, <linux/sched.h>)
PR_SET_KEEPCAPS = 8
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
CLONE_FILES = 0x00000400
CLONE_SYSVSEM = 0x00040000

#: the kernel's overflow uid/gid: what an id unmapped in our user namespace reads as, and
#: what Debian and current Red Hat name nobody (Slurm compares with 99, the older Red Hat id)
OVERFLOW_ID = 65534
NOBODY_USERS = ("nobody",)
NOBODY_GROUPS = ("nogroup", "nobody")

OVERRIDE = " (SLURMRESTD_SECURITY=disable_user_check overrides this)"


# -- the facts the decisions work on --------------------------------------------------------

@dataclass(frozen=True)
class Ids:
    """A process identity: (real, effective, saved) uid and gid, supplementary groups."""

    uids: tuple[int, int, int]
    gids: tuple[int, int, int]
    groups: frozenset[int] = frozenset()

    @classmethod
    def of(cls, uid: int, gid: int, groups: Iterable[int] = ()) -> Ids:
        return cls((uid, uid, uid), (gid, gid, gid), frozenset(groups))

    @classmethod
    def current(cls) -> Ids:
        return cls(os.getresuid(), os.getresgid(), frozenset(os.getgroups()))


#: an id's account name, or None when it has none
NameOf = Callable[[int], str | None]


def _no_name(_: int) -> str | None:
    return None


@dataclass(frozen=True)
class Forbidden:
    """The identities we refuse to serve as, besides root. Nobody is recognised by id or
    by name; the names are looked up from the ids we check (a lookup that hits is cheap,
    one that misses can cost a trip through every NSS module: no name-to-id lookups)."""

    slurm_user: str | None = None
    slurm_uid: int | None = None
    slurm_gid: int | None = None
    user_of: NameOf = _no_name
    group_of: NameOf = _no_name

    def nobody_user(self, uid: int) -> bool:
        return uid == OVERFLOW_ID or self.user_of(uid) in NOBODY_USERS

    def nobody_group(self, gid: int) -> bool:
        return gid == OVERFLOW_ID or self.group_of(gid) in NOBODY_GROUPS


# -- pure decisions ----------------------------------------------------------------------------

def security_problem(config: Config) -> str | None:
    """Why ``SLURMRESTD_SECURITY`` (with the rest of ``config``) cannot be used, or None."""
    unknown = sorted(config.security - SECURITY_TOKENS)
    if unknown:
        return (f"unknown SLURMRESTD_SECURITY value(s): {', '.join(unknown)}; known: "
                + ", ".join(sorted(SECURITY_TOKENS)))
    if BECOME_USER in config.security:
        if config.uid is not None or config.gid is not None:
            return ("SLURMRESTD_SECURITY=become_user takes the identity from the connection; "
                    "it cannot be combined with -u/-g")
        if JWT_PLUGIN in config.auth_types:
            return (f"{JWT_PLUGIN} cannot be used in SLURMRESTD_SECURITY=become_user mode; "
                    "choose the local plugin alone (-a rest_auth/local)")
    return None


def refusal(ids: Ids, forbidden: Forbidden) -> str | None:
    """Why ``ids`` must not serve (root, SlurmUser, nobody; first reason found), or None."""
    all_gids = {*ids.gids, *ids.groups}
    if 0 in ids.uids:
        return "slurmrest-stdio should not be run as the root user"
    if 0 in all_gids:
        return "slurmrest-stdio should not be run with the root group"
    slurm = f" ({forbidden.slurm_user})" if forbidden.slurm_user else ""
    if forbidden.slurm_uid is not None and forbidden.slurm_uid in ids.uids:
        return f"slurmrest-stdio should not be run as SlurmUser{slurm}"
    if forbidden.slurm_gid is not None and forbidden.slurm_gid in all_gids:
        return f"slurmrest-stdio should not be run with SlurmUser's group{slurm}"
    if any(forbidden.nobody_user(uid) for uid in set(ids.uids)):
        return "slurmrest-stdio should not be run as nobody"
    if any(forbidden.nobody_group(gid) for gid in all_gids):
        return "slurmrest-stdio should not be run with the nobody group"
    return None


def drop_target(uid: int | None, gid: int | None, euid: int,
                primary_gid: Callable[[int], int | None]) -> tuple[int, int]:
    """The (uid, gid) that ``-u``/``-g`` ask for: ``-u`` alone takes the user's primary
    group (as slurmrestd does), ``-g`` alone keeps the effective uid.

    Raises:
        StartupError: ``-u`` names a uid whose primary group is unknown.
    """
    target_uid = euid if uid is None else uid
    if gid is not None:
        return target_uid, gid
    found = primary_gid(target_uid)
    if found is None:
        raise StartupError(f"-u {target_uid}: this uid has no passwd entry, so no primary "
                           "group; name the group with -g")
    return target_uid, found


def become_user_start_problem(ids: Ids) -> str | None:
    """become_user needs real and effective uid and gid 0 (it switches per connection)."""
    if ids.uids[:2] != (0, 0) or ids.gids[:2] != (0, 0):
        return ("SLURMRESTD_SECURITY=become_user must be started as root (uid 0, gid 0); "
                f"running as uid {ids.uids[0]} gid {ids.gids[0]}")
    return None


def become_user_peer_problem(peer: Peer, forbidden: Forbidden) -> str | None:
    """Why become_user cannot take this connection's peer, or None.

    Only an AF_UNIX socket names its peer (SO_PEERCRED); a pipe, FIFO, file or terminal
    names only an owner, TCP names nobody. A nobody peer is refused even with
    ``disable_user_check``: SO_PEERCRED reports the overflow id for a process whose real
    id is not visible in our user namespace, so it names no one.
    """
    if peer.kind is not PeerKind.UNIX:
        return ("SLURMRESTD_SECURITY=become_user serves only unix socket connections; "
                f"this one is {peer.description or peer.kind.value} ({peer.kind.value})")
    if peer.cred_uid is None or peer.cred_gid is None or not peer.cred_pid:
        return "become_user: the socket carries no usable peer credentials"
    if forbidden.nobody_user(peer.cred_uid) or forbidden.nobody_group(peer.cred_gid):
        return (f"become_user: refusing peer uid {peer.cred_uid} gid {peer.cred_gid} "
                f"(pid {peer.cred_pid}): nobody")
    return None


def unshare_flags(security: frozenset[str]) -> int:
    """What to unshare at an identity change: the fd table and the SysV semaphore undo
    list, minus what ``SLURMRESTD_SECURITY`` disables."""
    flags = 0
    if DISABLE_UNSHARE_FILES not in security:
        flags |= CLONE_FILES
    if DISABLE_UNSHARE_SYSV not in security:
        flags |= CLONE_SYSVSEM
    return flags


def supplementary_change_needed(current: Iterable[int], target: Iterable[int],
                                gid: int) -> bool:
    """True when the groups differ in more than the primary gid (which grants nothing the
    gid does not grant already)."""
    return set(current) | {gid} != set(target) | {gid}


# -- reading the facts --------------------------------------------------------------------------

def slurm_user(config: Config) -> tuple[str, int | None, int | None] | None:
    """SlurmUser from slurm.conf as (name, uid, primary gid), or None when slurm.conf
    cannot be read (a configless client: nothing to compare with)."""
    try:
        with open(config.slurm_conf_path, encoding="utf-8", errors="replace") as conf:
            text = conf.read()
    except OSError:
        return None
    name = parse_slurm_conf(text).get("slurmuser") or "root"
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return (name, int(name), None) if name.isdigit() else (name, None, None)
    return name, pw.pw_uid, pw.pw_gid


def read_forbidden(config: Config) -> Forbidden:
    """The forbidden identities of this host. Read before any drop (slurm.conf may be
    unreadable for the identity we drop to)."""
    name: str | None = None
    uid = gid = None
    found = slurm_user(config)
    if found is not None:
        name, uid, gid = found
    return Forbidden(name, uid, gid, _user_of, _group_of)


def _user_of(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _group_of(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def _primary_gid(uid: int) -> int | None:
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return None


# -- the steps run() takes -------------------------------------------------------------------------

def check_security(config: Config) -> None:
    """Validate ``SLURMRESTD_SECURITY`` against the rest of the configuration.

    Raises:
        StartupError: an unknown token; become_user with -u/-g or with rest_auth/jwt.
    """
    problem = security_problem(config)
    if problem:
        raise StartupError(problem)


def check_user(config: Config, forbidden: Forbidden) -> None:
    """Refuse to serve as root, SlurmUser or nobody (any of our ids or groups).

    Raises:
        StartupError: we run as one of them and ``disable_user_check`` is not set.
    """
    if DISABLE_USER_CHECK in config.security:
        return
    problem = refusal(Ids.current(), forbidden)
    if problem:
        raise StartupError(problem + OVERRIDE)


def drop(config: Config) -> str | None:
    """Become ``-u``/``-g`` for good (see the module notes); return a line for the log,
    or None when neither was given.

    Raises:
        StartupError: the change is not permitted, or did not hold.
    """
    if config.uid is None and config.gid is None:
        return None
    uid, gid = drop_target(config.uid, config.gid, os.geteuid(), _primary_gid)
    _lock(uid, gid, (), config.security)
    return f"serving as {user_name(uid)} (uid {uid}, gid {gid}, no supplementary groups)"


def check_become_user_start() -> None:
    """Require what become_user needs: real and effective uid and gid 0.

    Raises:
        StartupError: not started as root.
    """
    problem = become_user_start_problem(Ids.current())
    if problem:
        raise StartupError(problem)


def become_peer(endpoint: Endpoint, config: Config,
                forbidden: Forbidden) -> tuple[Endpoint, str]:
    """become_user: take the identity of the process on the other end of the unix socket,
    for good; return the endpoint as seen by that identity (local auth compares the peer
    with *our* uid, which is now the peer's) and a line for the log.

    Raises:
        StartupError: not a unix socket, an unusable or refused peer, or the change failed.
    """
    peer = endpoint.peer
    problem = become_user_peer_problem(peer, forbidden)
    if problem:
        raise StartupError(problem)
    assert peer.cred_uid is not None and peer.cred_gid is not None  # checked above
    uid, gid = peer.cred_uid, peer.cred_gid
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        raise StartupError(f"become_user: peer uid {uid} has no user name") from None
    groups = os.getgrouplist(name, gid)
    who = f"peer {name} (uid {uid}, gid {gid}, pid {peer.cred_pid})"
    if DISABLE_USER_CHECK not in config.security:
        problem = refusal(Ids.of(uid, gid, groups), forbidden)
        if problem:
            raise StartupError(f"become_user: refusing {who}: {problem}{OVERRIDE}")
    _lock(uid, gid, groups, config.security)
    check_user(config, forbidden)
    switched = replace(endpoint, peer=replace(peer, own_uid=uid, own_user=name))
    groups_text = ",".join(map(str, sorted(set(groups)))) or "none"
    return switched, f"become_user: now serving {who}, groups {groups_text}"


# -- the identity change itself ------------------------------------------------------------------

def _lock(uid: int, gid: int, groups: Iterable[int], security: frozenset[str]) -> None:
    """Change to uid/gid/groups for good, with the hardening in the module notes.

    Raises:
        StartupError: a step failed, or the result is not what was asked for.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def call(what: str, result: int) -> int:
        if result < 0:
            raise StartupError(f"{what}: {os.strerror(ctypes.get_errno())}")
        return result

    def prctl(option: int, arg: int = 0) -> int:
        zero = ctypes.c_ulong(0)
        return int(libc.prctl(option, ctypes.c_ulong(arg), zero, zero, zero))

    target = sorted(set(groups))
    flags = unshare_flags(security)
    if flags:
        call("unshare", int(libc.unshare(flags)))
    call("prctl(PR_SET_NO_NEW_PRIVS)", prctl(PR_SET_NO_NEW_PRIVS, 1))
    # with keepcaps off, leaving uid 0 empties the permitted and effective capabilities
    call("prctl(PR_SET_KEEPCAPS)", prctl(PR_SET_KEEPCAPS, 0))
    _leave_session()
    try:
        _set_groups(target, gid)
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as exc:
        raise StartupError(
            f"cannot change to uid={uid} gid={gid}: {exc.strerror or exc}"
        ) from exc
    _verify(uid, gid, target)
    if prctl(PR_GET_NO_NEW_PRIVS) != 1:
        raise StartupError("no-new-privileges did not stay set")


def _set_groups(target: list[int], gid: int) -> None:
    """Exactly ``target``; without the privilege to set them, tolerate only a difference
    in the primary gid (an unprivileged ``-u`` naming oneself)."""
    current = os.getgroups()
    if set(current) == set(target):
        return
    try:
        os.setgroups(target)
    except PermissionError:
        if supplementary_change_needed(current, target, gid):
            raise


def _verify(uid: int, gid: int, groups: list[int]) -> None:
    now = Ids.current()
    if now.uids != (uid,) * 3 or now.gids != (gid,) * 3 or supplementary_change_needed(
            now.groups, groups, gid):
        raise StartupError(f"identity change did not hold: uids {now.uids} gids {now.gids} "
                           f"groups {sorted(now.groups)}")
    if uid == 0:
        return  # root on purpose (disable_user_check): there is nothing to regain
    attempts = [("setuid", os.setuid)] + ([("setgid", os.setgid)] if gid != 0 else [])
    for name, regain in attempts:
        try:
            regain(0)
        except PermissionError:
            continue
        raise StartupError(f"{name}(0) still succeeds after the identity change")


def _leave_session() -> None:
    """Lose the controlling terminal: new session, or (when we lead our process group, as
    a command started alone from a shell does) TIOCNOTTY."""
    try:
        os.setsid()
        return
    except PermissionError:
        pass
    if os.getsid(0) == os.getpid():
        return  # we lead the session: no other session shares its terminal
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return  # no controlling terminal
    try:
        import fcntl
        import termios

        fcntl.ioctl(fd, termios.TIOCNOTTY)
    except OSError as exc:
        raise StartupError(f"cannot give up the controlling terminal: {exc}") from exc
    finally:
        os.close(fd)
