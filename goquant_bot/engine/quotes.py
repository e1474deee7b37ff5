"""One-shot quotes (/arbitrage): every venue pair of a symbol, net of fees, at a trade size.

The same guards and book walk as the engine's monitors, without a monitor: a query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import permutations

from goquant_bot.domain.arbitrage import check_pair, quote_pair
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.arb_records import ArbConfig, BookSource


@dataclass(frozen=True, slots=True)
class PairFigures:
    """One venue pair's figures at the asked size, net of the fees given."""

    symbol: Symbol
    buy: Venue
    sell: Venue
    buy_price: float
    sell_price: float
    size: float
    notional: float
    edge_pct: float
    profit: float
    complete: bool


@dataclass(slots=True)
class Quotes:
    """What a query found, best edge first, and why the other pairs were left out."""

    found: list[PairFigures] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


class ArbQuotes:
    def __init__(self, books: BookSource, config: ArbConfig) -> None:
        self.books = books
        self.config = config

    def default_fees(self) -> Mapping[Venue, float]:
        return self.config.fees_pct

    def quotes(
        self,
        symbols: Iterable[Symbol],
        notional: float,
        fee_overrides: Mapping[Venue, float],
        venues: Iterable[Venue] | None = None,
    ) -> Quotes:
        """Every ordered venue pair of each symbol whose books pass the guards."""
        fees = {**self.config.fees_pct, **fee_overrides}
        out = Quotes()
        chosen = None if venues is None else tuple(venues)
        for symbol in symbols:
            self._quote(symbol, notional, fees, chosen, out)
        out.found.sort(key=lambda q: q.edge_pct, reverse=True)
        return out

    def _quote(
        self,
        symbol: Symbol,
        notional: float,
        fees: Mapping[Venue, float],
        venues: tuple[Venue, ...] | None,
        out: Quotes,
    ) -> None:
        books = {b.key.venue: b for b in self.books.books_for(symbol, venues)}
        if len(books) < 2:
            out.skipped["not streamed"] += 1
            return
        for buy_venue, sell_venue in permutations(sorted(books), 2):
            buy, sell = books[buy_venue], books[sell_venue]
            guard = check_pair(buy, sell, max_skew_s=self.config.max_skew_s, allow_polled=False)
            if guard is not None:
                out.skipped[guard.value.replace("_", " ")] += 1
                continue
            quote = quote_pair(buy, sell, notional)
            if quote is None:
                out.skipped["no liquidity"] += 1
                continue
            edge, profit = quote.net(fees.get(buy_venue, 0.0), fees.get(sell_venue, 0.0))
            if edge > self.config.sanity_cap_pct:
                out.skipped["suspect"] += 1
                continue
            out.found.append(
                PairFigures(
                    symbol,
                    buy_venue,
                    sell_venue,
                    quote.buy_vwap,
                    quote.sell_vwap,
                    quote.size,
                    quote.buy_notional,
                    edge,
                    profit,
                    quote.complete,
                )
            )
