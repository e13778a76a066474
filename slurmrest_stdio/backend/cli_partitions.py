"""Partitions: ``scontrol --all --oneliner show partition``.

Also home of :func:`parse_oneliner`, the reader of ``scontrol ... --oneliner`` text that
the licenses and reservations reads share.
"""

from __future__ import annotations

import re

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: a ``Key=`` that starts a new field: whitespace, then a CamelCase word and "=". Values
#: may hold "=" (``TRES=cpu=4``) and commas, but never whitespace followed by such a word.
_FIELD_START = r"\s+(?=[A-Z][A-Za-z]*=)"

#: Slurm's ESLURM_INVALID_PARTITION_NAME
INVALID_PARTITION_NAME = SlurmError("Invalid partition name specified", 2000)


def parse_oneliner(text: str, first_key: str) -> list[dict[str, str]]:
    """``Key=value`` records from ``scontrol --oneliner`` output, one per line that starts
    with ``first_key=`` (other lines, such as "No partitions in the system", are not
    records). A key that occurs more than once in a line (a reservation's per-node
    ``NodeName=``/``CoreIDs=`` pairs) keeps every value, joined with ","."""
    records = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith(first_key + "="):
            continue
        record: dict[str, str] = {}
        for field in re.split(_FIELD_START, line):
            key, _, value = field.partition("=")
            record[key] = f"{record[key]},{value}" if key in record else value
        records.append(record)
    return records


def not_found(error: SlurmError, description: str, source: str) -> SlurmCommandError:
    """The error slurmrestd answers (500) for a name that matches nothing."""
    return SlurmCommandError(
        [SlurmError(error.error, error.error_number, description, source)], status=500
    )


class PartitionsCli(CliCore):
    def partitions(self, who: Identity, name: str | None = None) -> list[dict[str, str]]:
        # --all: hidden partitions and those the client may not use too, as slurmrestd
        # (SHOW_ALL) lists them. The name never reaches the command line: slurmrestd
        # matches it without regard to case, scontrol would not.
        out = self.run(["scontrol", "--all", "--oneliner", "show", "partition"], who)
        if out.returncode != 0:
            raise SlurmCommandError([slurm_error(out.stderr, "slurm_load_partitions")])
        records = parse_oneliner(out.stdout.decode("utf-8", "replace"), "PartitionName")
        if name is None:
            return records
        found = [r for r in records if r["PartitionName"].lower() == name.lower()]
        if not found:
            raise not_found(INVALID_PARTITION_NAME, f"Unable to find partition {name}",
                            "slurm_load_partitions")
        return found
