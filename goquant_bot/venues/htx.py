"""HTX (Huobi) public spot order books and trades, sans-I/O.

Every frame is gzip-compressed binary (``decode_binary``). Books come from
``market.{symbol}.depth.step0``: every push is the whole top 150 levels a side, so a lost push
costs nothing but time; there is no sequence to check, so these books are SNAPSHOT-tier
(staleness and crossed-book checks only). A push older than the book's last one is skipped.
The server's ``{"ping": n}`` is answered with ``{"pong": n}``.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RAW_LOG_LIMIT, RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.levels import address_matches, non_finite, valid_levels

log = get_logger(__name__)

WS_PATH = "/ws"
LIVE_HOSTS = frozenset({"api.huobi.pro", "api-aws.huobi.pro", "api.htx.com"})
DEFAULT_REST_BASE = "https://api.huobi.pro"
SYMBOLS_PATH = "/v1/common/symbols"
DEPTH_TOPIC = "depth.step0"  # 150 levels a side, whole on every push
TRADE_TOPIC = "trade.detail"


class HtxProtocol(VenueProtocol):
    """One HTX market WebSocket connection carrying ``depth.step0`` and ``trade.detail``."""

    venue: ClassVar[Venue] = Venue.HTX
    integrity: ClassVar[Integrity] = Integrity.SNAPSHOT
    default_ws_base: ClassVar[str] = "wss://api.huobi.pro/ws"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    max_symbols_per_connection: ClassVar[int] = 50
    max_symbols_per_request: ClassVar[int] = 1  # one topic per sub request
    max_sends_per_second: ClassVar[float] = 10.0
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_id = 1
        self._last_ts: dict[Symbol, int] = {}

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The spot market endpoint (``/ws``); MBP feeds (``/feed``) are not read."""
        return address_matches(addr, LIVE_HOSTS, WS_PATH)

    def native_name(self, symbol: Symbol) -> str:
        """``btcusdt``: HTX names are lower case."""
        native = self.symbols.native(symbol)
        if native is None:
            native = f"{symbol.base}{symbol.quote}".lower()
            self.symbols.add(native, symbol)
        return native

    def decode_binary(self, data: bytes) -> str | None:
        """Every HTX frame is a gzip member holding JSON text."""
        try:
            return gzip.decompress(data).decode()
        except (OSError, EOFError, zlib.error, UnicodeDecodeError):
            self.bad_frame("bad_gzip", repr(data[:RAW_LOG_LIMIT]))
            return None

    def probe(self, now: float) -> None:
        """A ``req`` for a book we hold (or BTC-USDT's): always answered with a ``rep``."""
        symbol = next(iter(self.books), None)
        native = self.native_name(symbol) if symbol is not None else "btcusdt"
        self._send("req", f"market.{native}.{DEPTH_TOPIC}")

    def _send(self, op: str, topic: str) -> None:
        frame = {op: topic, "id": str(self._next_id)}
        self._next_id += 1
        self._outbox.append(orjson.dumps(frame).decode())

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"ping": n}``, an answer, or a push such as
        ``{"ch":"market.btcusdt.depth.step0","ts":1630983549503,"tick":{"bids":[[52690.69,0.36281]],"asks":[[52690.7,2.237954]],"version":136998124622,"ts":1630983549500}}``
        """
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("bad_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("bad_shape", text)
            return
        if "ping" in msg:
            self._outbox.append(orjson.dumps({"pong": msg["ping"]}).decode())
            return
        channel = msg.get("ch")
        if channel is None:
            self._on_answer(msg, text)
            return
        parts = channel.split(".") if type(channel) is str else []
        tick = msg.get("tick")
        if len(parts) < 3 or parts[0] != "market" or type(tick) is not dict:
            self.bad_frame("bad_shape", text)
            return
        topic = ".".join(parts[2:])
        if topic == TRADE_TOPIC:
            self._on_trades(parts[1], tick, text, now)
        elif topic == DEPTH_TOPIC:
            book = self.book_for(parts[1])
            if book is None:
                self.stats.skipped["unsubscribed"] += 1
                return
            self._on_depth(book, tick, text, now)
        else:
            self.stats.skipped[f"channel:{topic}"] += 1

    def _on_answer(self, msg: dict[str, Any], text: str) -> None:
        """``{"id":"1","status":"ok","subbed":"market.btcusdt.depth.step0"}``, a ``rep``, or
        ``{"status":"error","err-code":"bad-request","err-msg":"invalid topic ..."}``."""
        status = msg.get("status")
        if status == "error":
            code = msg.get("err-code")
            self.stats.errors[f"venue_error:{code}"] += 1
            log.warning("venue_error", venue=self.venue.value, code=code, msg=msg.get("err-msg"))
        elif status != "ok" and "pong" not in msg:
            self.bad_frame("bad_shape", text)

    def _on_depth(self, book: OrderBook, tick: dict[str, Any], text: str, now: float) -> None:
        bids: Any = tick.get("bids")
        asks: Any = tick.get("asks")
        ts_ms = tick.get("ts")
        if not (valid_levels(bids) and valid_levels(asks)) or type(ts_ms) is not int:
            if non_finite(bids) or non_finite(asks):
                self.resync(book, "non_finite", now, text)
            else:
                self.bad_frame("bad_depth", text)
            return
        symbol = book.key.symbol
        if ts_ms < self._last_ts.get(symbol, 0):
            self.stats.skipped["out_of_order"] += 1
            return
        self._last_ts[symbol] = ts_ms
        book.bids.replace([(float(p), float(s)) for p, s, *_ in bids if float(s) > 0])
        book.asks.replace([(float(p), float(s)) for p, s, *_ in asks if float(s) > 0])
        self.mark_live(book, now, ts_ms / 1000)

    def _on_trades(self, native: str, tick: dict[str, Any], text: str, now: float) -> None:
        """``{"data":[{"id":1,"ts":1630994963173,"tradeId":102523573486,"amount":0.006754,
        "price":52648.62,"direction":"buy"}]}``; ``direction`` is the taker's side."""
        symbol = self.trade_symbol(native)
        if symbol is None:
            return
        data = tick.get("data")
        items: list[Any] = data if type(data) is list else [{}]
        for item in items:
            ts = item.get("ts") if type(item) is dict else None
            if type(item) is not dict or type(ts) is not int:
                self.bad_trade("bad_field", text)
                continue
            self.add_trade(
                symbol,
                item.get("price"),
                item.get("amount"),
                taker_side(item.get("direction")),
                ts / 1000,
                now,
                text,
                item.get("tradeId", ""),
            )

    # -- subscriptions --------------------------------------------------------------------

    def _forget(self, symbol: Symbol) -> None:
        self._last_ts.pop(symbol, None)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        self._last_ts.pop(symbol, None)
        super()._invalidate(book, symbol)

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._send("sub", f"market.{self.native_name(symbol)}.{DEPTH_TOPIC}")

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._send("unsub", f"market.{self.native_name(symbol)}.{DEPTH_TOPIC}")

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._send("sub", f"market.{self.native_name(symbol)}.{TRADE_TOPIC}")

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._send("unsub", f"market.{self.native_name(symbol)}.{TRADE_TOPIC}")


