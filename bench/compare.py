"""slurmrest-stdio against Debian's slurmrestd, per connection, on the same request bytes.

Run as root on a host with the lab cluster (``tools/slurm-lab/setup.sh``) and the package
installed (``tools/install.sh``); ``bench/run.sh`` does both and then runs this file.

Every run is one connection the way inetd makes it: a fresh process of the program, as the
bench user, with stdin a pipe that user owns (so ``rest_auth/local`` accepts it on both
sides) and stdout a pipe this harness reads to the end. The wall time of a run is from
starting the process to having read all of its output and reaped it. Its peak RSS is
what GNU time (``/usr/bin/time -f %M``, which starts the program and is itself tiny)
reports: the kernel's ``ru_maxrss`` of the program, which also covers the Slurm commands
it ran and waited for (the largest process of the tree, not a sum). Measured here
directly, a child forked from this harness would inherit the harness's own size.

The two programs take turns (ours, slurmrestd, ours, ...) after a warm-up, so that a
change in the machine's load hits both alike. Every answer is checked (status codes of
every response); a case whose answers are wrong is reported as such, not timed.

Cases that need jobs make them as the bench user, held, and cancel them at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pwd
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

SLURMRESTD = "/usr/sbin/slurmrestd"
GNU_TIME = "/usr/bin/time"
OURS = "slurmrest-stdio"
V = "/slurm/v0.0.38"
DB = "/slurmdb/v0.0.38"
YAML = "application/x-yaml"
MARK = "zb_bench"
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")
LENGTH = re.compile(rb"(?im)^content-length: *(\d+)\r?$")


# -- one connection ------------------------------------------------------------------------

@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str


def account(name: str) -> Account:
    pw = pwd.getpwnam(name)
    return Account(pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_dir)


@contextlib.contextmanager
def effective(who: Account) -> Iterator[None]:
    """Take ``who``'s effective ids for a moment: a pipe made meanwhile belongs to them."""
    os.setegid(who.gid)
    os.seteuid(who.uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@dataclass(frozen=True)
class Sample:
    seconds: float
    max_rss_kib: int
    statuses: tuple[int, ...]
    output: bytes


def connect_once(argv: list[str], env: dict[str, str], data: bytes, who: Account,
                 timeout: float = 120.0) -> Sample:
    """One connection: start the program on a pipe ``who`` owns, send ``data``, read all."""
    with effective(who):
        read_end, write_end = os.pipe()
        rss_read, rss_write = os.pipe()  # GNU time writes the peak RSS here
    started = time.perf_counter()
    try:
        proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", f"/dev/fd/{rss_write}", *argv],
                                stdin=read_end, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, user=who.uid,
                                group=who.gid, extra_groups=[], cwd="/",
                                pass_fds=(rss_write,))
    finally:
        os.close(read_end)
        os.close(rss_write)
    with contextlib.suppress(BrokenPipeError):
        view = memoryview(data)
        while view:  # requests here are far below a pipe's buffer: no deadlock
            view = view[os.write(write_end, view):]
    os.close(write_end)
    assert proc.stdout is not None
    deadline = started + timeout
    chunks = []
    while chunk := proc.stdout.read(1 << 16):
        chunks.append(chunk)
        if time.perf_counter() > deadline:
            proc.kill()
            break
    proc.stdout.close()
    proc.wait()
    elapsed = time.perf_counter() - started
    with os.fdopen(rss_read, "rb") as rss:
        peak = int(rss.read().split()[-1])
    output = b"".join(chunks)
    return Sample(elapsed, peak, statuses_of(output), output)


def statuses_of(output: bytes) -> tuple[int, ...]:
    """The status of each response in ``output``, read one after another by their
    lengths (bodies do not end with a line break, so the next status line does not begin
    a line); reading stops at anything that is not a complete response."""
    statuses = []
    rest = output
    while rest:
        head, sep, after = rest.partition(b"\r\n\r\n")
        status = STATUS_LINE.match(head)
        if not sep or not status:
            break
        length = LENGTH.search(head)
        size = int(length[1]) if length else 0
        if len(after) < size:
            break
        statuses.append(int(status[1]))
        rest = after[size:]
    return tuple(statuses)


# -- the two programs ------------------------------------------------------------------------

def environment(who: Account) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": who.home,
           "USER": who.name}
    if "SLURM_CONF" in os.environ:
        env["SLURM_CONF"] = os.environ["SLURM_CONF"]
    return env


