"""slurmdb config and diag: the reads put together, and sacctmgr's statistics read back.

The statistics text is what the lab's ``sacctmgr show stats`` printed (one per-cluster
rollup block added, as sacctmgr prints it after rollups ran); the expected shapes are
slurmrestd's (diag.c / parse.c of Slurm 22.05).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from slurmrest_stdio.api import Context, Payload, Result, load_plugins
from slurmrest_stdio.api.dbv0_0_38 import config
from slurmrest_stdio.api.dbv0_0_38.config import parse_stats
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.app import Exchange
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.cli_dbconfig import DbConfigCli, stats_error
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.codec import dump_json
from slurmrest_stdio.config import OPENAPI_PLUGINS, Config
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import FakeBackend, make_app

V = "/slurmdb/v0.0.38"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))
ALICE = Identity(user="alice", uid=1001, method="rest_auth/local")

STATS = """\
*******************************************************************
sacctmgr show stats output at Sun Nov 22 03:57:26 2026 (1795319846)
Data since                    Sun Nov 22 03:50:08 2026 (1795319408)
All statistics are in microseconds
*******************************************************************

Internal DBD rollup last ran Sun Nov 22 03:50:08 2026 (1795319408)
\tLast cycle:   2232
\tMax cycle:    2232
\tTotal time:   2232
\tTotal cycles: 1
\tMean cycle:   2232

Cluster 'lab' rollup statistics
Hour  last ran Sun Nov 22 04:00:00 2026 (1795320000)
\tLast cycle:   4869
\tMax cycle:    4869
\tTotal time:   4869
\tTotal cycles: 1
\tMean cycle:   4869

Remote Procedure Call statistics by message type
\tDBD_FINI                 ( 1401) count:872    ave_time:458    total_time:400164
\tSLURM_PERSIST_INIT       ( 6500) count:542    ave_time:628    total_time:340709
\tDBD_REMOVE_ACCOUNT_COORDS( 1436) count:1      ave_time:1137   total_time:1137

