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
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
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


def deleted(path: str, **changes: Outcome) -> tuple[int, Any, CannedCli]:
    """One DELETE against the lab with ``changes`` (see :func:`lab`): its status, its
    body (None when empty) and the sacctmgr stand-in."""
    cli = lab(**changes)
    response = delete(path, cli).response
    return response.status, json.loads(response.body) if response.body else None, cli


def nothing_found(source: str) -> list[dict[str, Any]]:
    return [{"description": "Nothing found", "error_number": 9003,
             "error": "Nothing found with query", "source": source}]


def permission_denied(source: str) -> list[dict[str, Any]]:
    return [{"error_number": 2002, "error": "Access/permission denied", "source": source}]


def test_delete_qos() -> None:
    status, body, cli = deleted(f"{V}/qos/zt_obj_d",
                                DELETE_QOS_ARGV=ok(" Deleting QOS(s)...\n  zt_obj_d\n"))
    assert status == 200
    assert (body["errors"], body["removed_qos"]) == ([], ["zt_obj_d"])
    assert cli.argvs == [DELETE_QOS_ARGV]


def test_delete_qos_nothing_found() -> None:
    status, body, _ = deleted(f"{V}/qos/zt_obj_d",
                              DELETE_QOS_ARGV=Outcome(1, b" Nothing deleted\n", b""))
    assert status == 500
    assert body["errors"] == nothing_found("slurmdb_qos_remove")
    assert "removed_qos" not in body


def test_delete_qos_refused() -> None:
    status, body, _ = deleted(f"{V}/qos/zt_obj_d", DELETE_QOS_ARGV=DENIED)
    assert status == 500
    assert body["errors"] == permission_denied("slurmdb_qos_remove")


@pytest.mark.parametrize("name", ["a%3Bb", "a%20b", "a%2Cb", "%22x%22", "-x%0Ay"])
def test_delete_qos_odd_names_never_run(name: str) -> None:
    status, body, cli = deleted(f"{V}/qos/{name}")
    assert status == 500
    assert body["errors"][0]["error_number"] == 9003
    assert cli.argvs == []


DELETE_CLUSTER_ARGV = ("sacctmgr", "-i", "delete", "cluster", "where", "name=zt_obj_c")


def test_delete_cluster() -> None:
    status, body, cli = deleted(f"{V}/cluster/zt_obj_c",
                                DELETE_CLUSTER_ARGV=ok(" Deleting clusters...\n  zt_obj_c\n"))
    assert status == 200
    assert (body["errors"], body["deleted_clusters"]) == ([], ["zt_obj_c"])
    assert cli.argvs == [DELETE_CLUSTER_ARGV]


def test_delete_cluster_nothing_is_304() -> None:
    status, body, _ = deleted(f"{V}/cluster/zt_obj_c",
                              DELETE_CLUSTER_ARGV=Outcome(1, b" Nothing deleted\n", b""))
    assert (status, body) == (304, None)
    status, _, cli = deleted(f"{V}/cluster/a%3Bb")
    assert status == 304
    assert cli.argvs == []


def test_delete_cluster_refused() -> None:
    status, body, _ = deleted(f"{V}/cluster/zt_obj_c", DELETE_CLUSTER_ARGV=DENIED)
    assert status == 500
    assert body["errors"] == permission_denied("slurmdb_clusters_remove")
    assert body["deleted_clusters"] == []


DELETE_WCKEY_ARGV = ("sacctmgr", "-i", "delete", "user", "where", "wckeys=zt_obj_w")
WCKEY_TEXT = "C = lab        W = zt_obj_w             U = alice    "


def test_delete_wckey_keeps_slurmdbd_text() -> None:
    status, body, cli = deleted(
        f"{V}/wckey/zt_obj_w",
        DELETE_WCKEY_ARGV=ok(f" Deleting user WCKeys...\n  {WCKEY_TEXT}\n"))
    assert status == 200
    assert (body["errors"], body["deleted_wckeys"]) == ([], [WCKEY_TEXT])
    assert cli.argvs == [DELETE_WCKEY_ARGV]


@pytest.mark.parametrize("name", ["zt_obj_w", "a%3Bb", "%2Ax"])
def test_delete_wckey_nothing_found(name: str) -> None:
    # sacctmgr says "Nothing deleted" and exits 0 here
    status, body, _ = deleted(f"{V}/wckey/{name}", DELETE_WCKEY_ARGV=ok(" Nothing deleted\n"))
    assert status == 500
    assert body["errors"] == nothing_found("slurmdb_wckeys_remove")
    assert body["deleted_wckeys"] == []