def programs(ours: str) -> dict[str, list[str]]:
    """Both with the same authentication: the client is the pipe's owner."""
    return {"slurmrest-stdio": [ours, "-a", "rest_auth/local"],
            "slurmrestd": [SLURMRESTD, "-a", "rest_auth/local"]}


# -- requests and cases ---------------------------------------------------------------------

def request(method: str, path: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", *headers]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(path: str, accept: str | None = None) -> bytes:
    return request("GET", path, *([f"Accept: {accept}"] if accept else []))


@dataclass
class Case:
    name: str
    data: Callable[[], bytes]
    expect: tuple[int, ...] = (200,)
    #: queue size this case needs (held jobs of the bench user); None: any
    queue: int | None = None
    #: called with each answer (e.g. to cancel submitted jobs)
    after: Callable[[bytes], None] | None = None
    #: run as root (an administrator of the accounting database): changes need one
    as_root: bool = False


@dataclass
class Result:
    case: str
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    problem: str = ""


# -- the queue --------------------------------------------------------------------------------

class Queue:
    """Held jobs of the bench user, made in bulk and removed at the end.

    A pending array is one job record until its tasks are touched one by one: an
    ``update`` of each task (one scontrol process reading them all on stdin) splits every
    task into a job record of its own, which is what a busy queue looks like to squeue and
    to slurmrestd.
    """

    def __init__(self, who: Account) -> None:
        self.who = who
        self.arrays: list[str] = []

    def _as_user(self, *argv: str, stdin: str | None = None) -> str:
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600,
                             user=self.who.uid, group=self.who.gid, extra_groups=[],
                             cwd="/", env=environment(self.who), input=stdin)
        return out.stdout

    def count(self) -> int:
        out = self._as_user("squeue", "-h", "-r", "-o", "%i")
        return len(out.split())

    def grow_to(self, size: int) -> None:
        missing = size - self.count()
        while missing > 0:
            chunk = min(missing, 2000)  # the lab's MaxArraySize is 2001
            job = self._as_user("sbatch", "--parsable", "--hold", f"--job-name={MARK}",
                                "--output=/dev/null", f"--array=0-{chunk - 1}",
                                "--wrap=true").strip().split(";")[0]
            self._as_user("scontrol", stdin="".join(
                f"update jobid={job}_{task} comment={MARK}\n" for task in range(chunk)))
            self.arrays.append(job)
            missing -= chunk
        if missing < 0:
            raise SystemExit(f"the queue already holds {size - missing} jobs, more than "
                             f"the {size} this case needs: empty it first")

    def settled(self, most: int = 100, patience: float = 420.0) -> None:
        """Wait until slurmctld holds at most ``most`` job records: finished and cancelled
        jobs stay listed for MinJobAge (300 s by default), and an earlier run's 10,000
        would weigh on the small cases."""
        deadline = time.monotonic() + patience
        while True:
            records = len(json.loads(self._as_user("squeue", "--json"))["jobs"])
            if records <= most or time.monotonic() > deadline:
                return
            print(f"waiting for slurmctld to forget {records} finished jobs ...",
                  file=sys.stderr, flush=True)
            time.sleep(15)

    def a_finished_job(self) -> str:
        """A job of the bench user that the accounting database has (the newest)."""
        out = self._as_user("sacct", "-n", "-X", "-P", "-u", self.who.name, "-S",
                            "2000-01-01", "-o", "jobid")
        ids = [line.split("_")[0] for line in out.split() if line.split("_")[0].isdigit()]
        if not ids:
            raise SystemExit(f"{self.who.name} has no job in the accounting database")
        return ids[-1]

    def a_job(self) -> str:
        out = self._as_user("squeue", "-h", "-u", self.who.name, "-n", MARK, "-o", "%A")
        return out.split()[0]

    def cancel_everything(self) -> None:
        self._as_user("scancel", "-u", self.who.name, "-n", MARK)
        for _ in range(600):
            if not self._as_user("squeue", "-h", "-u", self.who.name, "-n", MARK):
                return
            time.sleep(0.1)


def cancel_submitted(answer: bytes) -> None:
    found = re.search(rb'"job_id": (\d+)', answer)
    if found:
        subprocess.run(["scancel", found[1].decode()], check=False, timeout=60,
                       capture_output=True)


SUBMIT = json.dumps({
    "job": {"name": MARK, "hold": True, "partition": "debug", "current_working_directory": "/",
            "environment": {"PATH": "/usr/bin:/bin"}, "standard_output": "/dev/null"},
    "script": "#!/bin/sh\ntrue\n"}).encode()


