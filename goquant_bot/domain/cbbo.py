"""Consolidated market view of one symbol across venues (CBBO), depth bands and venue ranking.

Only fresh, directly traded liquidity is consolidated: a book counts when it is LIVE (or
POLLED when allowed), young enough, not itself crossed, and not another venue's liquidity
routed through this one. Every book still appears in the per-venue table, with the reason it
was left out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, BookSide, BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue

DEPTH_BANDS_BPS: tuple[float, ...] = (10.0, 50.0, 100.0)


@dataclass(frozen=True, slots=True)
class Depth:
    """Base quantity resting within ``bps`` of the CBBO mid, per side."""

    bps: float
    bid_size: float
    ask_size: float


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """One row of the per-venue table."""

    venue: Venue
    state: BookState
    bid: float | None
    bid_size: float | None
    ask: float | None
    ask_size: float | None
    spread_bps: float | None  # the venue's own spread, in bps of its own mid
    age_s: float | None
    counted: bool
    excluded: str | None  # why not counted: "routed", the book's state, "old", "crossed" or
    # "unverified"
    depth: tuple[Depth, ...]  # relative to the CBBO mid; empty when there is no mid
    integrity: Integrity = Integrity.VERIFIED  # how far the book's content can be trusted


@dataclass(frozen=True, slots=True)
class Cbbo:
    """Consolidated best bid and offer of one symbol at ``ts`` over the counted venues."""

    symbol: Symbol
    ts: float
    bid: float | None
    bid_size: float  # summed over the venues holding the best bid
    bid_venues: tuple[Venue, ...]  # every venue at the best bid, sorted
    ask: float | None
    ask_size: float
    ask_venues: tuple[Venue, ...]
    mid: float | None
    spread: float | None  # ask - bid; negative when crossed
    spread_bps: float | None  # in bps of the mid
    locked: bool
    crossed: bool
    venues: tuple[VenueQuote, ...]  # every book given, counted or not, sorted by venue
    depth: tuple[Depth, ...]  # consolidated over the counted venues

    @property
    def counted_venues(self) -> tuple[Venue, ...]:
        return tuple(q.venue for q in self.venues if q.counted)

    @property
    def has_quotes(self) -> bool:
        """At least one counted venue quotes a bid or an ask."""
        return self.bid is not None or self.ask is not None

    def quote(self, venue: Venue) -> VenueQuote | None:
        return next((q for q in self.venues if q.venue is venue), None)


def consolidate(
    books: Sequence[OrderBook],
    now: float,
    *,
    max_age_s: float | None = None,
    exclude_routed: frozenset[Venue] = frozenset(),
    allow_polled: bool = False,
    depth_bps: Sequence[float] = DEPTH_BANDS_BPS,
    symbol: Symbol | None = None,
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY,
) -> Cbbo:
    """The CBBO of the books of one symbol (``symbol`` is needed only when ``books`` is empty).

    ``min_integrity``: the weakest tier a book may have to be counted."""
    if symbol is None:
        if not books:
            msg = "consolidate needs a symbol when no book is given"
            raise ValueError(msg)
        symbol = books[0].key.symbol
    ordered = sorted(books, key=lambda b: b.key.venue.value)
    excluded = [
        _exclusion(b, now, max_age_s, exclude_routed, allow_polled, min_integrity) for b in ordered
    ]
    bid: float | None = None
    ask: float | None = None
    bid_size = ask_size = 0.0
    bid_venues: list[Venue] = []
    ask_venues: list[Venue] = []
    for book, reason in zip(ordered, excluded, strict=True):
        if book.key.symbol != symbol:
            msg = f"consolidate: {book.key} is not a {symbol} book"
            raise ValueError(msg)
        if reason is not None:
            continue
        best = book.bids.best()
        if best is not None:
            if bid is None or best[0] > bid:
                bid, bid_size, bid_venues = best[0], best[1], [book.key.venue]
            elif best[0] == bid:
                bid_size += best[1]
                bid_venues.append(book.key.venue)
        best = book.asks.best()
        if best is not None:
            if ask is None or best[0] < ask:
                ask, ask_size, ask_venues = best[0], best[1], [book.key.venue]
            elif best[0] == ask:
                ask_size += best[1]
                ask_venues.append(book.key.venue)

    mid = spread = spread_bps = None
    if bid is not None and ask is not None:
        mid = (bid + ask) / 2.0
        spread = ask - bid
        spread_bps = spread / mid * 1e4 if mid > 0 else None
    bands = sorted(depth_bps)
    quotes = tuple(
        _venue_quote(book, reason, now, mid, bands)
        for book, reason in zip(ordered, excluded, strict=True)
    )
    total: tuple[Depth, ...] = ()
    if mid is not None:
        counted = [q.depth for q in quotes if q.counted]
        total = tuple(
            Depth(
                bps,
                sum(d[i].bid_size for d in counted),
                sum(d[i].ask_size for d in counted),
            )
            for i, bps in enumerate(bands)
        )
    return Cbbo(
        symbol=symbol,
        ts=now,
        bid=bid,
        bid_size=bid_size,
        bid_venues=tuple(bid_venues),
        ask=ask,
        ask_size=ask_size,
        ask_venues=tuple(ask_venues),
        mid=mid,
        spread=spread,
        spread_bps=spread_bps,
        locked=bid is not None and bid == ask,
        crossed=bid is not None and ask is not None and bid > ask,
        venues=quotes,
        depth=total,
    )


def _exclusion(
    book: OrderBook,
    now: float,
    max_age_s: float | None,
    exclude_routed: frozenset[Venue],
    allow_polled: bool,
    min_integrity: Integrity,
) -> str | None:
    """Why a book must not be counted, or None when it may be."""
    if book.key.venue in exclude_routed:
        return "routed"
    state = book.state
    if state is not BookState.LIVE and not (state is BookState.POLLED and allow_polled):
        return state.value
    if max_age_s is not None:
        age = book.age(now)
        if age is None or age > max_age_s:
            return "old"
    if book.is_crossed():
        return "crossed"
    trust = book.trust
    if not trust.meets(min_integrity):
        return "unverified" if trust is Integrity.UNVERIFIED else "below tier"
    return None


def _venue_quote(
    book: OrderBook, reason: str | None, now: float, mid: float | None, bands: Sequence[float]
) -> VenueQuote:
    bid = book.bids.best()
    ask = book.asks.best()
    spread_bps = None
    if bid is not None and ask is not None and bid[0] + ask[0] > 0:
        spread_bps = (ask[0] - bid[0]) / ((bid[0] + ask[0]) / 2.0) * 1e4
    depth: tuple[Depth, ...] = ()
    if mid is not None:
        bid_sizes = _within(book.bids, [mid * (1 - bps / 1e4) for bps in bands])
        ask_sizes = _within(book.asks, [mid * (1 + bps / 1e4) for bps in bands])
        depth = tuple(map(Depth, bands, bid_sizes, ask_sizes))
    return VenueQuote(
        venue=book.key.venue,
        state=book.state,
        bid=None if bid is None else bid[0],
        bid_size=None if bid is None else bid[1],
        ask=None if ask is None else ask[0],
        ask_size=None if ask is None else ask[1],
        spread_bps=spread_bps,
        age_s=book.age(now),
        counted=reason is None,
        excluded=reason,
        depth=depth,
        integrity=book.trust,
    )


def _within(side: BookSide, limits: Sequence[float]) -> list[float]:
    """Sizes within each price limit (narrowest first), walking from the top to the widest."""
    sizes = [0.0] * len(limits)
    first = 0  # the narrowest band the walk is still inside
    for price, size in _lazy_levels(side):
        while first < len(limits) and (
            price < limits[first] if side.descending else price > limits[first]
        ):
            first += 1
        if first == len(limits):
            break
        for i in range(first, len(limits)):
            sizes[i] += size
    return sizes


def _lazy_levels(side: BookSide) -> Iterator[tuple[float, float]]:
    """Best-first levels read in growing chunks, so a band walk copies little more than it uses."""
    fetched, chunk = 0, 32
    while fetched < len(side):
        levels = side.levels(chunk)
        yield from levels[fetched:]
        fetched, chunk = len(levels), chunk * 4


class _Bucket:
    __slots__ = ("ask_s", "bid_s", "held", "index")

    def __init__(self, index: int) -> None:
        self.index = index
        self.bid_s = 0.0  # time with a best bid at all
        self.ask_s = 0.0
        self.held: dict[Venue, list[float]] = {}  # venue -> [bid seconds, ask seconds]


class VenueRanking:
    """Share of time each venue held (alone or tied) the best bid and offer over a rolling window.

    Time is kept in ``buckets`` slices of the window, so memory is bounded and the window
    rolls with a granularity of one slice.
    """

    def __init__(self, window_s: float = 900.0, buckets: int = 60) -> None:
        if not window_s > 0 or buckets < 1:
            msg = "a ranking needs a window above 0 s and at least one bucket"
            raise ValueError(msg)
        self.window_s = window_s
        self._slice_s = window_s / buckets
        self._count = buckets
        self._buckets: deque[_Bucket] = deque()
        self._last_ts: float | None = None
        self.started: float | None = None  # the first update: how much of the window is known
        self._bid_venues: tuple[Venue, ...] = ()
        self._ask_venues: tuple[Venue, ...] = ()

    def update(self, cbbo: Cbbo) -> None:
        """Credit the time since the previous update to the previous holders; remember the new."""
        ts = cbbo.ts
        if self.started is None:
            self.started = ts
        if self._last_ts is not None and ts > self._last_ts:
            self._credit(self._last_ts, ts)
            oldest = int(ts // self._slice_s) - self._count
            while self._buckets and self._buckets[0].index <= oldest:
                self._buckets.popleft()
        if self._last_ts is None or ts > self._last_ts:
            self._last_ts = ts
        self._bid_venues = cbbo.bid_venues
        self._ask_venues = cbbo.ask_venues

    def shares(self, now: float) -> dict[Venue, tuple[float, float]]:
        """(bid share, ask share) per venue seen in the window; the current holders hold to now."""
        current = int(now // self._slice_s)
        start_index = current - self._count + 1
        bid_total = ask_total = 0.0
        held: dict[Venue, list[float]] = {}
        for bucket in self._buckets:
            if start_index <= bucket.index <= current:
                bid_total += bucket.bid_s
                ask_total += bucket.ask_s
                for venue, (bid_s, ask_s) in bucket.held.items():
                    acc = held.setdefault(venue, [0.0, 0.0])
                    acc[0] += bid_s
                    acc[1] += ask_s
        if self._last_ts is not None and now > self._last_ts:
            pending = now - max(self._last_ts, start_index * self._slice_s)
            if pending > 0:
                if self._bid_venues:
                    bid_total += pending
                if self._ask_venues:
                    ask_total += pending
                for venue in self._bid_venues:
                    held.setdefault(venue, [0.0, 0.0])[0] += pending
                for venue in self._ask_venues:
                    held.setdefault(venue, [0.0, 0.0])[1] += pending
        return {
            venue: (
                bid_s / bid_total if bid_total > 0 else 0.0,
                ask_s / ask_total if ask_total > 0 else 0.0,
            )
            for venue, (bid_s, ask_s) in sorted(held.items())
        }

    def _credit(self, start: float, end: float) -> None:
        # A long quiet spell only matters for its last window: skip the buckets it would evict.
        t = max(start, end - self.window_s - self._slice_s)
        index = int(t // self._slice_s)
        while t < end:
            stop = min(end, (index + 1) * self._slice_s)
            if stop > t:
                self._add(index, stop - t)
                t = stop
            index += 1

    def _add(self, index: int, seconds: float) -> None:
        if not self._buckets or self._buckets[-1].index != index:
            self._buckets.append(_Bucket(index))
        bucket = self._buckets[-1]
        if self._bid_venues:
            bucket.bid_s += seconds
        if self._ask_venues:
            bucket.ask_s += seconds
        for venue in self._bid_venues:
            bucket.held.setdefault(venue, [0.0, 0.0])[0] += seconds
        for venue in self._ask_venues:
            bucket.held.setdefault(venue, [0.0, 0.0])[1] += seconds
