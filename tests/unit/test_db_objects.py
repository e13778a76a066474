"""slurmdb tres, clusters, wckeys: the sacctmgr readers and the handlers.

The sacctmgr texts are what the lab's Slurm 22.05.8 printed; the expected bodies are what
Debian's slurmrestd answered for the same data (byte for byte, through ``dump_json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.dbv0_0_38.objects import cluster_tres, tres_count
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.app import Exchange
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.cli_dbobjects import DbObjectsCli
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.codec import dump_json
from slurmrest_stdio.config import OPENAPI_PLUGINS, Config
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import FakeBackend, make_app

V = "/slurmdb/v0.0.38"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))

TRES_ARGV = ("sacctmgr", "-P", "-n", "show", "tres", "withdeleted", "format=type,name,id")
TRES = """\
cpu||1
mem||2
energy||3
node||4
billing||5
fs|disk|6
vmem||7
pages||8
dynamic_offset||1000
license|fluent|1001
license|matlab|1002
"""
CLUSTER_ARGV = ("sacctmgr", "-P", "-n", "show", "cluster", "withdeleted",
                "format=cluster,controlhost,controlport,rpc,clusternodes,flags,"
                "pluginidselect,tres")
CLUSTERS = ("lab|127.0.0.1|6817|9728|n[1-4]|MultipleSlurmd|109|billing=16,cpu=16,energy=0,"
            "fs/disk=0,license/fluent=10,license/matlab=2,mem=8000M,node=4,pages=0,vmem=0\n"
            "zt_gone||0|0||None|0|\n")
WCKEY_ALL_ARGV = ("sacctmgr", "-P", "-n", "show", "wckey", "withdeleted",
                  "format=wckey,cluster,user,id")
WCKEY_ARGV = ("sacctmgr", "-P", "-n", "show", "wckey", "format=wckey,cluster,user,id")
USER_ARGV = ("sacctmgr", "-P", "-n", "show", "user", "withdeleted", "format=user,defaultwckey")
WCKEYS = "|lab|bob|5\n*|lab|bob|6\nprojx|lab|alice|1\nold|lab|alice|7\n"
WCKEYS_LIVE = "|lab|bob|5\n*|lab|bob|6\nprojx|lab|alice|1\n"
USERS = "alice|projx\nbob|\ncarol|\n"
DENIED = Outcome(1, b"", b"sacctmgr: error: Your user doesn't have privilege to perform "
                          b"this action\n Error with request: Access/permission denied\n")


def ok(text: str) -> Outcome:
    return Outcome(0, text.encode(), b"")


class CannedCli(DbObjectsCli):
    def __init__(self, outputs: dict[tuple[str, ...], Outcome]) -> None:
        super().__init__(Config(), environ={})
        self.outputs = outputs
        self.argvs: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = ()) -> Outcome:
        self.argvs.append(tuple(argv))
        return self.outputs[tuple(argv)]


def lab(**changes: Outcome) -> CannedCli:
    outputs = {TRES_ARGV: ok(TRES), CLUSTER_ARGV: ok(CLUSTERS), WCKEY_ALL_ARGV: ok(WCKEYS),
               WCKEY_ARGV: ok(WCKEYS_LIVE), USER_ARGV: ok(USERS)}
    for name, outcome in changes.items():
        outputs[globals()[name]] = outcome
    return CannedCli(outputs)


class ObjectsBackend(FakeBackend):
    def __init__(self, cli: CannedCli) -> None:
        super().__init__()
        self.cli = cli

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        return self.cli.db_tres(who)

    def db_clusters(self, who: Identity) -> list[dict[str, str]]:
        return self.cli.db_clusters(who)

    def db_wckeys(self, who: Identity) -> list[dict[str, str]]:
        return self.cli.db_wckeys(who)


def get(path: str, cli: CannedCli | None = None, *headers: tuple[str, str]) -> Exchange:
    backend = ObjectsBackend(cli or lab())
    return make_app(backend).handle(Request("GET", path, tuple(headers)))


def body_of(ex: Exchange, route: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ex.response.body)
    # failures carry the same envelope as the 200 answer (the spec's "default" has none)
    schema = SPEC["paths"][route]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]
    OAS30Validator({**schema, "components": SPEC["components"]}).validate(data)
    return data


def t(kind: str, name: str | None, id_: int, count: int = 0) -> dict[str, Any]:
    return {"type": kind, "name": name, "id": id_, "count": count}


LAB_TRES = [t("cpu", None, 1, 16), t("mem", None, 2, 8000), t("energy", None, 3),
            t("node", None, 4, 4), t("billing", None, 5, 16), t("fs", "disk", 6),
            t("vmem", None, 7), t("pages", None, 8), t("license", "fluent", 1001, 10),
            t("license", "matlab", 1002, 2)]
LAB = {"controller": {"host": "127.0.0.1", "port": 6817}, "flags": ["MULTIPLE_SLURMD"],
       "name": "lab", "nodes": "n[1-4]", "select_plugin": "cons_tres",
       "associations": {"root": None}, "rpc_version": 9728, "tres": LAB_TRES}


def test_tres() -> None:
    ex = get(f"{V}/tres")
    assert ex.response.status == 200
    body = body_of(ex, f"{V}/tres")
    assert body["TRES"] == [
        t("cpu", None, 1), t("mem", None, 2), t("energy", None, 3), t("node", None, 4),
        t("billing", None, 5), t("fs", "disk", 6), t("vmem", None, 7), t("pages", None, 8),
        t("dynamic_offset", None, 1000), t("license", "fluent", 1001),
        t("license", "matlab", 1002)]
    # slurmrestd's bytes for the first entry
    assert b'"TRES": [\n    {\n      "type": "cpu",\n      "name": null,\n      "id": 1,' \
        in ex.response.body


def test_clusters_and_one_cluster() -> None:
    body = body_of(get(f"{V}/clusters"), f"{V}/clusters")
    assert body["clusters"][0] == LAB
    assert body["clusters"][1]["nodes"] is None
    assert body["clusters"][1]["tres"] == []
    assert body["clusters"][1]["flags"] == []
    one = get(f"{V}/cluster/LAB")
    assert one.response.status == 200
    assert body_of(one, f"{V}/cluster/{{cluster_name}}")["clusters"] == [LAB]
    assert dump_json(json.loads(one.response.body)).encode() == one.response.body


def test_unknown_cluster_is_nothing_found() -> None:
    ex = get(f"{V}/cluster/nope")
    assert ex.response.status == 500
    body = body_of(ex, f"{V}/cluster/{{cluster_name}}")
    assert body["errors"] == [{"description": "Nothing found", "error_number": 9003,
                               "error": "Nothing found with query",
                               "source": "slurmdb_clusters_get"}]
    assert body["clusters"] == []


def test_wckeys_flags() -> None:
    body = body_of(get(f"{V}/wckeys"), f"{V}/wckeys")
    assert [(w["name"], w["user"], w["id"], w["flags"]) for w in body["wckeys"]] == [
        ("", "bob", 5, ["DEFAULT"]), ("*", "bob", 6, []), ("projx", "alice", 1, ["DEFAULT"]),
        ("old", "alice", 7, ["DELETED"])]
    assert body["wckeys"][0] == {"accounts": [], "cluster": "lab", "id": 5, "name": "",
                                 "user": "bob", "flags": ["DEFAULT"]}
    one = body_of(get(f"{V}/wckey/projx"), f"{V}/wckey/{{wckey}}")
    assert [w["id"] for w in one["wckeys"]] == [1]
    none = get(f"{V}/wckey/none")
    assert none.response.status == 500
    assert body_of(none, f"{V}/wckey/{{wckey}}")["errors"] == [{
        "description": "Nothing found", "error_number": 9003,
        "error": "Nothing found with query", "source": "slurmdb_wckeys_get"}]
    assert body_of(get(f"{V}/wckey/PROJX"), f"{V}/wckey/{{wckey}}")["wckeys"][0]["id"] == 1


def test_wckeys_permission_denied_has_no_description() -> None:
    ex = get(f"{V}/wckeys", lab(WCKEY_ALL_ARGV=DENIED))
    assert ex.response.status == 500
    body = body_of(ex, f"{V}/wckeys")
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_wckeys_get"}]
    assert body["wckeys"] == []


@pytest.mark.parametrize("path", ["tres", "clusters"])
def test_failures_keep_the_list_key(path: str) -> None:
    ex = get(f"{V}/{path}", lab(TRES_ARGV=DENIED))
    assert ex.response.status == 500
    body = body_of(ex, f"{V}/{path}")
    assert body["errors"][0]["source"] == "slurmdb_tres_get"


def test_yaml_keeps_nulls() -> None:
    ex = get(f"{V}/tres", None, ("accept", "application/x-yaml"))
    assert ex.response.status == 200
    assert b"name: null" in ex.response.body


def test_requests_never_reach_the_command_line() -> None:
    cli = lab()
    get(f"{V}/cluster/x%3Bid", cli)
    get(f"{V}/wckey/a,b", cli)
    assert all("x;id" not in arg and "a,b" not in arg for argv in cli.argvs for arg in argv)


@pytest.mark.parametrize(("text", "count"), [("4", 4), ("8000M", 8000), ("16G", 16384),
                                             ("2T", 2 * 1024 * 1024)])
def test_tres_count(text: str, count: int) -> None:
    assert tres_count(text) == count


def test_cluster_tres_skips_unknown_and_sorts_by_id() -> None:
    rows = [{"type": "cpu", "name": "", "id": "1"}, {"type": "gres", "name": "gpu", "id": "9"}]
    assert cluster_tres("gres/gpu=2,cpu=4,bogus=1", rows) == [
        t("cpu", None, 1, 4), t("gres", "gpu", 9, 2)]
