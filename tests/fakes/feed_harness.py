"""Shared harness for VenueFeed end-to-end tests: a running feed, state log and venue replies."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.feed import FeedConfig, OnChange, VenueFeed
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from tests.fakes import bybit_frames as bybit
from tests.fakes import deribit_frames as deribit
from tests.fakes import okx_frames as okx
from tests.fakes.ws_server import ScriptConn

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
BTC_USDC, ETH_USDC = Symbol("BTC", "USDC"), Symbol("ETH", "USDC")
OKX_NAMES = {"BTC-USDT": BTC, "ETH-USDT": ETH}
BYBIT_NAMES = {"BTCUSDT": BTC, "ETHUSDT": ETH}
DERIBIT_NAMES = {"BTC_USDC": BTC_USDC, "ETH_USDC": ETH_USDC}
NO_REST = "http://127.0.0.1:9"  # scenarios that must not need REST
FAST = Backoff(initial_s=0.01, factor=2.0, max_s=0.05, jitter=0.0)
SYNCING, LIVE, STALE = BookState.SYNCING, BookState.LIVE, BookState.STALE
Levels = tuple[list[tuple[float, float]], list[tuple[float, float]]]
Pairs = Sequence[tuple[str, str]]
Rows = Sequence[Sequence[str]]
Changes = Sequence[tuple[str, float, float]]


class StateLog:
    """The feed's on_change: every state a book is published in, with the wall-clock time."""

    def __init__(self, forward: OnChange | None = None) -> None:
        """An empty log that also forwards each change to ``forward`` when given."""
        self.feed: VenueFeed | None = None
        self.forward = forward
        self.entries: dict[Symbol, list[tuple[float, BookState]]] = {}

    def __call__(self, venue: Venue, symbols: set[Symbol]) -> None:
        """Record each changed book's state when it differs from the last one seen."""
        now = time.time()
        assert self.feed is not None
        for symbol in symbols:
            book = self.feed.book(symbol)
            seen = self.entries.setdefault(symbol, [])
            if book is not None and (not seen or seen[-1][1] is not book.state):
                seen.append((now, book.state))
        if self.forward is not None:
            self.forward(venue, symbols)

    def states(self, symbol: Symbol) -> list[BookState]:
        """The states ``symbol`` went through, in order."""
        return [state for _, state in self.entries.get(symbol, [])]

    def first(self, symbol: Symbol, state: BookState, after: float) -> float:
        """When ``symbol`` first entered ``state`` at or after ``after``."""
        return next(t for t, s in self.entries[symbol] if s is state and t >= after)


@asynccontextmanager
async def run_feed(
    proto: type[VenueProtocol],
    natives: dict[str, Symbol],
    url: str,
    *,
    rest: str = NO_REST,
    forward: OnChange | None = None,
    clock: Callable[[], float] = time.time,
    **config: Any,
) -> AsyncIterator[tuple[VenueFeed, StateLog]]:
    """A running feed of ``proto`` against ``url``; depth 50 (Bybit topic orderbook.50)."""
    log = StateLog(forward)
    http = AiohttpGet()
    cfg = FeedConfig(depth=50, ws_base=url, rest_base=rest, reconnect=FAST, **config)
    feed = VenueFeed(
        proto,
        SymbolMap(natives.items()),
        cfg,
        connector=websocket_connect,
        http=http,
        on_change=log,
        clock=clock,
    )
    log.feed = feed
    task = asyncio.ensure_future(feed.run())
    try:
        yield feed, log
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await http.close()


def book_of(feed: VenueFeed, symbol: Symbol) -> OrderBook:
    """The feed's book for ``symbol``, which must exist."""
    book = feed.book(symbol)
    assert book is not None
    return book


def levels(book: OrderBook) -> Levels:
    """A book's (bids, asks) levels as (price, size) lists."""
    return book.bids.levels(), book.asks.levels()


def updates(feed: VenueFeed, symbol: Symbol) -> int:
    """How many updates the book for ``symbol`` has applied (-1 while it has no book)."""
    book = feed.book(symbol)
    return -1 if book is None else book.updates


def is_frame(key: str, value: str) -> Callable[[str], bool]:
    """Matches client JSON frames whose ``key`` is ``value`` (OKX's text ``ping`` never does)."""

    def match(text: str) -> bool:
        try:
            frame = json.loads(text)
        except ValueError:
            return False
        return isinstance(frame, dict) and frame.get(key) == value

    return match


def sent(conn: ScriptConn) -> list[Any]:
    """What the client sent on one connection: JSON frames decoded, texts such as ``ping`` kept."""
    return [json.loads(t) if t.startswith("{") else t for t in conn.received]


async def okx_op(conn: ScriptConn, op: str) -> None:
    """Wait for the client's (un)subscribe and acknowledge each channel as OKX does."""
    frame = json.loads(await conn.recv_until(is_frame("op", op)))
    for arg in frame["args"]:
        await conn.send(okx.subscribe_ack(arg["instId"], op))


async def bybit_op(conn: ScriptConn, op: str) -> None:
    """Wait for the client's (un)subscribe and acknowledge it as Bybit does."""
    frame = json.loads(await conn.recv_until(is_frame("op", op)))
    await conn.send(bybit.op_ack(frame["req_id"], op))


async def deribit_call(conn: ScriptConn, method: str) -> None:
    """Wait for a JSON-RPC request and answer it (subscriptions echo their channels)."""
    frame = json.loads(await conn.recv_until(is_frame("method", method)))
    result = frame["params"].get("channels", "ok")
    await conn.send(deribit.rpc_result(frame["id"], result))


def okx_books(
    action: str, inst: str, seq: int, prev: int, bids: Pairs = (), asks: Pairs = (), **kw: Any
) -> str:
    """An OKX ``books`` frame, with the sequence numbers before the optional levels."""
    return okx.books_frame(action, inst, bids, asks, seq, prev, **kw)


def bybit_book(kind: str, symbol: str, u: int, bids: Rows = (), asks: Rows = ()) -> str:
    """A Bybit ``orderbook.50`` frame with optional levels."""
    return bybit.orderbook_frame(kind, symbol, u, bids, asks)


def deribit_book(
    kind: str,
    inst: str,
    change_id: int,
    prev: int | None,
    bids: Changes = (),
    asks: Changes = (),
    **kw: Any,
) -> str:
    """A Deribit ``book`` notification with optional level changes."""
    return deribit.book_notification(kind, inst, change_id, prev, bids, asks, **kw)


def okx_ops(conn: ScriptConn) -> list[tuple[str, list[str]]]:
    """The client's OKX ops on one connection as (op, instIds), pings left out."""
    return [(f["op"], [a["instId"] for a in f["args"]]) for f in sent(conn) if f != "ping"]


def bybit_ops(conn: ScriptConn) -> list[tuple[str, list[str]]]:
    """The client's Bybit ops on one connection as (op, topics)."""
    return [(f["op"], f.get("args", [])) for f in sent(conn)]


def deribit_methods(conn: ScriptConn) -> list[tuple[str, Any]]:
    """The client's Deribit JSON-RPC calls on one connection as (method, channels)."""
    return [(f["method"], f["params"].get("channels")) for f in sent(conn)]
