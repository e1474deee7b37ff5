"""A venue read through ccxt's WebSocket module (ccxt.pro), as the hub sees any venue's feed.

One ccxt client per book (as GoMarket carries one book per stream): a symbol's failure, its
rebuild or its backoff never touches another symbol's book. A shared client loads the markets
and answers the REST cross-checks, within ``rest_per_minute``. ccxt is imported on first use,
in a thread (it takes about a second), and only when a venue is read through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.ccxt_venues import CCXT_IDS
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueUnavailable
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.ccxt_books import CcxtBooks, GuardConfig, protocol_for
from goquant_bot.venues.ccxt_markets import markets_body
from goquant_bot.venues.ccxt_net import (
    Exchange,
    ExchangeFactory,
    RestBudget,
    close,
    exchange_factory,
)
from goquant_bot.venues.feed import FeedConfig, OnChange, VenueFeed
from goquant_bot.venues.transport import HttpResponse, WsConnection

log = get_logger(__name__)


async def _no_websocket(url: str) -> WsConnection:
    msg = "a venue read through ccxt opens its WebSockets through ccxt"
    raise VenueUnavailable(msg)


async def _no_http(url: str, params: tuple[tuple[str, str], ...], timeout_s: float) -> HttpResponse:
    msg = "a venue read through ccxt makes its REST requests through ccxt"
    raise VenueUnavailable(msg)


@dataclass(slots=True)
class _Stream:
    """One symbol's ccxt client and the task reading it."""

    task: asyncio.Task[None] | None = None
    up: bool = False
    restarts: int = 0  # in a row, for the rebuild backoff
    exchange: Exchange = None


