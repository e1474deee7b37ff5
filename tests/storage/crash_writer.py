"""The process killed by test_crash: users keep changing things, the real StateSaver saves.

Run as ``python crash_writer.py STATE_FILE DEBOUNCE_S``. It imports everything once, says
``ready``, then forks one writer per ``fork`` line read on stdin (a fresh process costs a
third of a second of imports; a fork costs a millisecond) and says ``exit PID STATUS`` once
that writer is dead. A writer loads the state, says ``start N PID`` (N: the changes the loaded
state holds), then applies change N+1, N+2... and after each one says ``ack N``; ``snap``
means the saver just took a snapshot. Lines are single ``os.write`` calls on a pipe, so the
lines of the two processes never mix.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from pathlib import Path

import structlog

from goquant_bot.bot.types import Caller
from goquant_bot.bot.users import MonitorRecord, UserStore
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.monitors.schema import record_to_dict, records_from_entries
from goquant_bot.storage.state import PersistedState, StateSaver, load_state

USERS = 40  # change n touches user n % USERS
LIVE_MONITORS = 30  # change n adds monitor m{n} and removes m{n - LIVE_MONITORS}
BASE_ID = 1000
CHANGE_INTERVAL_S = 0.003  # users are not a busy loop; the saver must get the loop too
SYMBOL = Symbol("BTC", "USDT")


def apply_change(store: UserStore, monitors: dict[str, MonitorRecord], n: int) -> None:
    """Change ``n`` as a user would make it: a command (register), a setting, a monitor."""
    uid = BASE_ID + n % USERS
    store.register(Caller(uid, uid, first_name=f"u{n}"), float(n))
    store.update_prefs(uid, cooldown_s=float(n))
    monitor = ArbMonitor(
        id=f"m{n}",
        owner=uid,
        symbols=(SYMBOL,),
        venues=(Venue.BINANCE, Venue.OKX),
        min_edge_pct=0.1 + (n % 3) / 10,  # a few specs per user: "previous" stays small
    )
    monitors[monitor.id] = MonitorRecord.of(monitor, uid, float(n))
    if n > LIVE_MONITORS:
        store.remember(monitors.pop(f"m{n - LIVE_MONITORS}"))


def changes_in(monitors: dict[str, MonitorRecord]) -> int:
    """How many changes the state holds (the test checks that it holds exactly changes 1..N)."""
    return max((int(mid[1:]) for mid in monitors), default=0)


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())


async def _life(path: Path, debounce_s: float) -> None:
    loaded = load_state(path)
    state = loaded.value
    store = UserStore.from_dict(state.users) if state is not None else UserStore()
    records, _ = records_from_entries(state.monitors if state is not None else [])
    monitors = {r.id: r for r in records}
    n = changes_in(monitors)

    def snapshot() -> PersistedState:
        _say("snap")
        return PersistedState(
            users=store.to_dict(), monitors=[record_to_dict(r) for r in monitors.values()]
        )

    saver = StateSaver(path, snapshot, debounce_s=debounce_s)
    _say(f"start {n} {os.getpid()}")
    async with asyncio.TaskGroup() as group:
        group.create_task(saver.run())
        while True:
            n += 1
            apply_change(store, monitors, n)
            saver.mark_dirty()
            _say(f"ack {n}")
            await asyncio.sleep(CHANGE_INTERVAL_S)


def main() -> None:
    path, debounce_s = Path(sys.argv[1]), float(sys.argv[2])
    # stdout carries the protocol; a log line (e.g. "state loaded from backup") goes to stderr.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    _say("ready")
    for line in sys.stdin:
        if line.strip() != "fork":
            break
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(_life(path, debounce_s))
            except BaseException:
                traceback.print_exc()
            os._exit(1)  # only an error gets here; the test reports the early exit
        _, status = os.waitpid(pid, 0)
        _say(f"exit {pid} {status}")


if __name__ == "__main__":
    main()
