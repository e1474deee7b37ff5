"""L2 order book: a sorted side per direction, best level in O(1), updates in O(log n).

Prices and sizes are floats parsed from the venue's strings; levels are replaced, never
accumulated, so nothing drifts. Each side keeps a dict price -> size and an ascending list of
prices (bisect to find, a memmove to insert: cheap at the few hundred levels a book holds).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import NamedTuple

from goquant_bot.domain.instruments import InstrumentKey

_INF = math.inf


class BookState(StrEnum):
    SYNCING = "syncing"  # no trustworthy book yet (subscribing, resyncing, disconnected)
    LIVE = "live"  # maintained from the stream, integrity checked
    STALE = "stale"  # was live, but not refreshed within its max age
    POLLED = "polled"  # kept from REST snapshots while the stream is down


class Integrity(StrEnum):
    """How far a book's content can be trusted: what checks it."""

    VERIFIED = "verified"  # sequence numbers or checksums checked on every message
    SNAPSHOT = "snapshot"  # full books or timestamps only: a lost message may go unnoticed
    UNVERIFIED = "unverified"  # kept by a third-party library, behind our guards only

    def meets(self, required: Integrity) -> bool:
        """Whether a book of this tier may be used where ``required`` is the weakest allowed."""
        return _RANK[self] >= _RANK[required]


_RANK = {Integrity.UNVERIFIED: 0, Integrity.SNAPSHOT: 1, Integrity.VERIFIED: 2}
# What signals accept unless a monitor asks otherwise: a book some rule of the venue checks.
DEFAULT_MIN_INTEGRITY = Integrity.SNAPSHOT


# How each tier is marked next to a venue's name, and what the mark means.
INTEGRITY_MARKS = {
    Integrity.VERIFIED: ("✓", "verified by sequence numbers or checksums"),
    Integrity.SNAPSHOT: ("~", "snapshots or timestamps only"),
    Integrity.UNVERIFIED: ("?", "unverified"),
}


class BookSide:
    """One side of a book. ``descending=True`` for bids (best = highest price)."""

    __slots__ = ("_levels", "_prices", "descending")

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self._levels: dict[float, float] = {}
        self._prices: list[float] = []  # ascending

    def __len__(self) -> int:
        return len(self._prices)

    def clear(self) -> None:
        self._levels.clear()
        self._prices.clear()

    def set(self, price: float, size: float) -> None:
        """Replace one level; size 0 deletes it; ValueError for a price or size that is not
        a finite number, or a negative size (NaN would break the sorted order)."""
        if not (0.0 < price < _INF and 0.0 <= size < _INF):
            msg = f"level {price!r} x {size!r} is not a positive finite price and a finite size"
            raise ValueError(msg)
        levels = self._levels
        if size == 0.0:
            if levels.pop(price, None) is not None:
                prices = self._prices
                del prices[bisect_left(prices, price)]
        elif levels.get(price) is None:
            levels[price] = size
            insort(self._prices, price)
        else:
            levels[price] = size

    def apply_text(self, levels: Iterable[Sequence[str]]) -> None:
        """Apply ``[[price, size, ...], ...]`` as sent by most venues (decimal strings)."""
        book = self._levels
        prices = self._prices
        for level in levels:
            price = float(level[0])
            size = float(level[1])
            if not (0.0 < price < _INF and 0.0 <= size < _INF):
                msg = f"level {level[0]!r} x {level[1]!r} is not a positive finite price and a finite size"
                raise ValueError(msg)
            if size == 0.0:
                if book.pop(price, None) is not None:
                    del prices[bisect_left(prices, price)]
            elif book.get(price) is None:
                book[price] = size
                insort(prices, price)
            else:
                book[price] = size

    def replace(self, levels: Iterable[tuple[float, float]]) -> None:
        """Replace the whole side (a snapshot); zero sizes are dropped; ValueError for a
        level that is not a finite price and size (the side is left unchanged)."""
        kept = {p: s for p, s in levels if s != 0.0}
        if not all(0.0 < p < _INF and 0.0 < s < _INF for p, s in kept.items()):
            msg = "a snapshot level is not a positive finite price and size"
            raise ValueError(msg)
        self._levels = kept
        self._prices = sorted(self._levels)

    def best(self) -> tuple[float, float] | None:
        prices = self._prices
        if not prices:
            return None
        price = prices[-1] if self.descending else prices[0]
        return price, self._levels[price]

    def best_price(self) -> float | None:
        prices = self._prices
        if not prices:
            return None
        return prices[-1] if self.descending else prices[0]

    def levels(self, n: int | None = None) -> list[tuple[float, float]]:
        """Best-first levels, at most ``n``."""
        prices = self._prices
        if self.descending:
            chosen = prices[::-1] if n is None else prices[: -n - 1 : -1] if n else []
        else:
            chosen = prices if n is None else prices[:n]
        return [(p, self._levels[p]) for p in chosen]

    def fill_notional(self, notional: float) -> tuple[float, float]:
        """Walk from the top spending up to ``notional`` quote: (base filled, quote spent)."""
        levels, prices = self._levels, self._prices
        order = reversed(prices) if self.descending else iter(prices)
        qty = spent = 0.0
        for price in order:
            size = levels[price]
            cost = price * size
            if spent + cost >= notional:
                take = (notional - spent) / price
                return qty + take, notional
            qty += size
            spent += cost
        return qty, spent

    def fill_qty(self, qty: float) -> tuple[float, float]:
        """Walk from the top for up to ``qty`` base: (base filled, quote amount)."""
        levels, prices = self._levels, self._prices
        order = reversed(prices) if self.descending else iter(prices)
        filled = amount = 0.0
        for price in order:
            size = levels[price]
            if filled + size >= qty:
                take = qty - filled
                return qty, amount + take * price
            filled += size
            amount += size * price
        return filled, amount

    def size_at(self, price: float) -> float:
        return self._levels.get(price, 0.0)

    def trim(self, keep: int) -> None:
        """Drop the levels farthest from the top beyond ``keep``."""
        excess = len(self._prices) - keep
        if excess <= 0:
            return
        if self.descending:
            dropped, self._prices = self._prices[:excess], self._prices[excess:]
        else:
            dropped, self._prices = self._prices[keep:], self._prices[:keep]
        for price in dropped:
            del self._levels[price]