def test_delete_wckey_refused() -> None:
    status, body, _ = deleted(f"{V}/wckey/zt_obj_w", DELETE_WCKEY_ARGV=DENIED)
    assert status == 500
    assert body["errors"] == permission_denied("slurmdb_wckeys_remove")
    assert body["deleted_wckeys"] == []


# -- POST tres, qos, clusters, wckeys -------------------------------------------------------

ADMIN_ARGV = ("sacctmgr", "-P", "-n", "show", "user", "name=alice", "format=adminlevel")
CONFIG_ARGV = ("sacctmgr", "-n", "show", "config")
NOT_ADMIN = {ADMIN_ARGV: ok("None\n"), CONFIG_ARGV: ok("SlurmUserId  = slurm(64030)\n")}
DENIED_QOS = Outcome(1, b" Adding QOS(s)\n  zt_new\n",
                     b" Problem adding QOS: Access/permission denied\n")


class PostBackend(ObjectsBackend):
    """The canned sacctmgr behind the POST handlers too (users: alice, bob)."""

    def db_users(self, who: Identity, name: str | None, with_deleted: bool
                 ) -> list[dict[str, str]]:
        return [{"user": "alice"}, {"user": "bob"}]

    def db_add_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        self.cli.db_add_qos(who, name, settings)

    def db_modify_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        self.cli.db_modify_qos(who, name, settings)

    def db_add_cluster(self, who: Identity, name: str) -> None:
        self.cli.db_add_cluster(who, name)

    def db_add_wckey(self, who: Identity, name: str, user: str, cluster: str, *,
                     default: bool = False) -> None:
        self.cli.db_add_wckey(who, name, user, cluster, default=default)

    def db_is_administrator(self, who: Identity) -> bool:
        return self.cli.db_is_administrator(who)


def post(path: str, body: Any, cli: CannedCli, *headers: tuple[str, str]) -> Exchange:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return make_app(PostBackend(cli)).handle(Request(
        "POST", path, (("content-type", "application/json"), *headers), data))


def answer(ex: Exchange) -> tuple[int, list[dict[str, Any]]]:
    body = json.loads(ex.response.body)
    assert set(body) == {"meta", "errors"}
    return ex.response.status, body["errors"]


def canned(*changes: tuple[tuple[str, ...], Outcome]) -> CannedCli:
    cli = lab()
    cli.outputs.update(dict(changes))
    return cli


def changes(cli: CannedCli) -> list[tuple[str, ...]]:
    return [a for a in cli.argvs if a[:2] == ("sacctmgr", "-i")]


PARSING = {"error_number": 9001, "error": "Failure during parsing"}
CONVERSION = {"error_number": 9202, "error": "Unable to convert Data type"}
QUERY = {"error_number": 9000, "error": "Query empty or not RFC7320 compliant"}


def failed(path: str, kind: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"description": f"Failed to parse {'required ' if required else ''}field "
                           f"'{path}'", **kind, "source": "_parser_run"}


@pytest.mark.parametrize("body", [b'{"TRES": [{"type": "cpu"}]}', b"", b"[1]"])
def test_post_tres_is_never_supported(body: bytes) -> None:
    assert answer(post(f"{V}/tres", body, lab())) == (500, [{
        "description": "Updating TRES is not currently supported.", "error_number": 2036,
        "error": "Requested operation not supported on this system"}])


def test_post_tres_body_must_parse() -> None:
    ex = post(f"{V}/tres", b"null", lab())
    assert ex.response.status == 400
    assert ex.response.body == b"Unable to parse query."


