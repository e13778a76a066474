"""GET accounts, users, associations (slurmdb): sacctmgr's text into slurmrestd's shapes.

The sacctmgr texts below were printed by the lab's Slurm 22.05.8 (with accounts, a user and
a coordinator made for the purpose, one account carrying every kind of limit), and the
expected objects are what Debian's slurmrestd answered for the same data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from openapi_schema_validator import OAS30Validator

from slurmrest_stdio.api import load_plugins
from slurmrest_stdio.api.openapi import build_spec
from slurmrest_stdio.app import App
from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.auth.local import LocalAuth
from slurmrest_stdio.backend.base import Backend
from slurmrest_stdio.backend.cli_dbaccounts import DbAccountsCli
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.config import OPENAPI_PLUGINS, Config
from slurmrest_stdio.errors import SlurmCommandError, SlurmError
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import OWN_PIPE, FakeBackend

D = "/slurmdb/v0.0.38"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))

ASSOC_TEXT = (
    'lab|root||||1|1||1||||||||||||||||||normal\n'
    'lab|root|root|||2|22||1||||||||||||||||||normal\n'
    'lab|physics|||root|4|2||1||||||||||||||||||normal\n'
    'lab|physics|carol|||7|5||1||||||||||||||||||normal\n'
    'lab|physics|zt_acct_u|||8|3||1||||||||||||||||||normal\n'
    'lab|research|||root|3|8||1||||||||||||||||||normal\n'
    'lab|research|alice|||5|19||1||||||||||||||||||high,normal\n'
    'lab|research|bob|||6|17||1||||||||||||||||||normal\n'
    'lab|zt_acct_a|||research|9|9|high|parent|10|5|2|9|cpu=4,license/matlab=3,mem=2G|'
    'cpu=1000|cpu=500|05:00:00|3|1|7|cpu=100||cpu=2,node=1|cpu=1|1-02:03:00|4|'
    'high,normal\n'
    'lab|zt_acct_a|zt_acct_u|||11|12|high|1|10||||||||3|1|7|cpu=100||cpu=2,node=1|'
    'cpu=1|1-02:03:00|4|high,normal\n'
    'lab|zt_acct_a|zt_acct_u|debug||10|14|high|1|10||||||||3|1|7|cpu=100||'
    'cpu=2,node=1|cpu=1|1-02:03:00|4|high,normal\n'
    'lab|zt_acct_b|||zt_acct_a|13|10|high|1|10||||||||3|1|7|cpu=100||cpu=2,node=1|'
    'cpu=1|1-02:03:00|4|high,normal\n'
)

ACCOUNT_TEXT = (
    'physics|physics group|lab|\n'
    'research|research group|lab|\n'
    'root|default root account|root|\n'
    'zt_acct_a|zt test|ztorg|bob\n'
    'zt_acct_b|zt_acct_b|zt_acct_a|bob\n'
)

USER_TEXT = (
    'alice|research|projx|None|\n'
    'bob|research||None|zt_acct_a,zt_acct_b\n'
    'carol|physics||None|\n'
    'root|root||Administrator|\n'
    'zt_acct_u|physics||None|\n'
)

TRES_TEXT = (
    'cpu||1\n'
    'mem||2\n'
    'energy||3\n'
    'node||4\n'
    'billing||5\n'
    'fs|disk|6\n'
    'vmem||7\n'
    'pages||8\n'
    'dynamic_offset||1000\n'
    'license|fluent|1001\n'
    'license|matlab|1002\n'
)

EXPECT_ASSOCS = json.loads(
    '{"associations":[{"account":"root","cluster":"lab","default":{"qos":null},"flags":[]'
    ',"max":{"jobs":{"per":{"count":null,"accruing":null,"submitted":null,"wall_clock":nu'
    'll},"active":null,"accruing":null,"total":null},"tres":{"total":[],"minutes":{"per":'
    '{"job":[]},"total":[]},"group":{"minutes":[],"active":[]},"per":{"job":[],"node":[]}'
    '},"per":{"account":{"wall_clock":null}}},"is_default":0,"min":{"priority_threshold":'
    'null},"parent_account":null,"partition":null,"priority":null,"qos":["normal"],"share'
    's_raw":1,"usage":null,"user":null},{"account":"physics","cluster":"lab","default":{"'
    'qos":null},"flags":[],"max":{"jobs":{"per":{"count":null,"accruing":null,"submitted"'
    ':null,"wall_clock":null},"active":null,"accruing":null,"total":null},"tres":{"total"'
    ':[],"minutes":{"per":{"job":[]},"total":[]},"group":{"minutes":[],"active":[]},"per"'
    ':{"job":[],"node":[]}},"per":{"account":{"wall_clock":null}}},"is_default":0,"min":{'
    '"priority_threshold":null},"parent_account":"root","partition":null,"priority":null,'
    '"qos":["normal"],"shares_raw":1,"usage":null,"user":null},{"account":"physics","clus'
    'ter":"lab","default":{"qos":null},"flags":["DEFAULT"],"max":{"jobs":{"per":{"count":'
    'null,"accruing":null,"submitted":null,"wall_clock":null},"active":null,"accruing":nu'
    'll,"total":null},"tres":{"total":[],"minutes":{"per":{"job":[]},"total":[]},"group":'
    '{"minutes":[],"active":[]},"per":{"job":[],"node":[]}},"per":{"account":{"wall_clock'
    '":null}}},"is_default":1,"min":{"priority_threshold":null},"parent_account":null,"pa'
    'rtition":null,"priority":null,"qos":["normal"],"shares_raw":1,"usage":null,"user":"z'
    't_acct_u"},{"account":"physics","cluster":"lab","default":{"qos":null},"flags":["DEF'
    'AULT"],"max":{"jobs":{"per":{"count":null,"accruing":null,"submitted":null,"wall_clo'
    'ck":null},"active":null,"accruing":null,"total":null},"tres":{"total":[],"minutes":{'
    '"per":{"job":[]},"total":[]},"group":{"minutes":[],"active":[]},"per":{"job":[],"nod'
    'e":[]}},"per":{"account":{"wall_clock":null}}},"is_default":1,"min":{"priority_thres'
    'hold":null},"parent_account":null,"partition":null,"priority":null,"qos":["normal"],'
    '"shares_raw":1,"usage":null,"user":"carol"},{"account":"research","cluster":"lab","d'
    'efault":{"qos":null},"flags":[],"max":{"jobs":{"per":{"count":null,"accruing":null,"'
    'submitted":null,"wall_clock":null},"active":null,"accruing":null,"total":null},"tres'
    '":{"total":[],"minutes":{"per":{"job":[]},"total":[]},"group":{"minutes":[],"active"'
    ':[]},"per":{"job":[],"node":[]}},"per":{"account":{"wall_clock":null}}},"is_default"'
    ':0,"min":{"priority_threshold":null},"parent_account":"root","partition":null,"prior'
    'ity":null,"qos":["normal"],"shares_raw":1,"usage":null,"user":null},{"account":"zt_a'
    'cct_a","cluster":"lab","default":{"qos":"high"},"flags":[],"max":{"jobs":{"per":{"co'
    'unt":5,"accruing":2,"submitted":9,"wall_clock":1563},"active":3,"accruing":1,"total"'
    ':7},"tres":{"total":[{"type":"cpu","name":null,"id":1,"count":4},{"type":"mem","name'
    '":null,"id":2,"count":2048},{"type":"license","name":"matlab","id":1002,"count":3}],'
    '"minutes":{"per":{"job":[{"type":"cpu","name":null,"id":1,"count":100}]},"total":[]}'
    ',"group":{"minutes":[{"type":"cpu","name":null,"id":1,"count":1000}],"active":[{"typ'
    'e":"cpu","name":null,"id":1,"count":500}]},"per":{"job":[{"type":"cpu","name":null,"'
    'id":1,"count":2},{"type":"node","name":null,"id":4,"count":1}],"node":[{"type":"cpu"'
    ',"name":null,"id":1,"count":1}]}},"per":{"account":{"wall_clock":300}}},"is_default"'
    ':0,"min":{"priority_threshold":4},"parent_account":"research","partition":null,"prio'
    'rity":10,"qos":["high","normal"],"shares_raw":2147483647,"usage":null,"user":null},{'
    '"account":"zt_acct_b","cluster":"lab","default":{"qos":"high"},"flags":[],"max":{"jo'
    'bs":{"per":{"count":null,"accruing":null,"submitted":null,"wall_clock":1563},"active'
    '":3,"accruing":1,"total":7},"tres":{"total":[],"minutes":{"per":{"job":[{"type":"cpu'
    '","name":null,"id":1,"count":100}]},"total":[]},"group":{"minutes":[],"active":[]},"'
    'per":{"job":[{"type":"cpu","name":null,"id":1,"count":2},{"type":"node","name":null,'
    '"id":4,"count":1}],"node":[{"type":"cpu","name":null,"id":1,"count":1}]}},"per":{"ac'
    'count":{"wall_clock":null}}},"is_default":0,"min":{"priority_threshold":4},"parent_a'
    'ccount":"zt_acct_a","partition":null,"priority":10,"qos":["high","normal"],"shares_r'
    'aw":1,"usage":null,"user":null},{"account":"zt_acct_a","cluster":"lab","default":{"q'
    'os":"high"},"flags":[],"max":{"jobs":{"per":{"count":null,"accruing":null,"submitted'
    '":null,"wall_clock":1563},"active":3,"accruing":1,"total":7},"tres":{"total":[],"min'
    'utes":{"per":{"job":[{"type":"cpu","name":null,"id":1,"count":100}]},"total":[]},"gr'
    'oup":{"minutes":[],"active":[]},"per":{"job":[{"type":"cpu","name":null,"id":1,"coun'
    't":2},{"type":"node","name":null,"id":4,"count":1}],"node":[{"type":"cpu","name":nul'
    'l,"id":1,"count":1}]}},"per":{"account":{"wall_clock":null}}},"is_default":0,"min":{'
    '"priority_threshold":4},"parent_account":null,"partition":null,"priority":10,"qos":['
    '"high","normal"],"shares_raw":1,"usage":null,"user":"zt_acct_u"},{"account":"zt_acct'
    '_a","cluster":"lab","default":{"qos":"high"},"flags":[],"max":{"jobs":{"per":{"count'
    '":null,"accruing":null,"submitted":null,"wall_clock":1563},"active":3,"accruing":1,"'
    'total":7},"tres":{"total":[],"minutes":{"per":{"job":[{"type":"cpu","name":null,"id"'
    ':1,"count":100}]},"total":[]},"group":{"minutes":[],"active":[]},"per":{"job":[{"typ'
    'e":"cpu","name":null,"id":1,"count":2},{"type":"node","name":null,"id":4,"count":1}]'
    ',"node":[{"type":"cpu","name":null,"id":1,"count":1}]}},"per":{"account":{"wall_cloc'
    'k":null}}},"is_default":0,"min":{"priority_threshold":4},"parent_account":null,"part'
    'ition":"debug","priority":10,"qos":["high","normal"],"shares_raw":1,"usage":null,"us'
    'er":"zt_acct_u"},{"account":"research","cluster":"lab","default":{"qos":null},"flags'
    '":["DEFAULT"],"max":{"jobs":{"per":{"count":null,"accruing":null,"submitted":null,"w'
    'all_clock":null},"active":null,"accruing":null,"total":null},"tres":{"total":[],"min'
    'utes":{"per":{"job":[]},"total":[]},"group":{"minutes":[],"active":[]},"per":{"job":'
    '[],"node":[]}},"per":{"account":{"wall_clock":null}}},"is_default":1,"min":{"priorit'
    'y_threshold":null},"parent_account":null,"partition":null,"priority":null,"qos":["no'
    'rmal"],"shares_raw":1,"usage":null,"user":"bob"},{"account":"research","cluster":"la'
    'b","default":{"qos":null},"flags":["DEFAULT"],"max":{"jobs":{"per":{"count":null,"ac'
    'cruing":null,"submitted":null,"wall_clock":null},"active":null,"accruing":null,"tota'
    'l":null},"tres":{"total":[],"minutes":{"per":{"job":[]},"total":[]},"group":{"minute'
    's":[],"active":[]},"per":{"job":[],"node":[]}},"per":{"account":{"wall_clock":null}}'
    '},"is_default":1,"min":{"priority_threshold":null},"parent_account":null,"partition"'
    ':null,"priority":null,"qos":["high","normal"],"shares_raw":1,"usage":null,"user":"al'
    'ice"},{"account":"root","cluster":"lab","default":{"qos":null},"flags":["DEFAULT"],"'
    'max":{"jobs":{"per":{"count":null,"accruing":null,"submitted":null,"wall_clock":null'
    '},"active":null,"accruing":null,"total":null},"tres":{"total":[],"minutes":{"per":{"'
    'job":[]},"total":[]},"group":{"minutes":[],"active":[]},"per":{"job":[],"node":[]}},'
    '"per":{"account":{"wall_clock":null}}},"is_default":1,"min":{"priority_threshold":nu'
    'll},"parent_account":null,"partition":null,"priority":null,"qos":["normal"],"shares_'
    'raw":1,"usage":null,"user":"root"}]}'
)

EXPECT_ACCOUNTS = json.loads(
    '{"accounts":[{"associations":[{"account":"physics","cluster":"lab","partition":null,'
    '"user":null},{"account":"physics","cluster":"lab","partition":null,"user":"zt_acct_u'
    '"},{"account":"physics","cluster":"lab","partition":null,"user":"carol"}],"coordinat'
    'ors":[],"description":"physics group","name":"physics","organization":"lab","flags":'
    '[]},{"associations":[{"account":"research","cluster":"lab","partition":null,"user":n'
    'ull},{"account":"research","cluster":"lab","partition":null,"user":"bob"},{"account"'
    ':"research","cluster":"lab","partition":null,"user":"alice"}],"coordinators":[],"des'
    'cription":"research group","name":"research","organization":"lab","flags":[]},{"asso'
    'ciations":[{"account":"root","cluster":"lab","partition":null,"user":null},{"account'
    '":"root","cluster":"lab","partition":null,"user":"root"}],"coordinators":[],"descrip'
    'tion":"default root account","name":"root","organization":"root","flags":[]},{"assoc'
    'iations":[{"account":"zt_acct_a","cluster":"lab","partition":null,"user":null},{"acc'
    'ount":"zt_acct_a","cluster":"lab","partition":null,"user":"zt_acct_u"},{"account":"z'
    't_acct_a","cluster":"lab","partition":"debug","user":"zt_acct_u"}],"coordinators":[{'
    '"name":"bob","direct":1}],"description":"zt test","name":"zt_acct_a","organization":'
    '"ztorg","flags":[]},{"associations":[{"account":"zt_acct_b","cluster":"lab","partiti'
    'on":null,"user":null}],"coordinators":[{"name":"bob","direct":0}],"description":"zt_'
    'acct_b","name":"zt_acct_b","organization":"zt_acct_a","flags":[]}]}'
)

EXPECT_USERS = json.loads(
    '{"users":[{"administrator_level":"None","associations":[{"account":"research","clust'
    'er":"lab","partition":null,"user":"alice"}],"coordinators":[],"default":{"account":"'
    'research","wckey":"projx"},"flags":[],"name":"alice"},{"administrator_level":"None",'
    '"associations":[{"account":"research","cluster":"lab","partition":null,"user":"bob"}'
    '],"coordinators":[{"name":"zt_acct_a","direct":1},{"name":"zt_acct_b","direct":0}],"'
    'default":{"account":"research","wckey":""},"flags":[],"name":"bob"},{"administrator_'
    'level":"None","associations":[{"account":"physics","cluster":"lab","partition":null,'
    '"user":"carol"}],"coordinators":[],"default":{"account":"physics","wckey":""},"flags'
    '":[],"name":"carol"},{"administrator_level":"Administrator","associations":[{"accoun'
    't":"root","cluster":"lab","partition":null,"user":"root"}],"coordinators":[],"defaul'
    't":{"account":"root","wckey":""},"flags":[],"name":"root"},{"administrator_level":"N'
    'one","associations":[{"account":"physics","cluster":"lab","partition":null,"user":"z'
    't_acct_u"},{"account":"zt_acct_a","cluster":"lab","partition":null,"user":"zt_acct_u'
    '"},{"account":"zt_acct_a","cluster":"lab","partition":"debug","user":"zt_acct_u"}],"'
    'coordinators":[],"default":{"account":"physics","wckey":""},"flags":[],"name":"zt_ac'
    'ct_u"}]}'
)


class CannedCli(DbAccountsCli):
    """The real reader, with sacctmgr's answers canned by the entity shown."""

    def __init__(self, failing: bytes = b"") -> None:
        super().__init__(Config())
        self.argvs: list[list[str]] = []
        self.failing = failing

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.argvs.append(list(argv))
        if self.failing:
            return Outcome(1, b"", self.failing)
        text = {"associations": ASSOC_TEXT, "account": ACCOUNT_TEXT, "user": USER_TEXT,
                "tres": TRES_TEXT}[argv[4]]
        where = [a for a in argv if "=" in a and not a.startswith("format=")]
        lines = "".join(text).splitlines(keepends=True)
        if where and argv[4] == "account":  # name=<x>: the one row
            lines = [ln for ln in lines if ln.split("|")[0] == where[0].split("=", 1)[1]]
        if where and argv[4] == "user":
            lines = [ln for ln in lines if ln.split("|")[0] == where[0].split("=", 1)[1]]
        return Outcome(0, "".join(lines).encode(), b"")


