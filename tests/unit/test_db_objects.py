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
from slurmrest_stdio.api.dbv0_0_38.objects import clock_seconds, cluster_tres, tres_count
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
QOS_FORMAT = ("format=name,description,id,flags,gracetime,grpjobsaccrue,grpjobs,grptres,"
              "grptresrunmins,grpwall,limitfactor,maxjobspa,maxjobspu,maxjobsaccruepa,"
              "maxjobsaccruepu,maxsubmitpa,maxsubmitpu,maxtresmins,maxtrespa,maxtres,"
              "maxtrespernode,maxtrespu,maxtresrunminspa,maxtresrunminspu,maxwall,"
              "minpriothresh,mintres,preempt,preemptmode,preemptexempttime,priority,"
              "usagefactor,usagethreshold")
QOS_ARGV = ("sacctmgr", "-P", "-n", "show", "qos", QOS_FORMAT)
QOS_DELETED_ARGV = ("sacctmgr", "-P", "-n", "show", "qos", "withdeleted", QOS_FORMAT)
QOS = """\
normal|Normal QOS default|1||00:00:00||||||||||||||||||||||||cluster||0|1.000000|
high|high|2||00:00:00||||||||||||||||||||02:00:00||||cluster||100|1.000000|
zt_obj_q|zt_test|5|DenyOnLimit,PartitionTimeLimit,NoDecay|00:01:30|3|5|cpu=8,mem=2G|\
cpu=1000|2-00:00:00|2.500000|4|2|6|7|9|8|cpu=600|cpu=6|cpu=4,node=2|cpu=2|\
cpu=3,license/fluent=1|cpu=700|cpu=500|01:30:00|10|cpu=1|high,normal|gang,suspend|\
1-00:00:10|7|0.500000|0.250000
"""
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
               WCKEY_ARGV: ok(WCKEYS_LIVE), USER_ARGV: ok(USERS), QOS_ARGV: ok(QOS),
               QOS_DELETED_ARGV: ok(QOS)}
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

    def db_qos(self, who: Identity, with_deleted: bool) -> list[dict[str, str]]:
        return self.cli.db_qos(who, with_deleted)

    def db_delete_qos(self, who: Identity, name: str) -> list[str]:
        return self.cli.db_delete_qos(who, name)

    def db_delete_cluster(self, who: Identity, name: str) -> list[str]:
        return self.cli.db_delete_cluster(who, name)

    def db_delete_wckey(self, who: Identity, name: str) -> list[str]:
        return self.cli.db_delete_wckey(who, name)


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


#: slurmrestd's answer for the QOS zt_obj_q above (every limit set)
ZT_QOS: dict[str, Any] = {
    "description": "zt_test",
    "flags": [
        "PARTITION_TIME_LIMIT",
        "DENY_LIMIT",
        "NO_DECAY"
    ],
    "id": 5,
    "limits": {
        "grace_time": 90,
        "max": {
            "active_jobs": {
                "accruing": 3,
                "count": 5
            },
            "tres": {
                "total": [
                    {
                        "type": "cpu",
                        "name": None,
                        "id": 1,
                        "count": 8
                    },
                    {
                        "type": "mem",
                        "name": None,
                        "id": 2,
                        "count": 2048
                    }
                ],
                "minutes": {
                    "per": {
                        "qos": [
                            {
                                "type": "cpu",
                                "name": None,
                                "id": 1,
                                "count": 1000
                            }
                        ],
                        "job": [
                            {
                                "type": "cpu",
                                "name": None,
                                "id": 1,
                                "count": 600
                            }
                        ],
                        "account": [
                            {
                                "type": "cpu",
                                "name": None,
                                "id": 1,
                                "count": 700
                            }
                        ],
                        "user": [
                            {
                                "type": "cpu",
                                "name": None,
                                "id": 1,
                                "count": 500
                            }
                        ]
                    }
                },
                "per": {
                    "account": [
                        {
                            "type": "cpu",
                            "name": None,
                            "id": 1,
                            "count": 6
                        }
                    ],
                    "job": [
                        {
                            "type": "cpu",
                            "name": None,
                            "id": 1,
                            "count": 4
                        },
                        {
                            "type": "node",
                            "name": None,
                            "id": 4,
                            "count": 2
                        }
                    ],
                    "node": [
                        {
                            "type": "cpu",
                            "name": None,
                            "id": 1,
                            "count": 2
                        }
                    ],
                    "user": [
                        {
                            "type": "cpu",
                            "name": None,
                            "id": 1,
                            "count": 3
                        },
                        {
                            "type": "license",
                            "name": "fluent",
                            "id": 1001,
                            "count": 1
                        }
                    ]
                }
            },
            "wall_clock": {
                "per": {
                    "qos": 2880,
                    "job": 90
                }
            },
            "jobs": {
                "active_jobs": {
                    "per": {
                        "account": 4,
                        "user": 2
                    }
                },
                "per": {
                    "account": 9,
                    "user": 8
                }
            },
            "accruing": {
                "per": {
                    "account": 6,
                    "user": 7
                }
            }
        },
        "factor": 2.5,
        "min": {
            "priority_threshold": 10,
            "tres": {
                "per": {
                    "job": [
                        {
                            "type": "cpu",
                            "name": None,
                            "id": 1,
                            "count": 1
                        }
                    ]
                }
            }
        }
    },
    "name": "zt_obj_q",
    "preempt": {
        "list": [
            "normal",
            "high"
        ],
        "mode": [
            "SUSPEND",
            "GANG"
        ],
        "exempt_time": 86410
    },
    "priority": 7,
    "usage_factor": 0.5,
    "usage_threshold": 0.25
}
#: what slurmrestd prints for a QOS with no limits (normal)
NORMAL_LIMITS: dict[str, Any] = {
    "grace_time": 0,
    "max": {"active_jobs": {"accruing": None, "count": None},
            "tres": {"total": [], "minutes": {"per": {"qos": [], "job": [], "account": [],
                                                      "user": []}},
                     "per": {"account": [], "job": [], "node": [], "user": []}},
            "wall_clock": {"per": {"qos": None, "job": None}},
            "jobs": {"active_jobs": {"per": {"account": None, "user": None}},
                     "per": {"account": None, "user": None}},
            "accruing": {"per": {"account": None, "user": None}}},
    "factor": None,
    "min": {"priority_threshold": None, "tres": {"per": {"job": []}}}}


