"""Bitget v2 public spot order books (``books`` channel: the whole book, snapshot then
updates) and trades (``trade``), sans-I/O.

Integrity: every ``books`` message carries a CRC32 over the best 25 levels a side, interleaved
``bid1px:bid1sz:ask1px:ask1sz:...`` from the venue's own strings (OKX's scheme); it is checked
after every message, and a mismatch resubscribes that one book. The ``seq`` field is not
documented as gapless, so it is not checked. Bitget prints the checksum signed; both
renderings are accepted (compared modulo 2**32).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.crc_books import (
    MISSING,
    StringSide,
    interleaved_crc32,
    remember,
)
from goquant_bot.venues.levels import (
    Levels,
    address_matches,
    float_levels,
    non_finite,
    parse_levels,
    valid_levels,
)
from goquant_bot.venues.okx_style import read_push
from goquant_bot.venues.polling import on_poll_answer
from goquant_bot.venues.symbols import spot_instrument

log = get_logger(__name__)

WS_PATH = "/v2/ws/public"
LIVE_HOSTS = frozenset({"ws.bitget.com"})
DEFAULT_REST_BASE = "https://api.bitget.com"
SYMBOLS_PATH = "/api/v2/spot/public/symbols"
ORDERBOOK_PATH = "/api/v2/spot/market/orderbook"
POLL_LIMIT = 150  # the most that endpoint returns
CHECKSUM_LEVELS = 25
# Bitget drops a connection that sent no ``ping`` for 30 s, whatever it received.
PING_EVERY_S = 25.0
_MASK = 0xFFFFFFFF


class BitgetProtocol(VenueProtocol):
    """One Bitget public WebSocket connection carrying ``books`` and ``trade`` of spot pairs."""

    venue: ClassVar[Venue] = Venue.BITGET
    default_ws_base: ClassVar[str] = "wss://ws.bitget.com/v2/ws/public"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # Bitget advises fewer than 50 channels a connection; it accepts 10 messages a second.
    max_symbols_per_connection: ClassVar[int] = 40
    max_symbols_per_request: ClassVar[int] = 10
    max_sends_per_second: ClassVar[float] = 5.0
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Original strings per price (bids, asks) of each book that had its snapshot.
        self._strings: dict[Symbol, tuple[StringSide, StringSide]] = {}
        self._last_ping = 0.0

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The public endpoint; the private one carries no books."""
        return address_matches(addr, LIVE_HOSTS, WS_PATH)

    def on_open(self, now: float) -> None:
        self._last_ping = now
        super().on_open(now)

    def on_timer(self, now: float) -> None:
        """The text ``ping`` every 25 s (the venue answers ``pong``)."""
        if self.connected and now - self._last_ping >= PING_EVERY_S:
            self.probe(now)

    def probe(self, now: float) -> None:
        """The text ``ping``; Bitget answers ``pong``."""
        self._last_ping = now
        self._outbox.append("ping")

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """A push, an event or ``pong``; a books push looks like
        ``{"action":"update","arg":{"instType":"SPOT","channel":"books","instId":"BTCUSDT"},"data":[{"asks":[["27000.5","8.76"]],"bids":[],"checksum":-1648218735,"seq":124,"ts":"1695716059516"}],"ts":1695716059516}``
        """
        push = read_push(self, text)
        if push is None:
            return
        msg, arg, data = push
        if arg.get("instType") not in ("SPOT", None):
            self.stats.skipped["not_spot"] += 1
            return
        channel = arg.get("channel")
        if channel == "trade":
            self._on_trades(arg["instId"], data, text, now)
            return
        if channel != "books":
            self.stats.skipped[f"channel:{channel}"] += 1
            return
        book = self.book_for(arg["instId"])
        if book is None:
            self.stats.skipped["unsubscribed"] += 1
            return
        action = msg.get("action")
        if action not in ("snapshot", "update"):
            self.bad_frame("bad_action", text)
            return
        for item in data:
            self._on_books(book, action == "snapshot", item, text, now)

    def _on_books(self, book: OrderBook, snapshot: bool, item: Any, text: str, now: float) -> None:
        try:
            bids, asks = item["bids"], item["asks"]
            checksum = item["checksum"]
            ts_ms = int(item["ts"])
        except (KeyError, TypeError, ValueError):
            self.bad_frame("bad_books", text)
            return
        if not (valid_levels(bids) and valid_levels(asks)):
            if non_finite(bids) or non_finite(asks):
                # A corrupt number, not a malformed frame: never applied, the book is rebuilt.
                self.resync(book, "non_finite", now, text)
            else:
                self.bad_frame("bad_books", text)
            return
        if type(checksum) is not int:
            self.bad_frame("bad_books", text)
            return
        symbol = book.key.symbol
        strings = self._strings.get(symbol)
        if snapshot:
            strings = self._strings[symbol] = ({}, {})
            book.bids.replace(float_levels(bids))
            book.asks.replace(float_levels(asks))
        elif strings is None:
            self.stats.skipped["update_before_snapshot"] += 1
            return
        else:
            book.bids.apply_text(bids)
            book.asks.apply_text(asks)
        remember(strings[0], bids)
        remember(strings[1], asks)
        if self._checksum(book, strings) != checksum & _MASK:
            self.resync(book, "checksum", now, text)
            return
        self.mark_live(book, now, ts_ms / 1000)

    @staticmethod
    def _checksum(book: OrderBook, strings: tuple[StringSide, StringSide]) -> int:
        bid_strings, ask_strings = strings
        bids = [bid_strings.get(p, MISSING) for p, _ in book.bids.levels(CHECKSUM_LEVELS)]
        asks = [ask_strings.get(p, MISSING) for p, _ in book.asks.levels(CHECKSUM_LEVELS)]
        return interleaved_crc32(bids, asks, CHECKSUM_LEVELS)

    def _on_trades(self, inst_id: str, data: list[Any], text: str, now: float) -> None:
        """``{"action":"update","arg":{"instType":"SPOT","channel":"trade","instId":"BTCUSDT"},
        "data":[{"ts":"1695716760565","price":"27000.5","size":"0.001","side":"buy",
        "tradeId":"1111111111"}]}``; ``side`` is the taker's. The first push (``snapshot``)
        holds recent trades: they are real trades too and carry their own times."""
        symbol = self.trade_symbol(inst_id)
        if symbol is None:
            return
        for item in data:
            ts = item.get("ts") if type(item) is dict else None
            if type(ts) is not str or not ts.isdecimal():
                self.bad_trade("bad_field", text)
                continue
            self.add_trade(
                symbol,
                item.get("price"),
                item.get("size"),
                taker_side(item.get("side")),
                int(ts) / 1000,
                now,
                text,
                item.get("tradeId", ""),
            )

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        """GET /api/v2/spot/market/orderbook?symbol=BTCUSDT&type=step0&limit=150 (weight 1)."""
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}{ORDERBOOK_PATH}",
            params=(
                ("symbol", self.native_name(symbol)),
                ("type", "step0"),
                ("limit", str(POLL_LIMIT)),
            ),
            weight=1,
            purpose="poll",
            symbol=symbol,
        )

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        # The stream must start again from a snapshot: updates never apply to polled data.
        on_poll_answer(self, request, status, body, now, parse_orderbook, self._forget)

    # -- subscriptions --------------------------------------------------------------------

    def _forget(self, symbol: Symbol) -> None:
        self._strings.pop(symbol, None)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        self._strings.pop(symbol, None)
        super()._invalidate(book, symbol)

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._strings.pop(symbol, None)
        self._send_op("subscribe", symbols, "books")

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._strings.pop(symbol, None)
        self._send_op("unsubscribe", symbols, "books")

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_op("subscribe", symbols, "trade")

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_op("unsubscribe", symbols, "trade")

    def _send_op(self, op: str, symbols: list[Symbol], channel: str) -> None:
        step = self.max_symbols_per_request
        for start in range(0, len(symbols), step):
            args = [
                {"instType": "SPOT", "channel": channel, "instId": self.native_name(s)}
                for s in symbols[start : start + step]
            ]
            self._outbox.append(orjson.dumps({"op": op, "args": args}).decode())