@dataclass
class DbBackend(FakeBackend):
    cli: CannedCli = field(default_factory=CannedCli)

    def db_associations(self, who: Identity, filters: Mapping[str, Sequence[str]]
                        ) -> list[dict[str, str]]:
        return self.cli.db_associations(who, filters)

    def db_accounts(self, who: Identity, name: str | None, with_deleted: bool
                    ) -> list[dict[str, str]]:
        return self.cli.db_accounts(who, name, with_deleted)

    def db_users(self, who: Identity, name: str | None, with_deleted: bool
                 ) -> list[dict[str, str]]:
        return self.cli.db_users(who, name, with_deleted)

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        return self.cli.db_tres(who)


def get(target: str, backend: DbBackend | None = None) -> tuple[int, Any]:
    app = App(peer=OWN_PIPE, auth_chain=[LocalAuth()],
              backend=cast(Backend, backend or DbBackend()),
              plugins=load_plugins(OPENAPI_PLUGINS))
    response = app.handle(Request("GET", target)).response
    return response.status, json.loads(response.body) if response.body.startswith(b"{") \
        else response.body


def validate(body: Any, schema: str) -> None:
    OAS30Validator({"$ref": f"#/components/schemas/{schema}",
                    "components": SPEC["components"]}).validate(body)


