"""One simulated venue book: integer prices and sizes, evolving around a reference price.

Each tick the book moves its top to the venue's own mid (spread, bias, noise), refills the
hole a move leaves, churns levels near the top and keeps a fixed depth. It records which
prices each tick touched and the update ids that tick consumed, so encoders can emit exact
deltas over any recent interval and REST snapshots that line up with them.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass

from goquant_bot.domain.instruments import Symbol, Venue


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One base asset: start price (USD), volatility and its book granularity."""

    base: str
    price: float
    annual_vol: float
    tick_decimals: int  # price precision
    lot_decimals: int  # size precision
    level_gap: float  # mean distance between book levels, in ticks
    size: float  # typical level size in base units


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """One venue: the pairs it lists and the character of its books."""

    venue: Venue
    listings: tuple[str, ...]
    spread_bps: float
    size_scale: float
    bias_bps: float  # persistent offset from the reference price
    noise_bps: float  # per-tick jitter of its mid


@dataclass(slots=True)
class Changes:
    """What a book did over a tick range: update ids consumed and prices touched."""

    first_id: int  # equals last_id + 1 when nothing changed
    last_id: int
    bids: set[int]
    asks: set[int]


def decimal_text(units: int, decimals: int) -> str:
    """An integer count of 10**-decimals as a decimal string, e.g. (650001, 2) -> 6500.01."""
    if decimals == 0:
        return str(units)
    scale = 10**decimals
    return f"{units // scale}.{units % scale:0{decimals}d}"


