"""OKX per-book stream state: sequence, wire strings for the checksum, updates awaiting a snapshot."""

from __future__ import annotations

from collections import deque

from goquant_bot.domain.book import OrderBook
from goquant_bot.venues.crc_books import StringSide
from goquant_bot.venues.okx_rest import (
    CHECKSUM_LEVELS,
    BookUpdate,
    RestBook,
    align_snapshot,
    okx_checksum,
)

MAX_BUFFERED = 600  # updates kept while a REST snapshot is on its way (a minute at 100 ms)


class BookSync:
    """Per-book stream state that the OrderBook does not carry."""

    __slots__ = ("backoff", "buffer", "checksum_only", "rest_pending", "retry_at", "seq", "strings")

    def __init__(self) -> None:
        self.seq: int | None = None  # seqId of the last applied message; None: no snapshot
        # The snapshot came without seqId (older gateways): updates are checked by checksum.
        self.checksum_only = False
        # Original strings per price (bids, asks), kept only while the venue sends checksums.
        self.strings: tuple[StringSide, StringSide] | None = None
        self.buffer: deque[BookUpdate] = deque(maxlen=MAX_BUFFERED)
        self.rest_pending = False
        self.retry_at = 0.0  # no REST snapshot request before this time
        self.backoff = 0.0


def strings_checksum(book: OrderBook, strings: tuple[StringSide, StringSide]) -> int:
    """The checksum of the book's top levels written as the venue wrote them."""
    bid_strings, ask_strings = strings
    missing = ("", "")
    bids = [bid_strings.get(p, missing) for p, _ in book.bids.levels(CHECKSUM_LEVELS)]
    asks = [ask_strings.get(p, missing) for p, _ in book.asks.levels(CHECKSUM_LEVELS)]
    return okx_checksum(bids, asks)


def rebuild_from_rest(book: OrderBook, sync: BookSync, snapshot: RestBook) -> float | None:
    """Replace the book by a REST snapshot and replay the buffered updates newer than it; the
    venue time (s) of the newest content, or None (book untouched) when the snapshot is too old."""
    aligned = align_snapshot(snapshot, sync.buffer)
    if aligned is None:
        return None
    anchor, updates = aligned
    book.bids.replace(snapshot.bids)
    book.asks.replace(snapshot.asks)
    sync.strings = None
    for update in updates:  # validated when buffered
        book.bids.apply_text(update.bids)
        book.asks.apply_text(update.asks)
    sync.seq = updates[-1].seq if updates else anchor
    sync.buffer.clear()
    return (updates[-1].ts_ms if updates else snapshot.ts_ms) / 1000