@pytest.mark.parametrize(("target", "key", "expected"), [
    (f"{D}/associations", "associations", EXPECT_ASSOCS),
    (f"{D}/accounts", "accounts", EXPECT_ACCOUNTS),
    (f"{D}/users", "users", EXPECT_USERS),
])
def test_collections_are_slurmrestds(target: str, key: str, expected: Any) -> None:
    status, body = get(target)
    assert status == 200
    assert body["errors"] == []
    assert body[key] == expected[key]
    assert list(body) == ["meta", "errors", key]


def test_limits_tres_and_defaults() -> None:
    _, body = get(f"{D}/associations")
    limited = next(a for a in body["associations"]
                   if a["account"] == "zt_acct_a" and a["user"] is None)
    assert [t["id"] for t in limited["max"]["tres"]["total"]] == [1, 2, 1002]
    assert limited["max"]["tres"]["total"][1]["count"] == 2048
    assert limited["max"]["jobs"]["per"]["wall_clock"] == 1563
    assert limited["max"]["per"]["account"]["wall_clock"] == 300
    assert limited["shares_raw"] == 2147483647
    assert limited["default"]["qos"] == "high"
    defaults = [(a["account"], a["partition"]) for a in body["associations"]
                if a["user"] == "zt_acct_u" and a["is_default"]]
    assert defaults == [("physics", None)]  # its default account (sacctmgr show user)


