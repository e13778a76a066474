#!/usr/bin/env python3
"""Write slurmrest_stdio/api/openapi.rendered.json: the OpenAPI document of the default
plugins exactly as /openapi.json serves it. Run after changing a spec fragment; the unit
test ``test_rendered_spec_is_current`` fails until then."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from slurmrest_stdio import codec
from slurmrest_stdio.api import load_plugins, openapi
from slurmrest_stdio.config import OPENAPI_PLUGINS

target = os.path.join(openapi.HERE, openapi.RENDERED)
with open(target, "wb") as out:
    out.write(codec.encode(openapi.build_spec(load_plugins(OPENAPI_PLUGINS)), codec.JSON))
sys.stdout.write(f"wrote {target}\n")
