"""Bitstamp: ``diff_order_book_{pair}`` diffs on top of REST snapshots, ordered by time (sans-I/O).

Diffs carry no sequence number, only a ``microtimestamp``. Each book buffers its diffs,
fetches ``/api/v2/order_book/{pair}/``, drops the diffs older than the snapshot's
microtimestamp and applies the rest in order (levels are absolute, so a diff of the
snapshot's own microsecond is harmless). A snapshot older than the first buffered diff may
miss changes made before the subscription and is fetched again. Afterwards a diff older than
the previous one means the stream is out of order: that book is rebuilt from a new snapshot.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import orjson

from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.bitstamp_rest import (
    BOOK_PATH,
    DEFAULT_REST_BASE,
    Snapshot,
    instruments_request,
    is_spot_pair,
    parse_instruments,
    parse_snapshot,
)
from goquant_bot.venues.levels import address_matches, apply_polled, valid_levels
from goquant_bot.venues.snapshot_sync import SnapshotSyncProtocol, SyncFeed

# Re-exported: callers take a venue's instrument helpers from its protocol module.
__all__ = ["BitstampProtocol", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

WS_HOSTS = frozenset({"ws.bitstamp.net"})
TRADE_PREFIX = "live_trades_"
CHANNEL_PREFIX = "diff_order_book_"

_loads = orjson.loads


class _Diff(NamedTuple):
    ts_us: int
    bids: list[list[str]]
    asks: list[list[str]]


class BitstampProtocol(SnapshotSyncProtocol[SyncFeed, Snapshot]):
    """One Bitstamp WebSocket v2 connection carrying ``diff_order_book`` channels."""

    venue: ClassVar[Venue] = Venue.BITSTAMP
    default_ws_base: ClassVar[str] = "wss://ws.bitstamp.net"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # Diffs carry no sequence number, only a time: a lost diff goes unnoticed.
    integrity: ClassVar[Integrity] = Integrity.SNAPSHOT
    # Bitstamp documents no per-connection channel limit; this keeps a reconnect's snapshot
    # burst within the REST budget.
    max_symbols_per_connection: ClassVar[int] = 50
    max_symbols_per_request: ClassVar[int] = 1  # one channel per bts:subscribe
    max_sends_per_second: ClassVar[float] = 5.0
    timer_interval_s: ClassVar[float] = 1.0
    poll_unneeded: ClassVar[str] = "rest:poll_unneeded"

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        return address_matches(addr, WS_HOSTS, "/")

    def native_name(self, symbol: Symbol) -> str:
        native = self.symbols.native(symbol)
        if native is None:
            native = f"{symbol.base}{symbol.quote}".lower()
            self.symbols.add(native, symbol)
        return native

    def is_spot_name(self, native: str) -> bool:
        return is_spot_pair(native)

    # -- subscriptions and keep-alive -----------------------------------------------------

    def _send(self, event: str, symbols: list[Symbol], prefix: str = CHANNEL_PREFIX) -> None:
        for symbol in symbols:
            channel = f"{prefix}{self.native_name(symbol)}"
            self._outbox.append(
                orjson.dumps({"event": event, "data": {"channel": channel}}).decode()
            )

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("bts:subscribe", symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("bts:unsubscribe", symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("bts:subscribe", symbols, TRADE_PREFIX)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("bts:unsubscribe", symbols, TRADE_PREFIX)

    def probe(self, now: float) -> None:
        """``{"event":"bts:heartbeat"}``: answered with a ``bts:heartbeat`` success."""
        self._outbox.append('{"event":"bts:heartbeat"}')

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"data":{"timestamp":"1643643489","microtimestamp":"1643643489512795",
        "bids":[["36800.00","0.5"]],"asks":[["36801.00","0"]]},"channel":"diff_order_book_btcusd",
        "event":"data"}``"""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("bad_json", text)
            return
        if type(msg) is not dict or type(msg.get("event")) is not str:
            self.bad_frame("bad_shape", text)
            return
        event, channel = msg["event"], msg.get("channel")
        if event == "trade":
            self._on_trade(channel, msg.get("data"), text, now)
            return
        if event != "data":
            self._on_event(event, msg)
            return
        if type(channel) is not str or not channel.startswith(CHANNEL_PREFIX):
            self.stats.skipped[f"channel:{channel}"] += 1
            return
        data = msg.get("data")
        try:
            ts_us = int(data["microtimestamp"])  # type: ignore[index]
            bids, asks = data["bids"], data["asks"]  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            self.bad_frame("bad_diff", text)
            return
        if type(bids) is not list or type(asks) is not list:
            self.bad_frame("bad_diff", text)
            return
        native = channel[len(CHANNEL_PREFIX) :]
        feed = self._feed(native)
        if feed is None:
            self.stats.skipped["not_spot" if not is_spot_pair(native) else "unsubscribed"] += 1
            return
        diff = _Diff(ts_us, bids, asks)
        if feed.last < 0:
            self._buffer(feed, diff, now, text)
            return
        book = feed.book
        if ts_us < feed.last:
            self.resync(book, "out_of_order", now, text)
            return
        try:
            book.bids.apply_text(bids)
            book.asks.apply_text(asks)
        except (ValueError, TypeError, IndexError):
            self.resync(book, "bad_level", now, text)
            return
        feed.last = ts_us
        self._trim(book)
        self.mark_live(book, now, ts_us / 1e6)

    def _on_trade(self, channel: Any, data: Any, text: str, now: float) -> None:
        """``{"data":{"id":312004836,"timestamp":"1700000000","amount":0.0125,"amount_str":
        "0.0125","price":37000,"price_str":"37000","type":0,"microtimestamp":"1700000000123456",
        "buy_order_id":1,"sell_order_id":2},"channel":"live_trades_btcusd","event":"trade"}``;
        ``type`` 0: the taker bought, 1: the taker sold."""
        if (
            type(channel) is not str
            or not channel.startswith(TRADE_PREFIX)
            or type(data) is not dict
        ):
            self.bad_trade("bad_shape", text)
            return
        stamp, kind = data.get("microtimestamp"), data.get("type")
        if type(stamp) is not str or not stamp.isdecimal() or kind not in (0, 1):
            self.bad_trade("bad_field", text)
            return
        symbol = self.trade_symbol(channel[len(TRADE_PREFIX) :])
        if symbol is not None:
            side = TakerSide.BUY if kind == 0 else TakerSide.SELL
            price, size = (
                data.get("price_str", data.get("price")),
                data.get("amount_str", data.get("amount")),
            )
            self.add_trade(
                symbol, price, size, side, int(stamp) / 1e6, now, text, data.get("id", "")
            )

    def _on_event(self, event: str, msg: dict[str, Any]) -> None:
        if event in ("bts:subscription_succeeded", "bts:unsubscription_succeeded", "bts:heartbeat"):
            return
        if event == "bts:error":
            self.stats.errors["venue_error"] += 1
            log.warning("venue_error", venue=self.venue.value, data=msg.get("data"))
        elif event == "bts:request_reconnect":
            # The server closes this connection shortly; the driver reconnects and resubscribes.
            log.info("venue_reconnect_requested", venue=self.venue.value)
            self.stats.skipped["event:bts:request_reconnect"] += 1
        else:
            self.stats.skipped[f"event:{event}"] += 1

    def _buffer(self, feed: SyncFeed, diff: _Diff, now: float, raw: str) -> None:
        """Keep a diff until the snapshot arrives; levels are checked here, off the hot path."""
        if not (valid_levels(diff.bids) and valid_levels(diff.asks)):
            self.bad_frame("bad_level", raw)
            return
        if feed.buffer and diff.ts_us < feed.buffer[-1].ts_us:
            self.stats.errors["out_of_order"] += 1
            feed.buffer.clear()  # only an ordered run can be replayed on a snapshot
        feed.buffer.append(diff)
        self._request_snapshot(feed, now)

    # -- snapshots ------------------------------------------------------------------------

    def _book_request(self, symbol: Symbol, purpose: str) -> RestRequest:
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}{BOOK_PATH}{self.native_name(symbol)}/",
            params=(),
            weight=1,
            purpose=purpose,
            symbol=symbol,
        )

    def _snapshot_requests(self, symbol: Symbol) -> list[RestRequest]:
        return [self._book_request(symbol, "snapshot")]

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return self._book_request(symbol, "poll")

    def _parse_body(self, body: str) -> Snapshot:
        return parse_snapshot(body)

    def _apply_poll(self, book: OrderBook, snap: Snapshot, now: float) -> None:
        apply_polled(self, book, snap.bids, snap.asks, now, snap.ts_us / 1e6)

    def _parse(self, request: RestRequest, status: int, body: str) -> Snapshot | None:
        try:
            if status != 200:
                msg = f"Bitstamp order book: HTTP {status}"
                raise VenueProtocolError(msg)
            return self._parse_body(body)
        except VenueProtocolError as exc:
            self.stats.errors[f"rest:{request.purpose}"] += 1
            log.warning("rest_rejected", venue=self.venue.value, reason=str(exc))
            return None

    def _apply_snapshot(
        self, feed: SyncFeed, snapshot: Snapshot, request: RestRequest, now: float
    ) -> None:
        buffer = feed.buffer
        if snapshot.ts_us < buffer[0].ts_us:
            # Older than the subscription's first diff: changes in between may be missing.
            self._snapshot_stale(feed, now)
            return
        feed.failures = 0
        book = feed.book
        book.bids.replace(snapshot.bids)
        book.asks.replace(snapshot.asks)
        last = snapshot.ts_us
        applied = 0
        for diff in buffer:  # validated and ordered when buffered
            if diff.ts_us < snapshot.ts_us:
                continue  # already in the snapshot
            book.bids.apply_text(diff.bids)
            book.asks.apply_text(diff.asks)
            last = diff.ts_us
            applied += 1
        buffer.clear()
        feed.last = last
        self._finish_snapshot(book, applied, now, last / 1e6)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        super()._invalidate(book, symbol)
        feed = self._feeds.get(self.native_name(symbol))
        if feed is not None:
            feed.reset()

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """Nothing to send: the next diff starts a new buffer and asks for a snapshot."""
