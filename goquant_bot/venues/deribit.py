"""Deribit spot order books over JSON-RPC (``book.{instrument}.100ms`` channels), sans-I/O.

After (re)subscribing, the first notification of a channel is a snapshot; every later one
carries ``prev_change_id``, which must equal the previous ``change_id`` (ids are not
consecutive), otherwise that one channel is resubscribed. Prices and amounts are JSON numbers.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import BookSide, BookState, OrderBook
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RAW_LOG_LIMIT, RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.levels import address_matches, apply_polled

log = get_logger(__name__)

WS_PATH = "/ws/api/v2"
LIVE_HOSTS = frozenset({"www.deribit.com", "streams.deribit.com"})
DEFAULT_REST_BASE = "https://www.deribit.com"
ORDER_BOOK_PATH = "/api/v2/public/get_order_book"
INSTRUMENTS_PATH = "/api/v2/public/get_instruments"
HEARTBEAT_INTERVAL_S = 30
POLL_DEPTHS = (1, 5, 10, 20, 50, 100, 1000, 10000)  # the depths get_order_book accepts
ACTIONS = frozenset({"new", "change", "delete"})


def is_spot(name: str) -> bool:
    """Spot names are ``BASE_QUOTE``; BTC-PERPETUAL, BTC_USDC-PERPETUAL or options are not."""
    return "-" not in name and name.count("_") == 1


def _valid_changes(levels: Any) -> bool:
    """Whether ``[["new", 4714.0, 0.0015], ...]`` is a list of well-formed level changes."""
    if type(levels) is not list:
        return False
    try:
        for action, price, amount in levels:
            if action not in ACTIONS:
                return False
            if not (0.0 < float(price) < math.inf and 0.0 <= float(amount) < math.inf):
                return False
    except (ValueError, TypeError):
        return False
    return True


def _apply_changes(side: BookSide, levels: list[list[Any]]) -> None:
    for action, price, amount in levels:
        side.set(float(price), 0.0 if action == "delete" else float(amount))


def _pairs(levels: Any) -> list[tuple[float, float]]:
    """(price, amount) floats; ValueError for one that is not finite and positive."""
    out = [(float(price), float(amount)) for price, amount in levels]
    if not all(0.0 < p < math.inf and 0.0 <= a < math.inf for p, a in out):
        msg = "a level is not a finite positive price and amount"
        raise ValueError(msg)
    return out


class DeribitProtocol(VenueProtocol):
    """One Deribit API v2 WebSocket connection carrying spot ``book`` channels."""

    venue: ClassVar[Venue] = Venue.DERIBIT
    native_separator: ClassVar[str] = "_"
    default_ws_base: ClassVar[str] = "wss://www.deribit.com/ws/api/v2"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    max_symbols_per_connection: ClassVar[int] = 100
    max_symbols_per_request: ClassVar[int] = 50
    max_sends_per_second: ClassVar[float] = 5.0
    # The server drives the keep-alive (test_request); the timer has nothing to do.
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._change_ids: dict[Symbol, int] = {}  # last applied change_id per synced book
        self._requests: dict[int, str] = {}  # JSON-RPC id -> method, until answered
        self._next_id = 1

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The production API (testnet books are not the real market)."""
        return address_matches(addr, LIVE_HOSTS, WS_PATH)

    def probe(self, now: float) -> None:
        """``public/test``: answered with the server's version."""
        self._request("public/test", {})

    def on_open(self, now: float) -> None:
        """Ask for heartbeats, then subscribe every book."""
        self._requests.clear()
        self._request("public/set_heartbeat", {"interval": HEARTBEAT_INTERVAL_S})
        super().on_open(now)

    def _request(self, method: str, params: dict[str, Any]) -> None:
        request_id = self._next_id
        self._next_id += 1
        self._requests[request_id] = method
        frame = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        self._outbox.append(orjson.dumps(frame).decode())

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """A notification, a heartbeat or the answer to one of our requests; a book looks like
        ``{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC_USDC.100ms","data":{"type":"change","timestamp":1700000000123,"instrument_name":"BTC_USDC","change_id":108,"prev_change_id":105,"bids":[["new",42000.5,0.25]],"asks":[["delete",42001.0,0.0]]}}}``
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
        if method == "subscription":
            self._on_notification(msg.get("params"), text, now)
        elif method == "heartbeat":
            self._on_heartbeat(msg.get("params"), text)
        elif "id" in msg:
            self._on_response(msg)
        else:
            self.stats.skipped[f"method:{method}"] += 1

    def _on_heartbeat(self, params: Any, text: str) -> None:
        """``{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}``."""
        kind = params.get("type") if type(params) is dict else None
        if kind == "test_request":
            self._request("public/test", {})
        elif kind != "heartbeat":
            self.bad_frame("bad_heartbeat", text)

    def _on_response(self, msg: dict[str, Any]) -> None:
        """``{"jsonrpc":"2.0","id":3,"error":{"code":10028,"message":"too_many_requests"}}``."""
        request_id = msg.get("id")
        method = self._requests.pop(request_id, None) if type(request_id) is int else None
        error = msg.get("error")
        if error is None:
            return
        code = error.get("code") if type(error) is dict else None
        self.stats.errors[f"venue_error:{code}"] += 1
        log.warning(
            "venue_error",
            venue=self.venue.value,
            method=method,
            code=code,
            message=error.get("message") if type(error) is dict else error,
        )

    def _on_notification(self, params: Any, text: str, now: float) -> None:
        try:
            channel = params["channel"]
            data = params["data"]
        except (KeyError, TypeError):
            self.bad_frame("bad_shape", text)
            return
        if type(channel) is str and channel.startswith("trades."):
            self._on_trades(data, text, now)
            return
        if type(channel) is not str or not channel.startswith("book.") or channel.count(".") != 2:
            # Other channels, and the grouped book.{inst}.none.10.100ms snapshots.
            self.stats.skipped[f"channel:{channel}"] += 1
            return
        try:
            name = data["instrument_name"]
            kind = data["type"]
            change_id = data["change_id"]
            bids = data["bids"]
            asks = data["asks"]
            venue_ts = data["timestamp"] / 1000
        except (KeyError, TypeError):
            self.bad_frame("bad_book", text)
            return
        if type(name) is not str or type(change_id) is not int:
            self.bad_frame("bad_book", text)
            return
        book = self.book_for(name)
        if book is None:
            self.stats.skipped["unsubscribed" if is_spot(name) else "not_spot"] += 1
            return
        if not (_valid_changes(bids) and _valid_changes(asks)):
            self.bad_frame("bad_levels", text)
            return
        symbol = book.key.symbol
        if kind == "snapshot":
            book.bids.replace(_pairs(lv[1:] for lv in bids if lv[0] != "delete"))
            book.asks.replace(_pairs(lv[1:] for lv in asks if lv[0] != "delete"))
        elif kind == "change":
            last = self._change_ids.get(symbol)
            if last is None:
                # Still in flight from before a (re)subscribe: the snapshot comes next.
                self.stats.skipped["change_before_snapshot"] += 1
                return
            if data.get("prev_change_id") != last:
                self.resync(book, "change_id_gap", now, text)
                return
            _apply_changes(book.bids, bids)
            _apply_changes(book.asks, asks)
        else:
            self.bad_frame("bad_type", text)
            return
        self._change_ids[symbol] = change_id
        self.mark_live(book, now, venue_ts)

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        depth = next((d for d in POLL_DEPTHS if d >= self.depth), POLL_DEPTHS[-1])
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}{ORDER_BOOK_PATH}",
            params=(("instrument_name", self.native_name(symbol)), ("depth", str(depth))),
            weight=1,
            purpose="poll",
            symbol=symbol,
        )

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        """A poll: ``{"jsonrpc":"2.0","result":{"timestamp":1700000000123,"instrument_name":"BTC_USDC","change_id":108,"bids":[[42000.5,0.25]],"asks":[[42001.0,0.5]]}}``."""
        symbol = request.symbol
        book = self.books.get(symbol) if symbol is not None else None
        if request.purpose != "poll":
            super().on_rest(request, status, body, now)
            return
        if book is None or book.state is BookState.LIVE:
            self.stats.skipped["rest:poll_unneeded"] += 1
            return
        try:
            if status != 200:
                msg = f"Deribit order book: HTTP {status}"
                raise VenueProtocolError(msg)
            result = _result(body, "order book")
            bids, asks = _pairs(result["bids"]), _pairs(result["asks"])
            venue_ts = result["timestamp"] / 1000
        except (VenueProtocolError, KeyError, TypeError, ValueError) as exc:
            self.stats.errors["rest:poll"] += 1
            log.warning(
                "rest_rejected",
                venue=self.venue.value,
                symbol=str(symbol),
                reason=str(exc),
                raw=body[:RAW_LOG_LIMIT],
            )
            return
        synced = self._change_ids.pop(book.key.symbol, None) is not None
        apply_polled(self, book, bids, asks, now, venue_ts)
        if synced:
            # The stream was in step but quiet: changes never apply to polled data, so it
            # starts again from a fresh snapshot.
            self._restart_book(book, now)

    # -- subscriptions --------------------------------------------------------------------

    def _forget(self, symbol: Symbol) -> None:
        self._change_ids.pop(symbol, None)

    def is_spot_name(self, native: str) -> bool:
        """``BTC_USDC``; perpetuals, futures and options share the connection."""
        return is_spot(native)

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_channels("public/subscribe", symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_channels("public/unsubscribe", symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_channels("public/subscribe", symbols, "trades")

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_channels("public/unsubscribe", symbols, "trades")

    def _send_channels(self, method: str, symbols: list[Symbol], kind: str = "book") -> None:
        if kind == "book":
            for symbol in symbols:
                self._change_ids.pop(symbol, None)
        step = self.max_symbols_per_request
        for start in range(0, len(symbols), step):
            chunk = symbols[start : start + step]
            self._request(
                method, {"channels": [f"{kind}.{self.native_name(s)}.100ms" for s in chunk]}
            )

    def _on_trades(self, data: Any, text: str, now: float) -> None:
        """``{"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.BTC_USDC.100ms",
        "data":[{"trade_seq":1966,"trade_id":"USDC-2716","timestamp":1700000000123,
        "tick_direction":0,"price":42000.5,"mark_price":42000.1,"instrument_name":"BTC_USDC",
        "index_price":42001.2,"direction":"buy","amount":0.25}]}}``; ``direction`` is the taker's."""
        if type(data) is not list:
            self.bad_trade("bad_shape", text)
            return
        for item in data:
            name = item.get("instrument_name") if type(item) is dict else None
            ts = item.get("timestamp") if type(item) is dict else None
            if type(name) is not str or type(ts) is not int:
                self.bad_trade("bad_field", text)
                continue
            symbol = self.trade_symbol(name)
            if symbol is not None:
                side = taker_side(item.get("direction"))
                self.add_trade(
                    symbol,
                    item.get("price"),
                    item.get("amount"),
                    side,
                    ts / 1000,
                    now,
                    text,
                    item.get("trade_id", ""),
                )

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        self._change_ids.pop(symbol, None)
        super()._invalidate(book, symbol)


