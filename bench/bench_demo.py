"""The demo end to end, in real time: how soon do users' monitors alert?

``make demo`` as a user finds it (simulated venues through the real protocols, feeds, hub,
engine and the command layer; headless delivery): right after start-up 30 chats create
monitors on all venues, half of them on BTC-USDT and half on ETH-USDT, at 0.01 % and at the
default threshold; 37 s later (between two dislocations) 30 more chats do the same. Prints, per threshold, the time from creation to each monitor's first
opening, and how many events of the demo's own monitors (owner 0) reached delivery (must be 0).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from goquant_bot.app import build
from goquant_bot.bot.types import Caller
from goquant_bot.domain.events import ArbOpened, Event
from goquant_bot.logging import configure_logging
from goquant_bot.settings import LogSettings, Settings

CHATS = 60  # two waves of 30
SECOND_WAVE_S = 37.0
LIMIT_S = 120.0


async def _run(data_dir: Path) -> tuple[dict[float, list[float]], int, int]:
    settings = Settings(
        _env_file=None,
        app={"demo": True, "mode": "headless", "data_dir": str(data_dir)},  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        observability={"enabled": False},  # type: ignore[arg-type]
        bot={"max_monitors_total": 1000},  # type: ignore[arg-type]
    )
    app = build(settings)
    assert app.market is not None
    assert app.signals is not None
    assert app.chat is not None
    default = settings.arbitrage.default_min_edge_pct
    created: dict[int, tuple[float, float]] = {}  # chat -> (threshold, created at)
    first: dict[int, float] = {}
    internal = 0
    delivered = app.signals.sink

    def sink(events: Sequence[Event]) -> None:
        nonlocal internal
        now = time.monotonic()
        for event in events:
            if event.owner == 0:
                internal += 1
            elif isinstance(event, ArbOpened) and event.owner not in first:
                first[event.owner] = now
        delivered(events)

    app.signals.sink = sink
    runner = asyncio.ensure_future(app.run())
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
    while len(first) < CHATS and time.monotonic() - started < LIMIT_S:
        await asyncio.sleep(0.25)
    app.request_stop()
    await runner
    waits: dict[float, list[float]] = {0.01: [], default: []}
    missing = 0
    for chat, (threshold, at) in created.items():
        if chat in first:
            waits[threshold].append(first[chat] - at)
        else:
            missing += 1
    return waits, missing, internal


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
