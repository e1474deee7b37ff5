"""What the arbitrage engine is configured with, reads from, and reports: plain records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from goquant_bot.domain.arbitrage import Conversion
from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue

DEFAULT_TIERS = (100.0, 500.0, 1_000.0, 5_000.0, 10_000.0, 50_000.0, 100_000.0)


class BookSource(Protocol):
    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        """The books of ``symbol`` on ``venues`` (all venues when None)."""


@dataclass(frozen=True, slots=True)
class ArbConfig:
    fees_pct: Mapping[Venue, float]  # default taker fees
    size_tiers: tuple[float, ...] = DEFAULT_TIERS
    hysteresis: float = 0.2  # fraction of the threshold
    sanity_cap_pct: float = 5.0
    max_skew_s: float = 5.0


@dataclass(frozen=True, slots=True)
class RestoredOpening:
    """An opportunity that was open when the state was saved."""

    symbol: Symbol
    buy_venue: Venue
    sell_venue: Venue
    opened_at: float
    peak_edge_pct: float
    route: tuple[Symbol, Symbol] | None = None  # across quotes: (buy symbol, sell symbol)


@dataclass(frozen=True, slots=True)
class OpenOpportunity:
    """What a live alert shows about one open opportunity."""

    monitor_id: str
    symbol: Symbol
    buy_venue: Venue
    sell_venue: Venue
    opened_at: float
    edge_pct: float
    peak_edge_pct: float
    profit: float
    buy_price: float
    sell_price: float
    size: float
    complete: bool
    conversion: Conversion | None = None  # legs in different quotes: the rate used
    trust: tuple[Integrity, Integrity] | None = None  # the buy and sell books' tiers