def test_responses_fit_the_spec() -> None:
    for target, schema in ((f"{D}/associations", "dbv0.0.38_associations_info"),
                           (f"{D}/accounts", "dbv0.0.38_account_info"),
                           (f"{D}/users", "dbv0.0.38_user_info"),
                           (f"{D}/account/zt_acct_b", "dbv0.0.38_account_info"),
                           (f"{D}/user/bob", "dbv0.0.38_user_info")):
        validate(get(target)[1], schema)


def test_inherited_coordinators_are_not_direct() -> None:
    _, body = get(f"{D}/user/bob")
    assert body["users"][0]["coordinators"] == [{"name": "zt_acct_a", "direct": 1},
                                                {"name": "zt_acct_b", "direct": 0}]
    _, body = get(f"{D}/account/zt_acct_b")
    assert body["accounts"][0]["coordinators"] == [{"name": "bob", "direct": 0}]


def test_filters_become_where_items() -> None:
    backend = DbBackend()
    get(f"{D}/associations?user=alice&cluster=lab&account=&foo=1", backend)
    # the reads of one request run side by side: find the associations read
    argv = next(a for a in backend.cli.argvs if a[4:5] == ["associations"])
    assert argv[:5] == ["sacctmgr", "-P", "-n", "show", "associations"]
    assert argv[5:8] == ["where", "cluster=lab", "account="]
    assert argv[8] == "user=alice"


