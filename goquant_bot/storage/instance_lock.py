"""One bot per data directory: an OS lock on ``bot.lock``, released by the OS on any exit.

The file also says how the last run ended: ``running`` while it runs, ``stopped`` after a
clean stop. A run that finds ``running`` (killed, power loss) or ``crashed`` (an unexpected
error) follows a crash.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from goquant_bot.errors import ConfigError

LOCK_FILE = "bot.lock"


class AlreadyRunning(ConfigError):
    """Another process holds the data directory; ``pid`` is its process id when known."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"another bot ({who}) is running on the data directory {data_dir}; stop it first, "
            "or give this one its own app.data_dir"
        )
        self.pid = pid


@dataclass(frozen=True, slots=True)
class PreviousRun:
    """How the last run on this data directory ended (read from the lock file)."""

    pid: int | None
    started: float | None
    state: str  # "running" (it never finished), "crashed", "stopped", "" (first run)

    @property
    def crashed(self) -> bool:
        return self.state in ("running", "crashed")


class InstanceLock:
    """``acquire()`` at start-up, ``release(clean)`` on the way out (or the OS does it)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None
        self.previous = PreviousRun(None, None, "")
        self.started = time.time()

    def acquire(self) -> PreviousRun:
        """Take the lock or raise AlreadyRunning; return how the previous run ended."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read(fd).pid
            os.close(fd)
            raise AlreadyRunning(self.data_dir, pid) from None
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self.previous = _read(fd)
        self._write("running")
        return self.previous

    def release(self, *, clean: bool) -> None:
        """Record how this run ended and let the next one in."""
        if self._fd is None:
            return
        try:
            self._write("stopped" if clean else "crashed")
        finally:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def _write(self, state: str) -> None:
        assert self._fd is not None
        body = json.dumps({"pid": os.getpid(), "started": self.started, "state": state})
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, body.encode(), 0)
        os.fsync(self._fd)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release(clean=exc_type is None)


def _read(fd: int) -> PreviousRun:
    """What the file says; a damaged or empty file is a previous run of unknown end."""
    try:
        raw = os.pread(fd, 4096, 0)
    except OSError:
        return PreviousRun(None, None, "")
    if not raw.strip():
        return PreviousRun(None, None, "")
    try:
        data = json.loads(raw)
        pid = int(data["pid"])
        started = float(data["started"])
        state = str(data["state"])
    except (ValueError, KeyError, TypeError):
        # Half-written by a run that died while writing it: that run did not end cleanly.
        return PreviousRun(None, None, "running")
    return PreviousRun(pid, started, state)
