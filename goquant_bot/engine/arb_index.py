"""The arbitrage engine's index: groups of monitors per venue pair, and the bounds that let
an idle pair be skipped without walking a book."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from goquant_bot.domain.arbitrage import Conversion, PairQuote
from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, Integrity, OrderBook
from goquant_bot.domain.events import ArbFigures
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.opportunity import ThresholdGroup


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What monitors must share to share a computation."""

    buy: Venue
    sell: Venue
    tier: float
    buy_fee: float
    sell_fee: float
    allow_polled: bool
    # Cross-quote groups only: (buy symbol, sell symbol) and the venues (with their taker
    # fees) whose conversion books may be used.
    route: tuple[Symbol, Symbol] | None = None
    conversions: tuple[tuple[Venue, float], ...] = ()
    min_integrity: Integrity = DEFAULT_MIN_INTEGRITY  # the weakest tier a book may have

    @property
    def acceptance(self) -> tuple[bool, Integrity]:
        """What decides whether a pair of books may be used: groups sharing it share guards."""
        return (self.allow_polled, self.min_integrity)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The last trustworthy figures of a group (for messages rendered later)."""

    quote: PairQuote
    edge_pct: float
    profit: float
    ts: float
    conversion: Conversion | None = None
    trust: tuple[Integrity, Integrity] | None = None  # the buy and sell books' tiers


class PairGroups:
    """The groups of one symbol's ordered venue pair, with what lets an idle pair be skipped."""

    __slots__ = ("active", "groups", "min_buy_fee", "min_sell_fee", "min_threshold", "skipped")

    def __init__(self) -> None:
        self.groups: dict[GroupKey, ThresholdGroup] = {}
        self.active: set[GroupKey] = set()  # groups with an open or pending opportunity
        self.min_threshold = 0.0
        self.min_buy_fee = 0.0
        self.min_sell_fee = 0.0
        self.skipped = False  # the last evaluation skipped it: groups hold no current edge

    def refresh(self) -> None:
        """Recompute the floors after a monitor was added or removed."""
        groups = [(k, g) for k, g in self.groups.items() if len(g)]
        self.min_threshold = min((g.thresholds[0] for _, g in groups), default=0.0)
        self.min_buy_fee = min((k.buy_fee for k, _ in groups), default=0.0)
        self.min_sell_fee = min((k.sell_fee for k, _ in groups), default=0.0)

    def track(self, key: GroupKey, group: ThresholdGroup) -> None:
        """Keep ``active`` in step after a group changed."""
        if group.active:
            self.active.add(key)
        else:
            self.active.discard(key)


def top_of_book(buy: OrderBook | None, sell: OrderBook | None) -> tuple[float, float] | None:
    """(best ask of the buy venue, best bid of the sell venue)."""
    if buy is None or sell is None:
        return None
    ask, bid = buy.asks.best_price(), sell.bids.best_price()
    return None if ask is None or bid is None else (ask, bid)


def net_edge(top: tuple[float, float], key: GroupKey) -> float:
    """Net edge at the best prices: an upper bound of the edge at any size."""
    ask, bid = top
    cost = ask * (1.0 + key.buy_fee / 100.0)
    return (bid * (1.0 - key.sell_fee / 100.0) - cost) / cost * 100.0


def all_groups(
    pairs: Mapping[Any, PairGroups],
) -> Iterable[tuple[GroupKey, ThresholdGroup]]:
    for pair in pairs.values():
        yield from pair.groups.items()


def figures_of(snap: object) -> ArbFigures | None:
    """The snapshot a ThresholdGroup kept for an opening or a peak, as event figures."""
    if not isinstance(snap, Snapshot):
        return None
    return ArbFigures.of(snap.quote, snap.edge_pct, snap.profit)
