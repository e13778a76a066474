"""The I/O edge of ``rest_auth/jwt``: what this process can learn of the cluster's JWT set-up.

Reads slurm.conf (AuthType, AuthAltTypes, AuthAltParameters, StateSaveLocation, SlurmUser)
and, where this process may read them, the key files slurmctld uses, found the way
slurmctld finds them:

* HS256: ``AuthAltParameters=jwt_key=<file>``; without it ``<StateSaveLocation>/``
  :data:`~slurmrest_stdio.config.DEFAULT_JWT_KEY_NAME`, unless ``jwks=`` is given (then
  slurmctld loads no HS256 key at all);
* RS256: ``AuthAltParameters=jwks=<file>`` (a JSON Web Key Set).

Nothing here decides: the facts go to :class:`~slurmrest_stdio.auth.jwt.JwtAuth`. A key
this process cannot read is the normal case for an unprivileged gateway (slurmctld's key
is SlurmUser's, mode 0600); the plugin then leaves signatures to Slurm.
"""

from __future__ import annotations

import json
import logging
import pwd
from typing import TYPE_CHECKING, Any

from slurmrest_stdio.auth.jwt import HS256, RS256, JwtKeys
from slurmrest_stdio.config import DEFAULT_JWT_KEY_NAME, Config, parse_slurm_conf

if TYPE_CHECKING:
    from slurmrest_stdio.backend.base import TokenOps

log = logging.getLogger("slurmrest_stdio")

JWT_PLUGIN = "auth/jwt"


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as key:
            return key.read()
    except OSError as exc:
        log.debug("rest_auth/jwt: %s is not readable here (%s)", path, exc.strerror)
        return None


def _option(params: str, name: str) -> str | None:
    """``name=value`` from a comma-separated AuthAltParameters value."""
    for item in params.split(","):
        key, sep, value = item.strip().partition("=")
        if sep and key.strip().lower() == name:
            return value.strip() or None
    return None


def jwt_keys(slurm_conf: str) -> JwtKeys:
    """Everything readable about the JWT keys of the cluster whose slurm.conf is
    ``slurm_conf``; the parts that cannot be known are None. Never raises."""
    text = _read(slurm_conf)
    if text is None:
        return JwtKeys()
    conf_text = text.decode("utf-8", "replace")
    conf = parse_slurm_conf(conf_text)
    params = conf.get("authaltparameters", "").strip("\"'")
    key_file = _option(params, "jwt_key")
    jwks_file = _option(params, "jwks")
    state = conf.get("statesavelocation")
    if key_file is None and jwks_file is None and state:
        key_file = f"{state.rstrip('/')}/{DEFAULT_JWT_KEY_NAME}"
    algorithms: frozenset[str] | None = None
    # an Include may hold the settings we did not see: then what is configured is unknown
    if not any(line.strip().lower().startswith("include") for line in conf_text.splitlines()):
        types = {t.strip() for t in conf.get("authalttypes", "").split(",")}
        types.add(conf.get("authtype", ""))
        algorithms = frozenset()
        if JWT_PLUGIN in types:
            # with neither file named, slurmctld's default key lives in StateSaveLocation
            hs256 = key_file is not None or jwks_file is None
            algorithms = frozenset({HS256} if hs256 else set()) | (
                {RS256} if jwks_file else set())
    jwks: dict[str, Any] | None = None
    if jwks_file and (raw := _read(jwks_file)) is not None:
        try:
            loaded = json.loads(raw)
            jwks = loaded if isinstance(loaded, dict) else None
        except ValueError as exc:
            log.warning("rest_auth/jwt: %s is not JSON (%s); Slurm verifies RS256", jwks_file,
                        exc)
    return JwtKeys(
        hs256=_read(key_file) if key_file else None,
        jwks=jwks,
        algorithms=algorithms,
        user_claim=_option(params, "userclaimfield"),
        slurm_user=conf.get("slurmuser") or "root",
    )


def uid_of(user: str) -> int | None:
    """The uid of ``user`` on this host, or None when there is no such account."""
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def jwt_facts(config: Config, tokens: TokenOps) -> dict[str, Any]:
    """The keyword arguments of :class:`~slurmrest_stdio.auth.jwt.JwtAuth` for this
    process: keys read lazily (only a request with a token pays for reading them), user ids
    from the passwd database, proxy tokens from ``tokens``."""
    path = config.slurm_conf_path

    def exchange(*args: Any, **kwargs: Any) -> Any:  # looked up when used: the backend
        return tokens.user_token(*args, **kwargs)  # imports its modules on first use

    return {"keys": lambda: jwt_keys(path), "uid_of": uid_of, "exchange": exchange}