FULL_QOS = {
    "name": "zt_new", "description": "zt test", "priority": 5,
    "flags": ["no_decay", "DENY_LIMIT"],
    "limits": {"grace_time": 90, "factor": 2.5,
               "max": {"active_jobs": {"accruing": 3, "count": 5},
                       "tres": {"total": [{"type": "cpu", "count": 8},
                                          {"type": "MEM", "count": 2048}],
                                "minutes": {"per": {"qos": [{"type": "cpu", "count": 1000}],
                                                    "job": [{"type": "cpu", "count": 600}],
                                                    "account": [{"type": "cpu", "id": 1,
                                                                 "count": 700}],
                                                    "user": [{"type": "cpu", "count": 500}]}},
                                "per": {"account": [{"type": "cpu", "count": 6}],
                                        "job": [{"type": "cpu", "count": 4},
                                                {"type": "node", "count": 2}],
                                        "node": [{"type": "cpu", "count": 2}],
                                        "user": [{"type": "license", "name": "fluent",
                                                  "count": 1}]}},
                       "wall_clock": {"per": {"qos": 2880, "job": 90}},
                       "jobs": {"active_jobs": {"per": {"account": 4, "user": 2}},
                                "per": {"account": 9, "user": 8}},
                       "accruing": {"per": {"account": 6, "user": 7}}},
               "min": {"priority_threshold": 10,
                       "tres": {"per": {"job": [{"type": "cpu", "count": 1}]}}}},
    "preempt": {"list": ["normal", {"name": "HIGH"}], "mode": ["SUSPEND", "gang"],
                "exempt_time": 86410},
    "usage_factor": 0.5, "usage_threshold": "0.25", "unknown_key": "ignored"}
ADD_FULL_ARGV = (
    "sacctmgr", "-i", "add", "qos", "zt_new", "description=zt test",
    "flags=NoDecay,DenyOnLimit", "gracetime=90", "grpjobsaccrue=3", "grpjobs=5",
    "grptres=cpu=8,mem=2048", "grptresrunmins=cpu=1000", "grpwall=2880", "limitfactor=2.5",
    "maxjobspa=4", "maxjobspu=2", "maxjobsaccruepa=6", "maxjobsaccruepu=7",
    "maxsubmitjobspa=9", "maxsubmitjobspu=8", "maxtresmins=cpu=600", "maxtrespa=cpu=6",
    "maxtres=cpu=4,node=2", "maxtrespernode=cpu=2", "maxtrespu=license/fluent=1",
    "maxtresrunminspa=cpu=700", "maxtresrunminspu=cpu=500", "maxwall=90",
    "minpriothresh=10", "mintres=cpu=1", "preempt=normal,high", "preemptmode=suspend,gang",
    "preemptexempttime=1-00:00:10", "priority=5", "usagefactor=0.5", "usagethreshold=0.25")


def test_post_qos_creates_with_every_field() -> None:
    cli = canned((ADD_FULL_ARGV, ok(" Adding QOS(s)\n  zt_new\n")))
    assert answer(post(f"{V}/qos", {"QOS": [FULL_QOS]}, cli)) == (200, [])
    assert changes(cli) == [ADD_FULL_ARGV]


def test_post_qos_mode_order_and_new_qos_defaults() -> None:
    argv = ("sacctmgr", "-i", "add", "qos", "zt_new", "description=")
    cli = canned((argv, ok("")))
    body = {"QOS": [{"name": "zt_new", "flags": [], "preempt": {"mode": [], "list": []}}]}
    assert answer(post(f"{V}/qos", body, cli)) == (200, [])
    assert changes(cli) == [argv]


def test_post_qos_changes_only_what_is_given() -> None:
    argv = ("sacctmgr", "-i", "modify", "qos", "where", "name=high", "set", "flags=-1",
            "maxwall=-1", "preemptmode=off", "priority=-1", "usagefactor=1.5")
    cli = canned((argv, ok(" Modified qos...\n  high\n")))
    item: dict[str, Any] = {"name": "high", "flags": [], "priority": None, "usage_factor": 1.5,
            "usage_threshold": None, "preempt": {"mode": [], "list": []},
            "limits": {"max": {"wall_clock": {"per": {"job": -1}},
                               "active_jobs": {"count": -2}}}}
    body: dict[str, Any] = {"QOS": [item]}
    assert answer(post(f"{V}/qos", body, cli)) == (200, [])
    assert changes(cli) == [argv]


def test_post_qos_by_id_and_nothing_to_change() -> None:
    cli = lab()
    assert answer(post(f"{V}/qos", {"QOS": [{"id": 2}, {"id": "5", "name": "zt_obj_q"}]},
                       cli)) == (200, [])
    assert changes(cli) == []


@pytest.mark.parametrize(("value", "setting"), [
    (5.6, "priority=6"), (4.5, "priority=4"), ("7", "priority=7"), (-1, "priority=-1"),
    (4294967295, "priority=-1"), (0, "priority=0")])
