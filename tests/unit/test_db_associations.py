"""POST associations, DELETE association(s) (slurmdb): body fields into sacctmgr
settings, slurmrestd's statuses and bodies.

sacctmgr is scripted: the reads answer from the small table below (shaped like the lab's
Slurm 22.05.8 printed it), the changes answer what sacctmgr printed there for the same
requests, and every command line is recorded.
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
from slurmrest_stdio.backend.cli_dbassociations import DbAssociationsCli
from slurmrest_stdio.backend.clicore import Outcome
from slurmrest_stdio.backend.ops_dbaccounts import ASSOC_FIELDS
from slurmrest_stdio.config import OPENAPI_PLUGINS, Config
from slurmrest_stdio.protocol import Request
from tests.unit.fakes import OWN_PIPE, FakeBackend

D = "/slurmdb/v0.0.38"
SPEC = build_spec(load_plugins(OPENAPI_PLUGINS))


def assoc_line(cluster: str, account: str, user: str, partition: str, parent: str,
               ident: int, **limits: str) -> str:
    values = {name: "" for name in ASSOC_FIELDS}
    values.update(cluster=cluster, account=account, user=user, partition=partition,
                  parentname=parent, id=str(ident), lft=str(ident), fairshare="1",
                  qos="normal", **limits)
    return "|".join(values[name] for name in ASSOC_FIELDS) + "\n"


ASSOCS = [
    assoc_line("lab", "root", "", "", "", 1),
    assoc_line("lab", "research", "", "", "root", 3),
    assoc_line("lab", "research", "alice", "", "", 5),
    assoc_line("lab", "research", "bob", "", "", 6, maxtresperjob="cpu=2,mem=1G",
               maxjobs="4"),
    assoc_line("lab", "zt_a", "", "", "research", 9),
    assoc_line("lab", "zt_a", "bob", "debug", "", 10),
    assoc_line("lab", "zt_a", "bob", "", "", 11),
    assoc_line("lab", "zt_leaf", "", "", "research", 12),
]
USERS = ("alice|research|projx|None|\nbob|research||None|\nroot|root||Administrator|\n"
         "boss|research||Operator|\n")
TRES = "cpu||1\nmem||2\nnode||4\ngres|gpu|1002\n"
DELETED_BOB = (b" Deleting user associations...\n"
               b"  C = lab        A = research   U = bob      \n")
DENIED = Outcome(1, b" Problem adding users: Access/permission denied\n",
                 b"sacctmgr: error: Your user doesn't have privilege to perform this "
                 b"action\nsacctmgr: error: Sending message type DBD_ADD_ASSOCS: 2002: "
                 b"Access/permission denied\n")
REFUSED_DELETE = Outcome(1, b"", b"sacctmgr: error: Your user doesn't have privilege to "
                         b"perform this action\n Error with request: Access/permission "
                         b"denied\n")
NOTHING = Outcome(1, b" Nothing deleted\n", b"")
OK = Outcome(0, b" Done\n", b"")


class Scripted(DbAccountsCli, DbAssociationsCli):
    """The real sacctmgr readers and writers with a scripted sacctmgr."""

    def __init__(self, change: Outcome = OK) -> None:
        super().__init__(Config())
        self.argvs: list[list[str]] = []
        self.change = change

    def run(self, argv: Sequence[str], who: Identity | None, *,
            stdin: bytes | None = None, pass_fds: Sequence[int] = (),
            enveloped: bool = True) -> Outcome:
        self.argvs.append(list(argv))
        if argv[1] == "-i":
            return self.change
        if argv[3] == "config":
            return Outcome(0, b"SlurmUserId            = slurm(64030)\n", b"")
        entity = argv[4]
        where = dict(a.split("=", 1) for a in argv[5:] if "=" in a
                     and not a.startswith("format="))
        if entity == "associations":
            lines = [ln for ln in ASSOCS if all(
                ln.split("|")[ASSOC_FIELDS.index(key)] in value.split(",")
                for key, value in where.items())]
            if "user" not in where and "partition" not in where:
                pass  # accounts' own rows and their users', like sacctmgr
            return Outcome(0, "".join(lines).encode(), b"")
        if entity == "user":
            name = where.get("name")
            lines = [ln for ln in USERS.splitlines(keepends=True)
                     if name is None or ln.split("|")[0] == name]
            if "format=adminlevel,coordinators" in argv:
                lines = ["|".join(ln.split("|")[3:]) for ln in lines]
            return Outcome(0, "".join(lines).encode(), b"")
        if entity == "tres":
            return Outcome(0, TRES.encode(), b"")
        if entity == "cluster":
            return Outcome(0, b"lab\n", b"")
        raise AssertionError(argv)

    @property
    def changes(self) -> list[list[str]]:
        return [a for a in self.argvs if a[1] == "-i"]


@dataclass
class AssocBackend(FakeBackend):
    cli: Scripted = field(default_factory=Scripted)
    #: whose rights the removal check looks up (the request's own user when empty)
    remover: str = ""

    def db_associations(self, who: Identity, filters: Mapping[str, Sequence[str]]
                        ) -> list[dict[str, str]]:
        return self.cli.db_associations(who, filters)

    def db_users(self, who: Identity, name: str | None, with_deleted: bool
                 ) -> list[dict[str, str]]:
        return self.cli.db_users(who, name, with_deleted)

    def db_tres(self, who: Identity) -> list[dict[str, str]]:
        return self.cli.db_tres(who)

    def db_qos(self, who: Identity, with_deleted: bool) -> list[dict[str, str]]:
        return [{"name": "normal"}, {"name": "high"}]

    def db_put_association(self, who: Identity, **kwargs: Any) -> None:
        self.cli.db_put_association(who, **kwargs)

    def db_delete_associations(self, who: Identity, filters: Mapping[str, Sequence[str]]
                               ) -> list[str]:
        return self.cli.db_delete_associations(who, filters)

    def db_may_remove_associations(self, who: Identity) -> bool:
        if self.remover:
            who = Identity(self.remover, 1001, who.method)
        return self.cli.db_may_remove_associations(who)


def ask(method: str, target: str, backend: AssocBackend, body: Any = None
        ) -> tuple[int, Any]:
    app = App(peer=OWN_PIPE, auth_chain=[LocalAuth()], backend=cast(Backend, backend),
              plugins=load_plugins(OPENAPI_PLUGINS))
    headers: tuple[tuple[str, str], ...] = ()
    raw = b""
    if body is not None:
        headers = (("content-type", "application/json"),)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = app.handle(Request(method, target, headers, raw)).response
    if not response.body.startswith(b"{"):
        return response.status, response.body
    answer = json.loads(response.body)
    answer.pop("meta")
    return response.status, answer


def post(body: Any, change: Outcome = OK) -> tuple[int, Any, Scripted]:
    backend = AssocBackend(cli=Scripted(change))
    status, answer = ask("POST", f"{D}/associations", backend, body)
    return status, answer, backend.cli


def delete(target: str, change: Outcome = OK, who: str = "alice"
           ) -> tuple[int, Any, Scripted]:
    backend = AssocBackend(cli=Scripted(change), remover=who)
    status, answer = ask("DELETE", target, backend)
    return status, answer, backend.cli


def test_new_user_association_is_added_with_its_limits() -> None:
    status, answer, cli = post({"associations": [{
        "account": "zt_a", "cluster": "lab", "user": "carol", "partition": "debug",
        "max": {"jobs": {"active": 5, "per": {"wall_clock": 90}},
                "tres": {"per": {"job": [{"type": "cpu", "count": 2},
                                         {"type": "gres", "name": "gpu", "count": 1}]}}},
        "shares_raw": 7, "priority": 3, "default": {"qos": "high"},
        "qos": ["normal", "high"]}]})
    assert (status, answer) == (200, {"errors": []})
    assert cli.changes == [[
        "sacctmgr", "-i", "add", "user", "carol", "account=zt_a", "cluster=lab",
        "partition=debug", "MaxWall=90", "MaxJobs=5", "Priority=3", "Fairshare=7",
        "MaxTRES=cpu=2,gres/gpu=1", "DefaultQOS=high", "QOS=normal,high"]]


def test_every_limit_has_its_setting() -> None:
    tres = [{"type": "cpu", "count": 1}]
    limits = {"jobs": {"per": {"count": 1, "accruing": 2, "submitted": 3,
                               "wall_clock": None},
                       "active": 4, "accruing": 5, "total": 6},
              "tres": {"total": tres, "minutes": {"per": {"job": tres}, "total": tres},
                       "group": {"minutes": tres, "active": tres},
                       "per": {"job": tres, "node": tres}},
              "per": {"account": {"wall_clock": 7}}}
    status, _, cli = post({"associations": [{
        "account": "zt_leaf", "cluster": "lab", "user": "carol", "max": limits,
        "min": {"priority_threshold": 8}, "priority": None, "shares_raw": 2147483647,
        "default": {"qos": None}, "usage": None, "flags": [], "is_default": 0}]})
    assert status == 200
    assert cli.changes[0][7:] == [
        "GrpJobs=1", "GrpJobsAccrue=2", "GrpSubmitJobs=3", "MaxWall=-1", "MaxJobs=4",
        "MaxJobsAccrue=5", "MaxSubmitJobs=6", "GrpWall=7", "MinPrioThresh=8",
        "Priority=-1", "Fairshare=parent", "GrpTRES=cpu=1", "MaxTRESMinsPerJob=cpu=1",
        "MaxTRESRunMins=cpu=1", "GrpTRESMins=cpu=1", "GrpTRESRunMins=cpu=1",
        "MaxTRES=cpu=1", "MaxTRESPerNode=cpu=1", "DefaultQOS=-1"]


def test_existing_association_is_modified_alone_and_tres_lists_replaced() -> None:
    status, answer, cli = post({"associations": [{
        "account": "research", "cluster": "lab", "user": "bob",
        "max": {"jobs": {"active": None}, "tres": {"per": {"job": [
            {"type": "cpu", "count": 3, "id": 1}]}}}}]})
    assert (status, answer) == (200, {"errors": []})
    assert cli.changes == [[
        "sacctmgr", "-i", "modify", "user", "where", "name=bob", "account=research",
        "cluster=lab", "partition=''", "set", "MaxJobs=-1", "MaxTRES=cpu=3,mem=-1"]]


def test_empty_tres_list_clears_and_nothing_to_change_runs_nothing() -> None:
    status, _, cli = post({"associations": [{
        "account": "research", "cluster": "lab", "user": "bob",
        "max": {"tres": {"per": {"job": []}, "total": []}}}]})
    assert status == 200
    assert cli.changes[0][-2:] == ["set", "MaxTRES=cpu=-1,mem=-1"]
    status, _, cli = post({"associations": [{"account": "research", "cluster": "lab",
                                             "user": "alice"}]})
    assert status == 200 and cli.changes == []


def test_account_association_without_user_notes_it_like_slurmrestd() -> None:
    status, answer, cli = post({"associations": [
        {"account": "zt_a", "cluster": "lab", "max": {"jobs": {"active": 4}},
         "parent_account": "root"},
        {"account": "zt_new", "cluster": "lab", "user": None,
         "parent_account": "zt_a"}]})
    assert status == 200
    assert answer["errors"] == [{"description": "Missing required field 'user'",
                                 "source": "_parser_run"}]
    assert cli.changes == [
        ["sacctmgr", "-i", "modify", "account", "where", "name=zt_a", "cluster=lab",
         "set", "MaxJobs=4", "Parent=root"],
        ["sacctmgr", "-i", "add", "account", "zt_new", "cluster=lab", "Parent=zt_a"]]


def test_same_parent_is_no_change() -> None:
    status, _, cli = post({"associations": [{
        "account": "zt_a", "cluster": "lab", "user": "", "parent_account": "research"}]})
    assert status == 200 and cli.changes == []


@pytest.mark.parametrize(("item", "where"), [
    ({"cluster": "lab", "user": "bob"}, "associations[0].account"),
    ({"account": "research", "user": "bob"}, "associations[0].cluster"),
    ({"account": "Bad Name", "cluster": "lab"}, "associations[0].account"),
    ({"account": "research", "cluster": "lab", "user": "b,c"}, "associations[0].user"),
    ({"account": "research", "cluster": "lab", "partition": "a b"},
     "associations[0].partition"),
    ({"account": "research", "cluster": "lab", "max": {"jobs": {"active": -1}}},
     "associations[0].max.jobs.active"),
    ({"account": "research", "cluster": "lab", "max": {"jobs": {"total": True}}},
     "associations[0].max.jobs.total"),
    ({"account": "research", "cluster": "lab", "priority": "high"},
     "associations[0].priority"),
    ({"account": "research", "cluster": "lab", "shares_raw": None},
     "associations[0].shares_raw"),
    ({"account": "research", "cluster": "lab", "qos": ["nosuch"]}, "associations[0].qos"),
    ({"account": "research", "cluster": "lab", "qos": []}, "associations[0].qos"),
    ({"account": "research", "cluster": "lab", "default": {"qos": "nosuch"}},
     "associations[0].default.qos"),
    ({"account": "research", "cluster": "lab",
      "max": {"tres": {"total": [{"type": "bogus", "count": 1}]}}},
     "associations[0].max.tres.total[0]"),
    ({"account": "research", "cluster": "lab",
      "max": {"tres": {"total": [{"type": "cpu", "id": 2, "count": 1}]}}},
     "associations[0].max.tres.total[0].id"),
    ({"account": "research", "cluster": "lab",
      "max": {"tres": {"total": [{"type": "cpu", "count": -3}]}}},
     "associations[0].max.tres.total[0].count"),
    ({"account": "research", "cluster": "lab", "max": {"tres": {"total": {"cpu": 1}}}},
     "associations[0].max.tres.total"),
    ({"account": "research", "cluster": "lab", "user": "bob", "parent_account": "root"},
     "associations[0].parent_account"),
    ({"account": "research", "cluster": "lab", "usage": {"x": 1}}, "associations[0].usage"),
    ({"account": "research", "cluster": "lab", "flags": ["DELETED"]},
     "associations[0].flags"),
    ({"account": "zt_a", "cluster": "lab", "user": "bob", "is_default": 1},
     "associations[0]"),
    ({"account": "zt_a", "cluster": "lab", "user": "carol", "flags": ["DEFAULT"]},
     "associations[0]"),
])
def test_bad_fields_are_named_and_nothing_changes(item: dict[str, Any], where: str
                                                  ) -> None:
    status, answer, cli = post({"associations": [
        {"account": "zt_a", "cluster": "lab", "user": "carol"}, item]})
    sources = [e["source"] for e in answer["errors"]]
    assert status == 400, answer
    assert where.replace("[0]", "[1]", 1) in sources, sources
    assert cli.changes == []


def test_current_default_may_be_restated() -> None:
    status, _, cli = post({"associations": [{
        "account": "research", "cluster": "lab", "user": "alice", "is_default": 1,
        "flags": ["DEFAULT"], "priority": 2}]})
    assert status == 200 and len(cli.changes) == 1


def test_bodies_without_a_list() -> None:
    status, answer, cli = post({})
    assert status == 200 and cli.changes == []
    assert answer["errors"] == [{"description": "Query parameter not found",
                                 "error_number": 9200, "error": "Unable to resolve path",
                                 "source": "associations"}]
    status, answer, _ = post({"associations": [1]})
    assert status == 400
    status, answer, _ = post({"associations": [
        {"account": "zt_a", "cluster": "lab", "user": "carol"},
        {"account": "zt_a", "cluster": "lab", "user": "carol"}]})
    assert status == 400 and "given twice" in answer["errors"][0]["description"]


def test_refused_add_is_slurmrestds_400() -> None:
    status, answer, _ = post({"associations": [
        {"account": "zt_a", "cluster": "lab", "user": "carol"}]}, DENIED)
    assert (status, answer) == (400, {"errors": [{
        "error_number": 2002, "error": "Access/permission denied",
        "source": "slurmdb_associations_add"}]})


def test_quietly_refused_modify_is_200_like_slurmrestd() -> None:
    nothing = Outcome(1, b" Nothing modified\n", b"sacctmgr: Request didn't affect "
                      b"anything or your user doesn't have privilege\n")
    status, answer, cli = post({"associations": [{
        "account": "research", "cluster": "lab", "user": "alice",
        "max": {"jobs": {"active": 4}}}]}, nothing)
    assert (status, answer) == (200, {"errors": []}) and len(cli.changes) == 1


def test_delete_one() -> None:
    status, answer, cli = delete(f"{D}/association?account=research&user=bob",
                                 Outcome(0, DELETED_BOB, b""))
    assert (status, answer) == (200, {"errors": [], "removed_associations": [
        "C = lab        A = research   U = bob      "]})
    assert cli.changes == [["sacctmgr", "-i", "delete", "user", "where", "name=bob",
                            "account=research", "cluster=lab"]]


def test_delete_one_leaf_account() -> None:
    status, _, cli = delete(f"{D}/association?account=zt_leaf", who="root")
    assert status == 200
    assert cli.changes == [["sacctmgr", "-i", "delete", "account", "where",
                            "name=zt_leaf", "cluster=lab"]]


AMBIGUOUS = {"errors": [{
    "description": "ambiguous request: More than 1 association would have been deleted.",
    "error_number": 9000, "error": "Query empty or not RFC7320 compliant"}],
    "removed_associations": []}
REFUSED = {"errors": [
    {"error_number": 2002, "error": "Access/permission denied",
     "source": "slurmdb_associations_remove"},
    {"description": "unable to query associations", "error_number": 2002,
     "error": "Access/permission denied"}], "removed_associations": []}


@pytest.mark.parametrize("query", ["account=zt_a", "user=bob", "", "cluster=lab",
                                   "account=research"])
def test_delete_one_ambiguous_removes_nothing(query: str) -> None:
    status, answer, cli = delete(f"{D}/association?{query}", who="boss")
    assert (status, answer) == (400, AMBIGUOUS)
    assert cli.changes == []
    status, answer, cli = delete(f"{D}/association?{query}", who="alice")
    assert (status, answer) == (500, REFUSED)
    assert cli.changes == []


def test_delete_one_nothing() -> None:
    status, answer, cli = delete(f"{D}/association?account=nosuch", who="slurm")
    assert (status, answer, cli.changes) == (304, b"", [])
    status, answer, _ = delete(f"{D}/association?account=nosuch", who="alice")
    assert (status, answer) == (500, REFUSED)


def test_delete_many() -> None:
    status, answer, cli = delete(f"{D}/associations?account=zt_a",
                                 Outcome(0, DELETED_BOB, b""))
    assert status == 200 and len(answer["removed_associations"]) == 1
    assert cli.changes == [["sacctmgr", "-i", "delete", "account", "where", "name=zt_a",
                            "cluster=lab"]]
    status, answer, cli = delete(
        f"{D}/associations?user=bob%2Calice&partition=debug&cluster=lab")
    assert cli.changes == [["sacctmgr", "-i", "delete", "user", "where",
                            "name=bob,alice", "partition=debug", "cluster=lab"]]


def test_delete_many_failures() -> None:
    status, answer, _ = delete(f"{D}/associations?account=zt_a", NOTHING)
    assert (status, answer) == (304, b"")
    status, answer, _ = delete(f"{D}/associations?account=zt_a", REFUSED_DELETE)
    assert (status, answer) == (500, REFUSED)
    status, answer, cli = delete(f"{D}/associations?cluster=lab")
    assert status == 400 and cli.changes == []
    assert answer["errors"][0]["source"] == "slurmdb_associations_remove"
    status, answer, cli = delete(f"{D}/associations?account=a,b")
    assert status == 400 and cli.changes == []
    status, answer, cli = delete(f"{D}/associations?account=bad%20name")
    assert (status, cli.changes) == (304, [])


def test_answers_fit_the_spec() -> None:
    _, answer, _ = delete(f"{D}/association?account=research&user=bob",
                          Outcome(0, DELETED_BOB, b""))
    for schema, body in (("dbv0.0.38_response_associations_delete", answer),
                         ("dbv0.0.38_response_associations", {"errors": []})):
        OAS30Validator({"$ref": f"#/components/schemas/{schema}",
                        "components": SPEC["components"]}).validate(body)
    paths = SPEC["paths"]
    assert {"get", "post", "delete"} <= set(paths[f"{D}/associations"])
    assert {"get", "delete"} <= set(paths[f"{D}/association"])


def test_last_associations_of_a_user_are_kept() -> None:
    for target in (f"{D}/association?account=research&user=alice",
                   f"{D}/associations?user=bob", f"{D}/associations?user=alice%2Cbob"):
        status, answer, cli = delete(target, who="root")
        assert status == 400, target
        assert answer["removed_associations"] == [] and cli.changes == []
        assert all("remove the user instead" in e["description"]
                   for e in answer["errors"])
    status, _, cli = delete(f"{D}/associations?account=zt_a&user=bob",
                            Outcome(0, DELETED_BOB, b""))
    assert status == 200 and len(cli.changes) == 1


@pytest.mark.parametrize("query", ["account=zt_a&usr=bob", "account=zt_a&User=bob",
                                   "account=zt_a&user=", "account=zt_a&user=%2C",
                                   "account=zt_a&with_deleted"])
@pytest.mark.parametrize("path", ["associations", "association"])
def test_a_removal_never_widens_past_its_query(path: str, query: str) -> None:
    """A key that is no filter, or a filter with no name, would otherwise be dropped and
    the removal reach every association of the account: refused, nothing run."""
    status, answer, cli = delete(f"{D}/{path}?{query}")
    assert status == 400 and cli.changes == []
    if isinstance(answer, dict):  # (an unknown key of slurmrestd's own is its text 400)
        assert answer["removed_associations"] == []
        assert answer["errors"][0]["source"] == "slurmdb_associations_remove"


@pytest.mark.parametrize("user", [False, 0, [], {}])
def test_a_user_that_is_not_a_name_is_refused_not_the_accounts_own(user: Any) -> None:
    status, answer, cli = post({"associations": [
        {"account": "research", "cluster": "lab", "user": user,
         "max": {"jobs": {"active": 1}}}]})
    assert status == 400 and answer["errors"][0]["source"].endswith(".user")
    assert cli.changes == []


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000])
def test_counts_that_only_look_numeric_are_refused(value: str) -> None:
    status, _, cli = post({"associations": [
        {"account": "research", "cluster": "lab", "user": "bob", "priority": value}]})
    assert status == 400 and cli.changes == []


@pytest.mark.parametrize("name", ["-h", "--help", "-V"])
def test_names_never_begin_like_an_option(name: str) -> None:
    """sacctmgr's getopt would read a bare '-h' anywhere on its line as an option."""
    status, _, cli = post({"associations": [
        {"account": name, "cluster": "lab", "user": "bob"}]})
    assert status == 400 and cli.changes == []
