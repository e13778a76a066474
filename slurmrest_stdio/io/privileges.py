"""Start-up security: who may serve, and dropping to ``-u``/``-g``.

Like slurmrestd we refuse to serve as root (or the root group) and as SlurmUser, unless
``SLURMRESTD_SECURITY=disable_user_check``; a connection handler never needs those rights,
and running Slurm commands with them would widen what a client can do.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from slurmrest_stdio.config import SECURITY_TOKENS, Config, parse_slurm_conf
from slurmrest_stdio.io.detect import StartupError

PR_SET_NO_NEW_PRIVS = 38


def drop(uid: int | None, gid: int | None) -> None:
    """Become ``uid``/``gid`` for good: groups cleared, then gid, then uid; no new privs.

    Raises:
        StartupError: the change is not permitted.
    """
    if uid is None and gid is None:
        return
    try:
        if gid is not None:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
        if uid is not None:
            os.setresuid(uid, uid, uid)
    except OSError as exc:
        raise StartupError(f"cannot change to uid={uid} gid={gid}: {exc}") from exc
    _no_new_privs()


def _no_new_privs() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise StartupError(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")


def slurm_user_uid(config: Config) -> int | None:
    """SlurmUser's uid from slurm.conf, or None when it cannot be read."""
    try:
        text = Path(config.slurm_conf_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    name = parse_slurm_conf(text).get("slurmuser", "root")
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return int(name) if name.isdigit() else None


def check_security(config: Config) -> None:
    """Validate SLURMRESTD_SECURITY.

    Raises:
        StartupError: an unknown token, or ``become_user`` (not supported yet).
    """
    unknown = sorted(config.security - SECURITY_TOKENS)
    if unknown:
        raise StartupError(
            f"unknown SLURMRESTD_SECURITY value(s): {', '.join(unknown)}; known: "
            + ", ".join(sorted(SECURITY_TOKENS))
        )
    if "become_user" in config.security:
        raise StartupError("SLURMRESTD_SECURITY=become_user is not supported yet")


def check_user(config: Config) -> None:
    """Refuse root, the root group and SlurmUser as the serving identity.

    Raises:
        StartupError: we run as one of them and the check is not disabled.
    """
    if "disable_user_check" in config.security:
        return
    override = " (SLURMRESTD_SECURITY=disable_user_check overrides this)"
    if os.getuid() == 0 or os.geteuid() == 0:
        raise StartupError("slurmrest-stdio should not be run as the root user" + override)
    if os.getgid() == 0 or os.getegid() == 0:
        raise StartupError("slurmrest-stdio should not be run with the root group" + override)
    slurm_uid = slurm_user_uid(config)
    if slurm_uid is not None and os.getuid() == slurm_uid:
        raise StartupError("slurmrest-stdio should not be run as SlurmUser" + override)
