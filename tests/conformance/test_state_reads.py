"""GET diag, licenses, partitions, reservations: slurmrest-stdio against Debian's slurmrestd.

Licenses, partitions and reservations are the same data for both programs, so their bodies
must be the same bytes (JSON) or the same data (YAML), key order included; they are also
compared with a partition and reservations made for the test whose settings are far from
the defaults. The diag counters move between any two reads, so diag is compared by shape:
the same keys in the same order with values of the same types.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.test_state_reads import Probes, probe_objects
from tests.conformance.differences import ref
from tests.conformance.harness import (
    Case,
    Conversation,
    converse_both,
    load_body,
    media_type,
    run_case,
)
from tests.helpers import request, unreachable_slurm_conf

V = "/slurm/v0.0.38"
FUTURE = int(time.time()) + 7 * 86400
YAML = "Accept: application/x-yaml"
#: live data can change between the two programs' reads (a job takes a license): retry
ATTEMPTS = 3


def get(path: str, *headers: str) -> bytes:
    return request("GET", path, *headers)


def run_live(case: Case) -> tuple[Conversation, Conversation]:
    """:func:`run_case`, tried again when the data may have moved in between."""
    for attempt in range(ATTEMPTS):
        try:
            return run_case(case)
        except AssertionError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


# -- the same data, the same bytes ---------------------------------------------------------

SAME_DATA = [
    Case("licenses", get(f"{V}/licenses"), (200,)),
    Case("licenses_slash", get(f"{V}/licenses/"), (200,)),
    Case("licenses_yaml", get(f"{V}/licenses", YAML), (200,)),
    Case("partitions", get(f"{V}/partitions"), (200,)),
    Case("partitions_slash", get(f"{V}/partitions/"), (200,)),
    Case("partitions_yaml", get(f"{V}/partitions", "Accept: text/yaml"), (200,)),
    Case("partition_debug", get(f"{V}/partition/debug"), (200,)),
    Case("partition_long_slash", get(f"{V}/partition/long/"), (200,)),
    Case("partition_upper_case", get(f"{V}/partition/DEBUG"), (200,)),
    Case("partition_escaped", get(f"{V}/partition/%6Cong"), (200,)),
    Case("partition_yaml", get(f"{V}/partition/long", YAML), (200,)),
    Case("reservations", get(f"{V}/reservations"), (200,)),
    Case("reservations_slash", get(f"{V}/reservations/"), (200,)),
    Case("reservations_yaml", get(f"{V}/reservations", YAML), (200,)),
    Case("reservation_maint", get(f"{V}/reservation/maint"), (200,)),
    Case("reservation_upper_case", get(f"{V}/reservation/MAINT/"), (200,)),
    Case("partitions_update_time_past", get(f"{V}/partitions?update_time=0"), (200,)),
    Case("reservations_update_time_negative", get(f"{V}/reservations?update_time=-5"),
         (200,)),
    Case("licenses_update_time_ignored", get(f"{V}/licenses?update_time=abc"), (200,)),
    Case("pipelined", get(f"{V}/partitions") + get(f"{V}/reservations", YAML)
         + get(f"{V}/licenses"), (200, 200, 200)),
    # nothing changed since then: 304, no body, even for a name that matches nothing
    Case("partitions_not_modified", get(f"{V}/partitions?update_time={FUTURE}"), (304,)),
    Case("partition_not_modified", get(f"{V}/partition/debug?update_time={FUTURE}"), (304,)),
    Case("partition_unknown_not_modified",
         get(f"{V}/partition/nope?update_time={FUTURE}"), (304,)),
    Case("reservations_not_modified", get(f"{V}/reservations?update_time={FUTURE}"),
         (304,)),
    Case("reservation_unknown_not_modified",
         get(f"{V}/reservation/nope?update_time={FUTURE}"), (304,)),
    Case("not_modified_then_data",
         get(f"{V}/partitions?update_time={FUTURE}") + get(f"{V}/partitions"), (304, 200)),
]

# -- failures: slurmrestd's statuses and bodies, our error objects ---------------------------

ERRORS = ref("state_read_errors")
FAILURES = [
    Case("partition_unknown", get(f"{V}/partition/nope"), (500,), mask=("errors",),
         differences=(ERRORS,)),
    Case("partition_unknown_yaml", get(f"{V}/partition/nope", YAML), (500,),
         mask=("errors",), differences=(ERRORS,)),
    Case("reservation_unknown", get(f"{V}/reservation/nope"), (500,), mask=("errors",),
         differences=(ERRORS,)),
    Case("partitions_bad_update_time", get(f"{V}/partitions?update_time=abc"), (400,),
         mask=("errors",), differences=(ERRORS,)),
    Case("partition_empty_update_time", get(f"{V}/partition/debug?update_time="), (400,),
         mask=("errors",), differences=(ERRORS,)),
    Case("reservation_bad_update_time", get(f"{V}/reservation/maint?update_time=1e3"),
         (400,), mask=("errors",), differences=(ERRORS,)),
    Case("partition_method", request("DELETE", f"{V}/partition/debug"), (405,)),
    Case("reservations_method", request("POST", f"{V}/reservations", "Content-Length: 0"),
         (405,)),
    Case("licenses_body_on_get", request("GET", f"{V}/licenses", body=b"{}"), (400,)),
    Case("reservation_extra_segment", get(f"{V}/reservation/maint/x"), (404,)),
]


@pytest.mark.parametrize("case", SAME_DATA + FAILURES, ids=lambda case: case.name)
def test_conforms(case: Case) -> None:
    run_live(case)


def test_failures_say_what_went_wrong() -> None:
    """Where slurmrestd's errors differ (state_read_errors), ours name Slurm's error."""
    ref("state_read_errors")
    # one conversation each: slurmrestd closes after an error (errors_keep_alive)
    talks = [converse_both(get(f"{V}/{path}")) for path in (
        "partition/nope", "reservation/nope", "reservations?update_time=abc")]
    part, resv, bad = (load_body(ours.responses[0]) for ours, _ in talks)
    assert part["errors"] == [{"description": "Unable to find partition nope",
                               "error_number": 2000,
                               "error": "Invalid partition name specified",
                               "source": "slurm_load_partitions"}]
    assert resv["errors"][0]["error_number"] == 2053
    assert bad["errors"][0]["error_number"] == 9000
    part, resv, bad = (load_body(theirs.responses[0]) for _, theirs in talks)
    assert part["errors"] == [{"error": "Invalid partition name specified", "errno": 2000}]
    assert resv["errors"] == [{"error": "Requested reservation is invalid", "errno": 2053}]
    assert bad["errors"] == []


# -- partitions and reservations far from the defaults ------------------------------------

@pytest.fixture(scope="module")
def probes() -> Iterator[Probes]:
    with probe_objects() as made:
        yield made


def test_probe_objects_conform(probes: Probes) -> None:
    paths = [f"{V}/partitions", f"{V}/partition/{probes.partition}", f"{V}/reservations",
             *(f"{V}/reservation/{name}" for name in probes.reservations)]
    for path in paths:
        run_live(Case(f"probe {path}", get(path), (200,)))
        run_live(Case(f"probe {path} yaml", get(path, YAML), (200,)))


# -- diag: the same shape ---------------------------------------------------------------------

def shape(value: Any) -> Any:
    """Keys (in order) and value types, never the values; a list is the set of the shapes
    of its items."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return sorted({repr(shape(item)) for item in value})
    return type(value).__name__


