"""Alert delivery: from ``publish()`` of an ArbOpened to the transport's send call.

The real delivery loop on asyncio with the default pacing (25 requests/s, 1/s per chat) and
an in-memory transport that answers at once. Idle: each sample goes to a fresh chat and the
clock handed to the delivery jumps 2 s between samples, so no pacing window is ever full.
Backlog: 10,000 alerts to 2,000 chats are queued, then high-priority alerts arrive, both for
fresh chats and for chats whose own alerts are still waiting.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

from goquant_bot.alerts.delivery import Delivery, DeliveryConfig
from goquant_bot.alerts.state import AlertSnapshot
from goquant_bot.bot.types import Keyboard
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.logging import configure_logging
from goquant_bot.settings_sections import LogSettings

IDLE_SAMPLES = 2_000
BACKLOG_CHATS = 2_000
BACKLOG_ALERTS = 10_000
URGENT_SAMPLES = 20


class MemoryTransport:
    """Answers at once; notes when a watched chat's message reaches ``send``."""

    def __init__(self) -> None:
        self.requests = 0
        self.watch: dict[int, asyncio.Future[float]] = {}

    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        called = time.perf_counter()
        self.requests += 1
        waiter = self.watch.pop(chat_id, None)
        if waiter is not None and "URGENT" in text and not waiter.done():
            waiter.set_result(called)
        elif waiter is not None:
            self.watch[chat_id] = waiter
        return self.requests

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard = ()
    ) -> None:
        self.requests += 1


def render(item: AlertSnapshot, now: float) -> str:
    event = item.event
    tag = "URGENT " if item.edge_pct >= 3.0 else ""
    return f"{tag}<b>{item.key.subject}</b> {item.phase.value} {item.edge_pct:.2f} % at {event.ts}"


def alert(chat: int, n: int, edge: float, ts: float) -> ArbOpened:
    return ArbOpened(
        "m1", chat, Symbol(f"C{n:05d}", "USDT"), Venue.BINANCE, Venue.OKX, ts,
        100.0, 100.0 * (1 + edge / 100), 1.0, 100.0, edge, edge, True,
    )  # fmt: skip


def close(opening: ArbOpened) -> ArbClosed:
    return ArbClosed(
        opening.monitor_id, opening.owner, opening.symbol, opening.buy_venue,
        opening.sell_venue, opening.ts + 1.0, opening.ts, opening.edge_pct, 0.1, "below",
    )  # fmt: skip


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def build(transport: MemoryTransport, clock: Callable[[], float]) -> Delivery:
    # A short drain: what is left when a run is cancelled is not measured.
    config = DeliveryConfig(flush_timeout_s=0.1)
    return Delivery(transport, prefs=ChatPrefs, render=render, clock=clock, config=config)


async def idle() -> dict[str, float]:
    transport = MemoryTransport()
    offset = 0.0
    delivery = build(transport, lambda: time.time() + offset)
    loop = asyncio.get_running_loop()
    latencies, publish_costs = [], []
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(delivery.run())
        for n in range(IDLE_SAMPLES):
            offset += 2.0
            waiter: asyncio.Future[float] = loop.create_future()
            transport.watch[n + 1] = waiter
            started = time.perf_counter()
            opening = alert(n + 1, n, 3.0, time.time())
            delivery.publish([opening])
            publish_costs.append(time.perf_counter() - started)
            latencies.append(await waiter - started)
            # It closes again: one edit later, so the outbox stays idle.
            delivery.publish([close(opening)])
        runner.cancel()
    return {
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "max_ms": max(latencies) * 1e3,
        "publish_us": statistics.median(publish_costs) * 1e6,
    }


async def backlog() -> dict[str, float]:
    transport = MemoryTransport()
    delivery = build(transport, time.time)
    loop = asyncio.get_running_loop()
    now = time.time()
    queued = [
        alert(1 + n % BACKLOG_CHATS, n, 0.1 + (n % 97) / 250, now) for n in range(BACKLOG_ALERTS)
    ]
    started = time.perf_counter()
    delivery.publish(queued)
    publish_s = time.perf_counter() - started
    fresh, waiting = [], []
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(delivery.run())
        await asyncio.sleep(1.0)
        for n in range(URGENT_SAMPLES):
            # A chat nobody wrote to, then one whose own alerts still wait in the backlog.
            for chat, results in ((100_000 + n, fresh), (BACKLOG_CHATS - n, waiting)):
                waiter: asyncio.Future[float] = loop.create_future()
                transport.watch[chat] = waiter
                sent_at = time.perf_counter()
                delivery.publish([alert(chat, 50_000 + n, 3.0, time.time())])
                results.append(await waiter - sent_at)
            await asyncio.sleep(0.1)
        requests_before, window_start = transport.requests, time.perf_counter()
        await asyncio.sleep(2.0)
        rate = (transport.requests - requests_before) / (time.perf_counter() - window_start)
        runner.cancel()
    return {
        "publish_us_per_alert": publish_s / BACKLOG_ALERTS * 1e6,
        "fresh_p50_ms": statistics.median(fresh) * 1e3,
        "fresh_max_ms": max(fresh) * 1e3,
        "waiting_p50_ms": statistics.median(waiting) * 1e3,
        "waiting_max_ms": max(waiting) * 1e3,
        "rate": rate,
        "still_pending": delivery.outbox.pending(),
    }


def main() -> None:
    # One line per alert sent (debug) would drown the figures.
    configure_logging(LogSettings(level="WARNING", file=None))
    print("Alert delivery (real loop, default pacing, in-memory transport)")
    quiet = asyncio.run(idle())
    print(
        f"  idle outbox, {IDLE_SAMPLES:,} alerts: publish -> send p50 {quiet['p50_ms']:.3f} ms  "
        f"p99 {quiet['p99_ms']:.3f} ms  max {quiet['max_ms']:.3f} ms (target p99 < 50 ms); "
        f"publish() {quiet['publish_us']:.1f} us"
    )
    busy = asyncio.run(backlog())
    print(
        f"  {BACKLOG_ALERTS:,} alerts queued for {BACKLOG_CHATS:,} chats: "
        f"publish() {busy['publish_us_per_alert']:.2f} us/alert; sending "
        f"{busy['rate']:.1f} requests/s, {busy['still_pending']:,.0f} keys still pending"
    )
    print(
        f"  newest 3 % alert, fresh chat: p50 {busy['fresh_p50_ms']:.1f} ms  "
        f"max {busy['fresh_max_ms']:.1f} ms; chat with queued alerts: "
        f"p50 {busy['waiting_p50_ms']:.1f} ms  max {busy['waiting_max_ms']:.1f} ms "
        "(target < 2,000 ms)"
    )


if __name__ == "__main__":
    main()