# -- instruments ----------------------------------------------------------------------------


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """The REST request listing HTX spot symbols."""
    return RestRequest(
        venue=Venue.HTX,
        url=f"{rest_base or DEFAULT_REST_BASE}{SYMBOLS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def _step(digits: Any) -> float:
    if type(digits) is not int or not 0 <= digits <= 18:
        msg = f"precision {digits!r} is not a number of decimals"
        raise ValueError(msg)
    return 10.0**-digits


def parse_instruments(body: str) -> list[Instrument]:
    """Parse ``{"status":"ok","data":[{"base-currency":"btc","quote-currency":"usdt",
    "price-precision":2,"amount-precision":6,"symbol":"btcusdt","state":"online"}]}``;
    symbols not ``online`` (offline, suspend, pre-online) are left out."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "HTX symbols: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is not dict or msg.get("status") != "ok" or type(msg.get("data")) is not list:
        code = msg.get("err-code") if type(msg) is dict else None
        text = f"HTX symbols: not a successful answer ({code!r})"
        raise VenueProtocolError(text)
    instruments: list[Instrument] = []
    for index, item in enumerate(msg["data"]):
        try:
            if item["state"] != "online":
                continue
            native, base, quote = item["symbol"], item["base-currency"], item["quote-currency"]
            tick, lot = _step(item["price-precision"]), _step(item["amount-precision"])
        except (KeyError, TypeError, ValueError) as exc:
            text = f"HTX symbols: entry {index} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(text) from exc
        try:
            symbol = Symbol.parse(f"{base}-{quote}".upper())
        except ValueError:
            continue  # a ticker we cannot represent is not worth failing the whole list
        instruments.append(
            Instrument(Venue.HTX, symbol, native, trading=True, tick_size=tick, lot_size=lot)
        )
    return instruments
