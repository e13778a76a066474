"""``rest_auth/jwt``: the client is the user a Slurm JSON Web Token names.

Headers (names case-insensitive; the first of a repeated header counts):

* ``X-SLURM-USER-TOKEN: <token>``, with or without ``X-SLURM-USER-NAME: <user>`` (22.05
  wants both, later releases take the token alone), or ``Authorization: Bearer <token>``
  (23.02+). The token header and a Bearer token together: rejected. A user name without a
  token: rejected. None of these: SKIP, so that the next plugin (local) decides. An
  ``Authorization`` header of another scheme is not ours and is ignored, as 22.05 does.

Slurm decides (design rule): every command of the request runs with ``SLURM_JWT=<token>``
and slurmctld/slurmdbd verify it. What this plugin adds is an early, precise answer where
one is certain, instead of slurmrestd's late 500:

* always, with no key at all: the token must be a well-formed JWT whose ``alg`` is HS256
  or RS256 (the only two Slurm verifies; ``none`` never passes), which names a user
  (``sun``, else ``username``, else the ``userclaimfield=`` claim) and whose ``exp`` has
  not passed. A token failing these fails in Slurm too, whatever its signature.
* when the I/O edge could read the cluster's keys (``AuthAltParameters=jwt_key=`` for
  HS256, ``jwks=`` for RS256 by ``kid``): the signature too, with PyJWT, each kind of key
  only with its own algorithm.

Everything that fails is 401 with ``Authentication failure: <short reason>``; the detail
goes to the log.

Proxy mode (slurmrestd's "authenticating proxy"): a token of root or SlurmUser plus
``X-SLURM-USER-NAME: alice`` acts as alice. A Slurm command cannot carry a second user name
next to its token, so the proxy's token is exchanged for a short-lived token of alice's
(``scontrol token username=alice``, run with the proxy's token; slurmctld grants that to
root and SlurmUser only). A token of anyone else naming another user is rejected; it never
quietly acts as its own user.

Pure policy: the keys, SlurmUser and user ids are facts handed over by the I/O edge
(``io.keys``), the token exchange is the backend's, and the clock can be replaced. PyJWT is
imported only to check a signature, that is only when a token came and a key is readable.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from slurmrest_stdio import errors
from slurmrest_stdio.auth.base import AuthResult, Decision, Identity, Peer
from slurmrest_stdio.config import PROXY_TOKEN_LIFESPAN, PROXY_TOKEN_MARGIN
from slurmrest_stdio.protocol import Request

NAME = "rest_auth/jwt"
TOKEN_HEADER = "x-slurm-user-token"  # noqa: S105 (a header name)
USER_HEADER = "x-slurm-user-name"
AUTHORIZATION = "authorization"
#: the scheme prefix, matched as Slurm matches it: case and the space included
BEARER = "Bearer "
HS256 = "HS256"
RS256 = "RS256"
#: what slurmctld can verify: HS256 with its key, RS256 with a JWKS key
ALGORITHMS = frozenset({HS256, RS256})
#: the claims that name the token's user, in Slurm's order ("sun": Slurm user name)
USER_CLAIMS = ("sun", "username")
#: besides SlurmUser, the one user slurmctld lets act for others
ROOT = "root"
#: the envelope error heading the 401 of a request whose token slurmctld refused
#: (SLURM_PROTOCOL_AUTHENTICATION_ERROR, what later slurmrestd releases report there)
SLURM_REFUSED = errors.SlurmError(
    "Protocol authentication error", 1007, "slurmctld refused the authentication token", NAME)

# patterns, compiled (and cached by re) at first use: a connection without a token never
# pays for them
_SEGMENTS = r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)"
# portable user names (and the '@'/'$' of directory-service names): nothing that could be
# read as a second "key=value" item or an option by the command that receives it
_USER_NAME = r"[A-Za-z0-9_.@$][A-Za-z0-9_.@$-]{0,255}"

log = logging.getLogger("slurmrest_stdio")


class JwtKeys(NamedTuple):
    """What the I/O edge learned of the cluster's JWT set-up (slurm.conf and key files).

    ``None`` means "not known here" (unreadable file, no slurm.conf): the plugin then
    leaves that part of the verdict to Slurm. (A NamedTuple, not a dataclass: every
    connection imports this module, and a dataclass costs more to define.)
    """

    #: the HS256 key, byte for byte as slurmctld reads it
    hs256: bytes | None = None
    #: the JWKS document (``{"keys": [...]}``)
    jwks: Mapping[str, Any] | None = None
    #: the algorithms slurmctld verifies per slurm.conf (a key configured for each)
    algorithms: frozenset[str] | None = None
    #: ``AuthAltParameters=userclaimfield=<claim>``: a third claim naming the user
    user_claim: str | None = None
    #: SlurmUser, who (with root) may act for other users
    slurm_user: str | None = None


def refusal_error(number: int) -> bool:
    """Whether Slurm's error ``number`` means "your credential was not accepted": 1007
    (protocol authentication error), 5005 (zero bytes: slurmctld 22.05 hangs up on a
    credential it refuses) or the ESLURM_AUTH_* family (6000-6999)."""
    return number in (1007, 5005) or 6000 <= number < 7000


def perhaps_refused(error_numbers: Iterable[int]) -> bool:
    """Whether a failure with these Slurm error numbers may be slurmctld refusing the
    token: each is a refusal or says nothing (-1; ``squeue --json`` reports a refused
    token so). A failure that names another cause (no controller, no permission) is not
    worth asking about."""
    return all(n == -1 or refusal_error(n) for n in error_numbers)


#: proxy mode's token exchange: (the proxy's identity, user, lifespan) -> that user's token;
#: raises SlurmCommandError, with status 401 when Slurm refused the proxy
Exchange = Callable[[Identity, str, int], str]


def rejection(reason: str, detail: str = "") -> errors.Unauthorized:
    """The 401 for a refused token: ``reason`` for the client, ``detail`` for the log."""
    err = errors.Unauthorized(f"{errors.Unauthorized.default_message}: {reason}")
    err.add_note(f"{NAME}: reject: {detail or reason}")
    return err


class JwtAuth:
    """The plugin. One instance serves one connection (it caches proxy tokens)."""

    name = NAME

    def __init__(
        self,
        *,
        keys: Callable[[], JwtKeys] | None = None,
        uid_of: Callable[[str], int | None] | None = None,
        exchange: Exchange | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``keys`` is called once, at the first token (reading files costs nothing for a
        connection that never sends one); ``uid_of`` names a user's uid (None: unknown);
        ``exchange`` gets proxy mode's tokens (None: no proxy mode)."""
        self._load_keys = keys or JwtKeys
        self._keys: JwtKeys | None = None
        self._uid_of = uid_of
        self._exchange = exchange
        self._clock = clock
        #: (proxy token, user) -> (that user's token, when it expires)
        self._proxied: dict[tuple[str, str], tuple[str, float]] = {}

    def keys(self) -> JwtKeys:
        if self._keys is None:
            self._keys = self._load_keys()
        return self._keys

    def authenticate(self, request: Request, peer: Peer) -> AuthResult:
        """SKIP without token headers, else ACCEPT.

        Raises:
            errors.Unauthorized: the headers or the token are not acceptable (401, with the
                reason in the message).
            errors.SlurmCommandError: proxy mode's token exchange failed for another reason
                than Slurm refusing it (Slurm unreachable, ...).
        """
        found = credentials(request)
        if found is None:
            return AuthResult(Decision.SKIP, reason="no token in the request")
        token, named = found
        header, claims = unverified(token)
        keys = self.keys()
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise rejection("token algorithm not accepted", f"alg {alg!r} is not HS256/RS256")
        if keys.algorithms is not None and alg not in keys.algorithms:
            raise rejection("token algorithm not accepted",
                            f"slurm.conf configures no key for {alg} tokens")
        verified = verify_signature(token, alg, header, keys)
        check_expiry(claims, self._clock())
        owner = token_user(claims, keys.user_claim)
        log.debug("%s: token of %s, signature %s", NAME, owner,
                  "verified" if verified else "left to Slurm (no key readable)")
        if named is None or named == owner:
            return AuthResult(Decision.ACCEPT, Identity(owner, self._uid(owner), NAME, token))
        return self._proxy(owner, named, token, keys)

    def _uid(self, user: str) -> int | None:
        return self._uid_of(user) if self._uid_of is not None else None

    def _proxy(self, owner: str, named: str, token: str, keys: JwtKeys) -> AuthResult:
        """``owner``'s token, ``X-SLURM-USER-NAME: named``: act as ``named`` if Slurm
        lets ``owner`` (root, SlurmUser) obtain a token for them."""
        if keys.slurm_user is not None and owner not in (ROOT, keys.slurm_user):
            raise rejection(
                "the token's user may not act for another user",
                f"{owner} named {named}; only {ROOT} and SlurmUser {keys.slurm_user} may",
            )
        if self._exchange is None:
            raise rejection("the token's user may not act for another user",
                            "proxy mode is not available here")
        now = self._clock()
        cached = self._proxied.get((token, named))
        if cached is not None and cached[1] - now >= PROXY_TOKEN_MARGIN:
            mine = cached[0]
        else:
            proxy = Identity(owner, self._uid(owner), NAME, token)
            try:
                mine = self._exchange(proxy, named, PROXY_TOKEN_LIFESPAN)
            except errors.SlurmCommandError as exc:
                if exc.status != 401:
                    raise
                raise rejection("the token's user may not act for another user",
                                f"Slurm refused {owner} a token for {named}: {exc}") from None
            self._proxied[(token, named)] = (mine, now + PROXY_TOKEN_LIFESPAN)
        log.info("%s: %s acts for %s (proxy mode)", NAME, owner, named)
        return AuthResult(Decision.ACCEPT, Identity(named, self._uid(named), NAME, mine),
                          reason=f"proxy {owner}")