def test_qos_list() -> None:
    cli = lab()
    ex = get(f"{V}/qos", cli)
    assert ex.response.status == 200
    body = body_of(ex, f"{V}/qos")
    assert [q["name"] for q in body["QOS"]] == ["normal", "high", "zt_obj_q"]
    assert body["QOS"][0] == {
        "description": "Normal QOS default", "flags": [], "id": 1, "limits": NORMAL_LIMITS,
        "name": "normal", "preempt": {"list": [], "mode": [], "exempt_time": None},
        "priority": 0, "usage_factor": 1.0, "usage_threshold": None}
    assert body["QOS"][1]["limits"]["max"]["wall_clock"]["per"]["job"] == 120
    assert body["QOS"][2] == ZT_QOS
    assert QOS_ARGV in cli.argvs and QOS_DELETED_ARGV not in cli.argvs
    assert b'"usage_factor": 1.0,' in ex.response.body


def test_one_qos_and_names_with_case() -> None:
    body = body_of(get(f"{V}/qos/zt_obj_q"), f"{V}/qos/{{qos_name}}")
    assert body["QOS"] == [ZT_QOS]
    for name in ("ZT_OBJ_Q", "zt_obj_none", "x%2Cy"):
        ex = get(f"{V}/qos/{name}")
        assert ex.response.status == 200
        assert body_of(ex, f"{V}/qos/{{qos_name}}") == {
            "meta": json.loads(ex.response.body)["meta"], "errors": [], "QOS": []}


@pytest.mark.parametrize(("query", "deleted"), [("with_deleted=1", True),
                                                ("with_deleted=true", True),
                                                ("with_deleted=0", False),
                                                ("with_deleted=", False),
                                                ("with_deleted=abc", True)])
def test_qos_with_deleted(query: str, deleted: bool) -> None:
    cli = lab()
    assert get(f"{V}/qos?{query}", cli).response.status == 200
    assert (QOS_DELETED_ARGV in cli.argvs) is deleted


@pytest.mark.parametrize("path", ["qos?foo=1", "qos/normal?foo=1"])
def test_qos_unknown_query_field(path: str) -> None:
    ex = get(f"{V}/{path}")
    assert ex.response.status == 400
    body = json.loads(ex.response.body)
    assert body["errors"] == [{"description": "Unknown query field", "error_number": 9000,
                               "error": "Query empty or not RFC7320 compliant"}]
    assert "QOS" not in body


def test_qos_comma_in_query_is_refused() -> None:
    ex = get(f"{V}/qos?with_deleted=1,2")
    assert ex.response.status == 400
    assert ex.response.body == b"Unable to parse query."


def test_qos_failure_keeps_the_list_key() -> None:
    ex = get(f"{V}/qos", lab(QOS_ARGV=DENIED))
    assert ex.response.status == 500
    body = body_of(ex, f"{V}/qos")
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_qos_get"}]
    assert body["QOS"] == []


@pytest.mark.parametrize(("text", "seconds"), [("00:01:30", 90), ("1-00:00:10", 86410),
                                               ("05:00", 300), ("", None),
                                               ("UNLIMITED", None)])
def test_clock_seconds(text: str, seconds: int | None) -> None:
    assert clock_seconds(text) == seconds


DELETE_QOS_ARGV = ("sacctmgr", "-i", "delete", "qos", "where", "name=zt_obj_d")