@pytest.mark.parametrize(("target", "status", "body"), [
    (f"{D}/account/nosuch", 500, {"errors": [{
        "description": "Nothing found", "error_number": 9003,
        "error": "Nothing found with query", "source": "slurmdb_accounts_get"}],
        "accounts": []}),
    (f"{D}/account/bad%20name", 500, {"errors": [{
        "description": "Nothing found", "error_number": 9003,
        "error": "Nothing found with query", "source": "slurmdb_accounts_get"}],
        "accounts": []}),
    (f"{D}/user/nosuch", 500, {"errors": [{
        "description": "Nothing found", "error_number": 9003,
        "error": "Nothing found with query", "source": "slurmdb_users_get"}],
        "users": []}),
    (f"{D}/association", 400, {"errors": [{
        "description": "Ambiguous request: More than 1 association would have been dumped.",
        "error_number": 9000, "error": "Query empty or not RFC7320 compliant"}],
        "associations": []}),
    (f"{D}/associations?user=bad'name", 500, {"errors": [{
        "description": "Nothing found", "error_number": 9003,
        "error": "Nothing found with query", "source": "slurmdb_associations_get"}]}),
    (f"{D}/users?foo=1", 400, {"errors": [{
        "description": "Unknown query field", "error_number": 9000,
        "error": "Query empty or not RFC7320 compliant"}]}),
    (f"{D}/account/research?foo=1", 400, {"errors": [{
        "description": "Unknown query field", "error_number": 9000,
        "error": "Query empty or not RFC7320 compliant"}]}),
])
def test_failures(target: str, status: int, body: Any) -> None:
    got_status, got = get(target)
    assert got_status == status
    got.pop("meta")
    assert got == body


def test_unknown_query_on_accounts_still_lists() -> None:
    status, body = get(f"{D}/accounts?foo=1")
    assert status == 200
    assert body["errors"][0]["description"] == "Unknown query field"
    assert len(body["accounts"]) == len(EXPECT_ACCOUNTS["accounts"])


def test_comma_in_query_is_refused_like_slurmrestd() -> None:
    status, body = get(f"{D}/associations?account=a,b")
    assert status == 400
    assert body == b"Unable to parse query."


def test_sacctmgr_failure_is_slurms_error() -> None:
    backend = DbBackend(cli=CannedCli(failing=b"sacctmgr: error: Problem talking to the "
                                              b"database: Connection refused\n"))
    status, body = get(f"{D}/users", backend)
    assert status >= 400
    assert body["users"] == []
    assert body["errors"][0]["source"] == "slurmdb_users_get"


class Deleting(DbBackend):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(cli=CannedCli())
        self.outcome = outcome
        self.deleted: list[tuple[str, str]] = []

    def db_delete(self, who: Identity, entity: str, name: str) -> list[str]:
        self.deleted.append((entity, name))
        cli = CannedCli()
        cli.run = lambda argv, who, **_: self.outcome  # type: ignore[method-assign]
        return cli.db_delete(who, entity, name)


def delete(target: str, outcome: Outcome) -> tuple[int, Any, Deleting]:
    backend = Deleting(outcome)
    app = App(peer=OWN_PIPE, auth_chain=[LocalAuth()], backend=cast(Backend, backend),
              plugins=load_plugins(OPENAPI_PLUGINS))
    response = app.handle(Request("DELETE", target)).response
    body = json.loads(response.body) if response.body.startswith(b"{") else None
    if body:
        body.pop("meta")
    return response.status, body, backend


DENIED = Outcome(1, b" Error with request: Access/permission denied\n",
                 b"sacctmgr: error: Your user doesn't have privilege to perform this action\n")
NOTHING = Outcome(1, b" Nothing deleted\n", b"")


