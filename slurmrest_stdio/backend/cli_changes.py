"""Has a collection changed since ``update_time``? Asked of slurmctld through libslurm.

slurmrestd answers ``?update_time=T`` with 304 when slurmctld says "no change since T"
(``SLURM_NO_CHANGE_IN_DATA``). No Slurm command prints that answer, so this one question is
asked through Slurm's own client library (``slurm_load_jobs(T, ...)`` and its siblings),
in this process, which already runs as the client. Everything else still goes through
commands. When the library cannot be found or the call fails in any other way the answer
is "changed": the client gets the data, never a 304 it should not have.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from slurmrest_stdio.auth.base import Identity
from slurmrest_stdio.backend.clicore import CliCore
from slurmrest_stdio.errors import SlurmCommandError

#: Slurm's "Data has not changed since time specified"
SLURM_NO_CHANGE_IN_DATA = 1900

#: where Debian and others put libslurm (libslurmfull is what Slurm's own commands use)
LIBRARY_CANDIDATES = (
    "/usr/lib/*/slurm-wlm/libslurmfull.so",
    "/usr/lib64/slurm/libslurmfull.so",
    "/usr/lib/slurm/libslurmfull.so",
    "/usr/local/lib/slurm/libslurmfull.so",
    "libslurm.so",
)

#: kind -> (load function, free function, takes show_flags)
_CALLS = {
    "jobs": ("slurm_load_jobs", "slurm_free_job_info_msg", True),
    "nodes": ("slurm_load_node", "slurm_free_node_info_msg", True),
    "partitions": ("slurm_load_partitions", "slurm_free_partition_info_msg", True),
    "reservations": ("slurm_load_reservations", "slurm_free_reservation_info_msg", False),
}


def _find_library() -> str | None:
    override = os.environ.get("SLURMREST_STDIO_LIBSLURM")
    if override:
        return override
    for pattern in LIBRARY_CANDIDATES:
        if "/" not in pattern:
            return pattern  # left to the dynamic linker
        import glob

        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


class ChangesCli(CliCore):
    _libslurm: Any = None
    #: the identity libslurm authenticates as: fixed when it is initialised
    _libslurm_token: str | None = None

    def _library(self, who: Identity) -> Any:
        if self._libslurm is None:
            self._libslurm_token = who.token
            import ctypes

            path = _find_library()
            if path is None:
                raise OSError("libslurm not found")
            if who.token:  # the library's auth/jwt plugin reads it when initialised
                os.environ["SLURM_JWT"] = who.token
            # RTLD_GLOBAL: Slurm's plugins resolve symbols against the library
            lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            lib.slurm_init.argtypes = [ctypes.c_char_p]
            lib.slurm_init.restype = None
            conf = self.config.slurm_conf
            lib.slurm_init(conf.encode() if conf else None)
            self._libslurm = lib
        return self._libslurm

    def changed_since(self, kind: str, update_time: int, who: Identity) -> bool:
        if self._libslurm is not None and who.token != self._libslurm_token:
            # the library speaks for whoever came first on this connection: never ask it
            # on behalf of someone else; "changed" sends the data, as the command sees it
            return True
        load, free, flags = _CALLS[kind]
        answer: list[bool] = []

        def ask() -> None:
            import ctypes

            try:
                lib = self._library(who)
                resp = ctypes.c_void_p()
                args: list[Any] = [ctypes.c_long(update_time), ctypes.byref(resp)]
                if flags:
                    args.append(ctypes.c_uint16(0))
                rc = getattr(lib, load)(*args)
                if rc == 0:
                    getattr(lib, free)(resp)
                unchanged = rc == SLURM_NO_CHANGE_IN_DATA or (
                    rc != 0 and lib.slurm_get_errno() == SLURM_NO_CHANGE_IN_DATA
                )
                answer.append(not unchanged)
            except Exception:  # noqa: S110 - any failure means "changed": the data is sent
                pass

        try:
            self._check_conf()
        except SlurmCommandError:
            return True  # the command that follows reports it
        # a thread, so that a controller that never answers cannot hold the request
        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        worker.join(self._timeout)
        return answer[0] if answer else True
