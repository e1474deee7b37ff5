"""State file: save and load 10,000 users holding 100,000 monitors.

The state is built through the user store's API (register, update_prefs, remember) and the
monitor records, then saved as the app does (snapshot on the loop, encode, write_atomic) and
loaded as a start does (read, parse and validate, rebuild the UserStore and validate every
monitor against the monitor schema). Target: load < 1 s.
"""

from __future__ import annotations

import gc
import random
import tempfile
import time
from pathlib import Path

from goquant_bot.bot.types import Caller, ChatType
from goquant_bot.bot.users import MonitorRecord, UserStore
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.domain.users import QuietHours
from goquant_bot.monitors.schema import record_to_dict, records_from_entries
from goquant_bot.storage.atomic import write_atomic
from goquant_bot.storage.state import PersistedState, parse_state

USERS = 10_000
MONITORS = 100_000
GROUPS = 500  # users 0..499 also run a group chat
REPEATS = 3
SYMBOLS = tuple(Symbol(base, "USDT") for base in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA"))
VENUES = tuple(Venue)
NOW = 1_750_000_000.0


Records = dict[str, MonitorRecord]


def build_store(rng: random.Random) -> tuple[UserStore, Records]:
    """10 monitors a user on average, 1 in 10 a market view; some settings and stopped ones."""
    store = UserStore()
    records: Records = {}
    callers = [Caller(i + 1, i + 1, first_name=f"user{i}", username=f"u{i}") for i in range(USERS)]
    for caller in callers:
        store.register(caller, NOW - rng.uniform(0, 90 * 86_400))
    for i in range(GROUPS):
        store.register(Caller(i + 1, -(i + 1), ChatType.SUPERGROUP, f"user{i}"), NOW)
    for caller in callers[::4]:
        store.update_prefs(
            caller.chat_id,
            cooldown_s=60.0,
            hourly_cap=20,
            quiet_hours=QuietHours("22:00", "07:00", "Europe/Paris"),
            fees_pct=(("binance", 0.075),),
        )
    for n in range(MONITORS):
        caller = callers[n % USERS]
        chat_id = -caller.user_id if n % 50 == 0 and caller.user_id <= GROUPS else caller.chat_id
        monitor = _monitor(rng, f"m{n:06d}", chat_id)
        records[monitor.id] = MonitorRecord.of(monitor, caller.user_id, NOW - n)
    for n in range(0, MONITORS, 40):  # stopped: kept for "reuse my configuration"
        store.remember(records.pop(f"m{n:06d}"))
        again = MonitorRecord.of(_monitor(rng, f"r{n:06d}", n % USERS + 1), n % USERS + 1, NOW)
        records[again.id] = again
    return store, records


def _monitor(rng: random.Random, monitor_id: str, owner: int) -> ArbMonitor | MarketViewMonitor:
    venues = tuple(rng.sample(VENUES, rng.randint(2, 4)))
    if rng.random() < 0.1:
        return MarketViewMonitor(
            id=monitor_id,
            owner=owner,
            symbol=rng.choice(SYMBOLS),
            venues=venues,
            best_venue_change=True,
            mid_move_pct=0.5,
            cooldown_s=30.0,
        )
    return ArbMonitor(
        id=monitor_id,
        owner=owner,
        symbols=tuple(rng.sample(SYMBOLS, rng.randint(1, 3))),
        venues=venues,
        min_edge_pct=round(rng.uniform(0.15, 2.0), 2),
        notional=rng.choice((100.0, 1_000.0, 10_000.0)),
        fees_pct=((venues[0], 0.08),) if rng.random() < 0.05 else (),
        policy=rng.choice(tuple(FiringPolicy)),
    )


def save(store: UserStore, records: Records, path: Path) -> tuple[list[float], int]:
    """As the StateSaver does it: seconds for the copies taken on the event loop, for building
    and encoding the document (off the loop), for writing; the file size."""
    start = time.perf_counter()
    build = store.frozen()
    kept = list(records.values())
    snapshot = time.perf_counter()
    document = PersistedState.model_construct(
        users=build(), monitors=[record_to_dict(r) for r in kept]
    )
    raw = document.model_dump_json().encode()
    encoded = time.perf_counter()
    write_atomic(path, raw)
    return [snapshot - start, encoded - snapshot, time.perf_counter() - encoded], len(raw)


def load(path: Path, monitors: int) -> list[float]:
    """As a start does it: seconds for read, parse + validate, rebuild the UserStore and the
    monitor records."""
    start = time.perf_counter()
    gc.disable()  # as load_state and the app do while they rebuild the state
    try:
        raw = path.read_bytes()
        read = time.perf_counter()
        state = parse_state(raw)
        parsed = time.perf_counter()
        UserStore.from_dict(state.users)
        loaded, problems = records_from_entries(state.monitors)
        done = time.perf_counter()
    finally:
        gc.enable()
    assert not problems, problems[:3]
    assert len(loaded) == monitors, "the state did not load whole"
    return [read - start, parsed - read, done - parsed]


def main() -> None:
    print(f"state file benchmark: {USERS:,} users, {MONITORS:,} monitors (best of {REPEATS})")
    store, records = build_store(random.Random(7))
    monitors, chats = len(records), len(store.chats)
    stopped = sum(map(len, store.previous.values()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.json"
        saves, loads = [], []
        for _ in range(REPEATS):  # the collector stays on, as in the app
            gc.collect()
            saves.append(save(store, records, path))
        del store, records  # a start begins with an empty heap, not with the store it loads
        for _ in range(REPEATS):
            gc.collect()
            loads.append(load(path, monitors))
    (snapshot_s, encode_s, write_s), size = min(saves, key=lambda r: sum(r[0]))
    read_s, parse_s, rebuild_s = min(loads, key=sum)
    print(f"  state file: {size / 1e6:.1f} MB ({monitors:,} monitors, "
          f"{stopped:,} stopped ones kept, {chats:,} chats)")  # fmt: skip
    print(f"  save {snapshot_s + encode_s + write_s:.3f} s: snapshot {snapshot_s:.3f} s "
          f"(copies on the event loop), build + encode {encode_s:.3f} s (off the loop), write {write_s:.3f} s")  # fmt: skip
    print(f"  load {read_s + parse_s + rebuild_s:.3f} s (target < 1 s): read {read_s:.3f} s, "
          f"parse + validate {parse_s:.3f} s, rebuild users and monitors {rebuild_s:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