class CcxtFeed(VenueFeed):
    """The books (and trades) of one venue read through ccxt.pro, behind our guards."""

    def __init__(
        self,
        venue: Venue,
        symbols: SymbolMap,
        config: FeedConfig,
        guard: GuardConfig,
        *,
        on_change: OnChange,
        rest_per_minute: float,
        make_exchange: ExchangeFactory | None = None,
        clock: Callable[[], float] = time.time,
        tick_s: float = 1.0,
    ) -> None:
        proto_cls = protocol_for(venue, guard)
        super().__init__(
            proto_cls,
            symbols,
            config,
            connector=_no_websocket,
            http=_no_http,
            on_change=on_change,
            clock=clock,
        )
        self.exchange_id = CCXT_IDS[venue]
        self.state: CcxtBooks = proto_cls(symbols, depth=config.depth)
        self.make_exchange = make_exchange or exchange_factory(
            self.exchange_id, config.ws_base, config.rest_base
        )
        self.budget = RestBudget(rest_per_minute, clock)
        self.tick_s = tick_s
        self.rebuilds = 0
        self._shared: Exchange = None
        self._shared_lock = asyncio.Lock()
        self._books: dict[Symbol, _Stream] = {}
        self._trades: dict[Symbol, _Stream] = {}
        self._wake = asyncio.Event()

    # -- what the hub calls ---------------------------------------------------------------

    def add(self, symbols: Iterable[Symbol]) -> None:
        now = self.clock()
        for symbol in symbols:
            if symbol in self._books:
                continue
            self.state.subscribe([symbol], now)
            self._books[symbol] = _Stream()
            self._start(symbol, self._books, self._read_books)
        self._publish()

    def remove(self, symbols: Iterable[Symbol]) -> None:
        now = self.clock()
        for symbol in symbols:
            stream = self._books.pop(symbol, None)
            if stream is None:
                continue
            self.state.unsubscribe([symbol], now)
            if stream.task is not None:
                stream.task.cancel()
        self._publish()

    def add_trades(self, symbols: Iterable[Symbol]) -> None:
        now = self.clock()
        for symbol in symbols:
            if symbol in self._trades:
                continue
            self.state.subscribe_trades([symbol], now)
            self._trades[symbol] = _Stream()
            self._start(symbol, self._trades, self._read_trades)

    def remove_trades(self, symbols: Iterable[Symbol]) -> None:
        now = self.clock()
        for symbol in symbols:
            stream = self._trades.pop(symbol, None)
            if stream is None:
                continue
            self.state.unsubscribe_trades([symbol], now)
            if stream.task is not None:
                stream.task.cancel()

    def trade_symbols(self) -> set[Symbol]:
        return set(self.state.trade_symbols)

    def book(self, symbol: Symbol) -> OrderBook | None:
        return self.state.books.get(symbol)

    def books(self) -> list[OrderBook]:
        return list(self.state.books.values())

    @property
    def connected(self) -> bool:
        return any(stream.up for stream in self._books.values())

    def frames(self) -> int:
        """Books handed over by ccxt so far."""
        return self.state.stats.frames

    # -- the directory's seam -------------------------------------------------------------

    async def markets(self) -> HttpResponse:
        """The venue's spot markets from ccxt (503 with the reason when ccxt fails)."""
        try:
            exchange = await self._shared_client()
            markets = await exchange.load_markets(True)
        except Exception as exc:  # ccxt's errors are its own; told, retried
            return HttpResponse(503, f"{type(exc).__name__}: {exc}", {})
        return HttpResponse(200, markets_body(markets.values(), exchange.precisionMode), {})

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Read every book until cancelled; ccxt's clients are closed on the way out."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                for streams, read in (
                    (self._books, self._read_books),
                    (self._trades, self._read_trades),
                ):
                    for symbol in streams:
                        self._start(symbol, streams, read)
                await self._guard_loop()
        finally:
            self._tg = None
            for streams in (self._books, self._trades):
                for stream in streams.values():
                    stream.task = None
            self.state.stopped()  # not live until a running feed reads them again
            self._publish()
            await self.close()

    async def close(self) -> None:
        """Close the shared client (markets, REST checks); the next use opens a new one."""
        if self._shared is not None:
            shared, self._shared = self._shared, None
            await close(shared)

    def _start(
        self,
        symbol: Symbol,
        streams: dict[Symbol, _Stream],
        read: Callable[[Symbol, _Stream], Awaitable[None]],
    ) -> None:
        stream = streams.get(symbol)
        if stream is None or self._tg is None:
            return
        if stream.task is not None:
            stream.task.cancel()
        stream.task = self._tg.create_task(
            self._own_client(symbol, stream, read), name=f"ccxt:{self.venue.value}:{symbol}"
        )

    async def _own_client(
        self, symbol: Symbol, stream: _Stream, read: Callable[[Symbol, _Stream], Awaitable[None]]
    ) -> None:
        """One symbol's client, made after the backoff its failures earned, closed at the end."""
        while True:
            if stream.restarts:
                await self.sleep(self.config.reconnect.delay(stream.restarts - 1, self.rand))
            exchange = None
            try:
                shared = await self._shared_client()
                if shared.markets is None:
                    await shared.load_markets()
                exchange = await self.make_exchange()
                exchange.set_markets_from_exchange(shared)
                stream.exchange = exchange
                if read == self._read_books:  # silence counts from now, not from the back-off
                    self.state.rebuilt(symbol, self.clock())
                await read(symbol, stream)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one symbol's failure stays its own
                stream.restarts += 1
                self.state.stats.errors["client_failed"] += 1
                log.warning(
                    "ccxt_client_failed",
                    venue=self.venue.value,
                    symbol=str(symbol),
                    error=f"{type(exc).__name__}: {exc}",
                )
            finally:
                stream.up = False
                stream.exchange = None
                if exchange is not None:
                    await close(exchange)

    async def _read_books(self, symbol: Symbol, stream: _Stream) -> None:
        native = self._native(symbol)
        failures = 0
        while True:
            try:
                ccxt_book = await stream.exchange.watch_order_book(native)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # told, retried with backoff
                stream.up = False
                self.state.on_error(symbol, f"{type(exc).__name__}: {exc}", self.clock())
                self._publish()
                await self.sleep(self.config.reconnect.delay(failures, self.rand))
                failures += 1
                continue
            failures = 0
            stream.up = True
            if self.state.on_book(symbol, ccxt_book, self.clock()):
                stream.restarts = 0
            self._publish()
            if self.state.rebuild_pending(symbol):
                self._wake.set()

    async def _read_trades(self, symbol: Symbol, stream: _Stream) -> None:
        native = self._native(symbol)
        if not stream.exchange.has.get("watchTrades"):
            log.warning("ccxt_no_trades", venue=self.venue.value, exchange=self.exchange_id)
            return
        failures = 0
        while True:
            try:
                trades = await stream.exchange.watch_trades(native)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # told, retried with backoff
                self.state.stats.errors["trade_stream_error"] += 1
                log.warning(
                    "ccxt_trades_error", venue=self.venue.value, symbol=str(symbol), error=repr(exc)
                )
                await self.sleep(self.config.reconnect.delay(failures, self.rand))
                failures += 1
                continue
            failures = 0
            self.state.on_trades(symbol, trades, self.clock())
            self._publish()

    async def _guard_loop(self) -> None:
        """Our clock's watchdog, the rebuilds the guards ask for, the REST cross-checks."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_s):
                    await self._wake.wait()
            self._wake.clear()
            now = self.clock()
            self.state.check(now)
            for symbol in self.state.take_rebuilds():
                self._rebuild(symbol, now)
            for symbol in self.state.crosscheck_due(now):
                if not self.budget.take():
                    self.state.stats.skipped["crosscheck_over_budget"] += 1
                    break
                self.state.crosscheck_asked(symbol, now)
                if self._tg is not None:
                    self._tg.create_task(self._crosscheck(symbol))
            self._publish()

    def _rebuild(self, symbol: Symbol, now: float) -> None:
        stream = self._books.get(symbol)
        if stream is None:
            return
        self.rebuilds += 1
        stream.restarts += 1
        log.info("ccxt_book_rebuild", venue=self.venue.value, symbol=str(symbol))
        self.state.rebuilding(symbol)
        self._start(symbol, self._books, self._read_books)

    async def _crosscheck(self, symbol: Symbol) -> None:
        try:
            exchange = await self._shared_client()
            async with asyncio.timeout(self.config.rest_timeout_s):
                rest_book = await exchange.fetch_order_book(self._native(symbol))
        except Exception as exc:  # a failed check proves nothing either way
            self.state.stats.errors["crosscheck_failed"] += 1
            log.warning(
                "ccxt_crosscheck_failed",
                venue=self.venue.value,
                symbol=str(symbol),
                error=repr(exc),
            )
            return
        if not self.state.on_crosscheck(symbol, rest_book, self.clock()):
            self._wake.set()
        self._publish()

    async def _shared_client(self) -> Exchange:
        async with self._shared_lock:
            if self._shared is None:
                self._shared = await self.make_exchange()
            return self._shared

    def _native(self, symbol: Symbol) -> str:
        """ccxt's unified name of ``symbol`` (BTC/USDT unless its market list says otherwise)."""
        return self.symbols.native(symbol) or f"{symbol.base}/{symbol.quote}"

    def _publish(self) -> None:
        produced = self.state.drain()
        if produced.changed:
            self.on_change(self.venue, produced.changed)
        if produced.trades:
            self.on_trades(produced.trades)