def test_post_qos_counts(value: Any, setting: str) -> None:
    argv = ("sacctmgr", "-i", "modify", "qos", "where", "name=normal", "set", setting)
    cli = canned((argv, ok("")))
    assert answer(post(f"{V}/qos", {"QOS": [{"name": "normal", "priority": value}]},
                       cli)) == (200, [])
    assert changes(cli) == [argv]


@pytest.mark.parametrize(("item", "errors"), [
    (1, [{"description": "each QOS entry must be a dictionary", **QUERY}]),
    ({"name": "x", "flags": ["BOGUS"]},
     [{"description": "Unknown flag", **PARSING, "source": "flags"},
      failed("flags", PARSING)]),
    ({"name": "x", "flags": "NO_DECAY"}, [failed("flags", PARSING)]),
    ({"name": "x", "preempt": {"mode": ["OFF"]}},
     [{"description": "Unknown flag", **PARSING, "source": "preempt/mode"},
      failed("preempt/mode", PARSING)]),
    ({"name": "x", "priority": "abc"}, [failed("priority", CONVERSION)]),
    ({"name": "x", "priority": True}, [failed("priority", CONVERSION)]),
    ({"name": "x", "priority": 4294967296}, [failed("priority", CONVERSION)]),
    ({"name": "x", "priority": -3}, [failed("priority", CONVERSION)]),
    ({"name": "x", "priority": float("inf")}, [failed("priority", CONVERSION)]),
    ({"name": "x", "usage_factor": "much"}, [failed("usage_factor", CONVERSION)]),
    ({"name": "x", "description": {"a": 1}}, [failed("description", CONVERSION)]),
    ({"name": "x", "limits": {"max": {"tres": {"total": [{"type": "zz", "count": 1}]}}}},
     [{"description": "Couldn't find TRES matching name:(null) type:zz",
       "error_number": 2115, "error": "Invalid Trackable RESource (TRES) specification",
       "source": "_for_each_parse_tres_count"}, failed("limits/max/tres/total", PARSING)]),
    ({"name": "x", "limits": {"min": {"tres": {"per": {"job": [
        {"type": "cpu", "id": 2, "count": 1}]}}}}},
     [{"description": "Requested TRES id(2) doesn't match TRES type/name(cpu/(null)) "
                      "which id is 1", "error_number": 2115,
       "error": "Invalid Trackable RESource (TRES) specification",
       "source": "_for_each_parse_tres_count"}, failed("limits/min/tres/per/job", PARSING)]),
    ({"name": "x", "limits": {"max": {"tres": {"total": {"type": "cpu"}}}}},
     [failed("limits/max/tres/total", PARSING)]),
    ({"name": "x", "preempt": {"list": ["zt_none"]}},
     [{"description": "QOS name to ID conversion failed", **PARSING, "source": "zt_none"},
      failed("preempt/list", PARSING)]),
    ({"priority": 1}, [{"description": "Cannot create a QOS without a name", **QUERY,
                        "source": "_foreach_update_qos"}]),
    ({"id": 99}, [{"description": "QOS was not found for the requested ID", **QUERY,
                   "source": "_foreach_update_qos"}]),
    ({"id": 1, "name": "high"}, [{"description": "QOS was not found for the requested ID",
                                  **QUERY, "source": "_foreach_update_qos"}]),
])
def test_post_qos_refusals_are_slurmrestds(item: Any, errors: list[dict[str, Any]]) -> None:
    cli = lab()
    # the valid first entry is not applied either: every entry is checked first
    assert answer(post(f"{V}/qos", {"QOS": [{"name": "zt_ok"}, item]}, cli)) == (400, errors)
    assert changes(cli) == []


@pytest.mark.parametrize(("item", "source"), [
    ({"name": "Upper"}, "name"), ({"name": "zt_x", "description": "a,b"}, "description"),
    ({"name": "zt_x", "usage_factor": -1}, "usage_factor"),
    ({"name": "zt_x", "limits": {"max": {"tres": {"total": [{"type": "cpu", "count": -5}]}}}},
     "limits/max/tres/total"),
    ({"name": "zt_x", "limits": {"max": {"tres": {"total": [{"type": "cpu", "count": None}]}}}},
     "limits/max/tres/total")])