def round_trip(kind: str, name: str, item: dict[str, object], path: str,
               key: str | None = None) -> bytes:
    """POST ``{key or kind: [item]}`` to ``kind``, then DELETE ``path``/``name``, in one
    connection: what a write case sends (it leaves the database as it found it)."""
    body = json.dumps({key or kind: [item]}).encode()
    return (request("POST", f"{DB}/{kind}", body=body)
            + request("DELETE", f"{DB}/{path}/{name}"))


#: the objects the write cases add and remove again
BENCH_ACCOUNT, BENCH_QOS, BENCH_USER = "zb_bench_acct", "zb_bench_qos", "zb_bench_u"
WRITES = [
    ("account", round_trip("accounts", BENCH_ACCOUNT, {
        "name": BENCH_ACCOUNT, "description": "bench", "organization": "bench"}, "account")),
    ("QOS", round_trip("qos", BENCH_QOS, {
        "name": BENCH_QOS, "description": "bench", "priority": 5}, "qos", key="QOS")),
    ("user and association", round_trip("users", BENCH_USER, {
        "name": BENCH_USER, "default": {"account": "physics"},
        "associations": [{"account": "physics", "cluster": "lab", "user": BENCH_USER}]},
        "user")),
]


def slurmdb_cases(queue: Queue) -> list[Case]:
    """Every GET of /slurmdb/v0.0.38/ (as the bench user where slurmdbd lets a plain user
    read it, else as root) and changes (as root)."""
    who = queue.who.name
    finished = lambda: get(f"{DB}/job/{queue.a_finished_job()}")  # noqa: E731
    reads = [
        ("users", f"{DB}/users"), ("user/{name}", f"{DB}/user/{who}"),
        ("account/{name}", f"{DB}/account/physics"), ("associations", f"{DB}/associations"),
        ("association", f"{DB}/association?account=research&user={who}"),
        ("qos", f"{DB}/qos"), ("qos/{name}", f"{DB}/qos/normal"), ("tres", f"{DB}/tres"),
        ("clusters", f"{DB}/clusters"), ("cluster/{name}", f"{DB}/cluster/lab"),
    ]
    # slurmdbd gives these to an administrator only (a plain user gets a 500 from both)
    admin_reads = [("wckeys", f"{DB}/wckeys"), ("config", f"{DB}/config"),
                   ("diag", f"{DB}/diag")]
    def getter(path: str) -> Callable[[], bytes]:
        return lambda: get(path)

    def constant(data: bytes) -> Callable[[], bytes]:
        return lambda: data

    return [
        *(Case(f"slurmdb {name}", getter(path), queue=10) for name, path in reads),
        *(Case(f"slurmdb {name} (root)", getter(path), queue=10, as_root=True)
          for name, path in admin_reads),
        Case("slurmdb job/{id}", finished, queue=10),
        *(Case(f"slurmdb POST+DELETE {what} (root)", constant(data),
               expect=(200, 200), queue=10, as_root=True) for what, data in WRITES),
    ]


def cases(queue: Queue) -> list[Case]:
    one_job = lambda: get(f"{V}/job/{queue.a_job()}")  # noqa: E731
    pipelined = [f"{V}/ping", f"{V}/partitions", f"{V}/nodes", f"{V}/ping"] * 5
    return [
        Case("ping", lambda: get(f"{V}/ping"), queue=10),
        Case("jobs, 10 in the queue", lambda: get(f"{V}/jobs"), queue=10),
        Case("jobs, 10, YAML", lambda: get(f"{V}/jobs", YAML), queue=10),
        Case("job/{id}", one_job, queue=10),
        Case("nodes", lambda: get(f"{V}/nodes"), queue=10),
        Case("nodes, YAML", lambda: get(f"{V}/nodes", YAML), queue=10),
        Case("partitions", lambda: get(f"{V}/partitions"), queue=10),
        Case("diag", lambda: get(f"{V}/diag"), queue=10),
        Case("OpenAPI spec", lambda: get("/openapi/v3"), queue=10),
        Case("slurmdb accounts", lambda: get(f"{DB}/accounts"), queue=10),
        Case("slurmdb accounts, YAML", lambda: get(f"{DB}/accounts", YAML), queue=10),
        Case("slurmdb jobs", lambda: get(f"{DB}/jobs"), queue=10),
        *slurmdb_cases(queue),
        Case("20 pipelined requests", lambda: b"".join(get(p) for p in pipelined),
             expect=(200,) * 20, queue=10),
        Case("job/submit", lambda: request("POST", f"{V}/job/submit", body=SUBMIT),
             queue=10, after=cancel_submitted),
        Case("jobs, 1,000 in the queue", lambda: get(f"{V}/jobs"), queue=1000),
        Case("jobs, 10,000 in the queue", lambda: get(f"{V}/jobs"), queue=10000),
        Case("jobs, 10,000, YAML", lambda: get(f"{V}/jobs", YAML), queue=10000),
    ]


