"""Cross-venue arbitrage math: depth-aware VWAP legs, net-of-fee edge, and the guards.

Buy on one venue's asks, sell the same base quantity on another venue's bids:
    cost     = buy_notional  * (1 + buy_fee)
    proceeds = sell_notional * (1 - sell_fee)
    profit   = proceeds - cost;  edge % = profit / cost * 100
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from goquant_bot.domain.book import BookState, Integrity, OrderBook

# Below this many base units a leg is treated as empty (float dust).
_DUST = 1e-12


class Guard(StrEnum):
    """Why a venue pair is not evaluated; each is counted."""

    NOT_LIVE = "not_live"  # syncing, stale (or polled when not allowed)
    SKEW = "skew"  # the two books were refreshed too far apart in time
    CROSSED = "crossed"  # one of the books is crossed: broken data
    QUOTE_MISMATCH = "quote_mismatch"  # different quote assets
    NO_LIQUIDITY = "no_liquidity"  # an empty side
    SUSPECT = "suspect"  # an edge above the sanity cap: almost always bad data
    UNVERIFIED = "unverified"  # a book whose content nothing checks (signals need more)


@dataclass(frozen=True, slots=True)
class PairQuote:
    """Gross legs for one ordered venue pair at one size tier (fees not applied)."""

    size: float  # base quantity both legs fill
    buy_notional: float  # quote paid on the buy venue before fees
    sell_notional: float  # quote received on the sell venue before fees
    complete: bool  # the whole tier could be filled

    @property
    def buy_vwap(self) -> float:
        return self.buy_notional / self.size

    @property
    def sell_vwap(self) -> float:
        return self.sell_notional / self.size

    def net(self, buy_fee_pct: float, sell_fee_pct: float) -> tuple[float, float]:
        """(edge in percent of cost, profit in quote) after both taker fees."""
        cost = self.buy_notional * (1.0 + buy_fee_pct / 100.0)
        proceeds = self.sell_notional * (1.0 - sell_fee_pct / 100.0)
        profit = proceeds - cost
        return profit / cost * 100.0, profit


def quote_pair(buy: OrderBook, sell: OrderBook, notional: float) -> PairQuote | None:
    """Walk the buy venue's asks for ``notional`` and sell that quantity into the other's bids.

    When the bids cannot absorb the quantity, the buy leg is re-walked for what they can
    take; ``complete`` is False when either side was too thin for the whole size.
    """
    qty, spent = buy.asks.fill_notional(notional)
    if qty <= _DUST:
        return None
    sold, proceeds = sell.bids.fill_qty(qty)
    if sold <= _DUST:
        return None
    complete = spent >= notional * (1 - 1e-9)
    if sold < qty * (1 - 1e-12):
        qty, spent = buy.asks.fill_qty(sold)
        complete = False
    return PairQuote(size=qty, buy_notional=spent, sell_notional=proceeds, complete=complete)


def check_pair(
    buy: OrderBook, sell: OrderBook, *, max_skew_s: float, allow_polled: bool
) -> Guard | None:
    """The first guard that fails for this pair of books, or None when both are usable."""
    usable = (BookState.LIVE, BookState.POLLED) if allow_polled else (BookState.LIVE,)
    if buy.state not in usable or sell.state not in usable:
        return Guard.NOT_LIVE
    if buy.key.symbol.quote != sell.key.symbol.quote:
        return Guard.QUOTE_MISMATCH
    if buy.recv_ts is None or sell.recv_ts is None or abs(buy.recv_ts - sell.recv_ts) > max_skew_s:
        return Guard.SKEW
    if buy.is_crossed() or sell.is_crossed():
        return Guard.CROSSED
    if Integrity.UNVERIFIED in (buy.integrity, sell.integrity):
        return Guard.UNVERIFIED
    if not len(buy.asks) or not len(sell.bids):
        return Guard.NO_LIQUIDITY
    return None
