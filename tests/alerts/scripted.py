"""Test doubles at the delivery seam: a scripted AlertTransport, a clock, preferences, a renderer.

The renderer formats the event fields into test text (it is test data, not the product's
wording); the transport records every request and raises the errors a test queues for a chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from goquant_bot.alerts.state import AlertSnapshot, Phase, ViewUpdate
from goquant_bot.domain.events import ArbClosed, ArbOpened, MarketViewSignal
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.messages import Keyboard

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")


def utc(text: str) -> float:
    """Epoch seconds of an ISO time in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def wait(self, event: asyncio.Event, delay: float) -> None:
        """A paced reply's wait on this clock: jump to its time (an open-ended one awaits the
        event, set when another request answers)."""
        if delay == float("inf"):
            await event.wait()
            return
        self.waits.append(delay)
        self.now += max(delay, 0.0)


class Prefs:
    """A chat's preferences by id (defaults for unknown chats), replaced as the bot would."""

    def __init__(self) -> None:
        self.chats: dict[int, ChatPrefs] = {}

    def __call__(self, chat_id: int) -> ChatPrefs:
        return self.chats.get(chat_id) or ChatPrefs(chat_id)

    def set(self, prefs: ChatPrefs) -> None:
        self.chats[prefs.chat_id] = prefs


def render(item: AlertSnapshot, now: float) -> str:
    event, subject = item.event, item.key.subject
    if isinstance(event, ArbOpened):
        return f"<b>{subject}</b> open {event.edge_pct:.2f} % for {now - event.ts:.0f} s"
    if isinstance(event, ArbClosed):
        if item.phase is Phase.CLOSED_UNSEEN:
            return (
                f"<b>{subject}</b> opened and closed within {event.duration_s:.0f} s, "
                f"peak {event.peak_edge_pct:.2f} %"
            )
        return f"<b>{subject}</b> closed after {event.duration_s:.0f} s, peak {event.peak_edge_pct:.2f} %"
    if isinstance(event, MarketViewSignal):
        return f"<i>{subject}</i> " + " ".join(f"{k}={v}" for k, v in event.details)
    assert isinstance(event, ViewUpdate)
    state = "stopped" if event.stopped else f"at {now:.0f}"
    return f"<b>view {item.key.monitor_id}</b> {state}"


def opened(
    owner: int,
    ts: float,
    edge: float = 0.4,
    *,
    monitor: str = "m1",
    symbol: Symbol = BTC,
    buy: Venue = Venue.BINANCE,
    sell: Venue = Venue.OKX,
    notional: float = 100.0,
) -> ArbOpened:
    """An opening; monitors at the same ``notional`` share a chat's alert."""
    return ArbOpened(
        monitor, owner, symbol, buy, sell, ts, 100.0, 100.0 * (1 + edge / 100), 1.0, notional,
        edge, edge, True,
    )  # fmt: skip


def closed(
    owner: int,
    ts: float,
    opened_at: float,
    peak: float = 0.5,
    *,
    monitor: str = "m1",
    symbol: Symbol = BTC,
    buy: Venue = Venue.BINANCE,
    sell: Venue = Venue.OKX,
) -> ArbClosed:
    return ArbClosed(
        monitor, owner, symbol, buy, sell, ts, opened_at, peak, peak / 2, "below_threshold"
    )


def signal(
    owner: int, ts: float, *, monitor: str = "v1", kind: str = "mid_move", move: float = 0.5
) -> MarketViewSignal:
    return MarketViewSignal(monitor, owner, BTC, ts, kind, (("move_pct", move),))


@dataclass
class Call:
    method: str
    chat_id: int
    text: str
    at: float
    message_id: int = 0
    silent: bool = False
    buttons: Keyboard = ()


@dataclass
class ScriptedTransport:
    """Records every request; ``errors[chat]`` lists what the next requests to it raise."""

    clock: Clock
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[int, list[Exception]] = field(default_factory=dict)
    next_id: int = 100
    during: Callable[[Call], None] | None = None  # runs while a request is in flight
    latency: float = 0.0  # seconds of the loop's clock each answer takes
    in_flight: int = 0
    peak_in_flight: int = 0

    async def _answer(self, chat_id: int) -> None:
        """Answer after ``latency`` (the loop's clock: simulated in the delivery tests)."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency > 0:
                loop = asyncio.get_running_loop()
                answered: asyncio.Future[None] = loop.create_future()
                loop.call_later(self.latency, answered.set_result, None)
                await answered
        finally:
            self.in_flight -= 1
        self._script(chat_id)

    def _script(self, chat_id: int) -> None:
        if self.during is not None:
            self.during(self.calls[-1])
        queued = self.errors.get(chat_id)
        if queued:
            raise queued.pop(0)

    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        self.calls.append(Call("send", chat_id, text, self.clock(), silent=silent, buttons=buttons))
        await self._answer(chat_id)
        self.next_id += 1
        self.calls[-1].message_id = self.next_id
        self.messages[(chat_id, self.next_id)] = text
        return self.next_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard = ()
    ) -> None:
        self.calls.append(
            Call("edit", chat_id, text, self.clock(), message_id=message_id, buttons=buttons)
        )
        await self._answer(chat_id)
        self.messages[(chat_id, message_id)] = text

    def sent(self, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "send" and chat_id in (None, c.chat_id)]

    def edits(self, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "edit" and chat_id in (None, c.chat_id)]