def delete(path: str, cli: CannedCli) -> Exchange:
    return make_app(ObjectsBackend(cli)).handle(Request("DELETE", path, ()))


def test_delete_qos() -> None:
    cli = lab(DELETE_QOS_ARGV=ok(" Deleting QOS(s)...\n  zt_obj_d\n"))
    ex = delete(f"{V}/qos/zt_obj_d", cli)
    assert ex.response.status == 200
    body = json.loads(ex.response.body)
    assert (body["errors"], body["removed_qos"]) == ([], ["zt_obj_d"])
    assert cli.argvs == [DELETE_QOS_ARGV]


def test_delete_qos_nothing_found() -> None:
    ex = delete(f"{V}/qos/zt_obj_d", lab(DELETE_QOS_ARGV=Outcome(1, b" Nothing deleted\n",
                                                                 b"")))
    assert ex.response.status == 500
    assert json.loads(ex.response.body)["errors"] == [{
        "description": "Nothing found", "error_number": 9003,
        "error": "Nothing found with query", "source": "slurmdb_qos_remove"}]
    assert "removed_qos" not in json.loads(ex.response.body)


def test_delete_qos_refused() -> None:
    ex = delete(f"{V}/qos/zt_obj_d", lab(DELETE_QOS_ARGV=DENIED))
    assert ex.response.status == 500
    assert json.loads(ex.response.body)["errors"] == [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_qos_remove"}]


@pytest.mark.parametrize("name", ["a%3Bb", "a%20b", "a%2Cb", "%22x%22", "-x%0Ay"])
def test_delete_qos_odd_names_never_run(name: str) -> None:
    cli = lab()
    ex = delete(f"{V}/qos/{name}", cli)
    assert ex.response.status == 500
    assert json.loads(ex.response.body)["errors"][0]["error_number"] == 9003
    assert cli.argvs == []


DELETE_CLUSTER_ARGV = ("sacctmgr", "-i", "delete", "cluster", "where", "name=zt_obj_c")


def test_delete_cluster() -> None:
    cli = lab(DELETE_CLUSTER_ARGV=ok(" Deleting clusters...\n  zt_obj_c\n"))
    ex = delete(f"{V}/cluster/zt_obj_c", cli)
    assert ex.response.status == 200
    body = json.loads(ex.response.body)
    assert (body["errors"], body["deleted_clusters"]) == ([], ["zt_obj_c"])
    assert cli.argvs == [DELETE_CLUSTER_ARGV]


def test_delete_cluster_nothing_is_304() -> None:
    ex = delete(f"{V}/cluster/zt_obj_c",
                lab(DELETE_CLUSTER_ARGV=Outcome(1, b" Nothing deleted\n", b"")))
    assert (ex.response.status, ex.response.body) == (304, b"")
    cli = lab()
    assert delete(f"{V}/cluster/a%3Bb", cli).response.status == 304
    assert cli.argvs == []


def test_delete_cluster_refused() -> None:
    ex = delete(f"{V}/cluster/zt_obj_c", lab(DELETE_CLUSTER_ARGV=DENIED))
    assert ex.response.status == 500
    body = json.loads(ex.response.body)
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_clusters_remove"}]
    assert body["deleted_clusters"] == []


DELETE_WCKEY_ARGV = ("sacctmgr", "-i", "delete", "user", "where", "wckeys=zt_obj_w")
WCKEY_TEXT = "C = lab        W = zt_obj_w             U = alice    "


def test_delete_wckey_keeps_slurmdbd_text() -> None:
    cli = lab(DELETE_WCKEY_ARGV=ok(f" Deleting user WCKeys...\n  {WCKEY_TEXT}\n"))
    ex = delete(f"{V}/wckey/zt_obj_w", cli)
    assert ex.response.status == 200
    body = json.loads(ex.response.body)
    assert (body["errors"], body["deleted_wckeys"]) == ([], [WCKEY_TEXT])
    assert cli.argvs == [DELETE_WCKEY_ARGV]


@pytest.mark.parametrize("name", ["zt_obj_w", "a%3Bb", "%2Ax"])
def test_delete_wckey_nothing_found(name: str) -> None:
    # sacctmgr says "Nothing deleted" and exits 0 here
    ex = delete(f"{V}/wckey/{name}", lab(DELETE_WCKEY_ARGV=ok(" Nothing deleted\n")))
    assert ex.response.status == 500
    body = json.loads(ex.response.body)
    assert body["errors"] == [{"description": "Nothing found", "error_number": 9003,
                               "error": "Nothing found with query",
                               "source": "slurmdb_wckeys_remove"}]
    assert body["deleted_wckeys"] == []


def test_delete_wckey_refused() -> None:
    ex = delete(f"{V}/wckey/zt_obj_w", lab(DELETE_WCKEY_ARGV=DENIED))
    assert ex.response.status == 500
    body = json.loads(ex.response.body)
    assert body["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                               "source": "slurmdb_wckeys_remove"}]
    assert body["deleted_wckeys"] == []
