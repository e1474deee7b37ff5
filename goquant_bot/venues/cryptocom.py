"""Crypto.com Exchange v1 public spot order books and trades, sans-I/O.

Books: ``book.{instrument}.50`` as ``SNAPSHOT_AND_UPDATE`` (every 10 ms): a ``book`` snapshot,
then ``book.update`` deltas, each carrying its sequence ``u`` and the previous one ``pu``. A
delta whose ``pu`` is not the book's last ``u`` means a lost message: that one book is
resubscribed. The venue keeps 50 levels a side: the book is cut to them after every delta.
The connection answers each ``public/heartbeat`` with ``public/respond-heartbeat`` and, as the
venue asks, sends nothing during its first second.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.levels import (
    Levels,
    address_matches,
    float_levels,
    non_finite,
    parse_levels,
    valid_levels,
)
from goquant_bot.venues.polling import on_poll_answer
from goquant_bot.venues.symbols import spot_instrument

log = get_logger(__name__)

WS_PATH = "/exchange/v1/market"
LIVE_HOSTS = frozenset({"stream.crypto.com"})
DEFAULT_REST_BASE = "https://api.crypto.com/exchange/v1"
INSTRUMENTS_PATH = "/public/get-instruments"
BOOK_PATH = "/public/get-book"
BOOK_DEPTH = 50  # the deepest book channel (10 or 50)
QUIET_AFTER_OPEN_S = 1.0  # requests in the first second count against a tighter rate limit


class _Sync:
    __slots__ = ("u",)

    def __init__(self, u: int) -> None:
        self.u = u


class CryptocomProtocol(VenueProtocol):
    """One Crypto.com market-data WebSocket connection carrying books and trades."""

    venue: ClassVar[Venue] = Venue.CRYPTOCOM
    native_separator: ClassVar[str] = "_"
    default_ws_base: ClassVar[str] = "wss://stream.crypto.com/exchange/v1/market"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # Crypto.com allows 100 requests a second per connection; stay far below.
    max_symbols_per_connection: ClassVar[int] = 100
    max_symbols_per_request: ClassVar[int] = 20
    max_sends_per_second: ClassVar[float] = 5.0
    timer_interval_s: ClassVar[float] = 0.5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Symbol, _Sync] = {}
        self._next_id = 1
        self._ready_at = 0.0
        self._held: list[str] = []  # frames waiting for the end of the first second

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The market-data endpoint; the user endpoint carries no books."""
        return address_matches(addr, LIVE_HOSTS, WS_PATH)

    def on_open(self, now: float) -> None:
        self._ready_at = now + QUIET_AFTER_OPEN_S
        self._held.clear()
        super().on_open(now)

    def on_timer(self, now: float) -> None:
        """Send what waited for the end of the connection's first second."""
        if self._held and now >= self._ready_at:
            self._outbox.extend(self._held)
            self._held.clear()

    def probe(self, now: float) -> None:
        """Clients cannot ping: unsubscribing a channel we do not hold is always answered."""
        self._request("unsubscribe", {"channels": ["ticker.BTC_USD"]}, now)

    def _request(self, method: str, params: dict[str, Any], now: float) -> None:
        nonce = int(now * 1000)
        frame = {"id": self._next_id, "method": method, "params": params, "nonce": nonce}
        self._next_id += 1
        text = orjson.dumps(frame).decode()
        if now < self._ready_at:
            self._held.append(text)
        else:
            self._outbox.append(text)

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """A heartbeat, a request's answer or a push; a delta looks like
        ``{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"BTC_USDT","subscription":"book.BTC_USDT.50","channel":"book.update","depth":50,"data":[{"update":{"asks":[["30082.5","0.1689","1"]],"bids":[]},"t":1654780033786,"tt":1654780033733,"u":542048017824,"pu":542048017800}]}}``
        """
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("bad_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("bad_shape", text)
            return
        method = msg.get("method")
        if method == "public/heartbeat":
            reply = {"id": msg.get("id"), "method": "public/respond-heartbeat"}
            self._outbox.append(orjson.dumps(reply).decode())
            return
        code = msg.get("code", 0)
        if code != 0:
            self.stats.errors[f"venue_error:{code}"] += 1
            log.warning("venue_error", venue=self.venue.value, code=code, msg=msg.get("message"))
            return
        result = msg.get("result")
        if result is None:
            return  # the answer to a request of ours
        if type(result) is not dict or type(result.get("data")) is not list:
            self.bad_frame("bad_shape", text)
            return
        channel, native = result.get("channel"), result.get("instrument_name")
        if type(native) is not str:
            self.bad_frame("bad_shape", text)
            return
        if channel == "trade":
            self._on_trades(native, result["data"], text, now)
        elif channel in ("book", "book.update"):
            book = self.book_for(native)
            if book is None:
                self.stats.skipped["unsubscribed"] += 1
                return
            for item in result["data"]:
                self._on_book(book, channel == "book", item, text, now)
        else:
            self.stats.skipped[f"channel:{channel}"] += 1

    def _on_book(self, book: OrderBook, snapshot: bool, item: Any, text: str, now: float) -> None:
        try:
            side = item if snapshot else item["update"]
            bids, asks = side.get("bids", []), side.get("asks", [])
            u, ts_ms = item["u"], item["t"]
            pu = None if snapshot else item["pu"]
        except (KeyError, TypeError, AttributeError):
            self.bad_frame("bad_book", text)
            return
        if not (valid_levels(bids) and valid_levels(asks)):
            if non_finite(bids) or non_finite(asks):
                self.resync(book, "non_finite", now, text)
            else:
                self.bad_frame("bad_book", text)
            return
        if type(u) is not int or type(ts_ms) is not int or not (snapshot or type(pu) is int):
            self.bad_frame("bad_book", text)
            return
        symbol = book.key.symbol
        sync = self._sync.get(symbol)
        if snapshot:
            book.bids.replace(float_levels(bids))
            book.asks.replace(float_levels(asks))
            self._sync[symbol] = _Sync(u)
        elif sync is None:
            self.stats.skipped["update_before_snapshot"] += 1
            return
        elif pu != sync.u:
            self.resync(book, "seq_gap", now, text)
            return
        else:
            book.bids.apply_text(bids)
            book.asks.apply_text(asks)
            sync.u = u
        book.bids.trim(BOOK_DEPTH)
        book.asks.trim(BOOK_DEPTH)
        self.mark_live(book, now, ts_ms / 1000)

    def _on_trades(self, native: str, data: list[Any], text: str, now: float) -> None:
        """``{"d":"2030407068","t":1613581138462,"p":"51327.5","q":"0.0001","s":"BUY",
        "i":"BTC_USDT"}``; ``s`` is the taker's side."""
        symbol = self.trade_symbol(native)
        if symbol is None:
            return
        for item in data:
            ts = item.get("t") if type(item) is dict else None
            if type(ts) is not int:
                self.bad_trade("bad_field", text)
                continue
            self.add_trade(
                symbol,
                item.get("p"),
                item.get("q"),
                taker_side(item.get("s")),
                ts / 1000,
                now,
                text,
                item.get("d", ""),
            )

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        """GET /public/get-book?instrument_name=BTC_USDT&depth=50 (weight 1)."""
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}{BOOK_PATH}",
            params=(("instrument_name", self.native_name(symbol)), ("depth", str(BOOK_DEPTH))),
            weight=1,
            purpose="poll",
            symbol=symbol,
        )

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        # The stream must start again from a snapshot: deltas never apply to polled data.
        on_poll_answer(self, request, status, body, now, parse_book, self._forget)

    # -- subscriptions --------------------------------------------------------------------

    def _forget(self, symbol: Symbol) -> None:
        self._sync.pop(symbol, None)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        self._sync.pop(symbol, None)
        super()._invalidate(book, symbol)

    def _channels(self, method: str, channels: list[str], now: float, books: bool) -> None:
        step = self.max_symbols_per_request
        for start in range(0, len(channels), step):
            params: dict[str, Any] = {"channels": channels[start : start + step]}
            if books and method == "subscribe":
                params["book_subscription_type"] = "SNAPSHOT_AND_UPDATE"
                params["book_update_frequency"] = 10
            self._request(method, params, now)

    def _book_channel(self, symbol: Symbol) -> str:
        return f"book.{self.native_name(symbol)}.{BOOK_DEPTH}"

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._sync.pop(symbol, None)
        self._channels("subscribe", [self._book_channel(s) for s in symbols], now, True)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._sync.pop(symbol, None)
        self._channels("unsubscribe", [self._book_channel(s) for s in symbols], now, True)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        channels = [f"trade.{self.native_name(s)}" for s in symbols]
        self._channels("subscribe", channels, now, False)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        channels = [f"trade.{self.native_name(s)}" for s in symbols]
        self._channels("unsubscribe", channels, now, False)


