"""Bybit v5 spot: in-band snapshots and deltas chained by ``u`` (sans-I/O).

Every ``snapshot`` resets a book (one with ``u == 1`` follows a venue restart); a delta must
carry the previous message's ``u`` plus one, otherwise that one book is resubscribed, which
makes Bybit send a fresh snapshot.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.levels import Levels, address_matches, parse_levels
from goquant_bot.venues.polling import on_poll_answer

log = get_logger(__name__)

SPOT_HOSTS = frozenset({"stream.bybit.com", "stream.bytick.com"})
SPOT_PATH = "/v5/public/spot"
PING_INTERVAL_S = 20.0
POLL_LIMIT = 200  # the most the spot REST order book returns

_loads = orjson.loads


def topic_depth(depth: int) -> int:
    """The smallest spot order-book topic depth (50, 200, 1000) that holds ``depth`` levels."""
    if depth <= 50:
        return 50
    return 200 if depth <= 200 else 1000


TRADE_TOPIC = "publicTrade."


class _Feed:
    """Chaining state of one book."""

    __slots__ = ("book", "last_u")

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.last_u = -1  # u of the last applied message; -1 until a snapshot arrives


class BybitProtocol(VenueProtocol):
    """One Bybit v5 public spot connection."""

    venue: ClassVar[Venue] = Venue.BYBIT
    default_ws_base: ClassVar[str] = "wss://stream.bybit.com/v5/public/spot"
    default_rest_base: ClassVar[str] = "https://api.bybit.com"
    max_symbols_per_connection: ClassVar[int] = 100
    max_symbols_per_request: ClassVar[int] = 10  # spot allows 10 args per subscribe
    max_sends_per_second: ClassVar[float] = 5.0
    timer_interval_s: ClassVar[float] = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._feeds: dict[str, _Feed] = {}
        self._req_id = 0
        self._last_ping = 0.0
        self._topic_prefix = f"orderbook.{topic_depth(self.depth)}."
        self.last_pong: float | None = None

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """Only the public SPOT endpoint: linear/inverse/option reuse the same symbol names."""
        return address_matches(addr, SPOT_HOSTS, SPOT_PATH)

    # -- subscriptions and keep-alive -----------------------------------------------------

    def _next_req_id(self) -> str:
        self._req_id += 1
        return str(self._req_id)

    def _send(self, op: str, symbols: list[Symbol], prefix: str | None = None) -> None:
        prefix = self._topic_prefix if prefix is None else prefix
        topics = [f"{prefix}{self.native_name(s)}" for s in symbols]
        step = self.max_symbols_per_request
        for i in range(0, len(topics), step):
            frame = {"req_id": self._next_req_id(), "op": op, "args": topics[i : i + step]}
            self._outbox.append(orjson.dumps(frame).decode())

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("subscribe", symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("unsubscribe", symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("subscribe", symbols, TRADE_TOPIC)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("unsubscribe", symbols, TRADE_TOPIC)

    def _forget(self, symbol: Symbol) -> None:
        self._feeds.pop(self.native_name(symbol), None)

    def on_open(self, now: float) -> None:
        self._last_ping = now
        super().on_open(now)

    def on_timer(self, now: float) -> None:
        """``{"req_id":"7","op":"ping"}`` every 20 s while connected (Bybit expects it)."""
        if self.connected and now - self._last_ping >= PING_INTERVAL_S:
            self.probe(now)

    def probe(self, now: float) -> None:
        self._last_ping = now
        frame = {"req_id": self._next_req_id(), "op": "ping"}
        self._outbox.append(orjson.dumps(frame).decode())

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1671179923028,"data":{"s":"BTCUSDT",
        "b":[["17440.00","40.833"]],"a":[["17440.50","0"]],"u":13079592,"seq":22520573250},
        "cts":1671179923020}``"""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("invalid_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("not_an_object", text)
            return
        topic = msg.get("topic")
        if topic is None:
            self._on_control(msg, text, now)
            return
        if type(topic) is not str or not topic.startswith("orderbook."):
            if type(topic) is str and topic.startswith(TRADE_TOPIC):
                self._on_trades(msg.get("data"), text, now)
            else:
                self.stats.skipped["other_topic"] += 1
            return
        try:
            kind = msg["type"]
            ts = msg["ts"]
            data = msg["data"]
            native = data["s"]
            update_id = data["u"]
            bids = data["b"]
            asks = data["a"]
        except (KeyError, TypeError):
            self.bad_frame("missing_field", text)
            return
        if (
            type(update_id) is not int
            or type(ts) is not int
            or type(native) is not str
            or type(bids) is not list
            or type(asks) is not list
        ):
            self.bad_frame("bad_field", text)
            return
        feed = self._feeds.get(native) or self._new_feed(native)
        if feed is None:
            self.stats.skipped["unknown_symbol"] += 1
            return
        book = feed.book
        if kind == "delta":
            if feed.last_u < 0:
                self.stats.skipped["delta_before_snapshot"] += 1
                return
            if update_id != feed.last_u + 1:
                self.resync(book, "gap", now, text)
                return
            try:
                book.bids.apply_text(bids)
                book.asks.apply_text(asks)
            except (ValueError, TypeError, IndexError):
                # Validating every level first would cost a third of the frame time; a bad
                # level is rare, and the book it may have half-updated is rebuilt instead.
                self.resync(book, "bad_level", now, text)
                return
        elif kind == "snapshot":
            try:
                bid_levels, ask_levels = parse_levels(bids), parse_levels(asks)
            except VenueProtocolError:
                self.bad_frame("bad_level", text)
                return
            book.bids.replace(bid_levels)
            book.asks.replace(ask_levels)
        else:
            self.bad_frame("bad_type", text)
            return
        feed.last_u = update_id
        self.mark_live(book, now, ts / 1000)

    def _on_trades(self, data: Any, text: str, now: float) -> None:
        """``{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":
        1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":
        "20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}``; ``S`` is the taker's side."""
        if type(data) is not list:
            self.bad_trade("bad_shape", text)
            return
        for item in data:
            native = item.get("s") if type(item) is dict else None
            if type(native) is not str or type(item.get("T")) is not int:
                self.bad_trade("bad_field", text)
                continue
            symbol = self.trade_symbol(native)
            if symbol is not None:
                side = taker_side(item.get("S"))
                self.add_trade(
                    symbol,
                    item.get("p"),
                    item.get("v"),
                    side,
                    item["T"] / 1000,
                    now,
                    text,
                    item.get("i", ""),
                )

    def _new_feed(self, native: str) -> _Feed | None:
        book = self.book_for(native)
        if book is None:
            return None
        feed = self._feeds[native] = _Feed(book)
        return feed

    def _on_control(self, msg: dict[str, Any], text: str, now: float) -> None:
        """``{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":"7","op":"ping"}``, or a
        subscribe ack ``{"success":false,"ret_msg":"error:...","req_id":"1","op":"subscribe"}``."""
        op = msg.get("op")
        if op == "pong" or msg.get("ret_msg") == "pong":
            self.last_pong = now
        elif msg.get("success") is False:
            self.stats.errors[f"{op}_failed" if type(op) is str else "request_failed"] += 1
            log.warning(
                "venue_request_failed",
                venue=self.venue.value,
                op=op,
                req_id=msg.get("req_id"),
                ret_msg=msg.get("ret_msg"),
            )
        elif msg.get("success") is not True:
            self.stats.skipped["unknown_frame"] += 1

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        super()._invalidate(book, symbol)
        native = self.symbols.native(symbol)
        feed = self._feeds.get(native) if native is not None else None
        if feed is not None:
            feed.last_u = -1

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}/v5/market/orderbook",
            params=(
                ("category", "spot"),
                ("symbol", self.native_name(symbol)),
                ("limit", str(POLL_LIMIT)),
            ),
            weight=1,
            purpose="poll",
            symbol=symbol,
        )

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        # A snapshot in the stream resets the book: nothing of the stream to drop first.
        on_poll_answer(self, request, status, body, now, parse_poll, lambda symbol: None)


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """GET /v5/market/instruments-info?category=spot (spot is not paginated)."""
    base = rest_base or BybitProtocol.default_rest_base
    return RestRequest(
        venue=Venue.BYBIT,
        url=f"{base}/v5/market/instruments-info",
        params=(("category", "spot"),),
        weight=1,
        purpose="instruments",
    )


