"""Reservations: ``scontrol --oneliner show reservation``.

scontrol prints start and end times as local time (``2026-11-29T00:41:51``) in the zone of
the command, which runs without ``TZ`` and so in the system zone (``/etc/localtime``).
They are turned back into Unix seconds here, where that zone is known, so the records
read as if ``SLURM_TIME_FORMAT=%s`` had been in effect.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.cli_partitions import not_found, parse_oneliner
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

if TYPE_CHECKING:
    import datetime as dt

#: Slurm's ESLURM_RESERVATION_INVALID
RESERVATION_INVALID = SlurmError("Requested reservation is invalid", 2053)
#: where glibc finds the zone of a process without TZ
LOCALTIME = "/etc/localtime"
#: what scontrol prints for a time of 0 (or INFINITE) and for NO_VAL
_SPECIAL_TIMES = {"Unknown": 0, "None": 0xFFFFFFFE}
_TIME_KEYS = ("StartTime", "EndTime")


@functools.cache
def system_zone() -> dt.tzinfo:
    """The zone a Slurm command without ``TZ`` prints local times in (UTC without one)."""
    # imported here: only reservation reads need them, not every request's start-up
    import datetime as dt
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        with open(LOCALTIME, "rb") as f:
            return ZoneInfo.from_file(f)
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return dt.UTC


def unix_time(text: str, zone: dt.tzinfo) -> int:
    """Unix seconds from scontrol's default time format, read in ``zone``.

    Raises:
        ValueError: not a time scontrol prints.
    """
    import datetime as dt

    if text in _SPECIAL_TIMES:
        return _SPECIAL_TIMES[text]
    local = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    return int(local.replace(tzinfo=zone).timestamp())


class ReservationsCli(CliCore):
    def reservations(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        # the name is matched here, without regard to case, as slurmrestd does
        out = self.run(["scontrol", "--oneliner", "show", "reservation"], who)
        if out.returncode != 0:
            raise SlurmCommandError([slurm_error(out.stderr, "slurm_load_reservations")])
        records = parse_oneliner(out.stdout.decode("utf-8", "replace"), "ReservationName")
        if name is not None:
            records = [r for r in records if r["ReservationName"].lower() == name.lower()]
            if not records:
                raise not_found(RESERVATION_INVALID, f"Unable to find reservation {name}",
                                "slurm_load_reservations")
        zone = system_zone()
        for record in records:
            for key in _TIME_KEYS:
                if key in record:
                    try:
                        record[key] = str(unix_time(record[key], zone))
                    except ValueError:
                        raise SlurmCommandError([SlurmError(
                            "Unspecified error", -1,
                            f"cannot read {key}={record[key]!r} from scontrol",
                            "slurm_load_reservations",
                        )]) from None
        return records