Remote Procedure Call statistics by user
\talice               (      1001) count:1660   ave_time:1430   total_time:2374292
\tslurm               (     64030) count:555    ave_time:1276   total_time:708345
"""

STATISTICS = {
    "time_start": 1795319408,
    "rollups": [{"type": "internal", "last_run": 1795319408, "last_cycle": 2232,
                 "max_cycle": 2232, "total_time": 2232, "total_cycles": 1,
                 "mean_cycles": 2232}],
    "RPCs": [
        {"rpc": "DBD_FINI", "count": 872, "time": {"average": 458, "total": 400164}},
        {"rpc": "SLURM_PERSIST_INIT", "count": 542, "time": {"average": 628, "total": 340709}},
        {"rpc": "DBD_REMOVE_ACCOUNT_COORDS", "count": 1,
         "time": {"average": 1137, "total": 1137}},
    ],
    "users": [
        {"user": "alice", "count": 1660, "time": {"average": 1430, "total": 2374292}},
        {"user": "slurm", "count": 555, "time": {"average": 1276, "total": 708345}},
    ],
}
DENIED = Outcome(1, b"", b"sacctmgr: accounting_storage/slurmdbd: acct_storage_p_get_stats: "
                         b"RC:2002 Your user doesn't have privilege to perform this action\n")


# -- diag ---------------------------------------------------------------------------------

def test_stats_text_becomes_slurmrestds_statistics() -> None:
    assert parse_stats(STATS) == STATISTICS


def test_user_rollups_are_listed_after_internal() -> None:
    text = STATS.replace("\nCluster 'lab'", "\nUser RPC rollup call last ran x (5)\n"
                         "\tLast cycle:   1\n\tMax cycle:    2\n\tTotal time:   3\n"
                         "\tTotal cycles: 4\n\tMean cycle:   5\n\nCluster 'lab'")
    assert parse_stats(text)["rollups"][1] == {
        "type": "user", "last_run": 5, "last_cycle": 1, "max_cycle": 2, "total_time": 3,
        "total_cycles": 4, "mean_cycles": 5}


@pytest.mark.parametrize("text", ["", "garbage\n",
                                  STATS.replace("\tMean cycle:   2232\n", "", 1)])
def test_other_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="statistics"):
        parse_stats(text)


class CannedCli(DbConfigCli):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(Config(), environ={})
        self.outcome = outcome
        self.argvs: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.argvs.append(tuple(argv))
        return self.outcome


def test_stats_are_sacctmgrs_as_the_client() -> None:
    cli = CannedCli(Outcome(0, STATS.encode(), b""))
    assert cli.db_stats(ALICE) == STATS
    assert cli.argvs == [("sacctmgr", "show", "stats")]


def test_refusal_is_slurms_error_number() -> None:
    with pytest.raises(SlurmCommandError) as info:
        CannedCli(DENIED).db_stats(ALICE)
    assert info.value.errors == [SlurmError("Access/permission denied", 2002, "",
                                            "slurmdb_get_stats")]
    assert stats_error(b"").source == "slurmdb_get_stats"


def test_no_slurmdbd_is_slurmrestds_200_with_7008() -> None:
    down = Outcome(1, b"", b"sacctmgr: error: slurm_persist_conn_open_without_init: failed "
                           b"to open persistent connection to host:localhost:6819: Connection "
                           b"refused\nsacctmgr: error: Sending PersistInit msg: Connection "
                           b"refused\n")
    with pytest.raises(SlurmCommandError) as info:
        CannedCli(down).db_stats(ALICE)
    assert info.value.status == 200
    assert info.value.errors == [SlurmError("Database connection reference is invalid", 7008,
                                            "", "openapi_get_db_conn")]
    ex = get(f"{V}/diag", StatsBackend(fail=info.value))
    assert ex.response.status == 200
    assert body(ex)["errors"] == [{"error_number": 7008,
                                   "error": "Database connection reference is invalid",
                                   "source": "openapi_get_db_conn"}]
    assert list(body(ex)) == ["meta", "errors"]


@dataclass
class StatsBackend(FakeBackend):
    stats: str = STATS

    def db_stats(self, who: Identity) -> str:
        assert who.user == "alice"
        if self.fail:
            raise self.fail
        return self.stats


def get(path: str, backend: FakeBackend) -> Exchange:
    return make_app(backend).handle(Request("GET", path, ()))


def body(ex: Exchange) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(ex.response.body)
    return data


def validate(path: str, ex: Exchange) -> None:
    """The body fits the 200 schema (an error answer is its meta and errors only; the
    spec's default schema, a bare list of errors, is Slurm's own and fits no answer)."""
    response = SPEC["paths"][path]["get"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    OAS30Validator({"$ref": ref, "components": SPEC["components"]}).validate(body(ex))


@pytest.mark.parametrize("path", [f"{V}/diag", f"{V}/diag/"])
def test_diag(path: str) -> None:
    ex = get(path, StatsBackend())
    assert ex.response.status == 200
    assert list(body(ex)) == ["meta", "errors", "statistics"]
    assert body(ex)["statistics"] == STATISTICS
    assert ex.response.body.decode().endswith(
        dump_json({"statistics": STATISTICS})[len("{\n"):])
    validate(f"{V}/diag", ex)


def test_diag_refused() -> None:
    fail = SlurmCommandError([SlurmError("Access/permission denied", 2002, "",
                                         "slurmdb_get_stats")])
    ex = get(f"{V}/diag", StatsBackend(fail=fail))
    assert ex.response.status == 500
    assert body(ex)["errors"] == [{"error_number": 2002, "error": "Access/permission denied",
                                   "source": "slurmdb_get_stats"}]
    assert list(body(ex)) == ["meta", "errors"]
    validate(f"{V}/diag", ex)


# -- config -------------------------------------------------------------------------------

NOTHING = {"description": "Nothing found", "error_number": 9003,
           "error": "Nothing found with query", "source": "x"}
DENIED_ERR = {"error_number": 2002, "error": "Access/permission denied",
              "source": "slurmdb_wckeys_get"}


def reads(*answers: Payload, seen: list[str] | None = None
          ) -> tuple[Any, ...]:
    def make(index: int, answer: Payload) -> Any:
        def read(ctx: Context) -> Result:
            if seen is not None:
                seen.append(f"read{index}")
            return answer
        return read
    return tuple(make(i, a) for i, a in enumerate(answers))


def test_config_adds_up_the_reads_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "CONFIG_READS", reads(
        Payload({"clusters": [1]}), Payload({"TRES": [2]}), Payload({"accounts": []}, 500,
                                                                     (NOTHING,)),
        Payload({"users": [3]})))
    ex = get(f"{V}/config", FakeBackend())
    assert ex.response.status == 200
    data = body(ex)
    assert list(data) == ["meta", "errors", "clusters", "TRES", "accounts", "users"]
    assert data["errors"] == [NOTHING]


def test_config_stops_at_the_first_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(config, "CONFIG_READS", reads(
        Payload({"QOS": []}), Payload({"wckeys": []}, 500, (DENIED_ERR,)),
        Payload({"associations": []}), seen=seen))
    ex = get(f"{V}/config", FakeBackend())
    assert ex.response.status == 500
    assert body(ex)["errors"] == [DENIED_ERR]
    assert list(body(ex)) == ["meta", "errors", "QOS", "wckeys"]
    assert seen == ["read0", "read1"]


def test_config_reads_are_slurmrestds() -> None:
    names = [f"{r.__module__.rpartition('.')[2]}.{r.__name__}" for r in config.CONFIG_READS]
    assert names == ["objects.get_clusters", "objects.get_tres", "accounts.get_accounts",
                     "accounts.get_users", "objects.get_qos_list", "objects.get_wckeys",
                     "accounts.get_associations"]


# -- POST config ----------------------------------------------------------------------------

EMPTY_DOC: dict[str, Any] = {"clusters": [], "accounts": [], "users": [], "QOS": [],
                             "wckeys": [], "associations": []}
NOT_FOUND = "Query parameter not found"


def not_found(key: str) -> dict[str, Any]:
    return {"description": NOT_FOUND, "error_number": 9200,
            "error": "Unable to resolve path", "source": key}


def refusal(number: int, error: str) -> dict[str, Any]:
    return {"description": "refusing to commit after error", "error_number": number,
            "error": error}


CLUSTERS_DENIED = {"error_number": 2002, "error": "Access/permission denied",
          "source": "slurmdb_clusters_add"}
QUERY = "Query empty or not RFC7320 compliant"


@dataclass
class DbBackend(FakeBackend):
    """Just enough of an accounting database for the config document's parts; each
    change asked for is recorded (``+kind name``)."""
    admin: bool = True
    refuse: str = ""
    changes: list[str] | None = None

    def _seen(self, call: str) -> None:
        if self.changes is None:
            self.changes = []
        self.changes.append(call)
        if self.refuse and call.startswith(f"+{self.refuse}"):
            raise SlurmCommandError([SlurmError("Unspecified error", -1, "sacctmgr said no",
                                                "sacctmgr")])

    def db_is_administrator(self, who: Identity) -> bool:
        return self.admin

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        return []

    def db_accounts(self, who: Identity, name: str | None, deleted: bool
                    ) -> list[dict[str, str]]:
        return [{"account": "root"}]

    def db_users(self, who: Identity, name: str | None, deleted: bool
                 ) -> list[dict[str, str]]:
        return [{"user": "alice"}]

    def db_clusters(self, who: Identity) -> list[dict[str, str]]:
        return [{"name": "lab"}]

    def db_qos(self, who: Identity, deleted: bool) -> list[dict[str, str]]:
        return [{"name": "normal", "id": "1"}]

    def db_associations(self, who: Identity, filters: Any) -> list[dict[str, str]]:
        return []

    def db_add_cluster(self, who: Identity, name: str) -> None:
        self._seen(f"+cluster {name}")

    def db_put_account(self, who: Identity, name: str, *args: Any, **kw: Any) -> None:
        self._seen(f"+account {name}")

    def db_put_user(self, who: Identity, name: str, *args: Any, **kw: Any) -> None:
        self._seen(f"+user {name}")

    def db_add_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        self._seen(f"+qos {name}")

    def db_modify_qos(self, who: Identity, name: str, settings: list[str]) -> None:
        self._seen(f"+qos {name}")

    def db_add_wckey(self, who: Identity, name: str, user: str, cluster: str, *,
                     default: bool) -> None:
        self._seen(f"+wckey {name}")

    def db_put_association(self, who: Identity, **kw: Any) -> None:
        self._seen(f"+association {kw['account']}/{kw['user']}")


def post(doc: Any, backend: FakeBackend, raw: bytes | None = None) -> Exchange:
    import json

    data = json.dumps(doc).encode() if raw is None else raw
    return make_app(backend).handle(Request(
        "POST", f"{V}/config", (("content-type", "application/json"),), data))


FULL_DOC: dict[str, Any] = {
    "clusters": [{"name": "lab"}],
    "TRES": [{"type": "cpu", "id": 1}, "not even a TRES"],
    "accounts": [{"name": "zt_new", "description": "new one", "organization": "zt"}],
    "users": [{"name": "zt_user", "default": {"account": "zt_new"}}],
    "QOS": [{"name": "zt_qos", "description": "a qos"}],
    "wckeys": [{"name": "zt_wckey", "user": "alice", "cluster": "lab", "id": 0}],
    "associations": [{"account": "zt_new", "cluster": "lab", "user": "alice"}],
}


def test_post_config_applies_every_part_in_slurmrestds_order() -> None:
    backend = DbBackend()
    ex = post(FULL_DOC, backend)
    assert ex.response.status == 200, ex.response.body
    assert body(ex)["errors"] == []
    # the user's default account is made by the same document (it counts as existing)
    assert backend.changes == ["+cluster lab", "+account zt_new", "+user zt_user",
                             "+qos zt_qos", "+wckey zt_wckey", "+association zt_new/alice"]
    response = SPEC["paths"][f"{V}/config"]["post"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    OAS30Validator({"$ref": ref, "components": SPEC["components"]}).validate(body(ex))


def test_post_config_checks_every_part_before_changing_anything() -> None:
    backend = DbBackend()
    ex = post({**FULL_DOC, "QOS": [{"name": "zt_qos", "priority": "abc"}]}, backend)
    assert ex.response.status == 400
    assert body(ex)["errors"] == [
        {"description": "Failed to parse field 'priority'", "error_number": 9202,
         "error": "Unable to convert Data type", "source": "_parser_run"},
        refusal(9000, QUERY)]
    assert backend.changes is None


def test_post_config_failure_part_way_says_what_stays() -> None:
    backend = DbBackend(refuse="qos")
    ex = post(FULL_DOC, backend)
    assert ex.response.status == 500
    assert backend.changes == ["+cluster lab", "+account zt_new", "+user zt_user",
                             "+qos zt_qos"]
    errs = body(ex)["errors"]
    assert [e.get("description") for e in errs] == [
        "Cluster lab was applied before the failure and stays",
        "Account zt_new was applied before the failure and stays",
        "User zt_user was applied before the failure and stays",
        "QOS zt_qos failed: sacctmgr said no",
        "WCKey zt_wckey of alice on lab was not applied",
        "Association lab/zt_new/alice/- was not applied",
        "refusing to commit after error"]
    assert {e["error_number"] for e in errs} == {-1}
    assert [e.get("source") for e in errs] == [
        "slurmdb_clusters_add", "slurmdb_accounts_add", "slurmdb_users_add",
        "slurmdb_qos_add", "slurmdb_wckeys_add", None, None]


@pytest.mark.parametrize("doc", [EMPTY_DOC, {"clusters": [{"name": "lab"}]}, {}, []])
def test_post_config_not_an_administrator(doc: Any) -> None:
    backend = DbBackend(admin=False)
    ex = post(doc, backend)
    assert ex.response.status == 500
    missing = [] if isinstance(doc, dict) and "clusters" in doc else [not_found("clusters")]
    assert body(ex)["errors"] == [*missing, CLUSTERS_DENIED,
                                  refusal(2002, "Access/permission denied")]
    assert backend.changes is None


@pytest.mark.parametrize(("missing", "status", "errors"), [
    ("clusters", 200, [not_found("clusters")]),
    ("accounts", 200, [not_found("accounts")]),
    ("associations", 200, [not_found("associations")]),
    ("users", 400, [not_found("users"), refusal(9000, QUERY)]),
    ("QOS", 400, [not_found("QOS"), refusal(9000, QUERY)]),
    ("wckeys", 400, [not_found("wckeys"), refusal(9000, QUERY)]),
])
def test_post_config_missing_part(missing: str, status: int,
                                  errors: list[dict[str, Any]]) -> None:
    doc = {k: v for k, v in FULL_DOC.items() if k != missing}
    if missing == "accounts":  # the rest must not need the new account
        doc = {**doc, "users": [], "associations": []}
    backend = DbBackend()
    ex = post(doc, backend)
    assert ex.response.status == status
    assert body(ex)["errors"] == errors
    assert (backend.changes is not None) == (status == 200)


def test_post_config_tres_alone_changes_nothing() -> None:
    backend = DbBackend()
    ex = post({**EMPTY_DOC, "TRES": [{"type": "gres", "name": "zt"}]}, backend)
    assert ex.response.status == 200
    assert body(ex)["errors"] == []
    assert backend.changes is None


@pytest.mark.parametrize("raw", [b"{nope", b"null"])
def test_post_config_body_that_does_not_parse(raw: bytes) -> None:
    ex = post(None, DbBackend(), raw=raw)
    assert ex.response.status == 400
    assert ex.response.body == b"Unable to parse query."


def test_post_config_later_parts_may_use_what_earlier_parts_make() -> None:
    doc = {**FULL_DOC, "associations": [{"account": "zt_new", "cluster": "lab",
                                         "user": "alice", "qos": ["normal", "zt_qos"]}]}
    backend = DbBackend()
    ex = post(doc, backend)
    assert ex.response.status == 200, ex.response.body
    assert backend.changes is not None and backend.changes[-1] == "+association zt_new/alice"
    # the same association alone names a QOS that does not exist
    ex = post({**EMPTY_DOC, "associations": doc["associations"]}, DbBackend())
    assert ex.response.status == 400
    assert body(ex)["errors"][0]["description"] == "QOS name to ID conversion failed"
