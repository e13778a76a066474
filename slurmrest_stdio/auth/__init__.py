"""Authentication plugins (``rest_auth/*``) and the chain that runs them."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from slurmrest_stdio.auth.base import AuthPlugin

#: slurmrestd's plugin names -> "module:class"; the CLI picks and orders them (-a)
PLUGINS: dict[str, str] = {
    "rest_auth/jwt": "slurmrest_stdio.auth.jwt:JwtAuth",
    "rest_auth/local": "slurmrest_stdio.auth.local:LocalAuth",
}


def plugin_name(name: str) -> str:
    """Accept ``rest_auth/local`` and the short ``local``; return the full name.

    Raises:
        KeyError: no such plugin.
    """
    full = name if "/" in name else f"rest_auth/{name}"
    if full not in PLUGINS:
        raise KeyError(name)
    return full


def load_chain(
    names: tuple[str, ...], facts: Mapping[str, Mapping[str, Any]] | None = None
) -> list[AuthPlugin]:
    """Instantiate the plugins named (full names, in order). ``facts`` maps a plugin's
    name to the keyword arguments it is built with (what the I/O edge knows for it)."""
    chain: list[AuthPlugin] = []
    for name in names:
        full = plugin_name(name)
        module, _, cls = PLUGINS[full].partition(":")
        kwargs = (facts or {}).get(full, {})
        chain.append(getattr(importlib.import_module(module), cls)(**kwargs))
    return chain
