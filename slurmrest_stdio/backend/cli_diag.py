"""Controller-wide reads: ``scontrol ping``, ``sdiag``, ``scontrol show licenses``."""

from __future__ import annotations

import re
from typing import Any

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.base import ControllerPing
from slurmrest_stdio.backend.cli_partitions import parse_oneliner
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

_PING_LINE = re.compile(r"^Slurmctld\((?P<mode>[^)]*)\) at (?P<host>\S+) is (?P<state>UP|DOWN)$")

# -- sdiag's text -------------------------------------------------------------------------

#: the section headings of sdiag's report, by the words they start with
_SECTIONS = {
    "Main schedule statistics": "main",
    "Backfilling stats": "backfill",
    "Remote Procedure Call statistics by message type": "rpc_type",
    "Remote Procedure Call statistics by user": "rpc_user",
    "Pending RPC statistics": "other",
    "Pending RPCs": "other",
}
#: (section, label before the colon) -> slurmctld's name for the value
_LABELS = {
    ("top", "Server thread count"): "server_thread_count",
    ("top", "Agent queue size"): "agent_queue_size",
    ("top", "Agent count"): "agent_count",
    ("top", "Agent thread count"): "agent_thread_count",
    ("top", "DBD Agent queue size"): "dbd_agent_queue_size",
    ("top", "Jobs submitted"): "jobs_submitted",
    ("top", "Jobs started"): "jobs_started",
    ("top", "Jobs completed"): "jobs_completed",
    ("top", "Jobs canceled"): "jobs_canceled",
    ("top", "Jobs failed"): "jobs_failed",
    ("top", "Job states ts"): "job_states_ts",
    ("top", "Jobs pending"): "jobs_pending",
    ("top", "Jobs running"): "jobs_running",
    ("main", "Last cycle"): "schedule_cycle_last",
    ("main", "Max cycle"): "schedule_cycle_max",
    ("main", "Total cycles"): "schedule_cycle_total",
    ("main", "Mean cycle"): "schedule_cycle_mean",
    ("main", "Mean depth cycle"): "schedule_cycle_mean_depth",
    ("main", "Cycles per minute"): "schedule_cycle_per_minute",
    ("main", "Last queue length"): "schedule_queue_length",
    ("backfill", "Total backfilled jobs (since last slurm start)"): "bf_backfilled_jobs",
    ("backfill", "Total backfilled jobs (since last stats cycle start)"):
        "bf_last_backfilled_jobs",
    ("backfill", "Total backfilled heterogeneous job components"): "bf_backfilled_het_jobs",
    ("backfill", "Total cycles"): "bf_cycle_counter",
    ("backfill", "Last cycle when"): "bf_when_last_cycle",
    ("backfill", "Last cycle"): "bf_cycle_last",
    ("backfill", "Max cycle"): "bf_cycle_max",
    ("backfill", "Mean cycle"): "bf_cycle_mean",
    ("backfill", "Last depth cycle"): "bf_last_depth",
    ("backfill", "Last depth cycle (try sched)"): "bf_last_depth_try",
    ("backfill", "Depth Mean"): "bf_depth_mean",
    ("backfill", "Depth Mean (try depth)"): "bf_depth_mean_try",
    ("backfill", "Last queue length"): "bf_queue_len",
    ("backfill", "Queue length mean"): "bf_queue_len_mean",
    ("backfill", "Last table size"): "bf_table_size",
    ("backfill", "Mean table size"): "bf_table_size_mean",
}
# patterns as text, compiled (and cached by re) on first use: not on every start-up
_STAMPED = r"^(?P<label>sdiag output at|Data since)\b.*\((?P<value>-?\d+)\)$"
_LATENCY = r"^Latency for 1000 calls to gettimeofday\(\): (?P<value>-?\d+)"
_LABELLED = r"^(?P<label>[^:]+?):\s*(?P<value>.*)$"
_NUMBER = r"-?\d+"
_TRAILING_STAMP = r"\((-?\d+)\)$"
_RPC = (
    r"^(?P<name>.+?)\s*\(\s*(?P<id>\d+)\)\s+count:(?P<count>\d+)\s+"
    r"ave_time:(?P<ave>\d+)\s+total_time:(?P<total>\d+)$"
)