def _result(body: str, what: str) -> Any:
    """The ``result`` of a successful JSON-RPC answer."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = f"Deribit {what}: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is not dict:
        text = f"Deribit {what}: expected a JSON object"
        raise VenueProtocolError(text)
    if "result" not in msg:
        text = f"Deribit {what}: no result (error {msg.get('error')!r})"
        raise VenueProtocolError(text)
    return msg["result"]


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """The REST request listing Deribit spot instruments."""
    return RestRequest(
        venue=Venue.DERIBIT,
        url=f"{rest_base or DEFAULT_REST_BASE}{INSTRUMENTS_PATH}",
        params=(("currency", "any"), ("kind", "spot")),
        weight=1,
        purpose="instruments",
    )


def parse_instruments(body: str) -> list[Instrument]:
    """Parse ``{"jsonrpc":"2.0","result":[{"instrument_name":"BTC_USDC","kind":"spot","base_currency":"BTC","quote_currency":"USDC","is_active":true,"tick_size":0.01,"min_trade_amount":0.0001,"is_cbe_routed":true}]}``."""
    result = _result(body, "instruments")
    if type(result) is not list:
        text = "Deribit instruments: 'result' is not a list"
        raise VenueProtocolError(text)
    instruments: list[Instrument] = []
    for index, item in enumerate(result):
        try:
            if item.get("kind", "spot") != "spot" or item["is_active"] is not True:
                continue
            native, base, quote = (
                item["instrument_name"],
                item["base_currency"],
                item["quote_currency"],
            )
            tick, lot = float(item["tick_size"]), float(item["min_trade_amount"])
            routed = item.get("is_cbe_routed") is True
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            text = f"Deribit instruments: entry {index} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(text) from exc
        if type(native) is not str or not is_spot(native):
            continue
        try:
            symbol = Symbol.parse(f"{base}-{quote}")
        except ValueError:
            continue  # a ticker we cannot represent is not worth failing the whole list
        instruments.append(
            Instrument(
                Venue.DERIBIT,
                symbol,
                native,
                trading=True,
                tick_size=tick,
                lot_size=lot,
                routed_to="coinbase" if routed else None,
            )
        )
    return instruments
