"""What every venue protocol is: frames and REST responses in, books and requests out.

A protocol never does I/O and never reads a clock: the driver (or the replayer, or a test)
hands it each received frame with its local receive time ``now`` (epoch seconds) and then
calls ``drain()``, which hands over everything produced since the last call as one frozen
``Produced`` record and empties the protocol's buffers:

- ``frames``: text frames to send on the WebSocket (subscribe, resubscribe, pong, ping);
- ``requests``: REST requests to perform (snapshots, polls), answered through ``on_rest``;
- ``changed``: symbols whose book content or state changed since the last drain;
- ``trades``: public trades of the symbols whose trade stream was asked for
  (``subscribe_trades``), in arrival order.

Books are owned by the protocol (``books``) and read by the market-data hub.
Integrity failures resync ONE book (``resync``) and never the connection; a trade never
touches a book: a bad trade is counted (``bad_trade``) and skipped.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import ClassVar

from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.trades import TakerSide, Trade
from goquant_bot.logging import get_logger
from goquant_bot.venues.records import NOTHING, Produced
from goquant_bot.venues.records import RestRequest as RestRequest
from goquant_bot.venues.symbols import SymbolMap as SymbolMap
from goquant_bot.venues.symbols import split_concatenated

log = get_logger(__name__)

RAW_LOG_LIMIT = 300  # characters of a bad frame kept in the log
_NO_SYMBOLS: frozenset[Symbol] = frozenset()


def taker_side(value: object) -> TakerSide | None:
    """'buy'/'Buy'/'BUY' or 'sell' as a taker side; None for anything else."""
    if type(value) is not str:
        return None
    lowered = value.lower()
    if lowered == "buy":
        return TakerSide.BUY
    if lowered == "sell":
        return TakerSide.SELL
    return None


@dataclass(slots=True)
class ProtocolStats:
    """Counters a protocol keeps; the hub and the replay report read them."""

    frames: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


class VenueProtocol(ABC):
    """Base of the per-venue sans-I/O protocols (one instance per WebSocket connection)."""

    venue: ClassVar[Venue]
    # Limits the driver must respect when it spreads symbols over connections and frames.
    max_symbols_per_connection: ClassVar[int] = 100
    max_symbols_per_request: ClassVar[int] = 10
    max_sends_per_second: ClassVar[float] = 5.0
    # How often the driver calls on_timer (keep-alives).
    timer_interval_s: ClassVar[float] = 1.0
    default_ws_base: ClassVar[str]
    default_rest_base: ClassVar[str]
    # Trades on connections of their own (the venue serves them on another endpoint).
    trades_apart: ClassVar[bool] = False
    # What the protocol checks on every message (sequence or checksum: verified).
    integrity: ClassVar[Integrity] = Integrity.VERIFIED
    # False where the source serves no public trades: the driver opens nothing for them.
    has_trades: ClassVar[bool] = True
    # How the venue writes BTC-USDT when no instrument list says otherwise: BTCUSDT, BTC_USDC.
    native_separator: ClassVar[str] = ""

    def __init__(
        self,
        symbols: SymbolMap,
        *,
        depth: int = 200,
        track_all: bool = False,
        ws_base: str | None = None,
        rest_base: str | None = None,
    ) -> None:
        """``depth``: levels kept per side. ``track_all``: replay mode, build a book for every
        supported symbol seen in frames even if it was never subscribed. ``ws_base`` and
        ``rest_base`` replace the venue's public addresses (tests, proxies)."""
        self.symbols = symbols
        self.depth = depth
        self.track_all = track_all
        self.ws_base = ws_base or self.default_ws_base
        self.rest_base = rest_base or self.default_rest_base
        self.books: dict[Symbol, OrderBook] = {}
        # Filled by the protocol, handed over and emptied by drain().
        self._outbox: list[str] = []
        self._rest_out: list[RestRequest] = []
        self._changed: set[Symbol] = set()
        self._trades: list[Trade] = []
        # Symbols whose public trades are wanted (a separate channel from the book's).
        self.trade_symbols: set[Symbol] = set()
        self.stats = ProtocolStats()
        self.connected = False
        self.for_trades = False  # set by the driver on a trades-only connection (trades_apart)

    @classmethod
    @abstractmethod
    def accepts_address(cls, addr: str) -> bool:
        """Whether a captured connection address is this venue's SPOT market data."""

    # -- outputs --------------------------------------------------------------------------

    def drain(self) -> Produced:
        """Everything produced since the last call; afterwards the protocol holds none of it."""
        outbox, rest_out, changed, trades = (
            self._outbox,
            self._rest_out,
            self._changed,
            self._trades,
        )
        if not (outbox or rest_out or changed or trades):
            return NOTHING
        # Most frames only change a book: skip the copies and clears of empty buffers.
        produced = Produced(
            tuple(outbox) if outbox else (),
            tuple(rest_out) if rest_out else (),
            frozenset(changed) if changed else _NO_SYMBOLS,
            tuple(trades) if trades else (),
        )
        if outbox:
            outbox.clear()
        if rest_out:
            rest_out.clear()
        if changed:
            changed.clear()
        if trades:
            trades.clear()
        return produced

    def load(self) -> int:
        """Channels this connection carries: one per book, one per trade stream."""
        return len(self.books) + len(self.trade_symbols)

    def note_changed(self, symbol: Symbol) -> None:
        """A book's content or state changed outside a frame (a REST poll applied)."""
        self._changed.add(symbol)

    # -- inputs ---------------------------------------------------------------------------

    def ws_url(self) -> str:
        """The WebSocket address for this connection's current subscriptions ('' when the
        venue's answer to ``connect_request`` is still missing)."""
        return self.ws_base

    def connect_request(self) -> RestRequest | None:
        """A REST call to answer (through ``on_rest``) before each connection attempt, for
        venues whose WebSocket address comes from a REST answer; None for the others."""
        return None

    def on_open(self, now: float) -> None:
        """The connection is up: (re)subscribe every book."""
        self.connected = True
        if self.books:
            self._send_subscribe(list(self.books), now)
        if self.trade_symbols:
            self._send_trade_subscribe(sorted(self.trade_symbols), now)

    def on_close(self, now: float) -> None:
        """The connection is gone: every book is untrustworthy until resubscribed."""
        self.connected = False
        for symbol, book in self.books.items():
            self._invalidate(book, symbol)

    def subscribe(self, symbols: Collection[Symbol], now: float) -> None:
        new = [s for s in symbols if s not in self.books]
        for symbol in new:
            self.books[symbol] = OrderBook(InstrumentKey(self.venue, symbol), self.integrity)
            self._changed.add(symbol)
        if self.connected and new:
            self._send_subscribe(new, now)

    def unsubscribe(self, symbols: Collection[Symbol], now: float) -> None:
        gone = [s for s in symbols if s in self.books]
        for symbol in gone:
            self._forget(symbol)
            book = self.books.pop(symbol)
            book.state = BookState.SYNCING
            book.clear()
            self._changed.add(symbol)
        if self.connected and gone:
            self._send_unsubscribe(gone, now)

    def subscribe_trades(self, symbols: Collection[Symbol], now: float) -> None:
        """Start reading the public trades of ``symbols`` (independent of their books)."""
        new = [s for s in symbols if s not in self.trade_symbols]
        self.trade_symbols.update(new)
        if self.connected and new:
            self._send_trade_subscribe(new, now)

    def unsubscribe_trades(self, symbols: Collection[Symbol], now: float) -> None:
        """Stop reading the public trades of ``symbols``; trades still in flight are dropped."""
        gone = [s for s in symbols if s in self.trade_symbols]
        self.trade_symbols.difference_update(gone)
        if self.connected and gone:
            self._send_trade_unsubscribe(gone, now)

    @abstractmethod
    def on_frame(self, text: str, now: float) -> None:
        """One received text frame."""

    def decode_binary(self, data: bytes) -> str | None:
        """A received binary frame as the text ``on_frame`` reads (UTF-8 here; a venue that
        compresses its frames overrides this); None when it cannot be read (counted)."""
        try:
            return data.decode()
        except UnicodeDecodeError:
            self.bad_frame("bad_binary", repr(data[:RAW_LOG_LIMIT]))
            return None

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        """A REST response for one of the drained ``requests`` (status 0: transport failure)."""
        self.stats.skipped[f"rest:{request.purpose}"] += 1

    def on_timer(self, now: float) -> None:  # noqa: B027 - optional hook
        """Called about every ``timer_interval_s``: venue keep-alives."""

    @abstractmethod
    def probe(self, now: float) -> None:
        """Queue a request the venue always answers (an application-level ping): the driver
        calls it when the connection has been quiet for half the watchdog's silence, so a
        healthy but quiet connection is never mistaken for a dead one."""

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        """A REST snapshot request used to keep the book while the stream is down."""
        return None

    # -- for subclasses -------------------------------------------------------------------

    @abstractmethod
    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None: ...

    @abstractmethod
    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None: ...

    @abstractmethod
    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None: ...

    @abstractmethod
    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None: ...

    def trade_symbol(self, native: str) -> Symbol | None:
        """Our symbol for a trade of ``native`` when its trades are wanted (always in replay
        mode); None otherwise, counted as skipped."""
        if not self.is_spot_name(native):
            self.stats.skipped["trade_not_spot"] += 1
            return None
        symbol = self.symbols.symbol(native)
        if symbol is None and self.track_all:
            symbol = self._guess_symbol(native)
            if symbol is not None:
                self.symbols.add(native, symbol)
        if symbol is None or not (self.track_all or symbol in self.trade_symbols):
            self.stats.skipped["trade_unsubscribed"] += 1
            return None
        return symbol

    def add_trade(
        self,
        symbol: Symbol,
        price: object,
        size: object,
        side: TakerSide | None,
        venue_ts: float | None,
        now: float,
        text: str = "",
        trade_id: object = "",
    ) -> None:
        """Queue one trade; a price or size that is not a positive number, or no side,
        is counted as ``bad_trade`` and the trade skipped."""
        try:
            px = float(price)  # type: ignore[arg-type]
            qty = float(size)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            px = qty = math.nan
        if side is None or not (0.0 < px < math.inf and 0.0 < qty < math.inf):
            self.bad_trade("bad_trade", text)
            return
        key = InstrumentKey(self.venue, symbol)
        self._trades.append(Trade(key, px, qty, side, venue_ts, now, str(trade_id)))

    def bad_trade(self, reason: str, text: str) -> None:
        """A trade we cannot read: counted under ``reason`` and skipped, books untouched."""
        self.stats.errors["bad_trade"] += 1
        log.warning(
            "trade_rejected", venue=self.venue.value, reason=reason, raw=text[:RAW_LOG_LIMIT]
        )

    def native_name(self, symbol: Symbol) -> str:
        """The venue's name of a symbol (from its instrument list, else by its convention)."""
        native = self.symbols.native(symbol)
        if native is None:
            native = f"{symbol.base}{self.native_separator}{symbol.quote}"
            self.symbols.add(native, symbol)
        return native

    def is_spot_name(self, native: str) -> bool:
        """Whether a name the venue sends can be a spot pair of ours (venues that mix markets
        on one connection refuse futures and options here)."""
        return True

    def book_for(self, native: str) -> OrderBook | None:
        """The book of a native name, created in replay mode; None when not ours."""
        if not self.is_spot_name(native):
            return None
        symbol = self.symbols.symbol(native)
        if symbol is None and self.track_all:
            symbol = self._guess_symbol(native)
            if symbol is not None:
                self.symbols.add(native, symbol)
        if symbol is None:
            return None
        book = self.books.get(symbol)
        if book is None and self.track_all:
            book = self.books[symbol] = OrderBook(InstrumentKey(self.venue, symbol), self.integrity)
        return book

    def _guess_symbol(self, native: str) -> Symbol | None:
        if not self.native_separator:
            return split_concatenated(native)
        if native.count(self.native_separator) != 1:
            return None
        try:
            return Symbol.parse(native)
        except ValueError:
            return None

    def _forget(self, symbol: Symbol) -> None:  # noqa: B027 - optional hook
        """A symbol was unsubscribed: drop the venue-specific state kept for its book."""

    def resync(self, book: OrderBook, reason: str, now: float, raw: str = "") -> None:
        """Integrity lost for one book: clear it, count it, ask the venue for it again."""
        book.resyncs += 1
        self.stats.errors[reason] += 1
        log.warning(
            "book_resync",
            venue=self.venue.value,
            symbol=str(book.key.symbol),
            reason=reason,
            raw=raw[:RAW_LOG_LIMIT] if raw else None,
        )
        self._invalidate(book, book.key.symbol)
        self._restart_book(book, now)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """Venue-specific way to get a fresh book (resubscribe, or a new REST snapshot)."""
        symbol = book.key.symbol
        if self.connected:
            self._send_unsubscribe([symbol], now)
            self._send_subscribe([symbol], now)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        book.clear()
        if book.state is not BookState.SYNCING:
            book.state = BookState.SYNCING
        self._changed.add(symbol)

    def bad_frame(self, reason: str, text: str) -> None:
        """A frame we cannot use: count it and log it (truncated), keep the connection."""
        self.stats.errors[reason] += 1
        log.warning(
            "frame_rejected", venue=self.venue.value, reason=reason, raw=text[:RAW_LOG_LIMIT]
        )

    def mark_live(self, book: OrderBook, now: float, venue_ts: float | None) -> None:
        """After a successful apply: refresh times and state; a crossed book resyncs."""
        book.updates += 1
        book.recv_ts = now
        if venue_ts is not None:
            book.venue_ts = venue_ts
        if book.is_crossed():
            self.resync(book, "crossed", now)
            return
        if book.state is not BookState.LIVE:
            book.state = BookState.LIVE
        self._changed.add(book.key.symbol)