def parse_instruments(body: str) -> list[Instrument]:
    """``{"retCode":0,"result":{"category":"spot","list":[{"symbol":"BTCUSDT","baseCoin":"BTC",
    "quoteCoin":"USDT","status":"Trading","lotSizeFilter":{"basePrecision":"0.000001"},
    "priceFilter":{"tickSize":"0.01"}}]}}`` -> the trading listings."""
    try:
        reply = _loads(body)
        code = reply["retCode"]
        entries = reply["result"]["list"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        msg = f"Bybit instruments-info: no result.list in the body ({exc!r})"
        raise VenueProtocolError(msg) from exc
    if code != 0:
        msg = f"Bybit instruments-info: retCode {code} ({reply.get('retMsg')})"
        raise VenueProtocolError(msg)
    if type(entries) is not list:
        msg = "Bybit instruments-info: result.list is not a list"
        raise VenueProtocolError(msg)
    instruments = []
    for entry in entries:
        try:
            native, status = entry["symbol"], entry["status"]
            base, quote = entry["baseCoin"], entry["quoteCoin"]
            tick = entry.get("priceFilter", {}).get("tickSize")
            lot = entry.get("lotSizeFilter", {}).get("basePrecision")
            tick_size = float(tick) if tick is not None else None
            lot_size = float(lot) if lot is not None else None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            msg = f"Bybit instruments-info: malformed entry {str(entry)[:120]} ({exc!r})"
            raise VenueProtocolError(msg) from exc
        if status != "Trading":
            continue
        try:
            symbol = Symbol.parse(f"{base}-{quote}")
        except (ValueError, AttributeError):
            log.debug("instrument_skipped", venue="bybit", native=native)
            continue
        instruments.append(
            Instrument(Venue.BYBIT, symbol, native, tick_size=tick_size, lot_size=lot_size)
        )
    return instruments


def parse_poll(body: str) -> tuple[Levels, Levels, float | None]:
    """``{"retCode":0,"retMsg":"OK","result":{"s":"BTCUSDT","b":[["65485.47","47.081829"]],
    "a":[["65557.7","16.606555"]],"ts":1716863719031,"u":230704,"seq":1432604333}}``"""
    try:
        result = _loads(body)
        if result.get("retCode") != 0:
            msg = f"retCode {result.get('retCode')}: {result.get('retMsg')}"
            raise VenueProtocolError(msg)
        snap = result["result"]
        return parse_levels(snap["b"]), parse_levels(snap["a"]), float(snap["ts"]) / 1000
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        msg = f"unreadable book: {exc!r}"
        raise VenueProtocolError(msg) from None