def parse_sdiag(text: str) -> dict[str, Any]:
    """sdiag's report as slurmctld's named statistics (the v0.0.38 names): integers,
    ``bf_active``, and the two RPC tables as lists of dicts. Values sdiag leaves out
    (means of zero cycles, cycles per minute in the first minute) are absent.

    Raises:
        ValueError: the text is not an sdiag report.
    """
    stats: dict[str, Any] = {
        "bf_active": False, "rpcs_by_message_type": [], "rpcs_by_user": [],
    }
    section = "top"
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("*****"):
            continue
        heading = next((name for words, name in _SECTIONS.items() if line.startswith(words)),
                       None)
        if heading is not None:
            section = heading
            if heading == "backfill":
                # the heading carries a warning while a backfill cycle is running
                stats["bf_active"] = "WARNING" in line
            continue
        if m := re.match(_STAMPED, line):
            key = "req_time" if m["label"] == "sdiag output at" else "req_time_start"
            stats[key] = int(m["value"])
        elif m := re.match(_LATENCY, line):
            stats["gettimeofday_latency"] = int(m["value"])
        elif section in ("rpc_type", "rpc_user"):
            if m := re.match(_RPC, line):
                stats["rpcs_by_message_type" if section == "rpc_type" else "rpcs_by_user"
                      ].append(_rpc_entry(section, m))
        elif (m := re.match(_LABELLED, line)) and (section, m["label"]) in _LABELS:
            stats[_LABELS[section, m["label"]]] = _value(m["value"])
    if "req_time" not in stats:
        raise ValueError("no 'sdiag output at' line")
    return stats


def _value(text: str) -> int:
    # "Sun Nov 22 01:08:14 2026 (1795309694)" -> the stamp; "N/A" (no cycle yet) -> 0
    stamp = re.search(_TRAILING_STAMP, text)
    if stamp:
        return int(stamp.group(1))
    number = re.match(_NUMBER, text)
    return int(number.group(0)) if number else 0


def _rpc_entry(section: str, m: re.Match[str]) -> dict[str, Any]:
    if section == "rpc_type":
        return {"message_type": m["name"], "type_id": int(m["id"]), "count": int(m["count"]),
                "average_time": int(m["ave"]), "total_time": int(m["total"])}
    return {"user": m["name"], "user_id": int(m["id"]), "count": int(m["count"]),
            "average_time": int(m["ave"]), "total_time": int(m["total"])}


# -- license order --------------------------------------------------------------------------

_LICENSES_LINE = r"(?m)^Licenses\s*=\s*(?P<value>.*)$"


def controller_order(records: list[dict[str, str]], configured: str) -> list[dict[str, str]]:
    """Put scontrol's licenses (sorted by name) in slurmctld's own order, the order
    slurmrestd lists them in: slurmctld builds its list from slurm.conf's ``Licenses=``
    by pushing each new name to the front (so the configured order reversed); licenses
    from slurmdbd (remote, ``name@server``) are pushed to the front as they arrive, which
    no command shows, so they come first, in reverse name order."""
    names: list[str] = []
    for item in configured.replace(";", ",").split(","):
        name = item.split(":", 1)[0].strip()
        if name and name not in names:
            names.insert(0, name)
    rank = {name: i for i, name in enumerate(names)}
    remote = [r for r in records if r.get("Remote") == "yes"]
    local = [r for r in records if r.get("Remote") != "yes"]
    local.sort(key=lambda r: rank.get(r.get("LicenseName", ""), len(rank)))
    return remote[::-1] + local


class DiagCli(CliCore):
    def ping(self, who: Identity) -> list[ControllerPing]:
        out = self.run(["scontrol", "ping"], who)
        pings = []
        for line in out.stdout.decode("utf-8", "replace").splitlines():
            m = _PING_LINE.match(line.strip())
            if m:
                up = m["state"] == "UP"
                pings.append(ControllerPing(m["host"], m["state"], 0 if up else -1, m["mode"]))
        if not any(p.ping == "UP" for p in pings):
            # slurmrestd loads the controller's config first and fails the same way
            raise SlurmCommandError(
                [slurm_error(out.stderr, "slurm_load_ctl_conf",
                             default="slurmctld config is unable to load")]
            )
        return pings

    def diag(self, who: Identity) -> dict[str, Any]:
        out = self.run(["sdiag"], who)
        if out.returncode != 0:
            raise SlurmCommandError(
                [slurm_error(out.stderr, "slurm_get_statistics", default="request failed")]
            )
        try:
            return parse_sdiag(out.stdout.decode("utf-8", "replace"))
        except ValueError as exc:
            raise SlurmCommandError([SlurmError(
                "Unspecified error", -1, f"cannot read sdiag's report: {exc}",
                "slurm_get_statistics",
            )]) from None

    def licenses(self, who: Identity) -> list[dict[str, str]]:
        out = self.run(["scontrol", "--oneliner", "show", "licenses"], who)
        if out.returncode != 0:
            raise SlurmCommandError([slurm_error(
                out.stderr, "slurm_load_licenses", default="slurmctld unable to load licenses"
            )])
        records = parse_oneliner(out.stdout.decode("utf-8", "replace"), "LicenseName")
        if len(records) < 2:
            return records
        # scontrol sorts by name; slurmctld's order needs the configured list
        conf = self.run(["scontrol", "show", "config"], who)
        m = re.search(_LICENSES_LINE, conf.stdout.decode("utf-8", "replace"))
        if conf.returncode != 0 or m is None:
            return records
        return controller_order(records, m["value"])
