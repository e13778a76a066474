"""The slurmdbd relay (backend/dbdrelay.py) against a stand-in slurmdbd on loopback.

The stand-in speaks only the framing slurmdbd uses (a 4-byte big-endian length, then the
message, whose first 16 bits are its type) and answers each message with a PERSIST_RC.
That the real sacct and sacctmgr give the same answers through the relay as without it
is tested on the cluster (tests/cluster/test_dbdrelay.py).
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend import dbdrelay
from slurmrest_stdio.backend.dbdrelay import DbdAddress, DbdRelay, closing_rc, dbd_address
from slurmrest_stdio.backend.slurmcli import SlurmCli
from slurmrest_stdio.config import Config
from slurmrest_stdio.errors import SlurmCommandError

ALICE = Identity("alice", 1001, "rest_auth/local")
PERSIST_RC = 1433


def message(mtype: int, body: bytes = b"") -> bytes:
    inner = mtype.to_bytes(2, "big") + body
    return len(inner).to_bytes(4, "big") + inner


def rc_message(rc: int, comment: bytes | None = None) -> bytes:
    text = b"" if comment is None else comment + b"\0"
    return message(PERSIST_RC, len(text).to_bytes(4, "big") + text + b"\0\0"
                   + rc.to_bytes(4, "big", signed=True) + b"\0\0")


# -- where slurmdbd is -----------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_address_from_slurm_conf_and_its_includes(tmp_path: Path) -> None:
    write(tmp_path / "etc/more/acct.conf",
          "AccountingStorageHost=dbd1 # a comment\nAccountingStoragePort=7000\n")
    conf = write(tmp_path / "etc/slurm.conf",
                 "ClusterName=c\nAccountingStorageType=accounting_storage/slurmdbd\n"
                 "AccountingStorageHost=old\ninclude more/acct.conf\n")
    assert dbd_address(str(conf)) == DbdAddress("dbd1", 7000)
    # the latest value wins, as in Slurm; keys are case-insensitive; lines continue
    write(conf, conf.read_text() + "accountingstorageport=\\\n7001\n")
    assert dbd_address(str(conf)) == DbdAddress("dbd1", 7001)


def test_address_default_port_and_several_pairs_on_a_line(tmp_path: Path) -> None:
    conf = write(tmp_path / "slurm.conf",
                 "AccountingStorageType=accounting_storage/slurmdbd AccountingStorageHost=h\n")
    assert dbd_address(str(conf)) == DbdAddress("h", dbdrelay.DEFAULT_DBD_PORT)


@pytest.mark.parametrize("text", [
    "AccountingStorageType=accounting_storage/none\nAccountingStorageHost=h\n",
    "AccountingStorageHost=h\n",
    "AccountingStorageType=accounting_storage/slurmdbd\n",
    "AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=h\n"
    "AccountingStoragePort=99999\n",
    "AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=h\n"
    "Include acct-%c.conf\n",
    "AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=h\n"
    "Include missing.conf\n",
    "AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=h\n"
    "Include slurm.conf\n",  # itself, for ever
])
def test_no_address_when_none_can_be_named(tmp_path: Path, text: str) -> None:
    assert dbd_address(str(write(tmp_path / "slurm.conf", text))) is None


def test_no_address_without_a_slurm_conf(tmp_path: Path) -> None:
    assert dbd_address(str(tmp_path / "nothing.conf")) is None


# -- what slurmdbd's answers look like to the relay ---------------------------------------

def test_closing_return_codes() -> None:
    assert closing_rc(rc_message(2002))
    assert closing_rc(rc_message(2002, b"Your user doesn't have privilege"))
    assert closing_rc(rc_message(1005))
    assert not closing_rc(rc_message(0))
    assert not closing_rc(rc_message(-1, b"Bad offset"))
    assert not closing_rc(message(1409, (2002).to_bytes(4, "big") * 4))  # not a PERSIST_RC
    assert not closing_rc(rc_message(2002)[:-7])  # cut short


def feed_bytewise(replies: dbdrelay._Replies, data: bytes) -> tuple[bytes, bytes | None]:
    out, last = b"", None
    for i in range(len(data)):
        now, end = replies.feed(data[i:i + 1])
        out += now
        if end is not None:
            last = end
    return out, last


def test_replies_pass_through_and_hold_only_return_codes() -> None:
    stream = message(1409, b"x" * 300) + rc_message(0) + message(1410, b"y")
    replies = dbdrelay._Replies()
    out, last = replies.feed(stream)
    assert (out, last) == (stream, None)
    # fed byte by byte, nothing is lost or reordered, and a list is not held back
    replies = dbdrelay._Replies()
    first, _ = replies.feed(stream[:100])
    assert first == stream[:100]
    assert feed_bytewise(replies, stream[100:]) == (stream[100:], None)
    # a return code is held until it is whole
    replies = dbdrelay._Replies()
    rc = rc_message(0, b"fine")
    assert replies.feed(rc[:-1]) == (b"", None)
    assert replies.feed(rc[-1:]) == (rc, None)


def test_replies_give_a_closing_code_to_send_with_the_fin() -> None:
    before, closing = message(1409, b"list"), rc_message(2002, b"denied")
    replies = dbdrelay._Replies()
    assert replies.feed(before + closing) == (before, closing)
    assert replies.feed(b"anything after") == (b"anything after", None)  # relaying only
    replies = dbdrelay._Replies()
    assert feed_bytewise(replies, before + closing) == (before, closing)
    # should slurmdbd send more after all, it is not held back
    replies = dbdrelay._Replies()
    assert replies.feed(closing + b"more") == (closing + b"more", None)


def test_replies_that_do_not_frame_are_relayed_as_they_are() -> None:
    replies = dbdrelay._Replies()
    odd = b"\0\0\0\1zzzz" + rc_message(2002)
    assert replies.feed(odd) == (odd, None)


# -- the relay itself, with a stand-in slurmdbd ---------------------------------------------

class StandIn:
    """Answers each message with a PERSIST_RC: 2002 (and then hangs up, ``linger``
    seconds later) for message type 99, else 0 with the message's length as comment;
    type 98 is answered half a second late, and type 97 with a reset."""

    def __init__(self, linger: float = 0.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.linger = linger
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            while True:
                head = recv_exactly(conn, 4)
                if not head:
                    return
                body = recv_exactly(conn, int.from_bytes(head, "big"))
                mtype = int.from_bytes(body[:2], "big")
                if mtype == 97:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    return
                if mtype == 98:
                    time.sleep(0.5)
                # in two writes, the way slurmdbd writes
                reply = (rc_message(2002) if mtype == 99
                         else rc_message(0, str(len(body)).encode()))
                conn.sendall(reply[:4])
                conn.sendall(reply[4:])
                if mtype == 99:
                    time.sleep(self.linger)
                    return

    def close(self) -> None:
        # a listener another thread is accepting on keeps listening until shut down
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


def recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return data
        data += chunk
    return data


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn(linger=3.0)
    yield server
    server.close()


@pytest.fixture
def relay(tmp_path: Path, stand_in: StandIn) -> Iterator[DbdRelay]:
    conf = write(tmp_path / "slurm.conf",
                 "AccountingStorageType=accounting_storage/slurmdbd\n"
                 f"AccountingStorageHost=127.0.0.1\nAccountingStoragePort={stand_in.port}\n")
    started = DbdRelay.start(str(conf))
    assert started is not None, DbdRelay.why_not
    yield started
    started.close()


def test_the_commands_conf_includes_the_real_one_and_points_here(
        relay: DbdRelay, tmp_path: Path) -> None:
    assert relay.conf_path == f"/proc/self/fd/{relay.conf_fd}"
    assert Path(relay.conf_path).read_text() == (
        f"Include {tmp_path}/slurm.conf\nAccountingStorageHost=127.0.0.1\n"
        f"AccountingStoragePort={relay.port}\n")
    assert stat.S_ISREG(os.fstat(relay.conf_fd).st_mode)
    assert not os.get_inheritable(relay.conf_fd)  # only a command it is given to sees it


def test_messages_cross_both_ways(relay: DbdRelay, stand_in: StandIn) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as conn:
        for size in (0, 10, 300_000):
            conn.sendall(message(7, b"q" * size))
            reply = rc_message(0, str(size + 2).encode())
            assert recv_exactly(conn, len(reply)) == reply
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as conn:
        conn.sendall(message(7))
        assert recv_exactly(conn, len(rc_message(0, b"2"))) == rc_message(0, b"2")
    assert stand_in.connections == 2


def test_a_closing_code_comes_with_the_hang_up(relay: DbdRelay) -> None:
    """The stand-in waits 3 s before it hangs up; the client sees the end at once."""
    with socket.create_connection(("127.0.0.1", relay.port), timeout=2) as conn:
        conn.sendall(message(7))
        recv_exactly(conn, len(rc_message(0, b"2")))
        conn.sendall(message(99))
        assert recv_exactly(conn, len(rc_message(2002))) == rc_message(2002)
        assert conn.recv(10) == b""  # no timeout: the relay ended it


def test_an_end_of_stream_is_passed_on_and_the_answer_still_comes(relay: DbdRelay) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as conn:
        conn.sendall(message(98))
        conn.shutdown(socket.SHUT_WR)  # the request is all there is; the answer is late
        assert recv_exactly(conn, 64) == rc_message(0, b"2")


def test_a_reset_is_passed_on_as_a_reset(relay: DbdRelay) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as conn:
        conn.sendall(message(97))
        with pytest.raises(ConnectionResetError):
            while conn.recv(10):
                pass


def test_a_connection_slurmdbd_refuses_fails_alone(relay: DbdRelay, stand_in: StandIn) -> None:
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as first:
        first.sendall(message(7))  # the connection made ahead: still good
        assert recv_exactly(first, len(rc_message(0, b"2"))) == rc_message(0, b"2")
        stand_in.close()  # slurmdbd goes away
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as second:
            assert second.recv(10) == b""  # closed at once, not left hanging
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as third:
            assert third.recv(10) == b""  # and the relay still accepts


def test_connections_at_once_are_bounded(relay: DbdRelay,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbdrelay, "MAX_CONNECTIONS", 2)
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(socket.create_connection(("127.0.0.1", relay.port),
                                                             timeout=5)) for _ in range(2)]
        for conn in held:  # both relayed
            conn.sendall(message(7))
            assert recv_exactly(conn, len(rc_message(0, b"2"))) == rc_message(0, b"2")
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as extra:
            assert extra.recv(10) == b""  # the third is turned away
    # once they are done, there is room again
    for _ in range(100):
        if relay._serving == 0:
            break
        time.sleep(0.02)
    with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as conn:
        conn.sendall(message(7))
        assert recv_exactly(conn, len(rc_message(0, b"2"))) == rc_message(0, b"2")


def test_a_connection_made_ahead_is_not_kept(tmp_path: Path, stand_in: StandIn,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbdrelay, "_SPARE_LIFE", 0.05)
    conf = write(tmp_path / "slurm.conf",
                 "AccountingStorageType=accounting_storage/slurmdbd\n"
                 f"AccountingStorageHost=127.0.0.1\nAccountingStoragePort={stand_in.port}\n")
    started = DbdRelay.start(str(conf))
    assert started is not None
    try:
        for _ in range(100):
            if started._spare is None:
                break
            time.sleep(0.05)
        assert started._spare is None
        with socket.create_connection(("127.0.0.1", started.port), timeout=5) as conn:
            conn.sendall(message(7))  # a new connection is made for it
            assert recv_exactly(conn, len(rc_message(0, b"2"))) == rc_message(0, b"2")
    finally:
        started.close()


def test_steps_aside_when_slurmdbd_is_not_there(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    conf = write(tmp_path / "slurm.conf",
                 "AccountingStorageType=accounting_storage/slurmdbd\n"
                 f"AccountingStorageHost=127.0.0.1\nAccountingStoragePort={port}\n")
    assert DbdRelay.start(str(conf)) is None
    assert f"slurmdbd at 127.0.0.1:{port}" in DbdRelay.why_not
    for name in ("no such.conf", "50%.conf", "a#b.conf", "a\\b.conf"):
        assert DbdRelay.start(str(tmp_path / name)) is None
        assert "cannot be included" in DbdRelay.why_not


def test_after_close_nothing_is_accepted(relay: DbdRelay) -> None:
    port = relay.port
    relay.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# -- which commands use it --------------------------------------------------------------------

SHOW_CONF = """#!/bin/sh
printf '%s\\n' "$SLURM_CONF"
cat "$SLURM_CONF" 2>/dev/null | head -1
"""


@pytest.fixture
def commands(tmp_path: Path) -> Path:
    for name in ("sacct", "sacctmgr", "squeue"):
        write(tmp_path / "bin" / name, SHOW_CONF).chmod(0o755)
    return tmp_path / "bin"


def conf_seen(cli: SlurmCli, command: str) -> list[str]:
    return cli.run([command], ALICE, enveloped=False).stdout.decode().splitlines()


def test_accounting_commands_get_the_relay_others_do_not(
        tmp_path: Path, stand_in: StandIn, commands: Path) -> None:
    conf = write(tmp_path / "slurm.conf",
                 "AccountingStorageType=accounting_storage/slurmdbd\n"
                 f"AccountingStorageHost=127.0.0.1\nAccountingStoragePort={stand_in.port}\n")
    cli = SlurmCli(Config(slurm_conf=str(conf)), environ={"PATH": f"{commands}:/usr/bin:/bin"})
    try:
        relay = cli.dbd_relay()
        assert relay is not None
        for command in ("sacct", "sacctmgr"):
            assert conf_seen(cli, command) == [relay.conf_path, f"Include {conf}"]
        assert conf_seen(cli, "squeue")[0] == str(conf)
        assert cli.dbd_relay() is relay  # one per process
    finally:
        cli.close()
    off = SlurmCli(Config(slurm_conf=str(conf), slurmdbd_relay=False),
                   environ={"PATH": f"{commands}:/usr/bin:/bin"})
    assert off.dbd_relay() is None
    assert conf_seen(off, "sacctmgr")[0] == str(conf)


def test_closing_ends_the_commands_still_running_and_then_the_relay(
        tmp_path: Path, stand_in: StandIn, commands: Path) -> None:
    """A handler may return before reading every read it started: those commands must
    not outlive the relay (they would reconnect to a port anyone may then take)."""
    write(commands / "sacct", "#!/bin/sh\nexec sleep 30\n").chmod(0o755)
    conf = write(tmp_path / "slurm.conf",
                 "AccountingStorageType=accounting_storage/slurmdbd\n"
                 f"AccountingStorageHost=127.0.0.1\nAccountingStoragePort={stand_in.port}\n")
    cli = SlurmCli(Config(slurm_conf=str(conf)), environ={"PATH": f"{commands}:/usr/bin:/bin"})
    outcome: list[object] = []
    worker = threading.Thread(
        target=lambda: outcome.append(cli.run(["sacct"], ALICE, enveloped=False)))
    worker.start()
    for _ in range(200):
        if cli._children:
            break
        time.sleep(0.01)
    (child,) = cli._children
    relay = cli.dbd_relay()
    assert relay is not None
    cli.close()
    assert child.poll() is not None  # killed and reaped before the relay closed
    worker.join(10)
    assert outcome and outcome[0].returncode == -9  # type: ignore[attr-defined]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", relay.port), timeout=2).close()
    assert cli.dbd_relay() is None  # none is started again
    with pytest.raises(SlurmCommandError, match="the connection is ending"):
        cli.run(["sacctmgr"], ALICE, enveloped=False)


def test_no_relay_means_the_commands_conf_is_untouched(tmp_path: Path, commands: Path) -> None:
    conf = write(tmp_path / "slurm.conf", "AccountingStorageType=accounting_storage/none\n")
    cli = SlurmCli(Config(slurm_conf=str(conf)), environ={"PATH": f"{commands}:/usr/bin:/bin"})
    assert cli.dbd_relay() is None
    assert conf_seen(cli, "sacct")[0] == str(conf)


def test_the_relay_module_is_not_imported_by_the_backend_itself() -> None:
    """A ping must not pay for sockets and threads it does not use."""
    code = ("import sys, slurmrest_stdio.backend.slurmcli as s; "
            "print('slurmrest_stdio.backend.dbdrelay' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
