"""Authentication plugins (``rest_auth/*``) and the chain that runs them."""

from __future__ import annotations

import importlib

from slurmrest_stdio.auth.base import AuthPlugin

#: slurmrestd's plugin names -> "module:class"; the CLI picks and orders them (-a)
PLUGINS: dict[str, str] = {
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


def load_chain(names: tuple[str, ...]) -> list[AuthPlugin]:
    """Instantiate the plugins named (full names, in order)."""
    chain: list[AuthPlugin] = []
    for name in names:
        module, _, cls = PLUGINS[plugin_name(name)].partition(":")
        chain.append(getattr(importlib.import_module(module), cls)())
    return chain