def test_post_qos_values_not_passed_on(item: dict[str, Any], source: str) -> None:
    cli = lab()
    status, errs = answer(post(f"{V}/qos", {"QOS": [item]}, cli))
    assert (status, len(errs), errs[0]["source"], errs[0]["error_number"]) == (
        400, 1, source, 9001)
    assert changes(cli) == []


@pytest.mark.parametrize(("body", "errors"), [
    ({}, [{"description": "Query parameter not found", "error_number": 9200,
           "error": "Unable to resolve path", "source": "QOS"}]),
    ({"QOS": {}}, [{"description": "Query parameter must be a list", "error_number": 9200,
                    "error": "Unable to resolve path", "source": "QOS"}]),
    ([1], [{"description": "Query parameter not found", "error_number": 9200,
            "error": "Unable to resolve path", "source": "QOS"}]),
    (b"", [{"description": "Query parameter not found", "error_number": 9200,
            "error": "Unable to resolve path", "source": "QOS"}])])
def test_post_qos_without_a_list(body: Any, errors: list[dict[str, Any]]) -> None:
    assert answer(post(f"{V}/qos", body, lab())) == (400, errors)


def test_post_qos_refused_by_slurm() -> None:
    argv = ("sacctmgr", "-i", "add", "qos", "zt_new", "description=")
    cli = canned((argv, DENIED_QOS))
    assert answer(post(f"{V}/qos", {"QOS": [{"name": "zt_new"}]}, cli)) == (400, [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_qos_add"}])


def test_post_qos_later_failure_says_what_stays() -> None:
    first = ("sacctmgr", "-i", "add", "qos", "zt_a", "description=")
    second = ("sacctmgr", "-i", "modify", "qos", "where", "name=normal", "set", "priority=1")
    cli = canned((first, ok("")), (second, DENIED))
    body = {"QOS": [{"name": "zt_a"}, {"name": "normal", "priority": 1}, {"name": "zt_a"}]}
    status, errs = answer(post(f"{V}/qos", body, cli))
    assert status == 400
    assert [e["description"].split(":")[0] for e in errs] == [
        "QOS zt_a was applied before the failure and stays", "QOS normal failed",
        "QOS zt_a was not applied"]
    assert {e["error_number"] for e in errs} == {2002}
    assert changes(cli) == [first, second]


def test_post_qos_yaml_body() -> None:
    argv = ("sacctmgr", "-i", "modify", "qos", "where", "name=normal", "set", "priority=3")
    cli = canned((argv, ok("")))
    ex = make_app(PostBackend(cli)).handle(Request(
        "POST", f"{V}/qos", (("content-type", "application/x-yaml"),),
        b"QOS:\n  - name: normal\n    priority: 3\n"))
    assert answer(ex) == (200, [])


ADD_CLUSTER_ARGV = ("sacctmgr", "-i", "add", "cluster", "zt_c")


def test_post_clusters_adds_by_name() -> None:
    cli = canned((ADD_CLUSTER_ARGV, ok(" Adding Cluster(s)\n  Name = zt_c\n")),
                 (("sacctmgr", "-i", "add", "cluster", "lab"),
                  Outcome(1, b" This cluster lab already exists.  Not adding.\n", b"")))
    body = {"clusters": [{"name": "zt_c", "controller": {"host": "h", "port": 1},
                          "flags": ["multiple_slurmd"], "nodes": "n1", "rpc_version": 9,
                          "tres": [{"type": "cpu", "count": 4}]},
                         {"name": "lab"}, {"name": "zt_c"}]}
    assert answer(post(f"{V}/clusters", body, cli)) == (200, [])
    assert changes(cli) == [ADD_CLUSTER_ARGV, ("sacctmgr", "-i", "add", "cluster", "lab")]


def test_post_clusters_refused_by_slurm() -> None:
    cli = canned((ADD_CLUSTER_ARGV, DENIED))
    assert answer(post(f"{V}/clusters", {"clusters": [{"name": "zt_c"}]}, cli)) == (500, [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_clusters_add"}])


NOT_FOUND = {"description": "Query parameter not found", "error_number": 9200,
             "error": "Unable to resolve path", "source": "clusters"}
NOT_DICT = {"description": "each cluster entry must be a dictionary", **QUERY}
NO_NAME = {"error_number": -1, "error": "Unspecified error", "source": "slurmdb_clusters_add"}
CLUSTER_DENIED = {"error_number": 2002, "error": "Access/permission denied",
                  "source": "slurmdb_clusters_add"}


@pytest.mark.parametrize(("body", "admin", "status", "errors"), [
    ({}, True, 200, [NOT_FOUND]),
    ({}, False, 500, [NOT_FOUND, CLUSTER_DENIED]),
    ({"clusters": []}, True, 200, []),
    ({"clusters": []}, False, 500, [CLUSTER_DENIED]),
    ({"clusters": [1]}, True, 200, [NOT_DICT]),
    ({"clusters": [{"nodes": "x"}]}, True, 500, [NO_NAME]),
    ({"clusters": [{"nodes": "x"}]}, False, 500, [CLUSTER_DENIED]),
    ({"clusters": [{"flags": ["BOGUS"], "name": "zt_c"}]}, True, 500,
     [{"description": "Unknown flag", **PARSING, "source": "flags"},
      failed("flags", PARSING), NO_NAME]),
    # slurmrestd adds zt_c here (its parser stopped after the name): we add nothing
    ({"clusters": [{"name": "zt_c", "rpc_version": 70000}]}, True, 200,
     [failed("rpc_version", CONVERSION)]),
    ({"clusters": [{"name": "zt_c", "select_plugin": None}]}, True, 200,
     [failed("select_plugin", PARSING)]),
])
def test_post_clusters_nothing_added(body: Any, admin: bool, status: int,
                                     errors: list[dict[str, Any]]) -> None:
    cli = canned(*(((ADMIN_ARGV, ok("Administrator\n")),) if admin else NOT_ADMIN.items()))
    assert answer(post(f"{V}/clusters", body, cli)) == (status, errors)
    assert changes(cli) == []


def test_post_clusters_upper_case_name_not_passed_on() -> None:
    cli = lab()
    status, errs = answer(post(f"{V}/clusters", {"clusters": [{"name": "Big"}]}, cli))
    assert (status, errs[0]["source"]) == (400, "name")
    assert changes(cli) == []


ADD_WCKEY_ARGV = ("sacctmgr", "-i", "add", "user", "alice", "wckeys=zt_w", "cluster=lab")
WCKEY = {"name": "zt_w", "user": "alice", "cluster": "lab", "id": 0}


def test_post_wckeys_adds() -> None:
    cli = canned((ADD_WCKEY_ARGV, Outcome(1, b" Nothing new added.\n", b"")))
    assert answer(post(f"{V}/wckeys", {"wckeys": [WCKEY, {**WCKEY, "accounts": []}]},
                       cli)) == (200, [])
    assert changes(cli) == [ADD_WCKEY_ARGV, ADD_WCKEY_ARGV]


def test_post_wckeys_refused_by_slurm() -> None:
    cli = canned((ADD_WCKEY_ARGV, Outcome(1, b"", b"sacctmgr: error: Sending message type "
                                                  b"DBD_ADD_WCKEYS: 2002: Access/permission "
                                                  b"denied\n")))
    assert answer(post(f"{V}/wckeys", {"wckeys": [WCKEY]}, cli)) == (500, [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_wckeys_add"}])


MISSING_ID = {"description": "Missing required field 'id'", "source": "_parser_run"}
WCKEY_DENIED = {"error_number": 2002, "error": "Access/permission denied",
                "source": "slurmdb_wckeys_add"}


@pytest.mark.parametrize(("body", "admin", "status", "errors"), [
    ({}, True, 400, [{"description": "Query parameter not found", "error_number": 9200,
                      "error": "Unable to resolve path", "source": "wckeys"}]),
    ({"wckeys": [1]}, True, 400, [{"field": "wckey",
                                   "error": "each wckey entry must be a dictionary"}]),
    ({"wckeys": []}, True, 200, []),
    ({"wckeys": []}, False, 500, [WCKEY_DENIED]),
    ({"wckeys": [{"name": "zt_w", "user": "alice", "cluster": "lab"}]}, True, 500,
     [MISSING_ID, {"error_number": -1, "error": "Unspecified error",
                   "source": "slurmdb_wckeys_add"}]),
    ({"wckeys": [{"name": "zt_w", "user": "alice", "cluster": "lab"}]}, False, 500,
     [MISSING_ID, WCKEY_DENIED]),
    ({"wckeys": [{"user": "alice"}, {"cluster": "lab", "id": "x"}]}, True, 400,
     [{"description": "Missing required field 'cluster'", "source": "_parser_run"},
      failed("id", CONVERSION, required=True)]),
    ({"wckeys": [{**WCKEY, "flags": ["BOGUS"]}]}, True, 400,
     [{"description": "Unknown flag", **PARSING, "source": "flags"},
      failed("flags", PARSING)]),
])
def test_post_wckeys_nothing_added(body: Any, admin: bool, status: int,
                                   errors: list[dict[str, Any]]) -> None:
    cli = canned(*(((ADMIN_ARGV, ok("Administrator\n")),) if admin else NOT_ADMIN.items()))
    assert answer(post(f"{V}/wckeys", body, cli)) == (status, errors)
    assert changes(cli) == []


@pytest.mark.parametrize(("item", "source"), [
    ({**WCKEY, "user": "zt_nobody"}, "user"), ({**WCKEY, "flags": ["DELETED"]}, "flags"),
    ({**WCKEY, "accounts": [{"name": "research"}]}, "accounts"),
    ({**WCKEY, "name": "a b"}, "name")])
def test_post_wckeys_not_passed_on(item: dict[str, Any], source: str) -> None:
    cli = lab()
    status, errs = answer(post(f"{V}/wckeys", {"wckeys": [WCKEY, item]}, cli))
    assert (status, errs[0]["source"]) == (400, source)
    assert changes(cli) == []


@pytest.mark.parametrize("call", [
    lambda c, w: c.db_add_qos(w, "a;b", []),
    lambda c, w: c.db_add_qos(w, "zt", ["description=a\nb"]),
    lambda c, w: c.db_modify_qos(w, "zt", ['description="x"']),
    lambda c, w: c.db_add_cluster(w, "-x y"),
    lambda c, w: c.db_add_wckey(w, "zt", "alice", "lab lab"),
])
def test_changes_refuse_odd_values(call: Any) -> None:
    cli = lab()
    with pytest.raises(ValueError, match="not a"):
        call(cli, Identity("alice", 1000, "rest_auth/local"))
    assert cli.argvs == []


@pytest.mark.parametrize(("who", "outputs", "admin"), [
    (Identity("root", 0, "rest_auth/local"), {}, True),
    (Identity("alice", 1000, "rest_auth/local"), NOT_ADMIN, False),
    (Identity("alice", 1000, "rest_auth/local"), {ADMIN_ARGV: ok("Administrator\n")}, True),
    (Identity("slurm", None, "rest_auth/jwt", "t"),
     {("sacctmgr", "-P", "-n", "show", "user", "name=slurm", "format=adminlevel"): ok(""),
      CONFIG_ARGV: ok("SlurmUserId  = slurm(64030)\n")}, True)])
def test_is_administrator(who: Identity, outputs: dict[tuple[str, ...], Outcome],
                          admin: bool) -> None:
    assert CannedCli(outputs).db_is_administrator(who) is admin


def test_post_wckeys_default() -> None:
    default = ("sacctmgr", "-i", "modify", "user", "where", "name=alice", "cluster=lab",
               "set", "defaultwckey=zt_w")
    cli = canned((ADD_WCKEY_ARGV, ok("")), (default, ok(" Modified users...\n")))
    assert answer(post(f"{V}/wckeys", {"wckeys": [{**WCKEY, "flags": ["default"]}]},
                       cli)) == (200, [])
    assert changes(cli) == [ADD_WCKEY_ARGV, default]


@pytest.mark.parametrize("field", [{"usage_factor": 10 ** 400}, {"priority": "9" * 5000},
                                   {"usage_threshold": 10 ** 400}])
def test_qos_numbers_beyond_any_type_are_refused_not_internal_errors(
        field: dict[str, Any]) -> None:
    ex = post(f"{V}/qos", {"QOS": [{"name": "normal", **field}]}, lab())
    assert ex.response.status in (400, 500) and b"Internal error" not in ex.response.body
    assert json.loads(ex.response.body)["errors"]


@pytest.mark.parametrize(("path", "body"), [
    ("qos", {"QOS": [{"name": "-h"}]}), ("clusters", {"clusters": [{"name": "-V"}]})])
def test_new_names_never_begin_like_an_option(path: str, body: dict[str, Any]) -> None:
    cli = lab()
    ex = post(f"{V}/{path}", body, cli)
    assert ex.response.status >= 400 and changes(cli) == []
