"""Coinbase Advanced Trade public market data: ``level2`` books and ``heartbeats``, sans-I/O.

Every message of a connection carries ``sequence_num``, counted across all its channels. A
number skipped means a lost message that could have belonged to any book of the connection,
so every book of that connection is resubscribed (the others are untouched); a crossed book
or a bad level resubscribes that one book. ``level2`` is the full book: a snapshot event
(one ~5 MB frame for BTC-USD) and then absolute sizes per level, ``"0"`` deleting it. The
``heartbeats`` channel keeps quiet subscriptions open (Coinbase closes them after 60-90 s),
and an in-sequence heartbeat confirms every book of the connection as current.
Other channels (``market_trades``...) arrive on the same connection and are counted only.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RAW_LOG_LIMIT, RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.coinbase_rest import (
    DEFAULT_REST_BASE,
    book_request,
    instruments_request,
    parse_book,
    parse_instruments,
    parse_iso_time,
)
from goquant_bot.venues.levels import address_matches
from goquant_bot.venues.polling import on_poll_answer

# Re-exported: callers take a venue's instrument helpers from its protocol module.
__all__ = ["CoinbaseProtocol", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

LIVE_HOSTS = frozenset({"advanced-trade-ws.coinbase.com"})
WS_PATH = "/"
BOOK_CHANNEL = "level2"
HEARTBEATS = "heartbeats"
TRADE_CHANNEL = "market_trades"
POLL_LIMIT_MAX = 1000

_loads = orjson.loads


def _snapshot_sides(updates: Any) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """``[{"side":"bid","price_level":"65062.5","new_quantity":"0.00583"}, ...]`` as two sides."""
    bids: list[tuple[float, float]] = []
    asks: list[tuple[float, float]] = []
    for update in updates:
        side = update["side"]
        level = (float(update["price_level"]), float(update["new_quantity"]))
        if side == "bid":
            bids.append(level)
        elif side == "offer":
            asks.append(level)
        else:
            msg = f"unknown side {side!r}"
            raise VenueProtocolError(msg)
    return bids, asks


class CoinbaseProtocol(VenueProtocol):
    """One Advanced Trade market-data connection carrying ``level2`` for several products."""

    venue: ClassVar[Venue] = Venue.COINBASE
    native_separator: ClassVar[str] = "-"
    default_ws_base: ClassVar[str] = "wss://advanced-trade-ws.coinbase.com"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # A gap resubscribes every book of a connection (each a full-depth snapshot, BTC-USD alone
    # ~5 MB): a few dozen products per connection keep that burst bounded.
    max_symbols_per_connection: ClassVar[int] = 30
    max_symbols_per_request: ClassVar[int] = 10
    # Unauthenticated clients may send 8 messages per second per IP, over all connections.
    max_sends_per_second: ClassVar[float] = 3.0
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seq: int | None = None  # sequence_num of the last message on this connection
        self._synced: set[Symbol] = set()  # books whose snapshot has arrived
        self.last_heartbeat: float | None = None

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The public market-data endpoint (the user-order endpoint carries no books)."""
        return address_matches(addr, LIVE_HOSTS, WS_PATH)

    # -- subscriptions and keep-alive -----------------------------------------------------

    def on_open(self, now: float) -> None:
        self._seq = None
        self._synced.clear()
        self._outbox.append(self._frame("subscribe", HEARTBEATS, None))
        super().on_open(now)

    def on_close(self, now: float) -> None:
        self._seq = None
        super().on_close(now)

    def probe(self, now: float) -> None:
        """Subscribing to ``heartbeats`` again is harmless and always answered (subscriptions)."""
        self._outbox.append(self._frame("subscribe", HEARTBEATS, None))

    def _frame(self, kind: str, channel: str, products: list[str] | None) -> str:
        msg: dict[str, Any] = {"type": kind}
        if products is not None:
            msg["product_ids"] = products
        msg["channel"] = channel
        return orjson.dumps(msg).decode()

    def _send(self, kind: str, symbols: list[Symbol], channel: str = BOOK_CHANNEL) -> None:
        step = self.max_symbols_per_request
        names = [self.native_name(s) for s in symbols]
        for i in range(0, len(names), step):
            self._outbox.append(self._frame(kind, channel, names[i : i + step]))

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("subscribe", symbols, TRADE_CHANNEL)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("unsubscribe", symbols, TRADE_CHANNEL)

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._synced.difference_update(symbols)
        self._send("subscribe", symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._synced.difference_update(symbols)
        self._send("unsubscribe", symbols)

    def _forget(self, symbol: Symbol) -> None:
        self._synced.discard(symbol)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        self._synced.discard(symbol)
        super()._invalidate(book, symbol)

    def is_spot_name(self, native: str) -> bool:
        """``BTC-USD``; futures (``BIT-27DEC24-CDE``, ``BTC-PERP-INTX``) have more parts."""
        return native.count("-") == 1

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z",
        "sequence_num":14,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid",
        "event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.73","new_quantity":"0"}]}]}``
        """
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("invalid_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("not_an_object", text)
            return
        seq = msg.get("sequence_num")
        in_sequence = False
        if type(seq) is int:
            expected = self._seq
            self._seq = seq
            in_sequence = expected is not None and seq == expected + 1
            if expected is not None and not in_sequence:
                self._gap(expected, seq, now, text)
        channel = msg.get("channel")
        if channel == "l2_data":
            self._on_l2(msg, text, now)
        elif channel == HEARTBEATS:
            self.last_heartbeat = now
            if in_sequence:
                self._confirm_books(now)
        elif channel == TRADE_CHANNEL:
            self._on_trades(msg, text, now)
        elif channel == "subscriptions":
            return
        elif msg.get("type") == "error":
            self.stats.errors["venue_error"] += 1
            log.warning("venue_error", venue=self.venue.value, msg=str(msg.get("message"))[:200])
        elif type(channel) is str:
            self.stats.skipped[f"channel:{channel}"] += 1
        else:
            self.bad_frame("bad_shape", text)

    def _confirm_books(self, now: float) -> None:
        """An in-sequence heartbeat proves no message of this connection was lost: every
        synced book is complete as of now, quiet or not (so a quiet book never turns stale
        while its connection is healthy)."""
        for symbol in self._synced:
            book = self.books.get(symbol)
            if book is None:
                continue
            if book.state is BookState.STALE:
                book.state = BookState.LIVE
                self._changed.add(symbol)
            if book.state is BookState.LIVE:
                book.recv_ts = now

    def _gap(self, expected: int, seq: int, now: float, text: str) -> None:
        """A message of this connection was lost: any of its books may have missed it."""
        self.stats.errors["seq_gap"] += 1
        log.warning(
            "sequence_gap",
            venue=self.venue.value,
            expected=expected + 1,
            got=seq,
            books=len(self.books),
            raw=text[:RAW_LOG_LIMIT],
        )
        symbols = list(self.books)
        for symbol, book in self.books.items():
            book.resyncs += 1
            self._invalidate(book, symbol)
        if self.connected and symbols:
            self._send_unsubscribe(symbols, now)
            self._send_subscribe(symbols, now)

    def _on_l2(self, msg: dict[str, Any], text: str, now: float) -> None:
        events = msg.get("events")
        if type(events) is not list:
            self.bad_frame("bad_events", text)
            return
        venue_ts: float | None = None
        for event in events:
            try:
                kind = event["type"]
                native = event["product_id"]
                updates = event["updates"]
            except (KeyError, TypeError):
                self.bad_frame("bad_event", text)
                continue
            if type(native) is not str or type(updates) is not list:
                self.bad_frame("bad_event", text)
                continue
            book = self.book_for(native)
            if book is None:
                self.stats.skipped["unsubscribed"] += 1
                continue
            if venue_ts is None:
                venue_ts = self._venue_ts(msg)
            symbol = book.key.symbol
            if kind == "update":
                if symbol not in self._synced:
                    self.stats.skipped["update_before_snapshot"] += 1
                    continue
                if not self._apply(book, updates, now, text):
                    continue
            elif kind == "snapshot":
                try:
                    bids, asks = _snapshot_sides(updates)
                except (KeyError, TypeError, ValueError, VenueProtocolError):
                    self.resync(book, "bad_level", now, text)
                    continue
                book.bids.replace(bids)
                book.asks.replace(asks)
                self._synced.add(symbol)
            else:
                self.bad_frame("bad_event_type", text)
                continue
            self.mark_live(book, now, venue_ts)

    def _apply(self, book: OrderBook, updates: list[Any], now: float, text: str) -> bool:
        bids, asks = book.bids, book.asks
        try:
            for update in updates:
                side = update["side"]
                price, size = float(update["price_level"]), float(update["new_quantity"])
                if side == "bid":
                    bids.set(price, size)
                elif side == "offer":
                    asks.set(price, size)
                else:
                    raise ValueError(side)
        except (KeyError, TypeError, ValueError):
            # Checking every level first would cost more than the rare bad level: the book it
            # may have half-updated is rebuilt instead, never used.
            self.resync(book, "bad_level", now, text)
            return False
        return True

    def _on_trades(self, msg: dict[str, Any], text: str, now: float) -> None:
        """``{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z",
        "sequence_num":0,"events":[{"type":"update","trades":[{"trade_id":"000000000",
        "product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY",
        "time":"2019-08-14T20:42:27.265Z"}]}]}``. ``side`` is the resting (maker) order's side,
        so the taker's is the other one."""
        events = msg.get("events")
        if type(events) is not list:
            self.bad_trade("bad_shape", text)
            return
        for event in events:
            trades = event.get("trades") if type(event) is dict else None
            if type(trades) is not list:
                self.bad_trade("bad_shape", text)
                continue
            for item in trades:
                self._on_trade(item, text, now)

    def _on_trade(self, item: Any, text: str, now: float) -> None:
        native = item.get("product_id") if type(item) is dict else None
        stamp = item.get("time") if type(item) is dict else None
        if type(native) is not str or type(stamp) is not str:
            self.bad_trade("bad_field", text)
            return
        try:
            venue_ts = parse_iso_time(stamp)
        except VenueProtocolError:
            self.bad_trade("bad_time", text)
            return
        symbol = self.trade_symbol(native)
        if symbol is not None:
            maker = taker_side(item.get("side"))
            side = (
                None
                if maker is None
                else (TakerSide.SELL if maker is TakerSide.BUY else TakerSide.BUY)
            )
            self.add_trade(
                symbol,
                item.get("price"),
                item.get("size"),
                side,
                venue_ts,
                now,
                text,
                item.get("trade_id", ""),
            )

    def _venue_ts(self, msg: dict[str, Any]) -> float | None:
        stamp = msg.get("timestamp")
        if type(stamp) is not str:
            return None
        try:
            return parse_iso_time(stamp)
        except VenueProtocolError:
            self.stats.errors["bad_timestamp"] += 1
            return None

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        limit = min(self.depth, POLL_LIMIT_MAX)
        return book_request(self.rest_base, self.native_name(symbol), symbol, limit)

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        # The stream must start again from a snapshot: updates never apply to polled data.
        on_poll_answer(self, request, status, body, now, parse_book, self._synced.discard)
