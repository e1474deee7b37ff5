"""Bitfinex v2 public order books (``book`` channel, P0 precision), sans-I/O.

On open the connection asks for sequence numbers and book checksums (``conf`` flags SEQ_ALL
and OB_CHECKSUM), then subscribes one channel per book. Every message then ends with a
sequence number that counts per connection, across all channels: a gap means a message was
lost without saying which channel it belonged to, so every book of the connection is rebuilt.
After each book change Bitfinex sends ``[chanId, "cs", checksum]``, a signed CRC32 over the
best 25 levels of each side; a mismatch rebuilds that one book (unsubscribe + subscribe: a new
channel starts with a snapshot). Heartbeats ``[chanId, "hb"]`` prove a quiet book is current.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RAW_LOG_LIMIT, RestRequest, VenueProtocol
from goquant_bot.venues.bitfinex_book import (
    BookChannel,
    BookChannels,
    apply_level,
    checksum_matches,
)
from goquant_bot.venues.bitfinex_rest import (
    DEFAULT_REST_BASE,
    FLAGS,
    INFO_MAINTENANCE,
    INFO_MAINTENANCE_END,
    INFO_RESTART,
    OB_CHECKSUM,
    book_length,
    book_request,
    instruments_request,
    is_spot_pair,
    pair_native,
    pair_symbol,
    parse_book_levels,
    parse_instruments,
    parse_rest_book,
)
from goquant_bot.venues.bitfinex_trades import TRADES, TradeChannels, read_entry, trade_entries
from goquant_bot.venues.levels import address_matches, apply_polled

# Re-exported: callers take a venue's instrument helpers from its protocol module.
__all__ = ["BitfinexProtocol", "book_length", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

WS_PATH = "/ws/2"
# api-pub is the public host; api.bitfinex.com serves public channels too (older captures).
WS_HOSTS = frozenset({"api-pub.bitfinex.com", "api.bitfinex.com"})
_loads = orjson.loads


class BitfinexProtocol(VenueProtocol):
    """One Bitfinex public WebSocket connection carrying ``book`` channels of spot pairs."""

    venue: ClassVar[Venue] = Venue.BITFINEX
    default_ws_base: ClassVar[str] = "wss://api-pub.bitfinex.com/ws/2"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # Bitfinex allows 25 channels per connection; a trades channel counts like a book.
    max_symbols_per_connection: ClassVar[int] = 25
    max_symbols_per_request: ClassVar[int] = 1  # one channel per subscribe message
    max_sends_per_second: ClassVar[float] = 5.0
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._book_chans = BookChannels()
        self._seq: int | None = None
        # Checksums on: a book is published only at its checksum message, i.e. verified and
        # whole (Bitfinex sends one message per level, so a batch is crossed half-way).
        self._checksums = False
        self._cid = 0
        self._len = book_length(self.depth)
        self._trade_chans = TradeChannels()

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        return address_matches(addr, WS_HOSTS, WS_PATH)

    def native_name(self, symbol: Symbol) -> str:
        native = self.symbols.native(symbol)
        if native is None:
            native = pair_native(symbol)
            self.symbols.add(native, symbol)
        return native

    def is_spot_name(self, native: str) -> bool:
        """``tBTCUSD`` spot pairs; funding (``fUSD``), derivatives and test pairs are not."""
        return native.startswith("t") and is_spot_pair(native[1:])

    def _guess_symbol(self, native: str) -> Symbol | None:
        return pair_symbol(native[1:])

    # -- connection -----------------------------------------------------------------------

    def on_open(self, now: float) -> None:
        self._seq = None
        self._checksums = False
        self._book_chans.clear()
        self._trade_chans.clear()
        self._outbox.append(orjson.dumps({"event": "conf", "flags": FLAGS}).decode())
        super().on_open(now)

    def on_close(self, now: float) -> None:
        self._book_chans.close()
        self._trade_chans.clear()
        super().on_close(now)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            frame = self._trade_chans.subscribe(symbol, self.native_name(symbol))
            if frame is not None:
                self._outbox.append(frame)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            frame = self._trade_chans.unsubscribe(symbol)
            if frame is not None:
                self._outbox.append(frame)

    def probe(self, now: float) -> None:
        """``{"event":"ping","cid":N}``, answered with ``{"event":"pong","cid":N}``."""
        self._cid += 1
        self._outbox.append(orjson.dumps({"event": "ping", "cid": self._cid}).decode())

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            frame = self._book_chans.subscribe(symbol, self.native_name(symbol), self._len)
            if frame is not None:
                self._outbox.append(frame)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            frame = self._book_chans.unsubscribe(symbol)
            if frame is not None:
                self._outbox.append(frame)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """A new channel (unsubscribe + subscribe) starts with a snapshot; a subscription
        still waiting for its answer will bring one anyway."""
        symbol = book.key.symbol
        if self.connected and symbol in self._book_chans.chan_of:
            self._send_unsubscribe([symbol], now)
            self._send_subscribe([symbol], now)

    def _forget(self, symbol: Symbol) -> None:
        self._book_chans.forget(symbol)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        # A channel still attached (replay, where nothing is resubscribed) waits for a snapshot.
        channel = self._book_chans.of(symbol)
        if channel is not None:
            channel.snapshot = False
            channel.crossed = False
        super()._invalidate(book, symbol)

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """Events are objects; channel messages are arrays such as a snapshot
        ``[17082,[[7254.7,3,3.3],[7254.8,1,-0.5]],1]``, an update ``[17082,[7254.5,0,1],2]``,
        a checksum ``[17082,"cs",-1173052834,3]`` or a heartbeat ``[17082,"hb",4]``."""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("bad_json", text)
            return
        if type(msg) is dict:
            self._on_event(msg, text, now)
            return
        if type(msg) is not list or len(msg) < 2 or type(msg[0]) is not int:
            self.bad_frame("bad_shape", text)
            return
        payload = msg[1]
        kind = payload if type(payload) is str else None
        # [chan, data, seq], [chan, "hb", seq], [chan, "cs", checksum, seq], [chan, "te", [...], seq]
        seq_at = 2 if kind is None or kind == "hb" else 3
        if len(msg) > seq_at:
            seq = msg[seq_at]
            if type(seq) is not int:
                self.bad_frame("bad_seq", text)
                return
            if self._seq is not None and seq != self._seq + 1:
                self._seq = seq
                self._gap(text, now)
                return
            self._seq = seq
        channel = self._book_chans.channels.get(msg[0])
        if channel is None:
            trade_symbol = self._trade_chans.symbol_of.get(msg[0])
            if trade_symbol is not None:
                self._on_trades(trade_symbol, kind, payload, msg, text, now)
                return
            # An unsubscribed channel's last messages, or another channel type.
            self.stats.skipped["unknown_channel"] += 1
            return
        book = channel.book
        if kind == "hb":
            if channel.crossed:
                self.resync(book, "crossed", now, text)
            elif channel.snapshot and not channel.pending:
                self.mark_live(book, now, None)
        elif kind == "cs":
            self._on_checksum(channel, msg, text, now)
        elif kind is not None:
            self.stats.skipped[f"message:{kind}"] += 1
        elif type(payload) is not list:
            self.bad_frame("bad_shape", text)
        elif not payload or type(payload[0]) is list:
            self._on_snapshot(channel, payload, text, now)
        else:
            self._on_update(channel, payload, text, now)

    def _on_trades(
        self, symbol: Symbol, kind: str | None, payload: Any, msg: list[Any], text: str, now: float
    ) -> None:
        entries = trade_entries(kind, payload, msg)
        if entries is None:
            self.bad_trade("bad_shape", text)
            return
        for entry in entries:
            read = read_entry(entry) if type(entry) is list else None
            if read is None:
                self.bad_trade("bad_field", text)
                continue
            trade_id, venue_ts, size, price, side = read
            self.add_trade(symbol, price, size, side, venue_ts, now, text, trade_id)

    def _gap(self, text: str, now: float) -> None:
        """A lost message on the connection: any book may have lost it, rebuild them all."""
        for chan_id in list(self._book_chans.channels):
            channel = self._book_chans.channels.get(chan_id)
            if channel is not None:
                self.resync(channel.book, "seq_gap", now, text)

    def _on_snapshot(self, channel: BookChannel, payload: list[Any], text: str, now: float) -> None:
        book = channel.book
        try:
            bids, asks = parse_book_levels(payload)
        except VenueProtocolError:
            self.bad_frame("bad_snapshot", text)
            self.resync(book, "bad_snapshot", now, text)
            return
        book.bids.replace(bids)
        book.asks.replace(asks)
        channel.snapshot = True
        self._settle(channel, now)

    def _on_update(self, channel: BookChannel, level: list[Any], text: str, now: float) -> None:
        book = channel.book
        if not channel.snapshot:
            self.stats.skipped["update_before_snapshot"] += 1
            return
        try:
            apply_level(book, level)
        except (TypeError, ValueError):
            self.resync(book, "bad_level", now, text)
            return
        self._settle(channel, now)

    def _settle(self, channel: BookChannel, now: float) -> None:
        """After a snapshot or level: with checksums, wait for the checksum message; without,
        publish unless crossed (a cross still there at the next heartbeat resyncs)."""
        if self._checksums:
            channel.pending = True  # not fresher until verified: a lost checksum makes it stale
            return
        channel.crossed = channel.book.is_crossed()
        if not channel.crossed:
            self.mark_live(channel.book, now, None)

    def _on_checksum(self, channel: BookChannel, msg: list[Any], text: str, now: float) -> None:
        checksum = msg[2] if len(msg) > 2 else None
        if type(checksum) is not int:
            self.bad_frame("bad_checksum", text)
            return
        self._checksums = True
        book = channel.book
        if not channel.snapshot:
            self.stats.skipped["checksum_before_snapshot"] += 1
            return
        if not checksum_matches(book, checksum):
            self.resync(book, "checksum", now, text)
            return
        channel.crossed = channel.pending = False
        self.mark_live(book, now, None)  # a crossed book resyncs here

    # -- events ---------------------------------------------------------------------------

    def _on_event(self, msg: dict[str, Any], text: str, now: float) -> None:
        event = msg.get("event")
        if event == "subscribed":
            self._on_subscribed(msg, text, now)
        elif event in ("unsubscribed", "pong"):
            return
        elif event == "conf":
            flags = msg.get("flags")
            if msg.get("status") == "OK" and type(flags) is int and flags & OB_CHECKSUM:
                self._checksums = True
            elif msg.get("status") != "OK":
                self.stats.errors["conf_refused"] += 1
                log.error("venue_conf_refused", venue=self.venue.value, raw=text[:RAW_LOG_LIMIT])
        elif event == "error":
            self._on_error(msg)
        elif event == "info":
            self._on_info(msg, now)
        else:
            self.stats.skipped[f"event:{event}" if type(event) is str else "unknown_frame"] += 1

    def _on_subscribed(self, msg: dict[str, Any], text: str, now: float) -> None:
        """``{"event":"subscribed","channel":"book","chanId":17082,"symbol":"tBTCUSD",...}``"""
        chan_id, native = msg.get("chanId"), msg.get("symbol")
        if native is None and type(msg.get("pair")) is str:
            native = f"t{msg['pair']}"  # older answers name the pair only
        if msg.get("channel") == TRADES and type(chan_id) is int and type(native) is str:
            self._on_trades_subscribed(chan_id, native)
            return
        if msg.get("channel") != "book" or type(chan_id) is not int or type(native) is not str:
            self.stats.skipped["subscribed:other"] += 1
            return
        frame = self._book_chans.drop_cancelled(self.symbols.symbol(native), chan_id)
        if frame is not None:
            self._outbox.append(frame)
            return
        book = self.book_for(native)
        if book is None:
            self.stats.skipped["not_spot" if not self.is_spot_name(native) else "unsubscribed"] += 1
            return
        self._book_chans.attach(chan_id, book)
        if book.state is not BookState.SYNCING:
            self._invalidate(book, book.key.symbol)  # a new channel: wait for its snapshot

    def _on_trades_subscribed(self, chan_id: int, native: str) -> None:
        """``{"event":"subscribed","channel":"trades","chanId":19111,"symbol":"tBTCUSD"}``"""
        symbol = self.symbols.symbol(native)
        if symbol is None and self.track_all:
            symbol = self.trade_symbol(native)
        if symbol is None:
            self.stats.skipped["subscribed:other"] += 1
            return
        frame = self._trade_chans.subscribed(chan_id, symbol)
        if frame is not None:
            self._outbox.append(frame)

    def _on_error(self, msg: dict[str, Any]) -> None:
        """``{"event":"error","msg":"subscribe: dup","code":10301,"symbol":"tBTCUSD"}``"""
        code = msg.get("code")
        self.stats.errors[f"venue_error:{code}"] += 1
        log.warning("venue_error", venue=self.venue.value, code=code, msg=msg.get("msg"))
        native = msg.get("symbol")
        if type(native) is str:
            symbol = self.symbols.symbol(native)
            if symbol is not None:
                self._book_chans.pending.discard(symbol)
                self._trade_chans.pending.discard(symbol)

    def _on_info(self, msg: dict[str, Any], now: float) -> None:
        """``{"event":"info","version":2,"platform":{"status":1}}`` or an info ``code``."""
        code = msg.get("code")
        if code is None:
            return
        log.info("venue_info", venue=self.venue.value, code=code, msg=msg.get("msg"))
        if code == INFO_MAINTENANCE:
            for symbol, book in self.books.items():
                self._invalidate(book, symbol)
        elif code == INFO_MAINTENANCE_END:
            # Bitfinex asks clients to subscribe again once maintenance is over.
            for book in list(self.books.values()):
                self._restart_book(book, now)
        elif code != INFO_RESTART:
            self.stats.skipped[f"info:{code}"] += 1

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return book_request(self.rest_base, self.native_name(symbol), symbol)

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        """``[[PRICE, COUNT, AMOUNT], ...]`` while the stream is down."""
        book = self.books.get(request.symbol) if request.symbol is not None else None
        if request.purpose != "poll" or book is None:
            super().on_rest(request, status, body, now)
            return
        if book.state is BookState.LIVE:
            self.stats.skipped["rest:poll_unneeded"] += 1
            return
        try:
            bids, asks = parse_rest_book(status, body)
        except VenueProtocolError as exc:
            self.stats.errors["rest:poll"] += 1
            log.warning("rest_rejected", venue=self.venue.value, reason=str(exc))
            return
        apply_polled(self, book, bids, asks, now, None)