# -- instruments ----------------------------------------------------------------------------


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """The REST request listing Crypto.com instruments (spot pairs among them)."""
    return RestRequest(
        venue=Venue.CRYPTOCOM,
        url=f"{rest_base or DEFAULT_REST_BASE}{INSTRUMENTS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def parse_book(body: str) -> tuple[Levels, Levels, float | None]:
    """``{"id":-1,"method":"public/get-book","code":0,"result":{"depth":50,"data":[{"asks":
    [["50126.000000","0.400000","2"]],"bids":[["50113.500000","0.400000","3"]],
    "t":1634731570152}],"instrument_name":"BTC_USDT"}}`` -> (bids, asks, venue time); an
    error answer or a malformed book raises."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "Crypto.com get-book: the body is not JSON"
        raise VenueProtocolError(text) from exc
    result = msg.get("result") if type(msg) is dict else None
    data = result.get("data") if type(result) is dict else None
    if type(msg) is not dict or msg.get("code") != 0 or type(data) is not list or not data:
        code = msg.get("code") if type(msg) is dict else None
        text = f"Crypto.com get-book: not a successful answer (code {code!r})"
        raise VenueProtocolError(text)
    item = data[0]
    if type(item) is not dict:
        text = "Crypto.com get-book: the book is not an object"
        raise VenueProtocolError(text)
    bids, asks = parse_levels(item.get("bids")), parse_levels(item.get("asks"))
    ts = item.get("t")
    return bids, asks, ts / 1000 if type(ts) is int else None


def parse_instruments(body: str) -> list[Instrument]:
    """Parse ``{"id":1,"method":"public/get-instruments","code":0,"result":{"data":[{"symbol":
    "BTC_USDT","inst_type":"CCY_PAIR","base_ccy":"BTC","quote_ccy":"USDT","price_tick_size":
    "0.01","qty_tick_size":"0.00001","tradable":true}]}}``; only tradable spot pairs
    (``CCY_PAIR``) are kept, perpetuals and futures are not."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "Crypto.com instruments: the body is not JSON"
        raise VenueProtocolError(text) from exc
    result = msg.get("result") if type(msg) is dict else None
    data = result.get("data") if type(result) is dict else None
    if type(msg) is not dict or msg.get("code") != 0 or type(data) is not list:
        code = msg.get("code") if type(msg) is dict else None
        text = f"Crypto.com instruments: not a successful answer (code {code!r})"
        raise VenueProtocolError(text)
    instruments: list[Instrument] = []
    for index, item in enumerate(data):
        try:
            if item["inst_type"] != "CCY_PAIR" or item.get("tradable") is not True:
                continue
            native, base, quote = item["symbol"], item["base_ccy"], item["quote_ccy"]
            tick, lot = float(item["price_tick_size"]), float(item["qty_tick_size"])
            if not (tick > 0 and lot > 0):
                msg_text = "tick sizes must be positive"
                raise ValueError(msg_text)
        except (KeyError, TypeError, ValueError) as exc:
            text = (
                f"Crypto.com instruments: entry {index} is malformed ({type(exc).__name__}: {exc})"
            )
            raise VenueProtocolError(text) from exc
        instrument = spot_instrument(Venue.CRYPTOCOM, base, quote, native, tick, lot)
        if instrument is not None:
            instruments.append(instrument)
    return instruments
