"""Market-view service: CBBO per dirty symbol, venue ranking, and the market-view monitors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, Integrity, OrderBook
from goquant_bot.domain.cbbo import DEPTH_BANDS_BPS, Cbbo, VenueRanking, consolidate
from goquant_bot.domain.events import MarketViewSignal
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.market_signals import MarketViewState
from goquant_bot.domain.monitors import MarketViewMonitor

# The venues of a symbol whose book is another venue's liquidity (Deribit routed to Coinbase):
# a fixed set, or a lookup per symbol (the symbol directory knows each listing's routing).
RoutedVenues = frozenset[Venue] | Callable[[Symbol], frozenset[Venue]]

# Monitors with the same venue set and required tier share one CBBO; None stands for
# "every venue".
_VenueSet = frozenset[Venue] | None
_Group = tuple[_VenueSet, Integrity]


class BookSource(Protocol):
    """Where the books come from (the market-data hub)."""

    def books_for(
        self, symbol: Symbol, venues: Iterable[Venue] | None = None
    ) -> list[OrderBook]: ...


class MarketViewEngine:
    """Computes each symbol's CBBO once per venue set and runs only that symbol's monitors."""

    def __init__(
        self,
        books: BookSource,
        *,
        max_age_s: float | None = None,
        exclude_routed: RoutedVenues = frozenset(),
        allow_polled: bool = False,
        ranking_window_s: float = 900.0,
        ranking_buckets: int = 60,
    ) -> None:
        self._books = books
        self._max_age_s = max_age_s
        self._routed = exclude_routed
        self._allow_polled = allow_polled
        self.ranking_window_s = ranking_window_s
        self._ranking_buckets = ranking_buckets
        self._states: dict[Symbol, dict[_Group, dict[str, MarketViewState]]] = {}
        self._where: dict[str, tuple[Symbol, _Group]] = {}
        self._rankings: dict[Symbol, VenueRanking] = {}

    # -- monitors -------------------------------------------------------------------------

    def add_monitor(self, monitor: MarketViewMonitor, now: float | None = None) -> None:
        """Add (or replace, with fresh state) a monitor; with ``now``, the market at that
        moment is the reference its first change is measured from."""
        self.remove_monitor(monitor.id)
        key = (frozenset(monitor.venues) or None, monitor.min_integrity)
        groups = self._states.setdefault(monitor.symbol, {})
        state = groups.setdefault(key, {})[monitor.id] = MarketViewState(monitor)
        self._where[monitor.id] = (monitor.symbol, key)
        if now is not None:
            state.prime(self._consolidate(monitor.symbol, key, now, with_depth=False))

    def remove_monitor(self, monitor_id: str) -> bool:
        where = self._where.pop(monitor_id, None)
        if where is None:
            return False
        symbol, key = where
        groups = self._states[symbol]
        del groups[key][monitor_id]
        if not groups[key]:
            del groups[key]
        if not groups:
            del self._states[symbol]
        return True

    def monitors_for(self, symbol: Symbol) -> list[MarketViewMonitor]:
        groups = self._states.get(symbol, {})
        return [state.monitor for group in groups.values() for state in group.values()]

    def symbols(self) -> list[Symbol]:
        """Symbols with at least one monitor."""
        return sorted(self._states)

    # -- queries --------------------------------------------------------------------------

    def cbbo(
        self,
        symbol: Symbol,
        venues: Iterable[Venue] | None = None,
        *,
        now: float,
        min_integrity: Integrity = DEFAULT_MIN_INTEGRITY,
    ) -> Cbbo:
        """One-shot view with depth bands (for /get_cbbo and a view's live message)."""
        chosen = None if venues is None else frozenset(venues)
        return self._consolidate(symbol, (chosen, min_integrity), now, with_depth=True)

    def ranking(self, symbol: Symbol, now: float) -> dict[Venue, tuple[float, float]]:
        """(best-bid share, best-offer share) per venue over the ranking window."""
        ranking = self._rankings.get(symbol)
        return {} if ranking is None else ranking.shares(now)

    def ranking_since(self, symbol: Symbol) -> float | None:
        """When the symbol's ranking got its first update (None: no data yet)."""
        ranking = self._rankings.get(symbol)
        return None if ranking is None else ranking.started

    # -- evaluation -----------------------------------------------------------------------

    def evaluate(self, symbol: Symbol, now: float) -> list[MarketViewSignal]:
        """Update the symbol's ranking and return the signals of its monitors, in their order."""
        default: _Group = (None, DEFAULT_MIN_INTEGRITY)
        everything = self._consolidate(symbol, default, now, with_depth=False)
        ranking = self._rankings.get(symbol)
        if ranking is None:
            ranking = self._rankings[symbol] = VenueRanking(
                self.ranking_window_s, self._ranking_buckets
            )
        ranking.update(everything)
        signals: list[MarketViewSignal] = []
        for key, group in self._states.get(symbol, {}).items():
            cbbo = (
                everything
                if key == default
                else self._consolidate(symbol, key, now, with_depth=False)
            )
            for state in group.values():
                signals.extend(state.evaluate(cbbo))
        return signals

    def _consolidate(self, symbol: Symbol, key: _Group, now: float, *, with_depth: bool) -> Cbbo:
        venues, min_integrity = key
        books = self._books.books_for(symbol, None if venues is None else sorted(venues))
        routed = self._routed(symbol) if callable(self._routed) else self._routed
        return consolidate(
            books,
            now,
            max_age_s=self._max_age_s,
            exclude_routed=routed,
            allow_polled=self._allow_polled,
            depth_bps=DEPTH_BANDS_BPS if with_depth else (),
            symbol=symbol,
            min_integrity=min_integrity,
        )
