"""The shared async driver: one VenueFeed per venue, one or more connections per feed.

Each connection pairs a sans-I/O protocol with a WebSocket: a reader task queues frames with
their receive time, the pump feeds them to the protocol and performs what it asks for (sends
under the venue's rate, REST within the weight budget), runs keep-alive timers, the silence
watchdog and the planned reconnect. When the WebSocket cannot be established several times
in a row, the books are kept from REST snapshots (state POLLED) while the WebSocket is retried.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import Trade
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.connection import FeedConnection
from goquant_bot.venues.records import Recorder
from goquant_bot.venues.rest import RestClient
from goquant_bot.venues.transport import HttpGet, WsConnector

RECONNECT_BACKOFF = Backoff(initial_s=0.5, factor=2.0, max_s=30.0, jitter=0.3)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    depth: int = 200
    silence_s: float = 5.0
    max_connection_age_s: float | None = None
    poll_after_failures: int = 3
    poll_interval_s: float = 2.0
    rest_weight_per_minute: float = 1200.0
    rest_timeout_s: float = 10.0
    reconnect: Backoff = RECONNECT_BACKOFF
    stable_after_s: float = 30.0
    ws_base: str | None = None
    rest_base: str | None = None


OnChange = Callable[[Venue, AbstractSet[Symbol]], None]
OnTrades = Callable[[Sequence[Trade]], None]


def _no_trades(trades: Sequence[Trade]) -> None:
    """Trades with nobody listening are dropped."""


class VenueFeed:
    """All connections of one venue; spreads symbols under the venue's per-connection limit."""

    def __init__(
        self,
        protocol_cls: type[VenueProtocol],
        symbols: SymbolMap,
        config: FeedConfig,
        *,
        connector: WsConnector,
        http: HttpGet,
        on_change: OnChange,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        recorder: Recorder | None = None,
        on_trades: OnTrades = _no_trades,
    ) -> None:
        self.protocol_cls = protocol_cls
        self.venue = protocol_cls.venue
        self.symbols = symbols
        self.config = config
        self.connector = connector
        self.on_change = on_change
        self.on_trades = on_trades  # the hub sets itself here when the feed is added
        self.clock = clock
        self.sleep = sleep
        self.rand = rand
        self.recorder = recorder
        self.rest = RestClient(
            http,
            weight_per_minute=config.rest_weight_per_minute,
            timeout_s=config.rest_timeout_s,
            clock=clock,
            sleep=sleep,
            recorder=recorder,
        )
        self.connections: list[FeedConnection] = []
        self._tg: asyncio.TaskGroup | None = None
        self._conn_ids = 0

    # -- subscriptions (called synchronously by the hub) -----------------------------------

    def add(self, symbols: Iterable[Symbol]) -> None:
        now = self.clock()
        for symbol in symbols:
            if self._owner(symbol) is not None:
                continue
            conn = self._room(for_trades=False) or self._new_conn()
            conn.proto.subscribe([symbol], now)
            conn.take()
            conn.wake()

    def remove(self, symbols: Iterable[Symbol]) -> None:
        now = self.clock()
        for symbol in symbols:
            conn = self._owner(symbol)
            if conn is None:
                continue
            conn.proto.unsubscribe([symbol], now)
            conn.take()
            conn.wake()
            self._stop_if_idle(conn)

    def add_trades(self, symbols: Iterable[Symbol]) -> None:
        """Read the public trades of ``symbols``, preferably on the connection of their book."""
        if not self.protocol_cls.has_trades:
            return
        now = self.clock()
        for symbol in symbols:
            if self._trade_owner(symbol) is not None:
                continue
            if self.protocol_cls.trades_apart:
                conn = self._room(for_trades=True) or self._new_conn(for_trades=True)
            else:
                book_conn = self._owner(symbol)
                conn = (
                    book_conn
                    if book_conn is not None and book_conn.has_room()
                    else self._room(for_trades=False)
                ) or self._new_conn()
            conn.proto.subscribe_trades([symbol], now)
            conn.take()
            conn.wake()

    def remove_trades(self, symbols: Iterable[Symbol]) -> None:
        now = self.clock()
        for symbol in symbols:
            conn = self._trade_owner(symbol)
            if conn is None:
                continue
            conn.proto.unsubscribe_trades([symbol], now)
            conn.take()
            conn.wake()
            self._stop_if_idle(conn)

    def trade_symbols(self) -> set[Symbol]:
        return {s for c in self.connections for s in c.proto.trade_symbols}

    def _stop_if_idle(self, conn: FeedConnection) -> None:
        if not conn.proto.books and not conn.proto.trade_symbols:
            conn.stop()
            self.connections.remove(conn)

    def book(self, symbol: Symbol) -> OrderBook | None:
        conn = self._owner(symbol)
        return conn.proto.books.get(symbol) if conn else None

    def books(self) -> list[OrderBook]:
        return [b for c in self.connections for b in c.proto.books.values()]

    @property
    def connected(self) -> bool:
        """Whether the books' stream is up: a connection of trades apart (HTX's) does not
        count while the feed has book connections."""
        books = [c for c in self.connections if not c.proto.for_trades]
        return any(c.connected for c in books or self.connections)

    def frames(self) -> int:
        """Messages read so far, over every connection."""
        return sum(c.proto.stats.frames for c in self.connections)

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Run every connection until cancelled."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                for conn in self.connections:
                    conn.start(tg)
                await asyncio.Future()  # until cancelled
        finally:
            self._tg = None

    def next_conn_id(self) -> int:
        self._conn_ids += 1
        return self._conn_ids

    def _owner(self, symbol: Symbol) -> FeedConnection | None:
        return next((c for c in self.connections if symbol in c.proto.books), None)

    def _trade_owner(self, symbol: Symbol) -> FeedConnection | None:
        return next((c for c in self.connections if symbol in c.proto.trade_symbols), None)

    def _room(self, *, for_trades: bool) -> FeedConnection | None:
        """A connection of that kind (books, or trades apart) with room for one more symbol."""
        return next(
            (c for c in self.connections if c.proto.for_trades is for_trades and c.has_room()),
            None,
        )

    def _new_conn(self, *, for_trades: bool = False) -> FeedConnection:
        proto = self.protocol_cls(
            self.symbols,
            depth=self.config.depth,
            ws_base=self.config.ws_base,
            rest_base=self.config.rest_base,
        )
        proto.for_trades = for_trades
        conn = FeedConnection(self, proto)
        self.connections.append(conn)
        if self._tg is not None:
            conn.start(self._tg)
        return conn