def test_delete_account() -> None:
    status, body, backend = delete(f"{D}/account/zt_a",
                                   Outcome(0, b" Deleting accounts...\n  zt_a\n", b""))
    assert (status, body) == (200, {"errors": [], "removed_associations": ["zt_a"]})
    assert backend.deleted == [("account", "zt_a")]
    status, body, _ = delete(f"{D}/account/zt_a", DENIED)
    assert (status, body) == (200, {"errors": [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_accounts_remove"}]})
    status, body, _ = delete(f"{D}/account/zt_a", NOTHING)
    assert (status, body) == (200, {"errors": [{
        "error_number": 1900, "error": "Data has not changed since time specified",
        "source": "slurmdb_accounts_remove"}]})
    status, body, backend = delete(f"{D}/account/a,b", NOTHING)
    assert status == 400 and backend.deleted == []


def test_delete_user() -> None:
    status, body, backend = delete(f"{D}/user/zt_u",
                                   Outcome(0, b" Deleting users...\n  zt_u\n", b""))
    assert (status, body) == (200, {"errors": [], "removed_users": ["zt_u"]})
    assert backend.deleted == [("user", "zt_u")]
    status, body, _ = delete(f"{D}/user/zt_u", DENIED)
    assert (status, body) == (500, {"errors": [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_users_remove"}]})
    assert delete(f"{D}/user/zt_u", NOTHING)[:2] == (304, None)
    status, _, backend = delete(f"{D}/user/bad%27name", NOTHING)
    assert status == 304 and backend.deleted == []


class Recording(DbBackend):
    """Records the sacctmgr command lines of what is put (cluster ``lab`` only); the
    object named ``fail_on`` gets ``outcome``."""

    def __init__(self, fail_on: str = "", outcome: Outcome = DENIED) -> None:
        super().__init__(cli=CannedCli())
        self.fail_on, self.outcome = fail_on, outcome
        self.argvs: list[list[str]] = []

    def db_clusters(self, who: Identity) -> list[dict[str, str]]:
        return [{"name": "lab"}]

    def recording_cli(self, name: str, ok: Outcome) -> CannedCli:
        """The real writer, its commands recorded: ``ok`` for each, or ``outcome`` when
        the object is ``name``."""
        cli = CannedCli()

        def run(argv: Sequence[str], who: Identity | None, **_: Any) -> Outcome:
            self.argvs.append(list(argv))
            return self.outcome if name == self.fail_on else ok

        cli.run = run  # type: ignore[method-assign]
        return cli


class Posting(Recording):
    """Records the accounts put; the one named ``fail_on`` gets ``outcome``."""

    def db_put_account(self, who: Identity, name: str, description: str,
                       organization: str, *, exists: bool, **more: Any) -> None:
        self.recording_cli(name, Outcome(0, b" Adding Account(s)\n", b"")).db_put_account(
            who, name, description, organization, exists=exists, **more)


def post(body: Any, backend: Recording, path: str = f"{D}/accounts") -> tuple[int, Any]:
    app = App(peer=OWN_PIPE, auth_chain=[LocalAuth()], backend=cast(Backend, backend),
              plugins=load_plugins(OPENAPI_PLUGINS))
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = app.handle(Request("POST", path,
                                  (("content-type", "application/json"),), raw)).response
    if not response.body.startswith(b"{"):
        return response.status, response.body
    answer = json.loads(response.body)
    answer.pop("meta")
    return response.status, answer


def test_post_accounts_adds_new_and_modifies_existing() -> None:
    backend = Posting()
    status, body = post({"accounts": [
        {"name": "zt_new", "description": "A new one", "organization": "ztorg"},
        {"name": "research"}]}, backend)
    assert (status, body) == (200, {"errors": []})
    validate(body, "dbv0.0.38_response_account_update")
    assert backend.argvs == [
        ["sacctmgr", "-i", "add", "account", "zt_new", "Description=A new one",
         "Organization=ztorg"],
        # slurmrestd puts the name where description/organization are not given
        ["sacctmgr", "-i", "modify", "account", "where", "name=research", "set",
         "Description=research", "Organization=research"]]


@pytest.mark.parametrize("item", [
    {"description": "no name"}, {"name": "Upper"}, {"name": "a,b"}, {"name": "x\ny"},
    {"name": "ok", "description": 'quote"d'}, {"name": "ok", "description": "a,b"},
    {"name": "ok", "organization": "Upper"}, {"name": "ok", "description": ""},
    {"name": "ok", "associations": [{"account": "other", "cluster": "lab"}]},
    {"name": "ok", "associations": [{"account": "ok"}]},
    {"name": "ok", "associations": [{"account": "ok", "cluster": "lab",
                                     "partition": "debug"}]},
    {"name": "ok", "associations": [{"account": "ok", "cluster": "nosuch"}]},
    {"name": "ok", "associations": [{"account": "ok", "cluster": "lab", "user": "nobody"}]},
    {"name": "ok", "coordinators": [{"direct": 1}]},
])
def test_post_accounts_checks_every_object_before_any_change(item: dict[str, Any]) -> None:
    backend = Posting()
    status, body = post({"accounts": [{"name": "zt_fine"}, item]}, backend)
    assert status == 400
    assert body["errors"][0]["error_number"] == 9000
    assert body["errors"][0]["source"].startswith("accounts[1]")
    assert backend.argvs == []


def test_post_accounts_bad_bodies() -> None:
    backend = Posting()
    assert post({"accounts": {}}, backend)[0] == 400
    assert post({"accounts": ["x"]}, backend)[0] == 400
    assert post(b"{", backend)[0] == 400
    assert post({"accounts": [{"name": "zt_a"}, {"name": "zt_a"}]}, backend)[0] == 400
    status, body = post({}, backend)
    assert (status, body["errors"]) == (500, [{
        "description": "Query parameter not found", "error_number": 9200,
        "error": "Unable to resolve path", "source": "accounts"}])
    assert backend.argvs == []


def test_post_accounts_refused_changes_nothing_like_slurmrestd() -> None:
    backend = Posting(fail_on="zt_a")
    status, body = post({"accounts": [{"name": "zt_a"}, {"name": "zt_b"}]}, backend)
    assert (status, body) == (500, {"errors": [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_accounts_add"}]})
    assert len(backend.argvs) == 1


def test_post_accounts_partial_failure_names_each_account() -> None:
    backend = Posting(fail_on="zt_b")
    status, body = post({"accounts": [{"name": "zt_a"}, {"name": "zt_b"},
                                      {"name": "zt_c"}]}, backend)
    assert status == 500
    assert [e["description"] for e in body["errors"]] == [
        "Account zt_a was applied before the failure and stays",
        "Account zt_b failed: Your user doesn't have privilege to perform this action",
        "Account zt_c was not applied"]
    assert {e["source"] for e in body["errors"]} == {"slurmdb_accounts_add"}
    assert len(backend.argvs) == 2


class PostingUsers(Recording):
    """Records the users put; the one named ``fail_on`` gets ``outcome``."""

    def db_wckeys(self, who: Identity) -> list[dict[str, str]]:
        return [{"name": "projx", "cluster": "lab", "user": "bob", "deleted": ""},
                {"name": "old", "cluster": "lab", "user": "bob", "deleted": "1"}]

    def db_put_user(self, who: Identity, name: str, account: str | None,
                    admin_level: str | None, *, exists: bool, **more: Any) -> None:
        self.recording_cli(name, Outcome(0, b"", b"")).db_put_user(
            who, name, account, admin_level, exists=exists, **more)


def post_users(body: Any, backend: PostingUsers) -> tuple[int, Any]:
    return post(body, backend, f"{D}/users")


def test_post_users_adds_new_and_modifies_existing() -> None:
    backend = PostingUsers()
    status, body = post_users({"users": [
        {"name": "zt_nu", "default": {"account": "physics"}},
        {"name": "bob", "administrator_level": "operator"},
        {"name": "carol"}]}, backend)
    assert (status, body) == (200, {"errors": []})
    validate(body, "dbv0.0.38_response_user_update")
    assert backend.argvs == [
        ["sacctmgr", "-i", "add", "user", "zt_nu", "Account=physics"],
        ["sacctmgr", "-i", "modify", "user", "where", "name=bob", "set",
         "AdminLevel=Operator"]]  # carol: nothing to set


@pytest.mark.parametrize("item", [
    {"name": "zt_nu"},  # new: needs its account
    {"name": "Bob"}, {"name": "bob", "default": {"account": "a b"}},
    {"name": "bob", "default": {"wckey": "nokey"}},  # bob has no such wckey
    {"name": "bob", "default": {"wckey": "old"}},  # deleted
    {"name": "bob", "default": {"wckey": "a b"}},
    {"name": "zt_nu", "default": {"wckey": "projx", "account": "research"}},
    {"name": "bob", "administrator_level": "root"},
    {"name": "bob", "associations": [{"account": "research", "cluster": "nosuch"}]},
    {"name": "bob", "associations": [{"account": "research", "cluster": "lab",
                                      "user": "alice"}]},
    {"name": "bob", "associations": [{"account": "research"}]},
    {"name": "bob", "coordinators": [{"name": "nosuch", "direct": 1}]},
    {"name": "bob", "coordinators": [{"name": "Bad name", "direct": 0}]},
    {"name": "bob", "associations": [{"account": "x", "cluster": "lab"}]},
])
def test_post_users_checks_every_object_before_any_change(item: dict[str, Any]) -> None:
    backend = PostingUsers()
    status, body = post_users({"users": [{"name": "carol",
                                          "administrator_level": "None"}, item]}, backend)
    assert status == 400, body
    assert body["errors"][0]["source"].startswith("users[1]")
    assert backend.argvs == []


def test_post_users_failures() -> None:
    status, body = post_users({"users": [{"name": "bob", "administrator_level": "None"}]},
                              PostingUsers(fail_on="bob"))
    assert (status, body) == (500, {"errors": [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_users_add"}]})
    backend = PostingUsers(fail_on="carol")
    status, body = post_users({"users": [
        {"name": "bob", "administrator_level": "None"},
        {"name": "carol", "administrator_level": "None"}]}, backend)
    assert status == 500
    assert [e["description"] for e in body["errors"]] == [
        "User bob was applied before the failure and stays",
        "User carol failed: Your user doesn't have privilege to perform this action"]
    status, body = post_users({}, PostingUsers())
    assert (status, body["errors"][0]["source"]) == (400, "users")
    # sacctmgr refuses a non-administrator itself: Slurm's permission error all the same
    refused = Outcome(1, b"", b" Your user/uid (alice/1001) is not AdminLevel >= Operator,"
                      b" you cannot set DefaultAccount.\n")
    status, body = post_users({"users": [{"name": "zt_nu", "default": {"account": "x"}}]},
                              PostingUsers(fail_on="zt_nu", outcome=refused))
    assert (status, body["errors"]) == (500, [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_users_add"}])


# -- associations, coordinators, flags, default wckey -------------------------------------

def test_post_users_new_with_associations_coordinators_and_wckey() -> None:
    backend = PostingUsers()
    status, body = post_users({"users": [{
        "name": "zt_nu", "administrator_level": "Operator",
        "associations": [
            {"account": "physics", "cluster": "lab", "partition": None, "user": "zt_nu"},
            {"account": "research", "cluster": "lab", "partition": "debug"},
            {"account": "research", "cluster": "lab"}],
        "default": {"account": "research", "wckey": ""},
        # slurmrestd adds the direct ones only
        "coordinators": [{"name": "physics", "direct": 1}, {"name": "research"},
                         {"name": "zt_acct_a", "direct": 0}],
        "flags": ["deleted"]}]}, backend)
    assert (status, body) == (200, {"errors": []})
    add = ["sacctmgr", "-i", "add", "user", "zt_nu"]
    assert backend.argvs == [
        # the default account's associations first: the first one made is the default
        [*add, "Account=research", "Cluster=lab", "Partition=debug", "AdminLevel=Operator"],
        [*add, "Account=research", "Cluster=lab"],
        [*add, "Account=physics", "Cluster=lab"],
        ["sacctmgr", "-i", "add", "coordinator", "names=zt_nu", "accounts=physics"]]


def test_post_users_existing_gets_associations_default_wckey_and_coordinators() -> None:
    backend = PostingUsers()
    status, body = post_users({"users": [{
        "name": "bob", "associations": [{"account": "physics", "cluster": "lab"}],
        "default": {"account": "physics", "wckey": "projx"},
        "coordinators": [{"name": "physics", "direct": 1},
                         {"name": "research", "direct": 1}]}]}, backend)
    assert (status, body) == (200, {"errors": []})
    assert backend.argvs == [
        ["sacctmgr", "-i", "add", "user", "bob", "Account=physics", "Cluster=lab"],
        ["sacctmgr", "-i", "modify", "user", "where", "name=bob", "set",
         "DefaultAccount=physics"],
        ["sacctmgr", "-i", "modify", "user", "where", "name=bob", "cluster=lab", "set",
         "DefaultWCKey=projx"],
        ["sacctmgr", "-i", "add", "coordinator", "names=bob",
         "accounts=physics,research"]]


def test_post_users_new_default_account_outside_its_associations() -> None:
    backend = PostingUsers()
    assert post_users({"users": [{
        "name": "zt_nu", "default": {"account": "physics"},
        "associations": [{"account": "research", "cluster": "lab"}]}]},
        backend)[0] == 200
    assert backend.argvs == [
        ["sacctmgr", "-i", "add", "user", "zt_nu", "Account=physics"],
        ["sacctmgr", "-i", "add", "user", "zt_nu", "Account=research", "Cluster=lab"]]
    backend = PostingUsers()  # no default account: the first association's
    assert post_users({"users": [{
        "name": "zt_nu", "associations": [{"account": "research", "cluster": "lab"}]}]},
        backend)[0] == 200
    assert backend.argvs == [
        ["sacctmgr", "-i", "add", "user", "zt_nu", "Account=research", "Cluster=lab"]]


UNKNOWN_FLAG = [
    {"description": "Unknown flag", "error_number": 9001,
     "error": "Failure during parsing", "source": "flags"},
    {"description": "Failed to parse field 'flags'", "error_number": 9001,
     "error": "Failure during parsing", "source": "_parser_run"}]


def test_unknown_flags_are_slurmrestds_parse_failure() -> None:
    users = PostingUsers()
    assert post_users({"users": [{"name": "bob", "flags": ["BOGUS"]}]}, users) == (
        400, {"errors": UNKNOWN_FLAG})
    accounts = Posting()
    assert post({"accounts": [{"name": "research", "flags": ["DELETED", "x"]}]},
                accounts) == (400, {"errors": UNKNOWN_FLAG})
    assert users.argvs == accounts.argvs == []


def test_post_accounts_associations_and_ignored_coordinators() -> None:
    backend = Posting()
    status, body = post({"accounts": [
        {"name": "zt_new", "associations": [
            {"account": "zt_new", "cluster": "lab", "partition": None, "user": None},
            {"account": "zt_new", "cluster": "lab", "partition": "debug", "user": "bob"}],
         "coordinators": [{"name": "bob", "direct": 1}], "flags": ["DELETED"]},
        {"name": "research", "description": "research group", "organization": "lab",
         "associations": [{"account": "research", "cluster": "lab", "user": "alice"}]}]},
        backend)
    assert (status, body) == (200, {"errors": []})
    assert backend.argvs == [
        ["sacctmgr", "-i", "add", "account", "zt_new", "Description=zt_new",
         "Organization=zt_new", "Cluster=lab"],
        ["sacctmgr", "-i", "add", "user", "bob", "Account=zt_new", "Cluster=lab",
         "Partition=debug"],
        ["sacctmgr", "-i", "modify", "account", "where", "name=research", "set",
         "Description=research group", "Organization=lab"],
        ["sacctmgr", "-i", "add", "account", "research", "Cluster=lab"],
        ["sacctmgr", "-i", "add", "user", "alice", "Account=research", "Cluster=lab"]]


class Scripted(CannedCli):
    """Answers each change with the outcome of the first ``(word, outcome)`` whose word
    is in its argv (success otherwise)."""

    def __init__(self, script: Sequence[tuple[str, Outcome]]) -> None:
        super().__init__()
        self.script = script

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.argvs.append(list(argv))
        return next((out for word, out in self.script if word in argv),
                    Outcome(0, b"", b""))


ALICE = Identity(user="alice", uid=1001, method="rest_auth/local")


def test_existing_associations_are_no_failure() -> None:
    nothing_new = Outcome(1, b" Nothing new added.\n", b"")
    cli = Scripted([("add", nothing_new)])
    cli.db_put_user(ALICE, "bob", None, None, exists=True,
                    associations=[("lab", "research", "")])
    cli.db_put_account(ALICE, "research", "r", "lab", exists=True, clusters=["lab"],
                       user_associations=[("lab", "bob", "")])
    assert len(cli.argvs) == 4
    with pytest.raises(SlurmCommandError):  # a new user: nothing was added
        cli.db_put_user(ALICE, "zt_nu", None, None, exists=False,
                        associations=[("lab", "research", "")])


def test_a_failure_after_changes_names_them() -> None:
    cli = Scripted([("coordinator", DENIED)])
    with pytest.raises(SlurmCommandError) as caught:
        cli.db_put_user(ALICE, "bob", None, None, exists=True,
                        associations=[("lab", "physics", "")], coordinators=["physics"])
    (error,) = caught.value.errors
    assert (error.error_number, error.source) == (2002, "slurmdb_users_add")
    assert error.description.endswith(
        "(already made, and kept: add user bob Account=physics Cluster=lab)")
    cli = Scripted([("add", DENIED)])
    with pytest.raises(SlurmCommandError) as caught:  # the first: as Slurm said it
        cli.db_put_user(ALICE, "bob", None, None, exists=True,
                        associations=[("lab", "physics", "")])
    assert "already made" not in caught.value.errors[0].description


class NoWckeys(PostingUsers):
    def db_wckeys(self, who: Identity) -> list[dict[str, str]]:
        raise SlurmCommandError([SlurmError("Access/permission denied", 2002, "",
                                            "slurmdb_wckeys_get")])


def test_unreadable_wckeys_leave_the_refusal_to_slurm() -> None:
    backend = NoWckeys(fail_on="bob")
    status, body = post_users({"users": [{"name": "bob", "default": {"wckey": "projx"}}]},
                              backend)
    assert (status, body) == (500, {"errors": [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_users_add"}]})
    assert backend.argvs == [["sacctmgr", "-i", "modify", "user", "where", "name=bob",
                              "set", "DefaultWCKey=projx"]]