def expire_stale(books: Iterable[OrderBook], now: float, max_age_s: float) -> list[OrderBook]:
    """Turn LIVE or POLLED books older than ``max_age_s`` STALE; return the ones changed."""
    expired = []
    for book in books:
        if book.state in (BookState.LIVE, BookState.POLLED) and (
            book.recv_ts is None or now - book.recv_ts > max_age_s
        ):
            book.state = BookState.STALE
            expired.append(book)
    return expired


class L1(NamedTuple):
    """Top of book with its timestamps (epoch seconds).

    A NamedTuple rather than a frozen dataclass: it is built after every book update, and a
    tuple is five times cheaper to create (0.3 us against 1.7 us).
    """

    key: InstrumentKey
    bid: float | None
    bid_size: float | None
    ask: float | None
    ask_size: float | None
    venue_ts: float | None
    recv_ts: float | None
    state: BookState


class OrderBook:
    """A venue's L2 book for one instrument plus its health."""

    __slots__ = (
        "asks",
        "bids",
        "integrity",
        "key",
        "recv_ts",
        "resyncs",
        "state",
        "updates",
        "venue_ts",
    )

    def __init__(self, key: InstrumentKey, integrity: Integrity = Integrity.VERIFIED) -> None:
        self.key = key
        self.integrity = integrity  # what the venue's protocol checks (see ``trust``)
        self.bids = BookSide(descending=True)
        self.asks = BookSide(descending=False)
        self.state = BookState.SYNCING
        self.venue_ts: float | None = None  # venue's event time, epoch seconds
        self.recv_ts: float | None = None  # local receive time of the last refresh
        self.updates = 0
        self.resyncs = 0

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()

    @property
    def trust(self) -> Integrity:
        """The tier of the content now: a book kept from REST polls is a snapshot."""
        if self.state is BookState.POLLED and self.integrity is Integrity.VERIFIED:
            return Integrity.SNAPSHOT
        return self.integrity

    def is_crossed(self) -> bool:
        """Best bid at or above best ask: impossible on one venue, so the book is broken."""
        bids, asks = self.bids._prices, self.asks._prices  # checked after every update
        return bool(bids) and bool(asks) and bids[-1] >= asks[0]

    def age(self, now: float) -> float | None:
        return None if self.recv_ts is None else max(0.0, now - self.recv_ts)

    def l1(self) -> L1:
        # Inlined best() of both sides: this runs after every update.
        bids, asks = self.bids, self.asks
        bid_prices, ask_prices = bids._prices, asks._prices
        bid = bid_prices[-1] if bid_prices else None
        ask = ask_prices[0] if ask_prices else None
        return L1(
            self.key,
            bid,
            None if bid is None else bids._levels[bid],
            ask,
            None if ask is None else asks._levels[ask],
            self.venue_ts,
            self.recv_ts,
            self.state,
        )
