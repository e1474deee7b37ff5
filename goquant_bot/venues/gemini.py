"""Gemini market data v2 (``l2`` subscription, spot only), sans-I/O.

The first ``l2_updates`` of a symbol after its subscription is the whole book (it also
carries the recent ``trades``); later ones carry changes ``[side, price, quantity]``
(quantity 0 deletes). Gemini sends no sequence numbers or checksums: a book is checked for
crossing after every message and for staleness by the hub, and a crossed or unparseable
update resubscribes that symbol. After a resubscription the in-flight changes of the old
subscription could be taken for the new book, so only a message carrying the initial
``trades`` list starts it. Perpetuals share the endpoint (``BTCGUSDPERP``) and are refused.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.gemini_rest import (
    BOOK_PATH,
    DEFAULT_REST_BASE,
    details_request,
    instruments_request,
    is_spot_name,
    parse_book,
    parse_instruments,
    split_symbol,
)
from goquant_bot.venues.levels import address_matches, apply_polled

# Re-exported: callers take a venue's instrument helpers from its protocol module.
__all__ = ["GeminiProtocol", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

WS_HOSTS = frozenset({"api.gemini.com"})
WS_PATH = "/v2/marketdata"
POLL_LIMIT = 200

_loads = orjson.loads


class _Feed:
    """Per-book stream state."""

    __slots__ = ("book", "has_book", "needs_initial")

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.has_book = False  # the initial state has been applied
        self.needs_initial = False  # resubscribed: wait for a message carrying ``trades``


class GeminiProtocol(VenueProtocol):
    """One Gemini v2 market-data connection carrying ``l2`` books of spot symbols."""

    venue: ClassVar[Venue] = Venue.GEMINI
    default_ws_base: ClassVar[str] = "wss://api.gemini.com/v2/marketdata"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # No sequence numbers or checksums: a lost change goes unnoticed unless it crosses the book.
    integrity: ClassVar[Integrity] = Integrity.SNAPSHOT
    # Gemini documents no per-connection limit; the first message of BTCUSD alone is a
    # whole book, so connections stay moderate.
    max_symbols_per_connection: ClassVar[int] = 50
    max_symbols_per_request: ClassVar[int] = 25
    max_sends_per_second: ClassVar[float] = 2.0
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._feeds: dict[Symbol, _Feed] = {}
        self.details: dict[Symbol, Instrument] = {}
        self._refused: set[Symbol] = set()  # its details say it is not a spot market
        # l2 subscriptions of this connection: a book's, or one opened for trades only.
        self._l2: set[Symbol] = set()

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """Production market data v2 only (the sandbox books are not the market)."""
        return address_matches(addr, WS_HOSTS, WS_PATH)

    def is_spot_name(self, native: str) -> bool:
        return is_spot_name(native)

    def _guess_symbol(self, native: str) -> Symbol | None:
        return split_symbol(native)

    # -- subscriptions --------------------------------------------------------------------

    def _send(self, kind: str, symbols: list[Symbol]) -> None:
        natives = [self.native_name(s) for s in symbols]
        step = self.max_symbols_per_request
        for i in range(0, len(natives), step):
            frame = {
                "type": kind,
                "subscriptions": [{"name": "l2", "symbols": natives[i : i + step]}],
            }
            self._outbox.append(orjson.dumps(frame).decode())

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            feed = self._feeds.get(symbol)
            if feed is not None:
                feed.has_book = False
            if symbol not in self.details and not self.track_all:
                native = self.native_name(symbol)
                self._rest_out.append(details_request(native, self.rest_base, symbol))
        # A stream opened for trades only is restarted, so its first message is the book.
        streaming = [s for s in symbols if s in self._l2]
        if streaming:
            self._send("unsubscribe", streaming)
            for symbol in streaming:
                book = self.books.get(symbol)
                if book is not None:
                    self._feeds.setdefault(symbol, _Feed(book)).needs_initial = True
        self._send("subscribe", symbols)
        self._l2.update(symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        # A released book whose trades are still read keeps its stream (trades ride on l2).
        gone = [s for s in symbols if s in self.books or s not in self.trade_symbols]
        if gone:
            self._send("unsubscribe", gone)
            self._l2.difference_update(gone)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        """Gemini's ``l2`` stream carries the trades: opened here unless the book has it."""
        new = [s for s in symbols if s not in self._l2]
        if new:
            self._send("subscribe", new)
            self._l2.update(new)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        gone = [s for s in symbols if s not in self.books and s in self._l2]
        if gone:
            self._send("unsubscribe", gone)
            self._l2.difference_update(gone)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        symbol = book.key.symbol
        feed = self._feeds.get(symbol)
        if feed is not None:
            feed.needs_initial = True
        super()._restart_book(book, now)

    def on_open(self, now: float) -> None:
        for feed in self._feeds.values():
            feed.needs_initial = False  # a new connection: its first message is the book
        self._l2.clear()
        super().on_open(now)

    def on_close(self, now: float) -> None:
        self._l2.clear()
        super().on_close(now)

    def _forget(self, symbol: Symbol) -> None:
        self._feeds.pop(symbol, None)

    def probe(self, now: float) -> None:
        """Gemini v2 has no ping: a ``candles_1m`` subscription is answered at once with the
        current candles; it is dropped again right away."""
        streamed = self.books or self._l2  # a stream opened for trades only counts too
        if not streamed:
            return
        native = self.native_name(next(iter(streamed)))
        for kind in ("subscribe", "unsubscribe"):
            frame = {"type": kind, "subscriptions": [{"name": "candles_1m", "symbols": [native]}]}
            self._outbox.append(orjson.dumps(frame).decode())

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","9122.04","0.00121425"],
        ["sell","9122.07","0"]],"trades":[...]}``; ``trade``, ``heartbeat`` and candle
        messages are skipped."""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("bad_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("bad_shape", text)
            return
        kind = msg.get("type")
        if kind == "trade":
            self._on_trade(msg, text, now)
            return
        if kind != "l2_updates":
            if kind in ("error", "subscription_error") or (
                "result" in msg and msg["result"] == "error"
            ):
                self.stats.errors["venue_error"] += 1
                log.warning("venue_error", venue=self.venue.value, raw=text[:300])
            else:
                self.stats.skipped[f"type:{kind}"] += 1
            return
        native, changes = msg.get("symbol"), msg.get("changes")
        if type(native) is not str or type(changes) is not list:
            self.bad_frame("bad_l2", text)
            return
        recent = msg.get("trades")
        if recent is not None and (self.trade_symbols or self.track_all):
            # The first message lists recent trades: they come before any newer one.
            for item in recent if type(recent) is list else [None]:
                self._on_trade(item, text, now)
        book = self.book_for(native)
        if book is None:
            self.stats.skipped["not_spot" if not is_spot_name(native) else "unsubscribed"] += 1
            return
        symbol = book.key.symbol
        if symbol in self._refused:
            self.stats.skipped["not_spot"] += 1
            return
        feed = self._feeds.get(symbol)
        if feed is None:
            feed = self._feeds[symbol] = _Feed(book)
        initial = "trades" in msg
        if initial or (not feed.has_book and not feed.needs_initial):
            self._apply_initial(feed, changes, text, now)
        elif not feed.has_book:
            self.stats.skipped["before_initial"] += 1
        else:
            try:
                self._apply(book, changes)
            except (ValueError, TypeError, IndexError, KeyError):
                self.resync(book, "bad_level", now, text)
                return
            self.mark_live(book, now, None)

    def _on_trade(self, msg: Any, text: str, now: float) -> None:
        """``{"type":"trade","symbol":"BTCUSD","event_id":3575573053,"timestamp":1700000000123,
        "price":"9004.21000000","quantity":"0.09110000","side":"buy","tid":2840140800}``; ``side``
        is the taker's; ``timestamp`` in milliseconds."""
        native = msg.get("symbol") if type(msg) is dict else None
        stamp = msg.get("timestamp") if type(msg) is dict else None
        if type(native) is not str or type(stamp) is not int:
            self.bad_trade("bad_field", text)
            return
        symbol = self.trade_symbol(native)
        if symbol is not None:
            side = taker_side(msg.get("side"))
            trade_id = msg.get("tid", msg.get("event_id", ""))
            self.add_trade(
                symbol,
                msg.get("price"),
                msg.get("quantity"),
                side,
                stamp / 1000,
                now,
                text,
                trade_id,
            )

    def _apply_initial(self, feed: _Feed, changes: list[Any], text: str, now: float) -> None:
        book = feed.book
        book.clear()
        try:
            self._apply(book, changes)
        except (ValueError, TypeError, IndexError, KeyError):
            self.resync(book, "bad_level", now, text)
            return
        feed.has_book = True
        feed.needs_initial = False
        book.bids.trim(self.depth)
        book.asks.trim(self.depth)
        self.mark_live(book, now, None)

    @staticmethod
    def _apply(book: OrderBook, changes: list[Any]) -> None:
        bids, asks = book.bids, book.asks
        for side, price, quantity in changes:
            if side == "buy":
                bids.set(float(price), float(quantity))
            elif side == "sell":
                asks.set(float(price), float(quantity))
            else:
                msg = f"unknown side {side!r}"
                raise ValueError(msg)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        feed = self._feeds.get(symbol)
        if feed is not None:
            feed.has_book = False
        super()._invalidate(book, symbol)

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        native = self.native_name(symbol).lower()
        limit = str(min(self.depth, POLL_LIMIT))
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}{BOOK_PATH}{native}",
            params=(("limit_bids", limit), ("limit_asks", limit)),
            weight=1,
            purpose="poll",
            symbol=symbol,
        )

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        symbol = request.symbol
        book = self.books.get(symbol) if symbol is not None else None
        if book is None:
            super().on_rest(request, status, body, now)
            return
        try:
            if status != 200:
                msg = f"Gemini {request.purpose}: HTTP {status}"
                raise VenueProtocolError(msg)
            if request.purpose == "details":
                self._on_details(book, parse_instruments(body), now)
            elif request.purpose == "poll":
                if book.state is BookState.LIVE:
                    self.stats.skipped["rest:poll_unneeded"] += 1
                    return
                bids, asks = parse_book(body)
                apply_polled(self, book, bids, asks, now, None)
            else:
                super().on_rest(request, status, body, now)
        except VenueProtocolError as exc:
            self.stats.errors[f"rest:{request.purpose}"] += 1
            log.warning("rest_rejected", venue=self.venue.value, reason=str(exc))

    def _on_details(self, book: OrderBook, found: list[Instrument], now: float) -> None:
        """A symbol whose details say it is not a spot market is never kept."""
        symbol = book.key.symbol
        if found and found[0].symbol == symbol:
            self.details[symbol] = found[0]
            return
        self.stats.errors["not_spot"] += 1
        log.warning("venue_symbol_not_spot", venue=self.venue.value, symbol=str(symbol))
        self._refused.add(symbol)
        self._invalidate(book, symbol)