def compare_shapes(ours: Conversation, theirs: Conversation, *masked: str) -> None:
    assert ours.statuses == theirs.statuses, f"{ours.describe()}\n{theirs.describe()}"
    for mine, yours in zip(ours.responses, theirs.responses, strict=True):
        assert media_type(mine) == media_type(yours)
        a, b = load_body(mine), load_body(yours)
        for key in masked:
            a.pop(key, None)
            b.pop(key, None)
        assert shape(a) == shape(b), f"ours:   {shape(a)}\ntheirs: {shape(b)}"


@pytest.mark.parametrize("accept", [None, "application/json", "text/yaml"])
def test_diag_has_slurmrestds_shape(accept: str | None) -> None:
    data = get(f"{V}/diag", f"Accept: {accept}") if accept else get(f"{V}/diag/")
    ours, theirs = converse_both(data)
    assert theirs.statuses == [200]
    compare_shapes(ours, theirs)
    mine, yours = (load_body(c.responses[0])["statistics"] for c in (ours, theirs))
    assert mine["rpcs_by_message_type"] and mine["rpcs_by_user"]
    # the values that cannot have moved in between are equal
    for key in ("parts_packed", "req_time_start", "gettimeofday_latency"):
        assert mine[key] == yours[key], key


@pytest.fixture
def unreachable_conf() -> Iterator[Path]:
    with unreachable_slurm_conf() as conf:
        yield conf


def test_diag_without_a_controller(unreachable_conf: Path) -> None:
    ref("state_read_errors")
    ours, theirs = converse_both(get(f"{V}/diag"), env=(("SLURM_CONF", str(unreachable_conf)),))
    assert theirs.statuses == [500]
    compare_shapes(ours, theirs, "errors")
    (mine,) = load_body(ours.responses[0])["errors"]
    assert (mine["error_number"], mine["source"]) == (1800, "slurm_get_statistics")
    assert load_body(theirs.responses[0])["errors"][0]["error_number"] == -1
