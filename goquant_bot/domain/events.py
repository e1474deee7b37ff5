"""What the signal engines emit: opportunity openings and closings, market-view signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goquant_bot.domain.instruments import Symbol, Venue


@dataclass(frozen=True, slots=True)
class ArbOpened:
    """An arbitrage opportunity crossed a monitor's threshold (after its minimum duration)."""

    monitor_id: str
    owner: int
    symbol: Symbol
    buy_venue: Venue
    sell_venue: Venue
    ts: float
    buy_price: float  # VWAP over the asks walked
    sell_price: float  # VWAP over the bids walked
    size: float  # base quantity both legs can fill
    notional: float  # cost of the buy leg before fees, in the quote currency
    edge_pct: float  # net of both taker fees
    profit: float  # net, in the quote currency
    complete: bool  # False: the books could not fill the monitor's whole size

    def to_report(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "monitor": self.monitor_id,
            "kind": "arbitrage_open",
            "symbol": str(self.symbol),
            "buy_venue": self.buy_venue.value,
            "sell_venue": self.sell_venue.value,
            "buy_price": self.buy_price,
            "sell_price": self.sell_price,
            "size": self.size,
            "edge_pct": round(self.edge_pct, 6),
            "profit": round(self.profit, 8),
            "complete": self.complete,
        }


@dataclass(frozen=True, slots=True)
class ArbClosed:
    """An open opportunity ended: the edge fell below the hysteresis band, or a guard failed."""

    monitor_id: str
    owner: int
    symbol: Symbol
    buy_venue: Venue
    sell_venue: Venue
    ts: float
    opened_at: float
    peak_edge_pct: float
    last_edge_pct: float | None  # None when a guard failed (no trustworthy edge)
    reason: str  # "below_threshold", or the guard that failed ("stale", "skew", ...)

    @property
    def duration_s(self) -> float:
        return self.ts - self.opened_at

    def to_report(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "monitor": self.monitor_id,
            "kind": "arbitrage_close",
            "symbol": str(self.symbol),
            "buy_venue": self.buy_venue.value,
            "sell_venue": self.sell_venue.value,
            "duration_s": round(self.duration_s, 6),
            "peak_edge_pct": round(self.peak_edge_pct, 6),
            "last_edge_pct": None if self.last_edge_pct is None else round(self.last_edge_pct, 6),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class MarketViewSignal:
    """A change on the consolidated market that a market-view monitor asked for.

    ``kind`` is one of: best_bid_venue, best_ask_venue, mid_move, spread_wide,
    venue_deviation; ``details`` holds the figures the message shows.
    """

    monitor_id: str
    owner: int
    symbol: Symbol
    ts: float
    kind: str
    details: tuple[tuple[str, Any], ...]

    def to_report(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "monitor": self.monitor_id,
            "kind": f"market_view_{self.kind}",
            "symbol": str(self.symbol),
            **dict(self.details),
        }


Event = ArbOpened | ArbClosed | MarketViewSignal