# -- running and reporting ---------------------------------------------------------------------

def measure(case: Case, argvs: dict[str, list[str]], who: Account, runs: int,
            warmup: int) -> Result:
    result = Result(case.name, {name: [] for name in argvs})
    if case.as_root:
        who = account("root")
    env = environment(who)
    if case.as_root:
        env["SLURMRESTD_SECURITY"] = "disable_user_check"  # both refuse root otherwise
    for turn in range(warmup + runs):
        for name, argv in argvs.items():
            sample = connect_once(argv, env, case.data(), who)
            if case.after:
                case.after(sample.output)
            if sample.statuses != case.expect:
                result.problem = (f"{name} answered {list(sample.statuses)}, expected "
                                  f"{list(case.expect)}: {sample.output[:200]!r}")
                return result
            if turn >= warmup:  # the output itself is not kept (10,000 jobs are big)
                result.samples[name].append(replace(sample, output=b""))
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def summary(result: Result) -> str:
    """One markdown row: median (p25-p75) per program, the ratio, peak RSS of each."""
    if result.problem:
        return f"| {result.case} | wrong answer: {result.problem} | | | | |"
    cells = []
    medians = {}
    rss = {}
    for name, samples in result.samples.items():
        times = sorted(s.seconds for s in samples)
        quartiles = statistics.quantiles(times, n=4)
        medians[name] = statistics.median(times)
        cells.append(f"{_ms(medians[name])} ({_ms(quartiles[0])}-{_ms(quartiles[2])})")
        rss[name] = max(s.max_rss_kib for s in samples) / 1024
    ratio = medians["slurmrest-stdio"] / medians["slurmrestd"]
    return (f"| {result.case} | {cells[0]} | {cells[1]} | {ratio:.2f} | "
            f"{rss['slurmrest-stdio']:.1f} | {rss['slurmrestd']:.1f} |")


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    version = subprocess.run(["sinfo", "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
            f"Python {platform.python_version()} (harness), {version}")


def table(results: list[Result], runs: int, warmup: int) -> str:
    head = [
        f"Wall time per connection in ms: median (p25-p75) of {runs} runs each after "
        f"{warmup} warm-up runs, the two programs taking turns; ratio = slurmrest-stdio / "
        "slurmrestd (below 1.0: we are faster); peak RSS in MiB (largest process of the "
        "connection, Slurm commands included).",
        "",
        f"Machine: {machine()}. {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| case | slurmrest-stdio ms | slurmrestd ms | ratio | RSS ours MiB | "
        "RSS slurmrestd MiB |",
        "|---|---|---|---|---|---|",
    ]
    return "\n".join(head + [summary(r) for r in results]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per program")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--user", default="alice", help="the client (a Slurm user)")
    parser.add_argument("--ours", default="/usr/local/bin/slurmrest-stdio")
    parser.add_argument("--only", action="append", default=[],
                        help="run the cases whose name contains this (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("bench/results.md"))
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("run as root: each connection is started as --user", file=sys.stderr)
        return 2
    if args.runs < 4:
        print("--runs: at least 4", file=sys.stderr)
        return 2
    who = account(args.user)
    queue = Queue(who)
    wanted = [c for c in cases(queue) if not args.only or any(w in c.name for w in args.only)]
    results = []
    queue.settled()
    try:
        for case in sorted(wanted, key=lambda c: c.queue or 0):
            if case.queue is not None:
                queue.grow_to(case.queue)
            print(f"{case.name} ...", file=sys.stderr, flush=True)
            results.append(measure(case, programs(args.ours), who, args.runs, args.warmup))
    finally:
        queue.cancel_everything()
    order = [c.name for c in wanted]
    results.sort(key=lambda r: order.index(r.case))
    text = table(results, args.runs, args.warmup)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 1 if any(r.problem for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
