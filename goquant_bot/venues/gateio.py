"""Gate v4 spot: ``spot.obu`` books (full snapshots in band, then U/u chained updates), and
``spot.order_book_update`` diffs on REST snapshots ``with_id=true`` as older captures hold them.

Live connections use ``spot.obu``, the depth channel Gate introduced to replace the REST
snapshot dance: the venue sends a full book (``full: true``) first and whenever it chooses,
then updates whose ``U`` must follow the previous ``u``. A broken chain resubscribes that one
book, which makes Gate send a new full book. ``spot.order_book_update`` frames (replay) follow
Binance's recipe: buffer, snapshot, drop ``u <= id``, bracket ``U <= id+1 <= u``, then chain.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, taker_side
from goquant_bot.venues.gateio_rest import (
    DEFAULT_REST_BASE,
    Snapshot,
    book_request,
    instruments_request,
    parse_instruments,
    parse_snapshot,
)
from goquant_bot.venues.levels import address_matches, apply_polled, float_levels, valid_levels
from goquant_bot.venues.snapshot_sync import SnapshotSyncProtocol, SyncFeed

__all__ = ["GateioProtocol", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

OBU = "spot.obu"
UPDATE = "spot.order_book_update"
TRADES = "spot.trades"
HOSTS = frozenset(
    {"api.gateio.ws", "ws.gate.io", "ws.gate.com", "api.gate.io", "ws-testnet.gate.io"}
)
PATHS = ("/ws/v4", "/v4/ws/spot")

_loads = orjson.loads


def obu_levels(depth: int) -> int:
    """The ``spot.obu`` stream (50 or 400 levels) that holds ``depth`` levels."""
    return 50 if depth <= 50 else 400


class GateioProtocol(SnapshotSyncProtocol[SyncFeed, Snapshot]):
    """One Gate v4 spot WebSocket connection."""

    venue: ClassVar[Venue] = Venue.GATEIO
    default_ws_base: ClassVar[str] = "wss://api.gateio.ws/ws/v4/"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    integrity: ClassVar[Integrity] = Integrity.VERIFIED
    native_separator: ClassVar[str] = "_"
    max_symbols_per_connection: ClassVar[int] = 100
    max_symbols_per_request: ClassVar[int] = 20
    max_sends_per_second: ClassVar[float] = 10.0
    timer_interval_s: ClassVar[float] = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._levels = obu_levels(self.depth)

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """Gate spot v4 WebSocket addresses (futures live on fx-ws hosts)."""
        return any(address_matches(addr, HOSTS, path) for path in PATHS)

    # -- subscriptions --------------------------------------------------------------------

    def _send(self, channel: str, event: str, payload: list[str], now: float) -> None:
        frame = {"time": int(now), "channel": channel, "event": event, "payload": payload}
        self._outbox.append(orjson.dumps(frame).decode())

    def _streams(self, symbols: list[Symbol]) -> list[str]:
        return [f"ob.{self.native_name(s)}.{self._levels}" for s in symbols]

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        step = self.max_symbols_per_request
        for i in range(0, len(symbols), step):
            self._send(OBU, "subscribe", self._streams(symbols[i : i + step]), now)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        step = self.max_symbols_per_request
        for i in range(0, len(symbols), step):
            self._send(OBU, "unsubscribe", self._streams(symbols[i : i + step]), now)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send(TRADES, "subscribe", [self.native_name(s) for s in symbols], now)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send(TRADES, "unsubscribe", [self.native_name(s) for s in symbols], now)

    def probe(self, now: float) -> None:
        """``{"time":N,"channel":"spot.ping"}``: answered with ``spot.pong``."""
        self._outbox.append(orjson.dumps({"time": int(now), "channel": "spot.ping"}).decode())

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"time":1748572394,"channel":"spot.obu","event":"update","result":{...}}``"""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("invalid_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("not_an_object", text)
            return
        channel, event, result = msg.get("channel"), msg.get("event"), msg.get("result")
        if msg.get("error") is not None:
            self.stats.errors["request_error"] += 1
            log.warning(
                "venue_request_failed", venue=self.venue.value, channel=channel, error=msg["error"]
            )
            return
        if event in ("subscribe", "unsubscribe") or channel == "spot.pong":
            return  # acknowledgements and keep-alive answers
        if type(result) is not dict:
            self.stats.skipped[f"channel:{channel}" if type(channel) is str else "unknown"] += 1
            return
        if channel == OBU:
            self._on_obu(result, now, text)
        elif channel == UPDATE:
            self._on_update(result, now, text)
        elif channel == TRADES:
            self._on_trade(result, now, text)
        else:
            self.stats.skipped[f"channel:{channel}" if type(channel) is str else "unknown"] += 1

    def _on_obu(self, result: dict[str, Any], now: float, text: str) -> None:
        """Full: ``{"t":1748572394325,"full":true,"s":"ob.BTC_USDT.50","u":28606981,
        "b":[["105958.9","0.00908"]],"a":[...]}``; update: ``"U":28606982,"u":28606983``."""
        stream, last, ts_ms = result.get("s"), result.get("u"), result.get("t")
        bids, asks = result.get("b", []), result.get("a", [])
        if (
            type(stream) is not str
            or type(last) is not int
            or type(bids) is not list
            or type(asks) is not list
        ):
            self.bad_frame("bad_field", text)
            return
        parts = stream.split(".")
        if len(parts) != 3 or parts[0] != "ob":
            self.bad_frame("bad_stream", text)
            return
        feed = self._feed(parts[1])
        if feed is None:
            self.stats.skipped["unknown_symbol"] += 1
            return
        book = feed.book
        venue_ts = ts_ms / 1000 if type(ts_ms) is int else None
        if result.get("full") is True:
            if not (valid_levels(bids) and valid_levels(asks)):
                self.resync(book, "bad_level", now, text)
                return
            book.bids.replace(float_levels(bids))
            book.asks.replace(float_levels(asks))
            feed.last = last
            self._trim(book)
            self.mark_live(book, now, venue_ts)
            return
        first = result.get("U")
        if type(first) is not int:
            self.bad_frame("bad_field", text)
            return
        if feed.last < 0:
            self.stats.skipped["update_before_full"] += 1
            return
        if first != feed.last + 1:
            self.resync(book, "gap", now, text)
            return
        self._apply(feed, bids, asks, last, now, venue_ts, text)

    def _apply(
        self,
        feed: SyncFeed,
        bids: list[Any],
        asks: list[Any],
        last: int,
        now: float,
        venue_ts: float | None,
        text: str,
    ) -> None:
        book = feed.book
        try:
            book.bids.apply_text(bids)
            book.asks.apply_text(asks)
        except (ValueError, TypeError, IndexError):
            self.resync(book, "bad_level", now, text)
            return
        feed.last = last
        self._trim(book)
        self.mark_live(book, now, venue_ts)

    def _on_update(self, result: dict[str, Any], now: float, text: str) -> None:
        """``{"t":1606294781123,"e":"depthUpdate","E":1606294781,"s":"BTC_USDT","U":48776301,
        "u":48776306,"b":[["19137.74","0.0001"]],"a":[["19137.75","0.6135"]]}``"""
        native, first, last = result.get("s"), result.get("U"), result.get("u")
        bids, asks, ts_ms = result.get("b", []), result.get("a", []), result.get("t")
        if (
            type(native) is not str
            or type(first) is not int
            or type(last) is not int
            or type(bids) is not list
            or type(asks) is not list
        ):
            self.bad_frame("bad_field", text)
            return
        feed = self._feed(native)
        if feed is None:
            self.stats.skipped["unknown_symbol"] += 1
            return
        venue_ts = ts_ms / 1000 if type(ts_ms) is int else None
        if feed.last < 0:
            self._buffer(feed, result, now, text)
            return
        if self._in_chain(feed, first, last, result, now, text):
            self._apply(feed, bids, asks, last, now, venue_ts, text)

    def _on_trade(self, result: dict[str, Any], now: float, text: str) -> None:
        """``{"id":309143071,"create_time":1606292218,"create_time_ms":"1606292218213.4578",
        "side":"sell","currency_pair":"GT_USDT","amount":"16.47","price":"0.4705"}``:
        ``side`` is the taker's."""
        native = result.get("currency_pair")
        if type(native) is not str:
            self.bad_trade("bad_field", text)
            return
        symbol = self.trade_symbol(native)
        if symbol is None:
            return
        try:
            venue_ts: float | None = float(result["create_time_ms"]) / 1000
        except (KeyError, TypeError, ValueError):
            venue_ts = None
        self.add_trade(
            symbol,
            result.get("price"),
            result.get("amount"),
            taker_side(result.get("side")),
            venue_ts,
            now,
            text,
            result.get("id", ""),
        )

    # -- REST snapshots (spot.order_book_update) and polls ---------------------------------

    def _book_request(self, symbol: Symbol, purpose: str) -> RestRequest:
        request = book_request(self.rest_base, self.native_name(symbol), self.depth, purpose)
        return RestRequest(
            request.venue, request.url, request.params, request.weight, purpose, symbol
        )

    def _snapshot_requests(self, symbol: Symbol) -> list[RestRequest]:
        return [self._book_request(symbol, "snapshot")]

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return self._book_request(symbol, "poll")

    def _parse_body(self, body: str) -> Snapshot:
        """``{"id":123456,"current":1623898993123,"update":1623898993121,"asks":[...],...}``"""
        return parse_snapshot(body)

    def _apply_poll(self, book: OrderBook, snap: Snapshot, now: float) -> None:
        apply_polled(self, book, snap[2], snap[3], now, snap[1])

    def _apply_snapshot(
        self, feed: SyncFeed, snap: Snapshot, request: RestRequest, now: float
    ) -> None:
        book_id, _, bids, asks = snap
        if book_id + 1 < feed.buffer[0]["U"]:
            self._snapshot_stale(feed, now)  # it predates every buffered diff
            return
        self._chain_snapshot(feed, (book_id, bids, asks), now, None, _diff_time)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """``spot.obu``: resubscribe for a new full book; diffs: the next one asks for a
        snapshot (in replay there is nothing to send either way)."""
        if self.connected and not self.track_all:
            super()._restart_book(book, now)


def _diff_time(diff: Any) -> float | None:
    """A buffered diff's update time (``t``, ms), in seconds, when it has one."""
    ts_ms = diff.get("t")
    return ts_ms / 1000 if type(ts_ms) is int else None
