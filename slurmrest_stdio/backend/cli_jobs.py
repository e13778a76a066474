"""Jobs as slurmctld knows them: ``squeue --json`` (and ``--yaml``), passed through.

On Slurm 22.05 ``squeue --json`` does not format anything itself: it runs the handler that
slurmrestd runs for ``GET /slurm/v0.0.38/jobs`` (every job, loaded with SHOW_ALL and
SHOW_DETAIL) and prints that handler's answer, so its bytes are slurmrestd's body. In that
mode squeue ignores every filter (``--all``, ``--jobs``, ``--user``, ...), so the command
line is always just ``squeue --json`` and no client value ever reaches it.

One job (``GET job/{job_id}``) is picked out of that document the way slurmctld answers a
single-job load, so that the records and their order are the ones slurmrestd prints:

* a heterogeneous job's leader brings every component, in component order;
* a job array's id brings the record with that id first, then every task record of the
  array, most recently split first (slurmctld walks its array hash chain, which grows at
  the head);
* any other id brings that record alone.

``squeue --yaml`` likewise prints slurmrestd's YAML byte for byte. It is not the JSON in
another syntax: a string Slurm does not have is ``null`` there and ``""`` in the JSON, so
YAML is asked of Slurm, never converted from the JSON. One job is then picked out of the
YAML text: a record is the lines from one ``- `` at the start of a line to the next (record
fields are indented, and so is every continuation line of a scalar), and the few integers
the pick needs are on lines of their own.

Helpers shared with ``cli_nodes`` live here too: reading a document that a Slurm command
printed in the v0.0.38 shape, turning the errors inside it into envelope errors, and
cutting a YAML document into its records.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore, Outcome, slurm_error
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

#: Slurm's ESLURM_INVALID_JOB_ID
INVALID_JOB_ID = SlurmError("Invalid job id specified", 2017)
#: the largest job id there can be (job ids are unsigned 32-bit numbers)
MAX_JOB_ID = 0xFFFFFFFF
#: how json-c writes an empty ``errors`` list right after ``meta``; seeing it near the top
#: of a document means there is nothing to report without parsing the (large) document
_NO_ERRORS = b'\n  "errors": [\n  ],\n'
#: how far into a document ``errors`` can start (``meta`` comes first and is short)
_ERRORS_WITHIN = 4096


#: how Slurm's YAML writes an empty ``errors`` list
_YAML_NO_ERRORS = b"\n!!str errors: !!seq []\n"
#: per format: how the document starts, and how it says "no errors"
_FORMATS = {"json": (b"{", _NO_ERRORS), "yaml": (b"%YAML", _YAML_NO_ERRORS)}


def read_document(out: Outcome, source: str, description: str, fmt: str = "json") -> bytes:
    """The v0.0.38 document a Slurm command printed (``squeue --json``, ``sinfo --json``,
    or their ``--yaml``: slurmrestd's YAML with version directive and explicit tags when
    ``fmt`` is "yaml"), checked: returned as printed when its ``errors`` list is empty.

    ``source`` and ``description`` fill what an error inside the document does not say
    (``sinfo`` reports ``{"error", "errno"}`` only).

    Raises:
        SlurmCommandError: the command failed, printed no such document, or the document
            reports errors (500, like slurmrestd, with those errors).
    """
    start, clean = _FORMATS[fmt]
    body = out.stdout
    if out.returncode != 0 or not body.startswith(start):
        raise SlurmCommandError([slurm_error(out.stderr, source, default=description)])
    if body.find(clean, 0, _ERRORS_WITHIN) >= 0:
        return body
    from slurmrest_stdio import codec
    from slurmrest_stdio.errors import BadRequest

    try:
        # only a failure is read in full: such a document is short
        doc = json.loads(body) if fmt == "json" else codec.decode(body, "yaml")
        reported = doc["errors"]
        if not isinstance(reported, list):
            raise TypeError("errors is not a list")
    except (ValueError, BadRequest, KeyError, TypeError) as exc:
        raise SlurmCommandError([SlurmError(
            "Unspecified error", -1, f"unreadable output of {source}: {exc}", source,
        )]) from exc
    if not reported:
        return body
    raise SlurmCommandError([_envelope_error(e, source, description) for e in reported])


def read_yaml_document(out: Outcome, source: str, description: str) -> bytes:
    """:func:`read_document` for YAML."""
    return read_document(out, source, description, "yaml")


def yaml_records(body: bytes, key: str) -> tuple[bytes, list[bytes], bytes]:
    """Cut Slurm's YAML document into (everything before the records of list ``key``, each
    record's text, everything after). With no records the first part is the document.

    Raises:
        ValueError: the document does not have the layout Slurm writes.
    """
    marker = b"\n!!str " + key.encode() + b": !!seq\n"
    start = body.find(marker)
    if start < 0:
        if b"\n!!str " + key.encode() + b": !!seq []\n" in body:
            return body, [], b""
        raise ValueError(f"no {key} list in the YAML document")
    head_end = start + len(marker)
    end = len(body) - len(b"...\n") if body.endswith(b"\n...\n") else len(body)
    text = body[head_end:end]
    if not text.startswith(b"- "):
        raise ValueError(f"the {key} list does not start with a record")
    starts = [m.start() for m in re.finditer(rb"(?m)^- ", text)]
    records = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    return body[:head_end], records, body[end:]


#: the record fields a job pick needs, as Slurm's YAML writes them (a top level line)
_YAML_JOB_FIELD = re.compile(
    rb"(?m)^  !!str (job_id|array_job_id|array_task_id|het_job_id): "
    rb"!!(?:int (-?[0-9]+)|null null)$"
)


def _yaml_job_fields(record: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for m in _YAML_JOB_FIELD.finditer(record):
        fields.setdefault(m[1].decode(), None if m[2] is None else int(m[2]))
    return fields


def _envelope_error(entry: Any, source: str, description: str) -> SlurmError:
    if not isinstance(entry, dict):
        return SlurmError("Unspecified error", -1, str(entry), source)
    number = entry.get("error_number", entry.get("errno", -1))
    return SlurmError(
        str(entry.get("error") or "Unspecified error"),
        number if isinstance(number, int) else -1,
        str(entry.get("description") or description),
        str(entry.get("source") or source),
    )


def select_job(jobs: list[dict[str, Any]], job_id: int) -> list[dict[str, Any]]:
    """The records a load of the single job ``job_id`` gives, out of every job's records
    (in slurmctld's list order, as ``squeue --json`` prints them); empty when none."""
    if job_id == 0:
        return []
    head = next((job for job in jobs if job.get("job_id") == job_id), None)
    if head is not None and head.get("het_job_id") == job_id:
        return [job for job in jobs if job.get("het_job_id") == job_id]
    tasks = [job for job in jobs
             if job.get("array_job_id") == job_id and job.get("job_id") != job_id]
    tasks.reverse()
    return ([head] if head is not None else []) + tasks


def valid_job_number(job_id: str) -> bool:
    """A job id in canonical form: decimal digits, 1 to :data:`MAX_JOB_ID`."""
    return job_id.isascii() and job_id.isdigit() and 0 < int(job_id) <= MAX_JOB_ID


def not_found(job_id: str) -> SlurmCommandError:
    return SlurmCommandError([SlurmError(
        INVALID_JOB_ID.error, INVALID_JOB_ID.error_number, f"Unable to find JobId={job_id}",
        "slurm_load_job",
    )])


class JobsCli(CliCore):
    def jobs_yaml(self, who: Identity, job_id: str | None = None) -> bytes:
        """As :meth:`jobs_json`, in slurmrestd's YAML (``squeue --yaml``).

        Raises:
            SlurmCommandError: as :meth:`jobs_json`.
        """
        if job_id is not None and not valid_job_number(job_id):
            raise ValueError(f"not a job number: {job_id!r}")
        out = self.run(["squeue", "--yaml"], who, enveloped=False)
        body = read_yaml_document(out, "slurm_load_jobs", "Failed while looking for jobs")
        if job_id is None:
            return body
        try:
            head, records, tail = yaml_records(body, "jobs")
        except ValueError as exc:
            raise SlurmCommandError([SlurmError(
                "Unspecified error", -1, f"unreadable output of squeue --yaml: {exc}",
                "slurm_load_job",
            )]) from exc
        fields = [{**_yaml_job_fields(r), "record": i} for i, r in enumerate(records)]
        picked = select_job(fields, int(job_id))
        if not picked:
            raise not_found(job_id)
        return head + b"".join(records[f["record"]] for f in picked) + tail

    def jobs_json(self, who: Identity, job_id: str | None = None) -> bytes:
        if job_id is not None and not valid_job_number(job_id):
            raise ValueError(f"not a job number: {job_id!r}")
        out = self.run(["squeue", "--json"], who, enveloped=False)
        body = read_document(out, "slurm_load_jobs", "Failed while looking for jobs")
        if job_id is None:
            return body
        from slurmrest_stdio.codec import dump_json

        doc = json.loads(body)
        picked = select_job(doc["jobs"], int(job_id))
        if not picked:
            raise not_found(job_id)
        doc["jobs"] = picked
        return dump_json(doc).encode("utf-8")
