"""Kraken spot order books over WebSocket v2 (``book`` channel), sans-I/O; v1 frames in replay.

Kraken sends no sequence numbers: every book message carries a CRC32 of the top 10 levels
(v1 captures: every update), and the book must be cut back to the subscribed depth after each
message because levels that fall out of it are never deleted explicitly. A checksum mismatch,
a crossed book or a bad level resubscribes that one book. The checksum is computed from the
numbers as written on the wire, so v2 frames are decoded with their number texts kept.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.coinbase_rest import parse_iso_time
from goquant_bot.venues.kraken_book import KrakenBook, Texts, parse_v1_payloads, parse_v2_item
from goquant_bot.venues.kraken_rest import (
    DEFAULT_REST_BASE,
    depth_request,
    instruments_request,
    parse_depth,
    parse_instruments,
    places,
)
from goquant_bot.venues.levels import address_matches
from goquant_bot.venues.polling import on_poll_answer

# Re-exported: callers take a venue's instrument helpers from its protocol module.
__all__ = ["KrakenProtocol", "instruments_request", "parse_instruments", "subscription_depth"]

log = get_logger(__name__)

HOSTS = frozenset({"ws.kraken.com", "beta-ws.kraken.com"})  # beta: the production engine
V2_PATH, V1_PATH = "/v2", "/"
DEPTHS = (10, 25, 100, 500, 1000)  # the depths the book channel accepts
PING_INTERVAL_S = 30.0
# Kraken's message rate limit depends on its load ("EAPI:Rate limit exceeded"): a refused
# subscription is sent again after this long.
RETRY_SUBSCRIBE_S = 5.0
POLL_COUNT_MAX = 500


def subscription_depth(levels: int) -> int:
    """The smallest book depth Kraken offers that holds ``levels`` levels."""
    return next((d for d in DEPTHS if d >= levels), DEPTHS[-1])


class KrakenProtocol(VenueProtocol):
    """One Kraken spot WebSocket v2 connection (replay also reads v1 captures)."""

    venue: ClassVar[Venue] = Venue.KRAKEN
    native_separator: ClassVar[str] = "/"
    default_ws_base: ClassVar[str] = "wss://ws.kraken.com/v2"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    max_symbols_per_connection: ClassVar[int] = 50
    max_symbols_per_request: ClassVar[int] = 20
    max_sends_per_second: ClassVar[float] = 2.0
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._books: dict[Symbol, KrakenBook] = {}
        self._acked_depth: dict[str, int] = {}
        self._sub_depth = subscription_depth(self.depth)
        self._req_id = 0
        self._last_ping = 0.0
        self._retry_at: dict[Symbol, float] = {}
        self.last_pong: float | None = None
        self.last_heartbeat: float | None = None

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """Public spot data: ``/v2``, or the v1 root other recorders use (not ws-auth)."""
        return address_matches(addr, HOSTS, V2_PATH) or address_matches(addr, HOSTS, V1_PATH)

    # -- subscriptions and keep-alive -----------------------------------------------------

    def _next_id(self) -> int:
        self._req_id += 1
        return self._req_id

    def _send(self, method: str, symbols: list[Symbol]) -> None:
        names = [self.native_name(s) for s in symbols]
        step = self.max_symbols_per_request
        for i in range(0, len(names), step):
            params: dict[str, Any] = {"channel": "book", "symbol": names[i : i + step]}
            params["depth"] = self._sub_depth
            if method == "subscribe":
                params["snapshot"] = True
            frame = {"method": method, "params": params, "req_id": self._next_id()}
            self._outbox.append(orjson.dumps(frame).decode())

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            state = self._books.get(symbol)
            if state is not None:
                state.reset()
        self._send("subscribe", symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("unsubscribe", symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_trades("subscribe", symbols)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_trades("unsubscribe", symbols)

    def _send_trades(self, method: str, symbols: list[Symbol]) -> None:
        names = [self.native_name(s) for s in symbols]
        step = self.max_symbols_per_request
        for i in range(0, len(names), step):
            # The snapshot (recent trades) gives a last price at once; ids tell repeats.
            params: dict[str, Any] = {"channel": "trade", "symbol": names[i : i + step]}
            if method == "subscribe":
                params["snapshot"] = True
            frame = {"method": method, "params": params, "req_id": self._next_id()}
            self._outbox.append(orjson.dumps(frame).decode())

    def _forget(self, symbol: Symbol) -> None:
        self._books.pop(symbol, None)
        self._retry_at.pop(symbol, None)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        state = self._books.get(symbol)
        if state is not None:
            state.reset()
        super()._invalidate(book, symbol)

    def on_open(self, now: float) -> None:
        self._last_ping = now
        super().on_open(now)

    def on_timer(self, now: float) -> None:
        """``{"method":"ping","req_id":N}`` every 30 s besides Kraken's own heartbeats, and
        subscriptions refused for the message rate sent again."""
        if not self.connected:
            return
        if now - self._last_ping >= PING_INTERVAL_S:
            self.probe(now)
        due = [s for s, at in self._retry_at.items() if at <= now and s in self.books]
        if due:
            for symbol in due:
                del self._retry_at[symbol]
            self._send_subscribe(due, now)

    def probe(self, now: float) -> None:
        self._last_ping = now
        self._outbox.append(orjson.dumps({"method": "ping", "req_id": self._next_id()}).decode())

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":
        45283.5,"qty":0.10000000}],"asks":[],"checksum":2439117997,"timestamp":"2023-10-06T17:35:55.440295Z"}]}``
        (v1 captures: ``[336,{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"974942666"},"book-10","XBT/USD"]``)
        """
        # v1 numbers are strings already; v2 ones keep their text (trailing zeros count).
        try:
            msg = orjson.loads(text) if text[:1] == "[" else json.loads(text, parse_float=str)
        except ValueError:
            self.bad_frame("invalid_json", text)
            return
        if type(msg) is list:
            self._on_v1(msg, text, now)
        elif type(msg) is not dict:
            self.bad_frame("bad_shape", text)
        elif "channel" in msg:
            self._on_channel(msg, text, now)
        elif "method" in msg:
            self._on_reply(msg, now)
        elif "event" in msg:
            self._on_v1_event(msg, now)
        else:
            self.bad_frame("bad_shape", text)

    def _on_channel(self, msg: dict[str, Any], text: str, now: float) -> None:
        channel = msg["channel"]
        if channel == "heartbeat":
            self.last_heartbeat = now
            return
        if channel != "book":
            if channel == "trade":
                self._on_trades(msg.get("data"), text, now)
            else:
                self.stats.skipped[f"channel:{channel}"] += 1
            return
        kind, data = msg.get("type"), msg.get("data")
        if kind not in ("snapshot", "update") or type(data) is not list:
            self.bad_frame("bad_book", text)
            return
        for item in data:
            try:
                native, bids, asks, checksum, venue_ts = parse_v2_item(item)
            except VenueProtocolError:
                self.bad_frame("bad_book", text)
                continue
            state = self._state_for(native)
            if state is None:
                self.stats.skipped["unsubscribed"] += 1
                continue
            self._apply(state, kind == "snapshot", bids, asks, checksum, venue_ts, text, now)

    def _on_trades(self, data: Any, text: str, now: float) -> None:
        """``{"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD","side":"sell",
        "price":0.5117,"qty":40.0,"ord_type":"market","trade_id":4665906,
        "timestamp":"2023-09-25T07:49:37.708706Z"}]}``; ``side`` is the taker's."""
        if type(data) is not list:
            self.bad_trade("bad_shape", text)
            return
        for item in data:
            native = item.get("symbol") if type(item) is dict else None
            stamp = item.get("timestamp") if type(item) is dict else None
            if type(native) is not str or type(stamp) is not str:
                self.bad_trade("bad_field", text)
                continue
            try:
                venue_ts = parse_iso_time(stamp)
            except VenueProtocolError:
                self.bad_trade("bad_time", text)
                continue
            symbol = self.trade_symbol(native)
            if symbol is not None:
                side = taker_side(item.get("side"))
                trade_id = item.get("trade_id", "")
                self.add_trade(
                    symbol, item.get("price"), item.get("qty"), side, venue_ts, now, text, trade_id
                )

    def _on_reply(self, msg: dict[str, Any], now: float) -> None:
        """``{"method":"subscribe","result":{"channel":"book","depth":10,"symbol":"BTC/USD"},
        "success":true}``, an error (``"success":false,"error":"..."``) or ``pong``."""
        method = msg.get("method")
        if method == "pong":
            self.last_pong = now
            return
        if msg.get("success") is False:
            error, native = str(msg.get("error")), msg.get("symbol")
            self.stats.errors[f"{method}_failed"] += 1
            log.warning(
                "venue_request_failed",
                venue=self.venue.value,
                method=method,
                error=error[:200],
                symbol=native,
            )
            if method == "subscribe" and "rate" in error.lower() and type(native) is str:
                symbol = self.symbols.symbol(native)
                if symbol is not None and symbol in self.books:
                    self._retry_at[symbol] = now + RETRY_SUBSCRIBE_S
            return
        result = msg.get("result")
        if method == "subscribe" and type(result) is dict and result.get("channel") == "book":
            depth, native = result.get("depth"), result.get("symbol")
            if type(depth) is int and type(native) is str:
                self._acked_depth[native] = depth
                book = self.book_for(native)
                state = self._books.get(book.key.symbol) if book is not None else None
                if state is not None:
                    state.depth, state.depth_known = depth, True

    def _on_v1_event(self, msg: dict[str, Any], now: float) -> None:
        """``{"event":"subscriptionStatus","channelName":"book-10","pair":"XBT/USD",
        "status":"subscribed","subscription":{"depth":10,"name":"book"}}``, heartbeats..."""
        event = msg.get("event")
        if event == "heartbeat":
            self.last_heartbeat = now
        elif event == "pong":
            self.last_pong = now
        elif event == "subscriptionStatus" and msg.get("status") == "error":
            self.stats.errors["subscribe_failed"] += 1
            log.warning(
                "venue_request_failed",
                venue=self.venue.value,
                error=str(msg.get("errorMessage"))[:200],
            )
        elif event not in ("subscriptionStatus", "systemStatus"):
            self.stats.skipped[f"event:{event}"] += 1

    def _on_v1(self, msg: list[Any], text: str, now: float) -> None:
        """``[channelID, {"as":[...],"bs":[...]} | {"a":[...]}, {"b":[...],"c":"..."}, "book-10", "XBT/USD"]``"""
        if len(msg) < 4 or type(msg[-2]) is not str or type(msg[-1]) is not str:
            self.bad_frame("bad_shape", text)
            return
        channel, native = msg[-2], msg[-1]
        if not channel.startswith("book"):
            self.stats.skipped[f"channel:{channel.partition('-')[0]}"] += 1
            return
        try:
            parsed = parse_v1_payloads(msg[1:-2])
        except VenueProtocolError:
            self.bad_frame("bad_book", text)
            return
        state = self._state_for(native)
        if state is None:
            self.stats.skipped["unsubscribed"] += 1
            return
        depth = channel.partition("-")[2]
        if depth.isdecimal():
            state.depth, state.depth_known = int(depth), True
        self._apply(state, *parsed, text, now)

    # -- books ----------------------------------------------------------------------------

    def _state_for(self, native: str) -> KrakenBook | None:
        book = self.book_for(native)
        if book is None:
            return None
        state = self._books.get(book.key.symbol)
        if state is None or state.book is not book:
            acked = self._acked_depth.get(native)
            depth = self._sub_depth if acked is None else acked
            known = acked is not None or not self.track_all
            state = self._books[book.key.symbol] = KrakenBook(book, depth, known)
            listing = self.symbols.instrument(book.key.symbol)
            if listing is not None:  # the pair's precision, from AssetPairs
                state.price_dp = places(listing.tick_size)
                state.qty_dp = places(listing.lot_size)
        return state

    def _apply(
        self,
        state: KrakenBook,
        snapshot: bool,
        bids: Texts,
        asks: Texts,
        checksum: int | None,
        venue_ts: float | None,
        text: str,
        now: float,
    ) -> None:
        book = state.book
        if snapshot:
            state.reset()
            try:
                state.load(bids, asks)
            except ValueError:
                self.resync(book, "bad_level", now, text)
                return
            state.synced = True
            if not state.depth_known:
                # A capture without the subscription's answer: its snapshot shows the depth.
                state.depth = subscription_depth(max(len(bids), len(asks), 1))
        elif not state.synced:
            self.stats.skipped["update_before_snapshot"] += 1
            return
        else:
            try:
                state.update(bids, asks)
            except ValueError:
                self.resync(book, "bad_level", now, text)
                return
        state.truncate()
        if checksum is not None and checksum != state.checksum():
            self.resync(book, "checksum", now, text)
            return
        self.mark_live(book, now, venue_ts)

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return depth_request(self.rest_base, symbol, min(self.depth, POLL_COUNT_MAX))

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        on_poll_answer(self, request, status, body, now, parse_depth, self._restart_stream)

    def _restart_stream(self, symbol: Symbol) -> None:
        state = self._books.get(symbol)
        if state is not None:
            state.reset()  # the stream must start again from a snapshot
