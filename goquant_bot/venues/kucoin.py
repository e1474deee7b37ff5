"""KuCoin spot: ``/market/level2`` deltas chained by sequence on a REST snapshot (sans-I/O).

The WebSocket address, its token and the ping interval come from ``POST /api/v1/bullet-public``
(``connect_request``), asked again before every connection. Deltas carry
``sequenceStart``/``sequenceEnd`` and one sequence per change: after a snapshot of sequence S,
changes up to S are dropped, the first delta must start at or before S+1 and every later one
right after the previous one, else that book is rebuilt from a new snapshot. A change whose
price is "0" only moves the sequence on: it is not a level.

Without an API key the snapshot is the public partial book (100 levels a side). Levels beyond
its worst price are unknown (a delta only reports levels that change), so changes beyond that
price are not kept; when a side has fewer than ``MIN_TRUSTED`` known levels left, the book is
rebuilt from a new snapshot. Replay also reads the full book (``/api/v3/.../level2``) of keyed
recorders, which has no such limit.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import orjson

from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, taker_side
from goquant_bot.venues.kucoin_rest import (
    DEFAULT_REST_BASE,
    FULL_BOOK_PATH,
    PARTIAL_BOOK_PATH,
    PARTIAL_LEVELS,
    Snapshot,
    book_request,
    bullet_request,
    instruments_request,
    parse_bullet,
    parse_instruments,
    parse_snapshot,
)
from goquant_bot.venues.levels import LOOPBACK_HOSTS, apply_polled
from goquant_bot.venues.snapshot_sync import SnapshotSyncProtocol, SyncFeed

__all__ = ["KucoinProtocol", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

LEVEL2 = "/market/level2:"
MATCH = "/market/match:"
HOST_SUFFIX = "kucoin.com"
# Fewer known levels than this on a side of a partial book: fetch a new snapshot.
MIN_TRUSTED = 10

_loads = orjson.loads
Change = list[str]


class _Feed(SyncFeed):
    """Synchronisation state of one book, with the price range a partial snapshot covers."""

    __slots__ = ("ceiling", "floor")

    def __init__(self, book: OrderBook) -> None:
        super().__init__(book)
        self.floor = 0.0  # bids below this price are unknown (partial snapshot)
        self.ceiling = float("inf")  # asks above this price are unknown


class KucoinProtocol(SnapshotSyncProtocol[_Feed, Snapshot]):
    """One KuCoin spot WebSocket connection (public token)."""

    venue: ClassVar[Venue] = Venue.KUCOIN
    default_ws_base: ClassVar[str] = "wss://ws-api-spot.kucoin.com"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    integrity: ClassVar[Integrity] = Integrity.VERIFIED
    native_separator: ClassVar[str] = "-"
    # 400 topics per connection, 100 symbols per subscribe, 100 messages per 10 s.
    max_symbols_per_connection: ClassVar[int] = 200
    max_symbols_per_request: ClassVar[int] = 100
    max_sends_per_second: ClassVar[float] = 5.0
    timer_interval_s: ClassVar[float] = 1.0
    feed_class: ClassVar[type[SyncFeed]] = _Feed

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fixed_endpoint = kwargs.get("ws_base")  # a configured address wins
        self._endpoint: str | None = None
        self._token: str | None = None
        self.ping_interval_s = 18.0
        self._last_ping = 0.0
        self._request_id = 0
        self._welcomed = False
        # A partial snapshot's levels are all kept: trimmed ones could not come back.
        self._keep = max(self.depth, PARTIAL_LEVELS)
        self._trim_at = self._keep + max(20, self._keep // 4)

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """KuCoin spot WebSocket hosts (futures are on ws-api-futures)."""
        parts = urlsplit(addr if "://" in addr else f"wss://{addr}")
        host = parts.hostname or ""
        if host in LOOPBACK_HOSTS:
            return "token=" in parts.query
        return host.endswith(HOST_SUFFIX) and "futures" not in host

    # -- connection -----------------------------------------------------------------------

    def connect_request(self) -> RestRequest | None:
        return bullet_request(self.rest_base)

    def ws_url(self) -> str:
        if self._token is None:
            return ""
        endpoint = self._fixed_endpoint or self._endpoint or self.ws_base
        return f"{endpoint.rstrip('/')}/?{urlencode({'token': self._token})}"

    def _on_bullet(self, status: int, body: str) -> None:
        self._token = None
        if status != 200:
            self.stats.errors["token_failed"] += 1
            log.warning("token_failed", venue=self.venue.value, status=status)
            return
        try:
            self._endpoint, self._token, self.ping_interval_s = parse_bullet(body)
        except VenueProtocolError:
            self.bad_frame("token_invalid", body)

    def on_open(self, now: float) -> None:
        """Subscriptions wait for the venue's ``welcome``: the connection is usable from then."""
        self._last_ping = now
        self._welcomed = False
        self.connected = True

    def _on_welcome(self, now: float) -> None:
        self._welcomed = True
        if self.books:
            self._send_subscribe(list(self.books), now)
        if self.trade_symbols:
            self._send_trade_subscribe(sorted(self.trade_symbols), now)

    def _next_id(self) -> str:
        self._request_id += 1
        return str(self._request_id)

    def _send(self, kind: str, prefix: str, symbols: list[Symbol]) -> None:
        if not self._welcomed:
            return  # the welcome subscribes everything wanted by then
        step = self.max_symbols_per_request
        for i in range(0, len(symbols), step):
            topic = prefix + ",".join(self.native_name(s) for s in symbols[i : i + step])
            frame = {"id": self._next_id(), "type": kind, "topic": topic,
                     "privateChannel": False, "response": True}  # fmt: skip
            self._outbox.append(orjson.dumps(frame).decode())

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("subscribe", LEVEL2, symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("unsubscribe", LEVEL2, symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("subscribe", MATCH, symbols)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("unsubscribe", MATCH, symbols)

    def probe(self, now: float) -> None:
        """``{"id":"7","type":"ping"}``: answered with ``pong``."""
        self._last_ping = now
        self._outbox.append(orjson.dumps({"id": self._next_id(), "type": "ping"}).decode())

    def on_timer(self, now: float) -> None:
        """Ping at the interval the token answer gave; re-request snapshots after back-off."""
        if self.connected and now - self._last_ping >= self.ping_interval_s:
            self.probe(now)
        self._retry_snapshots(now)

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update",
        "data":{"changes":{"asks":[["18906","0.00331","14103845"]],"bids":[]},
        "sequenceEnd":14103845,"sequenceStart":14103845,"symbol":"BTC-USDT","time":1663747970273}}``"""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("invalid_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("not_an_object", text)
            return
        kind = msg.get("type")
        if kind != "message":
            if kind == "welcome":
                self._on_welcome(now)
            elif kind == "error":
                self.stats.errors["request_error"] += 1
                log.warning("venue_request_failed", venue=self.venue.value, error=msg)
            elif kind not in ("ack", "pong"):
                self.stats.skipped["unknown_frame"] += 1
            return
        topic, data = msg.get("topic"), msg.get("data")
        if type(topic) is not str or type(data) is not dict:
            self.bad_frame("bad_field", text)
        elif topic.startswith(LEVEL2):
            self._on_level2(data, now, text)
        elif topic.startswith(MATCH):
            self._on_match(data, now, text)
        else:
            self.stats.skipped["unknown_topic"] += 1

    def _on_level2(self, data: dict[str, Any], now: float, text: str) -> None:
        native, first, last = data.get("symbol"), data.get("sequenceStart"), data.get("sequenceEnd")
        changes = data.get("changes")
        if (
            type(native) is not str
            or type(first) is not int
            or type(last) is not int
            or type(changes) is not dict
            or type(changes.get("bids", [])) is not list
            or type(changes.get("asks", [])) is not list
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
        if not self._in_chain(feed, first, last, data, now, text):
            return
        ts = data.get("time")
        try:
            self._apply(feed, changes, feed.last)
        except (ValueError, TypeError, IndexError):
            self.resync(feed.book, "bad_level", now, text)
            return
        feed.last = last
        self._settle(feed, now, ts / 1000 if type(ts) is int else None)

    def _apply(self, feed: _Feed, changes: dict[str, Any], after: int) -> None:
        """Apply the changes newer than sequence ``after``; price 0 only moves the sequence;
        levels beyond a partial snapshot's range stay unknown."""
        book = feed.book
        floor, ceiling = feed.floor, feed.ceiling
        for price, size, seq, *_ in changes.get("bids", ()):
            if int(seq) > after and float(price) > 0 and float(price) >= floor:
                book.bids.set(float(price), float(size))
        for price, size, seq, *_ in changes.get("asks", ()):
            if int(seq) > after and float(price) > 0 and float(price) <= ceiling:
                book.asks.set(float(price), float(size))

    def _settle(self, feed: _Feed, now: float, venue_ts: float | None) -> None:
        book = feed.book
        if len(book.bids) > self._trim_at:
            book.bids.trim(self._keep)
            feed.floor = max(feed.floor, book.bids.levels()[-1][0]) if feed.floor else 0.0
        if len(book.asks) > self._trim_at:
            book.asks.trim(self._keep)
            if feed.ceiling < float("inf"):
                feed.ceiling = min(feed.ceiling, book.asks.levels()[-1][0])
        partial = feed.floor > 0 or feed.ceiling < float("inf")
        if partial and (len(book.bids) < MIN_TRUSTED or len(book.asks) < MIN_TRUSTED):
            # The market moved beyond the partial snapshot: the known depth has run out.
            self.resync(book, "partial_depth", now)
            return
        self.mark_live(book, now, venue_ts)

    def _buffer(self, feed: _Feed, diff: Any, now: float, raw: str) -> None:
        """Keep a delta until the snapshot arrives (its changes are checked when applied)."""
        feed.buffer.append(diff)
        self._request_snapshot(feed, now)

    def _on_match(self, data: dict[str, Any], now: float, text: str) -> None:
        """``{"price":"0.08","sequence":"1545896669145","side":"buy","size":"0.01",
        "symbol":"BTC-USDT","time":"1545913818099033203","tradeId":"5c24c5da03aa673885cd67aa",
        "type":"match"}``: ``side`` is the taker's; ``time`` in nanoseconds."""
        native = data.get("symbol")
        if type(native) is not str:
            self.bad_trade("bad_field", text)
            return
        symbol = self.trade_symbol(native)
        if symbol is None:
            return
        try:
            venue_ts: float | None = int(data["time"]) / 1e9
        except (KeyError, TypeError, ValueError):
            venue_ts = None
        self.add_trade(
            symbol, data.get("price"), data.get("size"), taker_side(data.get("side")),
            venue_ts, now, text, data.get("tradeId", ""),
        )  # fmt: skip

    # -- snapshots ------------------------------------------------------------------------

    def _paths(self) -> tuple[str, ...]:
        # Replay: a keyed recorder's file holds the full book, others the partial one.
        return (FULL_BOOK_PATH, PARTIAL_BOOK_PATH) if self.track_all else (PARTIAL_BOOK_PATH,)

    def _snapshot_requests(self, symbol: Symbol) -> list[RestRequest]:
        native = self.native_name(symbol)
        return [book_request(self.rest_base, native, path, symbol, "snapshot")
                for path in self._paths()]  # fmt: skip

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        native = self.native_name(symbol)
        return book_request(self.rest_base, native, PARTIAL_BOOK_PATH, symbol, "poll")

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        if request.purpose == "connect":
            self._on_bullet(status, body)
            return
        super().on_rest(request, status, body, now)

    def _parse_body(self, body: str) -> Snapshot:
        return parse_snapshot(body)

    def _apply_poll(self, book: OrderBook, snap: Snapshot, now: float) -> None:
        apply_polled(self, book, snap[2], snap[3], now, snap[1])

    def _apply_snapshot(
        self, feed: _Feed, snap: Snapshot, request: RestRequest, now: float
    ) -> None:
        sequence, venue_ts, bids, asks = snap
        buffer = feed.buffer
        if sequence + 1 < buffer[0]["sequenceStart"]:
            self._snapshot_stale(feed, now)
            return
        partial = urlsplit(request.url).path.endswith(PARTIAL_BOOK_PATH)
        feed.failures = 0
        book = feed.book
        book.bids.replace(bids)
        book.asks.replace(asks)
        full_bids, full_asks = len(bids) >= PARTIAL_LEVELS, len(asks) >= PARTIAL_LEVELS
        feed.floor = min(p for p, _ in bids) if partial and full_bids else 0.0
        feed.ceiling = max(p for p, _ in asks) if partial and full_asks else float("inf")
        feed.last = sequence
        feed.bracket = True
        applied = 0
        while buffer:
            data = buffer.popleft()
            if data["sequenceEnd"] <= feed.last:
                continue  # already in the snapshot
            expected = feed.last + 1
            first = data["sequenceStart"]
            if first > expected if feed.bracket else first != expected:
                self.resync(book, "snapshot_gap", now)
                return
            feed.bracket = False
            try:
                self._apply(feed, data["changes"], feed.last)
            except (ValueError, TypeError, IndexError):
                self.resync(book, "bad_level", now)
                return
            feed.last = data["sequenceEnd"]
            ts = data.get("time")
            venue_ts = ts / 1000 if type(ts) is int else venue_ts
            applied += 1
        book.updates += max(0, applied - 1)
        self._settle(feed, now, venue_ts)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """Nothing to send: the next delta starts a new buffer and asks for a snapshot."""
