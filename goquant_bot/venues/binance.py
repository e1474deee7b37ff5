"""Binance spot: diff-depth streams synchronised with REST snapshots (sans-I/O).

Each book follows Binance's documented recipe: buffer the stream's diffs, fetch a REST snapshot,
drop the diffs it already contains, check that the first remaining diff brackets it, then
require every diff to start right after the previous one. A broken chain rebuilds that one book
from a new snapshot; the stream subscription itself stays as it is.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.binance_rest import (
    DEFAULT_REST_BASE,
    Snapshot,
    instruments_request,
    parse_instruments,
    parse_snapshot,
    snapshot_limit,
)
from goquant_bot.venues.levels import apply_polled
from goquant_bot.venues.snapshot_sync import SnapshotSyncProtocol, SyncFeed, backoff

# Re-exported: callers take a venue's instrument helpers from its protocol module.
__all__ = ["BinanceProtocol", "backoff", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

DEPTH_SUFFIX = "@depth@100ms"
TRADE_SUFFIX = "@trade"
SPOT_STREAM_HOSTS = frozenset({"stream.binance.com", "data-stream.binance.vision"})
_loads = orjson.loads


class BinanceProtocol(SnapshotSyncProtocol[SyncFeed, Snapshot]):
    """One Binance spot combined-stream connection."""

    venue: ClassVar[Venue] = Venue.BINANCE
    default_ws_base: ClassVar[str] = "wss://stream.binance.com:9443"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # 1024 streams are allowed; fewer keeps a reconnect's snapshot burst within the weight budget.
    max_symbols_per_connection: ClassVar[int] = 200
    max_symbols_per_request: ClassVar[int] = 50
    # 5 incoming messages/s per connection, pong frames included.
    max_sends_per_second: ClassVar[float] = 4.0
    timer_interval_s: ClassVar[float] = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request_id = 0
        self._limit, self._weight = snapshot_limit(self.depth)

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """Binance spot stream hosts only (futures use fstream/dstream)."""
        parts = urlsplit(addr if "://" in addr else f"wss://{addr}")
        return parts.hostname in SPOT_STREAM_HOSTS

    def ws_url(self) -> str:
        return f"{self.ws_base}/stream"

    # -- subscriptions --------------------------------------------------------------------

    def _send(self, method: str, symbols: list[Symbol], suffix: str = DEPTH_SUFFIX) -> None:
        streams = [f"{self.native_name(s).lower()}{suffix}" for s in symbols]
        step = self.max_symbols_per_request
        for i in range(0, len(streams), step):
            self._request_id += 1
            frame = {"method": method, "params": streams[i : i + step], "id": self._request_id}
            self._outbox.append(orjson.dumps(frame).decode())

    def probe(self, now: float) -> None:
        """``{"method":"LIST_SUBSCRIPTIONS","id":N}``: answered with ``{"result":[...],"id":N}``."""
        self._request_id += 1
        self._outbox.append(
            orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": self._request_id}).decode()
        )

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("SUBSCRIBE", symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("UNSUBSCRIBE", symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("SUBSCRIBE", symbols, TRADE_SUFFIX)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("UNSUBSCRIBE", symbols, TRADE_SUFFIX)

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,
        "s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}}``"""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("invalid_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("not_an_object", text)
            return
        data = msg.get("data")
        if data is None:
            if "e" not in msg:  # not a stream event: a reply to one of our requests
                self._on_reply(msg, text)
                return
            data = msg  # a raw-stream (/ws) frame, as in some captures
        if type(data) is not dict:
            self.bad_frame("bad_data", text)
            return
        event = data.get("e")
        if event != "depthUpdate":
            if event == "trade":
                self._on_trade(data, text, now)
            else:
                self._on_other_event(data)
            return
        try:
            native = data["s"]
            first = data["U"]
            last = data["u"]
            event_ms = data["E"]
            bids = data["b"]
            asks = data["a"]
        except KeyError:
            self.bad_frame("missing_field", text)
            return
        if (
            type(first) is not int
            or type(last) is not int
            or type(event_ms) is not int
            or type(native) is not str
            or type(bids) is not list
            or type(asks) is not list
        ):
            self.bad_frame("bad_field", text)
            return
        feed = self._feed(native)
        if feed is None:
            self.stats.skipped["unknown_symbol"] += 1
            return
        if feed.last < 0:
            self._buffer(feed, data, now, text)
            return
        book = feed.book
        if not self._in_chain(feed, first, last, data, now, text):
            return
        try:
            book.bids.apply_text(bids)
            book.asks.apply_text(asks)
        except (ValueError, TypeError, IndexError):
            # Validating every level first would cost a third of the frame time; a bad
            # level is rare, and the book it may have half-updated is rebuilt instead.
            self.resync(book, "bad_level", now, text)
            return
        feed.last = last
        self._trim(book)
        self.mark_live(book, now, event_ms / 1000)

    def _on_trade(self, data: dict[str, Any], text: str, now: float) -> None:
        """``{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100",
        "T":1672515782136,"m":true,"M":true}``: ``m`` (buyer is the maker) means a taker sold."""
        native, trade_ms, maker_buys = data.get("s"), data.get("T"), data.get("m")
        if type(native) is not str or type(trade_ms) is not int or type(maker_buys) is not bool:
            self.bad_trade("bad_field", text)
            return
        symbol = self.trade_symbol(native)
        if symbol is not None:
            side = TakerSide.SELL if maker_buys else TakerSide.BUY
            self.add_trade(
                symbol,
                data.get("p"),
                data.get("q"),
                side,
                trade_ms / 1000,
                now,
                text,
                data.get("t", ""),
            )

    def _on_reply(self, msg: dict[str, Any], text: str) -> None:
        """``{"result":null,"id":1}`` or ``{"error":{"code":2,"msg":"Invalid request"},"id":1}``."""
        error = msg.get("error")
        if error is None and "code" in msg:
            error = msg  # older style: {"code": 2, "msg": "...", "id": 1}
        if error is not None:
            self.stats.errors["request_error"] += 1
            log.warning(
                "venue_request_failed", venue=self.venue.value, id=msg.get("id"), error=error
            )
        elif "result" not in msg:
            self.stats.skipped["unknown_frame"] += 1

    def _on_other_event(self, data: dict[str, Any]) -> None:
        event = data.get("e")
        if event == "serverShutdown":
            log.info("venue_shutdown_announced", venue=self.venue.value)
        self.stats.skipped[f"event:{event}" if type(event) is str else "unknown_frame"] += 1

    # -- snapshots ------------------------------------------------------------------------

    def _depth_request(self, symbol: Symbol, purpose: str) -> RestRequest:
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}/api/v3/depth",
            params=(("symbol", self.native_name(symbol)), ("limit", str(self._limit))),
            weight=self._weight,
            purpose=purpose,
            symbol=symbol,
        )

    def _snapshot_requests(self, symbol: Symbol) -> list[RestRequest]:
        return [self._depth_request(symbol, "snapshot")]

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return self._depth_request(symbol, "poll")

    def _parse_body(self, body: str) -> Snapshot:
        """``{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[...]}``"""
        return parse_snapshot(body)

    def _apply_poll(self, book: OrderBook, snap: Snapshot, now: float) -> None:
        apply_polled(self, book, snap[1], snap[2], now, None)

    def _apply_snapshot(
        self, feed: SyncFeed, snap: Snapshot, request: RestRequest, now: float
    ) -> None:
        if snap[0] < feed.buffer[0]["U"]:
            self._snapshot_stale(feed, now)  # older than the first buffered diff
            return
        self._chain_snapshot(feed, snap, now, None, _diff_time)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """Nothing to send: the next diff starts a new buffer and asks for a snapshot."""


def _diff_time(diff: Any) -> float:
    """A buffered diff's event time (``E``, ms), in seconds."""
    return float(diff["E"]) / 1000
