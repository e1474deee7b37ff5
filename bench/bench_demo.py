"""The demo end to end, in real time: how soon do users' monitors alert?

``make demo`` as a user finds it (simulated venues through the real protocols, feeds, hub,
engine and the command layer; headless delivery): right after start-up 30 chats create
monitors on all venues, half of them on BTC-USDT and half on ETH-USDT, at 0.01 % and at the
default threshold; 37 s later (between two dislocations) 30 more chats do the same. Prints, per threshold, the time from creation to each monitor's first
opening, and how many events of the demo's own monitors (owner 0) reached delivery (must be 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from goquant_bot.app import App, build
from goquant_bot.bot.types import Caller
from goquant_bot.domain.events import ArbOpened, Event
from goquant_bot.logging import configure_logging
from goquant_bot.settings import Settings
from goquant_bot.settings_sections import LogSettings

CHATS = 60  # two waves of 30
SECOND_WAVE_S = 37.0
LIMIT_S = 120.0


async def _run(data_dir: Path) -> tuple[dict[float, list[float]], int, int]:
    settings = Settings(
        _env_file=None,
        app={"demo": True, "mode": "headless", "data_dir": str(data_dir)},
        logging={"file": None},
        observability={"enabled": False},
        bot={"max_monitors_total": 1000},
    )
    app = build(settings)
    assert app.market is not None
    assert app.signals is not None
    assert app.chat is not None
    default = settings.arbitrage.default_min_edge_pct
    created: dict[int, tuple[float, float]] = {}  # chat -> (threshold, created at)
    first: dict[int, float] = {}
    internal = 0
    everyone = asyncio.Event()
    delivered = app.signals.sink

    def sink(events: Sequence[Event]) -> None:
        nonlocal internal
        now = time.monotonic()
        for event in events:
            if event.owner == 0:
                internal += 1
            elif isinstance(event, ArbOpened) and event.owner not in first:
                first[event.owner] = now
                if len(first) == CHATS:
                    everyone.set()
        delivered(events)

    app.signals.sink = sink
    async with asyncio.TaskGroup() as group:
        group.create_task(app.run())
        await _users(app, default, created, everyone)
        app.request_stop()
    waits: dict[float, list[float]] = {0.01: [], default: []}
    missing = 0
    for chat, (threshold, at) in created.items():
        if chat in first:
            waits[threshold].append(first[chat] - at)
        else:
            missing += 1
    return waits, missing, internal


async def _users(
    app: App, default: float, created: dict[int, tuple[float, float]], everyone: asyncio.Event
) -> None:
    """Two waves of chats, each making one monitor; wait until all alerted (or the limit)."""
    assert app.market is not None
    assert app.chat is not None
    await app.market.ready.wait()
    started = time.monotonic()
    for chat in range(1, CHATS + 1):
        if chat == CHATS // 2 + 1:
            await asyncio.sleep(max(0.0, started + SECOND_WAVE_S - time.monotonic()))
        threshold = 0.01 if chat % 2 else default
        symbol = "BTC-USDT" if chat % 4 in (1, 2) else "ETH-USDT"
        caller = Caller(user_id=chat, chat_id=chat, first_name=f"U{chat}")
        app.chat.router.handle(caller, "/start")
        app.chat.router.handle(caller, f"/monitor_arb {symbol} all {threshold}")
        created[chat] = (threshold, time.monotonic())
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(0.0, started + LIMIT_S - time.monotonic())):
            await everyone.wait()


def main() -> None:
    configure_logging(LogSettings(level="ERROR", file=None), ())
    with tempfile.TemporaryDirectory() as tmp:
        waits, missing, internal = asyncio.run(_run(Path(tmp)))
    print(f"demo: {CHATS} chats in two waves, monitors on all venues (limit {LIMIT_S:.0f} s)")
    for threshold, values in waits.items():
        if values:
            print(
                f"  {threshold:g} %: {len(values)} alerted, first opening after "
                f"median {statistics.median(values):.1f} s, max {max(values):.1f} s"
            )
    print(f"  not alerted within the limit: {missing}")
    print(f"  events of the demo's own monitors that reached delivery: {internal}")


if __name__ == "__main__":
    main()