class SimBook:
    """One venue's book for one pair: integer ticks -> integer lots, plus its change history."""

    def __init__(
        self,
        venue: VenueSpec,
        symbol: Symbol,
        asset: AssetSpec,
        *,
        seed: int,
        levels: int,
        quiet_prob: float,
        history_ticks: int,
    ) -> None:
        self.venue = venue.venue
        self.symbol = symbol
        self.spec = venue
        self.asset = asset
        self.levels = levels
        self.quiet_prob = quiet_prob
        self.tick_size = 10.0**-asset.tick_decimals
        self.rng = random.Random(f"{seed}:{venue.venue.value}:{symbol}")
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.last_id = self.rng.randrange(1_000_000, 90_000_000)
        self.ts_ms = 0
        self.dislocation = 0.0  # relative price shift while dislocated
        self.history: deque[tuple[int, int, int, set[int], set[int]]] = deque()
        self.history_ticks = history_ticks
        self.floor_tick = 0  # history is complete only for ticks after this one
        self.floor_id = self.last_id
        self.gap_ticks: deque[int] = deque()
        self._base_lots = asset.size * venue.size_scale * 10**asset.lot_decimals

    # -- reading ----------------------------------------------------------------------------

    def price_text(self, price: int) -> str:
        return decimal_text(price, self.asset.tick_decimals)

    def size_text(self, size: int) -> str:
        return decimal_text(size, self.asset.lot_decimals)

    def top(self, bids: bool, n: int | None = None) -> list[tuple[int, int]]:
        """Best-first (price, size) levels of one side, at most ``n``."""
        side = self.bids if bids else self.asks
        prices = sorted(side, reverse=bids)
        if n is not None:
            prices = prices[:n]
        return [(p, side[p]) for p in prices]

    def levels_float(self, bids: bool, n: int | None = None) -> list[tuple[float, float]]:
        """Best-first levels as the floats a protocol parses from the wire strings."""
        return [(float(self.price_text(p)), float(self.size_text(s))) for p, s in self.top(bids, n)]

    def id_at(self, tick: int) -> int:
        """The last update id as of the end of ``tick`` (within the history)."""
        for entry in reversed(self.history):
            if entry[0] <= tick:
                return entry[2]
        return self.floor_id

    def changes(self, after: int, upto: int) -> Changes | None:
        """Ids and touched prices of ticks ``after < t <= upto``; None when history is gone."""
        if after < self.floor_tick:
            return None
        bids: set[int] = set()
        asks: set[int] = set()
        for tick, _first, _last, touched_bids, touched_asks in reversed(self.history):
            if tick <= after:
                break
            if tick <= upto:
                bids |= touched_bids
                asks |= touched_asks
        return Changes(self.id_at(after) + 1, self.id_at(upto), bids, asks)

    def gap_in(self, after: int, upto: int) -> int | None:
        """The first scheduled lost message in ``after < t <= upto``."""
        for tick in self.gap_ticks:
            if after < tick <= upto:
                return tick
        return None

    # -- evolving ---------------------------------------------------------------------------

    def step(self, tick: int, ts_ms: int, reference: float, force: bool = False) -> None:
        """Move the book to ``reference`` (the pair's price) for one tick."""
        self.ts_ms = ts_ms
        rng = self.rng
        if not force and tick > 0 and rng.random() < self.quiet_prob:
            return
        spec = self.spec
        mid = reference * (1.0 + (spec.bias_bps + spec.noise_bps * rng.gauss(0.0, 1.0)) / 1e4)
        mid = mid * (1.0 + self.dislocation) / self.tick_size
        half = max(0.5, mid * spec.spread_bps / 2e4 * (0.6 + 0.8 * rng.random()))
        best_bid = max(1, math.floor(mid - half))
        best_ask = max(best_bid + 1, math.ceil(mid + half))
        touched_bids: set[int] = set()
        touched_asks: set[int] = set()
        self._refresh_side(self.bids, best_bid, -1, touched_bids)
        self._refresh_side(self.asks, best_ask, 1, touched_asks)
        if tick == 0:
            return  # the initial book: no history entry, its id is the floor
        first = self.last_id + 1
        self.last_id += max(1, len(touched_bids) + len(touched_asks))
        self.history.append((tick, first, self.last_id, touched_bids, touched_asks))
        while len(self.history) > self.history_ticks:
            self.floor_tick, _, self.floor_id, _, _ = self.history.popleft()
        while self.gap_ticks and self.gap_ticks[0] <= self.floor_tick:
            self.gap_ticks.popleft()

    def _size(self, depth: int) -> int:
        # Exponential sizes (many small orders, a few large ones), thicker deeper down.
        lots = self._base_lots * (0.1 + self.rng.expovariate(1.0)) * (1.0 + depth / 40.0)
        return max(1, int(lots))

    def _gap(self) -> int:
        mean = self.asset.level_gap
        return 1 if mean <= 1.0 else 1 + int(self.rng.expovariate(1.0 / (mean - 1.0)))

    def _refresh_side(self, side: dict[int, int], best: int, away: int, touched: set[int]) -> None:
        """Put ``best`` on top of one side, churn it and keep ``levels`` levels.

        ``away`` is the direction prices take deeper into the book: -1 for bids, +1 for asks.
        """
        rng = self.rng
        for price in [p for p in side if (p - best) * away < 0]:
            del side[price]  # inside the new spread: those orders are gone
            touched.add(price)
        old_top = (min(side) if away > 0 else max(side)) if side else None
        if best not in side:
            side[best] = self._size(0)
            touched.add(best)
        price, added = best + away * self._gap(), 0
        while (
            added < self.levels and price > 0 and (old_top is None or (old_top - price) * away > 0)
        ):
            side[price] = self._size(added)  # the price moved: fill the hole it left
            touched.add(price)
            price += away * self._gap()
            added += 1
        ordered = sorted(side, reverse=away < 0)
        count = len(ordered)
        for _ in range(2 + rng.randrange(6)):
            depth = int(count * rng.random() ** 3)  # most activity near the top
            side[ordered[depth]] = self._size(depth)
            touched.add(ordered[depth])
        if count > 2 and rng.random() < 0.4:
            depth = 1 + int((count - 2) * rng.random() ** 2)
            near, far = ordered[depth - 1], ordered[depth]
            if abs(far - near) > 1:
                price = near + away * (1 + rng.randrange(abs(far - near) - 1))
                side[price] = self._size(depth)
                touched.add(price)
        if count > 2 and rng.random() < 0.4:
            price = ordered[1 + int((count - 2) * rng.random() ** 2)]
            if side.pop(price, None) is not None:
                touched.add(price)
        self._keep_depth(side, away, touched)

    def _keep_depth(self, side: dict[int, int], away: int, touched: set[int]) -> None:
        ordered = sorted(side, reverse=away < 0)
        for price in ordered[self.levels :]:
            del side[price]
            touched.add(price)
        price = ordered[min(len(ordered), self.levels) - 1]
        while len(side) < self.levels:
            price += away * self._gap()
            if price <= 0:
                break
            side[price] = self._size(len(side))
            touched.add(price)