# -- instruments ----------------------------------------------------------------------------


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """The REST request listing Bitget spot symbols."""
    return RestRequest(
        venue=Venue.BITGET,
        url=f"{rest_base or DEFAULT_REST_BASE}{SYMBOLS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def parse_orderbook(body: str) -> tuple[Levels, Levels, float | None]:
    """``{"code":"00000","msg":"success","requestTime":1698303884579,"data":{"asks":
    [["34567.15","0.0131"]],"bids":[["34567.14","0.2917"]],"ts":"1698303884584"}}`` -> (bids,
    asks, venue time); an error answer or a malformed book raises."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "Bitget orderbook: the body is not JSON"
        raise VenueProtocolError(text) from exc
    data = msg.get("data") if type(msg) is dict else None
    if type(msg) is not dict or msg.get("code") != "00000" or type(data) is not dict:
        code = msg.get("code") if type(msg) is dict else None
        text = f"Bitget orderbook: not a successful answer (code {code!r})"
        raise VenueProtocolError(text)
    bids, asks = parse_levels(data.get("bids")), parse_levels(data.get("asks"))
    ts = data.get("ts")
    venue_ts = int(ts) / 1000 if type(ts) is str and ts.isdecimal() else None
    return bids, asks, venue_ts


def _precision_step(value: Any) -> float:
    digits = int(value)
    if not 0 <= digits <= 18:
        msg = f"precision {digits} is out of range"
        raise ValueError(msg)
    return math.pow(10, -digits)


def parse_instruments(body: str) -> list[Instrument]:
    """Parse ``{"code":"00000","msg":"success","data":[{"symbol":"BTCUSDT","baseCoin":"BTC",
    "quoteCoin":"USDT","pricePrecision":"2","quantityPrecision":"6","status":"online"}]}``;
    symbols not ``online`` (halted, gray, offline) are left out."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "Bitget symbols: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is not dict or msg.get("code") != "00000" or type(msg.get("data")) is not list:
        code = msg.get("code") if type(msg) is dict else None
        text = f"Bitget symbols: not a successful answer (code {code!r})"
        raise VenueProtocolError(text)
    instruments: list[Instrument] = []
    for index, item in enumerate(msg["data"]):
        try:
            if item["status"] != "online":
                continue
            native, base, quote = item["symbol"], item["baseCoin"], item["quoteCoin"]
            tick = _precision_step(item["pricePrecision"])
            lot = _precision_step(item["quantityPrecision"])
        except (KeyError, TypeError, ValueError) as exc:
            text = f"Bitget symbols: entry {index} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(text) from exc
        instrument = spot_instrument(Venue.BITGET, base, quote, native, tick, lot)
        if instrument is not None:
            instruments.append(instrument)
    return instruments
