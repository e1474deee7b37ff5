"""OKX v5 public order books (``books`` channel: 400 levels a side, every 100 ms), sans-I/O.

Integrity: a message's ``prevSeqId`` equals the ``seqId`` of the book's previous message. That
one rule also admits the two documented oddities: a keep-alive (no levels, ``prevSeqId ==
seqId``) and a sequence reset after maintenance (``seqId < prevSeqId``), so neither resyncs.
The legacy CRC32 ``checksum`` is validated only when non-zero (OKX sends 0 since 2026).
Frames without ``seqId``/``prevSeqId`` (older gateways, files recorded from them) are checked
by their checksum alone: a snapshot then updates, each applied only if the book matches it.

OKX announced that the in-band snapshot may give way to a REST snapshot: updates for a book
without a snapshot are buffered and a REST snapshot is requested (see ``okx_rest``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RAW_LOG_LIMIT, RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.crc_books import remember
from goquant_bot.venues.levels import (
    address_matches,
    apply_polled,
    non_finite,
    valid_levels,
)
from goquant_bot.venues.okx_book import BookSync, rebuild_from_rest, strings_checksum
from goquant_bot.venues.okx_rest import (
    DEFAULT_REST_BASE,
    BookUpdate,
    RestBook,
    books_request,
    float_levels,
    parse_rest_books,
)
from goquant_bot.venues.okx_style import read_push

log = get_logger(__name__)

WS_PATH = "/ws/v5/public"
LIVE_HOSTS = frozenset({"ws.okx.com", "wsaws.okx.com"})
STREAM_DEPTH = 400  # the books channel's depth: a REST snapshot must match it
PING_AFTER_S = 25.0  # OKX closes a connection that stayed silent for 30 s
RETRY_FIRST_S = 1.0  # after a failed REST snapshot; doubles up to RETRY_MAX_S
RETRY_MAX_S = 30.0


class OkxProtocol(VenueProtocol):
    """One OKX public WebSocket connection carrying ``books`` channels of spot pairs."""

    venue: ClassVar[Venue] = Venue.OKX
    native_separator: ClassVar[str] = "-"
    default_ws_base: ClassVar[str] = "wss://ws.okx.com:8443/ws/v5/public"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    max_symbols_per_connection: ClassVar[int] = 100
    # OKX caps a request at 64 KB of args and 480 (un)subscribe ops an hour per connection.
    max_symbols_per_request: ClassVar[int] = 20
    max_sends_per_second: ClassVar[float] = 3.0
    timer_interval_s: ClassVar[float] = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Symbol, BookSync] = {}
        self._next_id = 1
        self._last_recv = 0.0
        self._last_ping = 0.0

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The production public endpoint only: business/private carry no spot books, and the
        demo-trading host (wspap) carries books that are not the real market."""
        return address_matches(addr, LIVE_HOSTS, WS_PATH)

    def on_open(self, now: float) -> None:
        self._last_recv = self._last_ping = now
        super().on_open(now)

    def on_timer(self, now: float) -> None:
        """Send the text ``ping`` after 25 s without any frame (the venue answers ``pong``)."""
        if self.connected and now - max(self._last_recv, self._last_ping) >= PING_AFTER_S:
            self._last_ping = now
            self._outbox.append("ping")

    def probe(self, now: float) -> None:
        """The text ``ping``; OKX answers ``pong``."""
        self._last_ping = now
        self._outbox.append("ping")

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """A books push, an event or ``pong``; a push looks like
        ``{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["8476.98","415","0","13"]],"bids":[],"ts":"1597026383085","checksum":0,"prevSeqId":123,"seqId":124}]}``
        """
        self._last_recv = now
        push = read_push(self, text)
        if push is None:
            return
        msg, arg, data = push
        channel = arg.get("channel")
        if channel != "books":
            if channel == "trades":
                self._on_trades(arg["instId"], data, text, now)
            else:
                self.stats.skipped[f"channel:{channel}"] += 1
            return
        inst_id: str = arg["instId"]
        book = self.book_for(inst_id)
        if book is None:
            self.stats.skipped["not_spot" if inst_id.count("-") != 1 else "unsubscribed"] += 1
            return
        action = msg.get("action")
        for item in data:
            self._on_books(book, action, item, text, now)

    def _on_trades(self, inst_id: str, data: list[Any], text: str, now: float) -> None:
        """``{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT",
        "tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897",
        "count":"3"}]}``; ``side`` is the taker's."""
        symbol = self.trade_symbol(inst_id)
        if symbol is None:
            return
        for item in data:
            ts = item.get("ts") if type(item) is dict else None
            if type(ts) is not str or not ts.isdecimal():
                self.bad_trade("bad_field", text)
                continue
            side = taker_side(item.get("side"))
            self.add_trade(
                symbol,
                item.get("px"),
                item.get("sz"),
                side,
                int(ts) / 1000,
                now,
                text,
                item.get("tradeId", ""),
            )

    def _on_books(self, book: OrderBook, action: Any, item: Any, text: str, now: float) -> None:
        try:
            bids = item["bids"]
            asks = item["asks"]
            # Older gateways (and files recorded from them) send neither: checksum alone.
            seq = item.get("seqId")
            prev = item.get("prevSeqId")
            checksum = item.get("checksum", 0)
            ts_ms = int(item["ts"])
        except (KeyError, TypeError, ValueError, AttributeError):
            self.bad_frame("bad_books", text)
            return
        if not (valid_levels(bids) and valid_levels(asks)):
            if non_finite(bids) or non_finite(asks):
                # A corrupt number, not a malformed frame: never applied, the book is rebuilt.
                self.resync(book, "non_finite", now, text)
            else:
                self.bad_frame("bad_books", text)
            return
        seqless = seq is None and prev is None
        if not (type(checksum) is int and (seqless or (type(seq) is int and type(prev) is int))):
            self.bad_frame("bad_books", text)
            return
        if seqless and not checksum:
            # Neither a sequence nor a checksum: nothing proves the book is whole.
            self.bad_frame("unverifiable_books", text)
            return
        sync = self._sync.get(book.key.symbol)
        if sync is None:
            sync = self._sync[book.key.symbol] = BookSync()
        update = BookUpdate(
            -1 if prev is None else prev, -1 if seq is None else seq, ts_ms, bids, asks
        )
        if action == "update":
            if seqless:
                self._apply_checksummed(book, sync, update, checksum, text, now)
            elif sync.seq is None:
                self._buffer(book, sync, update, now)
            elif prev != sync.seq:
                self.resync(book, "seq_gap", now, text)
            else:
                self._apply(book, sync, update, checksum, False, text, now)
        elif action == "snapshot":
            self._apply(book, sync, update, checksum, True, text, now)
            sync.checksum_only = seqless
            if seqless:
                sync.seq = None
        else:
            self.bad_frame("bad_action", text)

    def _apply_checksummed(
        self, book: OrderBook, sync: BookSync, msg: BookUpdate, checksum: int, text: str, now: float
    ) -> None:
        """An update without seqId/prevSeqId: applied on a checksum-verified snapshot, and
        accepted only if the resulting book matches its checksum."""
        if not sync.checksum_only:
            self.stats.skipped["update_before_snapshot"] += 1
            return
        if sync.strings is None:
            self.resync(book, "checksum_unverifiable", now, text)
            return
        self._apply(book, sync, msg, checksum, False, text, now)
        sync.seq = None

    def _apply(
        self,
        book: OrderBook,
        sync: BookSync,
        msg: BookUpdate,
        checksum: int,
        snapshot: bool,
        text: str,
        now: float,
    ) -> None:
        if snapshot:
            book.bids.replace(float_levels(msg.bids))
            book.asks.replace(float_levels(msg.asks))
            sync.strings = ({}, {}) if checksum else None
            sync.buffer.clear()
            sync.rest_pending = False
        else:
            book.bids.apply_text(msg.bids)
            book.asks.apply_text(msg.asks)
        if sync.strings is not None:
            remember(sync.strings[0], msg.bids)
            remember(sync.strings[1], msg.asks)
        sync.seq = msg.seq
        if checksum and not self._checksum_ok(book, sync, checksum):
            self.resync(book, "checksum", now, text)
            return
        self.mark_live(book, now, msg.ts_ms / 1000)

    def _checksum_ok(self, book: OrderBook, sync: BookSync, checksum: int) -> bool:
        if sync.strings is None:
            # The snapshot came without a checksum (or by REST): no strings to check against.
            self.stats.skipped["checksum_unverified"] += 1
            return True
        return strings_checksum(book, sync.strings) == checksum

    def _buffer(self, book: OrderBook, sync: BookSync, update: BookUpdate, now: float) -> None:
        buffer = sync.buffer
        if buffer and update.prev != buffer[-1].seq:
            buffer.clear()  # only an unbroken run of updates can be replayed on a snapshot
        buffer.append(update)
        if not sync.rest_pending and now >= sync.retry_at:
            sync.rest_pending = True
            self._rest_out.append(self._books_request(book.key.symbol, STREAM_DEPTH, "snapshot"))

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return self._books_request(symbol, min(self.depth, STREAM_DEPTH), "poll")

    def _books_request(self, symbol: Symbol, size: int, purpose: str) -> RestRequest:
        return books_request(self.rest_base, self.native_name(symbol), symbol, size, purpose)

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        symbol = request.symbol
        book = self.books.get(symbol) if symbol is not None else None
        if request.purpose == "snapshot":
            sync = self._sync.get(symbol) if symbol is not None else None
            if book is None or sync is None or not sync.rest_pending:
                self.stats.skipped["rest:snapshot_unneeded"] += 1
                return
            # The next buffered update asks again, after a backoff if this one failed.
            sync.rest_pending = False
            snapshot = self._rest_book(request, status, body)
            if snapshot is None:
                sync.backoff = min(max(RETRY_FIRST_S, sync.backoff * 2), RETRY_MAX_S)
                sync.retry_at = now + sync.backoff
            else:
                self._apply_rest_snapshot(book, sync, snapshot, now)
        elif request.purpose == "poll":
            if book is None or book.state is BookState.LIVE:
                self.stats.skipped["rest:poll_unneeded"] += 1
                return
            snapshot = self._rest_book(request, status, body)
            if snapshot is not None:
                self._apply_poll(book, snapshot, now)
        else:
            super().on_rest(request, status, body, now)

    def _rest_book(self, request: RestRequest, status: int, body: str) -> RestBook | None:
        try:
            if status != 200:
                msg = f"OKX books: HTTP {status}"
                raise VenueProtocolError(msg)
            return parse_rest_books(body)
        except VenueProtocolError as exc:
            self.stats.errors[f"rest:{request.purpose}"] += 1
            log.warning(
                "rest_rejected",
                venue=self.venue.value,
                symbol=str(request.symbol),
                reason=str(exc),
                raw=body[:RAW_LOG_LIMIT],
            )
            return None

    def _apply_rest_snapshot(
        self, book: OrderBook, sync: BookSync, snapshot: RestBook, now: float
    ) -> None:
        venue_ts = rebuild_from_rest(book, sync, snapshot)
        if venue_ts is None:
            self.stats.skipped["rest:snapshot_too_old"] += 1
            return
        self.mark_live(book, now, venue_ts)

    def _apply_poll(self, book: OrderBook, snapshot: RestBook, now: float) -> None:
        # The stream must start again from a snapshot: deltas never apply to polled data.
        self._sync.pop(book.key.symbol, None)
        apply_polled(self, book, snapshot.bids, snapshot.asks, now, snapshot.ts_ms / 1000)

    # -- subscriptions --------------------------------------------------------------------

    def _forget(self, symbol: Symbol) -> None:
        self._sync.pop(symbol, None)

    def is_spot_name(self, native: str) -> bool:
        """``BTC-USDT``; swaps and futures (``BTC-USDT-SWAP``) share the connection."""
        return native.count("-") == 1

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._sync.pop(symbol, None)
        self._send_op("subscribe", symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._sync.pop(symbol, None)
        self._send_op("unsubscribe", symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_op("subscribe", symbols, "trades")

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send_op("unsubscribe", symbols, "trades")

    def _send_op(self, op: str, symbols: list[Symbol], channel: str = "books") -> None:
        step = self.max_symbols_per_request
        for start in range(0, len(symbols), step):
            args = [
                {"channel": channel, "instId": self.native_name(s)}
                for s in symbols[start : start + step]
            ]
            frame = {"id": str(self._next_id), "op": op, "args": args}
            self._next_id += 1
            self._outbox.append(orjson.dumps(frame).decode())

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        self._sync.pop(symbol, None)
        super()._invalidate(book, symbol)