# -- the steps, each usable alone ----------------------------------------------------------

def credentials(request: Request) -> tuple[str, str | None] | None:
    """(token, user name or None) from the headers; None when there is no token header.

    Raises:
        errors.Unauthorized: a combination slurmrestd refuses, an empty token, a user name
            without a token or one no system could have.
    """
    token = request.header(TOKEN_HEADER)
    authorization = request.header(AUTHORIZATION)
    named = request.header(USER_HEADER) or None
    bearer = None
    if authorization is not None and authorization.startswith(BEARER):
        bearer = authorization[len(BEARER):]
    if token is not None and bearer is not None:
        raise rejection("send the token in X-SLURM-USER-TOKEN or as a Bearer token, not both")
    if token is None:
        token = bearer
    if token is None:
        if named is not None:
            raise rejection("X-SLURM-USER-NAME without a token")
        return None
    token = token.strip()
    if not token:
        raise rejection("empty token")
    if named is not None and not re.fullmatch(_USER_NAME, named):
        raise rejection("invalid user name in X-SLURM-USER-NAME", f"user name {named!r}")
    return token, named


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token's header and claims, read without checking anything.

    Raises:
        errors.Unauthorized: not a compact JWS whose first two parts are JSON objects.
    """
    import base64
    import binascii

    m = re.fullmatch(_SEGMENTS, token)
    if m is None:
        raise rejection("malformed token", "not three base64url parts joined by dots")
    parts = []
    for segment in m.group(1, 2):
        try:
            value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        except (binascii.Error, ValueError) as exc:
            raise rejection("malformed token", f"undecodable part: {exc}") from None
        if not isinstance(value, dict):
            raise rejection("malformed token", "a part is not a JSON object")
        parts.append(value)
    return parts[0], parts[1]


def check_expiry(claims: Mapping[str, Any], now: float) -> None:
    """Slurm's rule: ``exp`` must be an integer not before now (no ``exp`` is expired).

    Raises:
        errors.Unauthorized: the token has expired or never says when it does.
    """
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise rejection("token has no expiry time", f"exp is {exp!r}")
    if exp < int(now):
        raise rejection("token expired", f"exp {exp} is {int(now) - exp}s in the past")


def token_user(claims: Mapping[str, Any], extra_claim: str | None = None) -> str:
    """The user the token names (``sun``, else ``username``, else ``extra_claim``).

    Raises:
        errors.Unauthorized: no claim names a user, or it is not a possible user name.
    """
    for claim in (*USER_CLAIMS, *((extra_claim,) if extra_claim else ())):
        value = claims.get(claim)
        if isinstance(value, str) and value:
            if not re.fullmatch(_USER_NAME, value):
                raise rejection("invalid user name in the token", f"{claim}={value!r}")
            return value
    raise rejection("token names no user", f"none of the claims {USER_CLAIMS} is set")


def jwks_key(jwks: Mapping[str, Any], kid: str) -> Mapping[str, Any] | None:
    """The JWKS entry slurmctld would use for ``kid``: the first with that ``kid`` among
    keys whose ``alg`` (when given) is RS256."""
    keys = jwks.get("keys")
    for entry in keys if isinstance(keys, list) else ():
        if not isinstance(entry, dict):
            continue
        alg = entry.get("alg")
        if isinstance(alg, str) and alg.upper() != RS256:
            continue
        if entry.get("kid") == kid:
            return entry
    return None


def verify_signature(token: str, alg: str, header: Mapping[str, Any], keys: JwtKeys) -> bool:
    """Check the signature when the key for ``alg`` is at hand. True when checked and
    good; False when it cannot be checked here (Slurm will).

    Raises:
        errors.Unauthorized: the signature is wrong, or no key of the cluster can match.
    """
    if alg == HS256:
        if keys.hs256 is None:
            return False
        return _checked(token, alg, keys.hs256)
    if keys.jwks is None:
        return False
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise rejection("token has no key id", "an RS256 token needs a kid header")
    entry = jwks_key(keys.jwks, kid)
    if entry is None:
        raise rejection("no key for the token's key id", f"kid {kid!r} is not in the JWKS")
    return _checked(token, alg, entry)


def _checked(token: str, alg: str, key: bytes | Mapping[str, Any]) -> bool:
    import warnings

    import jwt  # PyJWT: a real cost (tens of ms), paid only by a token with a key at hand
    from jwt.algorithms import has_crypto

    if alg == RS256 and not has_crypto:
        log.debug("%s: RS256 needs the cryptography package; Slurm verifies", NAME)
        return False
    try:
        with warnings.catch_warnings():
            # PyJWT warns about HMAC keys under 32 bytes; slurmctld takes any length, and a
            # warning must never reach stderr (under xinetd that is the client's socket)
            warnings.simplefilter("ignore")
            signing_key: Any = key if isinstance(key, bytes) else jwt.PyJWK(dict(key), RS256).key
            # the JWS layer checks the signature alone: the claims are checked above, by
            # Slurm's rules (PyJWT's iat/nbf/aud checks are not Slurm's)
            jwt.api_jws.PyJWS().decode_complete(token, signing_key, algorithms=[alg])
    except jwt.InvalidSignatureError:
        raise rejection("invalid token signature", f"{alg} signature does not verify") from None
    except (jwt.InvalidKeyError, jwt.PyJWKError) as exc:
        log.warning("%s: cannot use the cluster's %s key here (%s); Slurm verifies",
                    NAME, alg, exc)
        return False
    except jwt.PyJWTError as exc:
        raise rejection("malformed token", f"{type(exc).__name__}: {exc}") from None
    return True
