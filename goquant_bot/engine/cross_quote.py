"""Cross-quote routes of the arbitrage engine: legs in different quotes (BTC-USDT bought on
one venue, BTC-USD sold on another) made comparable by a live conversion book."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from goquant_bot.domain.arbitrage import (
    Conversion,
    Guard,
    PairQuote,
    check_pair,
    conversion_books,
    conversion_from,
    quote_pair,
)
from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.events import Event
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.domain.opportunity import ThresholdGroup, Transition
from goquant_bot.engine.arb_index import GroupKey, PairGroups, Snapshot, net_edge, top_of_book
from goquant_bot.engine.arb_records import ArbConfig, BookSource


class Route(NamedTuple):
    """One ordered venue pair whose legs are on two symbols of the same base."""

    buy: Venue
    buy_symbol: Symbol
    sell: Venue
    sell_symbol: Symbol

    def watched(self) -> tuple[Symbol, ...]:
        """Every symbol whose change can move this route's edge: both legs and the
        conversion books in either orientation."""
        return (
            self.buy_symbol,
            self.sell_symbol,
            *conversion_books(self.buy_symbol.quote, self.sell_symbol.quote),
        )


def cross_routes(monitor: ArbMonitor) -> Iterable[tuple[Symbol, Route]]:
    """(the monitor's symbol, route) for every cross-quote leg pair it asks for.

    One leg is always on the monitor's own symbol, the other on the same base in another
    compared quote, on a different venue (the same-quote pairs are the engine's usual ones).
    """
    for symbol in monitor.symbols:
        for other in monitor.alternatives(symbol):
            for buy in monitor.venues:
                for sell in monitor.venues:
                    if buy is not sell:
                        yield symbol, Route(buy, symbol, sell, other)
                        yield symbol, Route(buy, other, sell, symbol)


def conversion_symbols(monitor: ArbMonitor) -> set[Symbol]:
    """The conversion books a monitor may use (both orientations of each quote pair)."""
    found: set[Symbol] = set()
    for _, route in cross_routes(monitor):
        found.update(route.watched()[2:])
    return found


def best_conversion(
    route: Route,
    candidates: Iterable[tuple[Venue, float]],
    books: Mapping[Symbol, Mapping[Venue, OrderBook]],
    *,
    legs_ts: tuple[float, float],
    max_skew_s: float,
    allow_polled: bool,
    min_integrity: Integrity,
) -> Conversion | None:
    """The cheapest usable conversion among the candidate venues (with their taker fees)."""
    pay, receive = route.buy_symbol.quote, route.sell_symbol.quote
    best: Conversion | None = None
    for symbol in conversion_books(pay, receive):
        on = books.get(symbol, {})
        for venue, fee in candidates:
            book = on.get(venue)
            if book is None:
                continue
            found = conversion_from(
                book,
                pay,
                receive,
                fee,
                max_skew_s=max_skew_s,
                legs_ts=legs_ts,
                allow_polled=allow_polled,
                min_integrity=min_integrity,
            )
            if found is not None and (best is None or found.rate < best.rate):
                best = found
    return best


class CrossRoutes:
    """The arbitrage engine's cross-quote part: routes indexed by the monitor's symbol, and
    per symbol (either leg or a conversion book) the routes its change re-evaluates."""

    books: BookSource
    config: ArbConfig
    guards: Counter[str]
    evaluations: int
    _snapshots: dict[tuple[Symbol, GroupKey], Snapshot]
    _cross: dict[Symbol, dict[Route, PairGroups]]
    _watch: dict[Symbol, set[tuple[Symbol, Route]]]
    _unconfirmed: dict[tuple[Symbol, GroupKey], float]

    def tier_for(self, notional: float) -> float:
        raise NotImplementedError

    def _fail(
        self, symbol: Symbol, key: GroupKey, group: ThresholdGroup, guard: Guard, now: float
    ) -> list[Event]:
        raise NotImplementedError

    def _events(self, symbol: Symbol, key: GroupKey, moves: Sequence[Transition]) -> list[Event]:
        raise NotImplementedError

    def _waiting(self, symbol: Symbol, key: GroupKey, guard: Guard | None, now: float) -> bool:
        raise NotImplementedError

    def _cross_keys(self, monitor: ArbMonitor) -> Iterable[tuple[Symbol, Route, GroupKey]]:
        fees = {**self.config.fees_pct, **monitor.fee_overrides()}
        tier = self.tier_for(monitor.notional)
        conversions = tuple((v, fees.get(v, 0.0)) for v in monitor.venues)
        for home, route in cross_routes(monitor):
            yield (
                home,
                route,
                GroupKey(
                    route.buy,
                    route.sell,
                    tier,
                    fees.get(route.buy, 0.0),
                    fees.get(route.sell, 0.0),
                    monitor.allow_polled,
                    (route.buy_symbol, route.sell_symbol),
                    conversions,
                    monitor.min_integrity,
                ),
            )

    def _add_cross(self, monitor: ArbMonitor, threshold: float, now: float) -> list[Event]:
        """Index a monitor's cross-quote groups, and the symbols whose change reaches them."""
        events: list[Event] = []
        for home, route, key in self._cross_keys(monitor):
            pair = self._cross.setdefault(home, {}).setdefault(route, PairGroups())
            for watched in route.watched():
                self._watch.setdefault(watched, set()).add((home, route))
            group = pair.groups.get(key)
            if group is None:
                group = pair.groups[key] = ThresholdGroup(self.config.hysteresis)
            events += self._events(
                home, key, group.add(monitor.id, threshold, monitor.min_duration_s, now)
            )
            pair.refresh()
            pair.track(key, group)
        return events

    def _remove_cross(
        self, home: Symbol, route: Route, key: GroupKey, monitor_id: str, threshold: float
    ) -> None:
        routes = self._cross.get(home, {})
        pair = routes.get(route)
        group = pair.groups.get(key) if pair is not None else None
        if pair is None or group is None:
            return
        group.remove(monitor_id, threshold)
        pair.track(key, group)
        if not len(group):
            del pair.groups[key]
            self._snapshots.pop((home, key), None)
        pair.refresh()
        if pair.groups:
            return
        del routes[route]
        if not routes:
            del self._cross[home]
        for watched in route.watched():
            found = self._watch.get(watched)
            if found is not None:
                found.discard((home, route))
                if not found:
                    del self._watch[watched]

    def _evaluate_route(self, home: Symbol, route: Route, now: float) -> list[Event]:
        """One cross-quote route: its legs, then per group the cheapest live conversion."""
        pair = self._cross.get(home, {}).get(route)
        if pair is None:
            return []
        self.evaluations += 1
        buy = _one(self.books.books_for(route.buy_symbol, (route.buy,)))
        sell = _one(self.books.books_for(route.sell_symbol, (route.sell,)))
        converters: dict[Symbol, dict[Venue, OrderBook]] | None = None
        counted: set[Guard] = set()  # a guard counts once per route, not per group
        quotes: dict[float, PairQuote | None] = {}
        events: list[Event] = []
        for key, group in pair.groups.items():
            guard: Guard | None = Guard.NOT_LIVE
            conversion = None
            if buy is not None and sell is not None:
                guard = check_pair(
                    buy,
                    sell,
                    max_skew_s=self.config.max_skew_s,
                    allow_polled=key.allow_polled,
                    cross_quote=True,
                    min_integrity=key.min_integrity,
                )
            if guard is None and buy is not None and sell is not None:
                if converters is None:
                    converters = {
                        s: {b.key.venue: b for b in self.books.books_for(s)}
                        for s in route.watched()[2:]
                    }
                conversion = best_conversion(
                    route,
                    key.conversions,
                    converters,
                    legs_ts=(buy.recv_ts or 0.0, sell.recv_ts or 0.0),
                    max_skew_s=self.config.max_skew_s,
                    allow_polled=key.allow_polled,
                    min_integrity=key.min_integrity,
                )
                guard = Guard.NO_CONVERSION if conversion is None else None
            quote = None
            if guard is None and buy is not None and sell is not None and conversion is not None:
                top = top_of_book(buy, sell)
                if (
                    top is not None
                    and not group.active
                    and net_edge((top[0] * conversion.rate, top[1]), key) < group.thresholds[0]
                ):
                    group.last_edge = None  # even the best prices miss: this idle group waits
                    continue
                if key.tier not in quotes:
                    quotes[key.tier] = quote_pair(buy, sell, key.tier)
                quote = quotes[key.tier]
                guard = Guard.NO_LIQUIDITY if quote is None else None
            edge = profit = 0.0
            if guard is None and quote is not None and conversion is not None:
                edge, profit = quote.net(key.buy_fee, key.sell_fee, conversion.rate)
                guard = Guard.SUSPECT if edge > self.config.sanity_cap_pct else None
            if guard is not None or quote is None:
                guard = guard or Guard.NO_LIQUIDITY
                if guard not in counted:
                    counted.add(guard)
                    self.guards[guard.value] += 1
                if self._waiting(home, key, guard, now):
                    continue  # restored, its books are still syncing after the restart
                events += self._fail(home, key, group, guard, now)
                pair.track(key, group)
                continue
            trust = None if buy is None or sell is None else (buy.trust, sell.trust)
            snap = Snapshot(quote, edge, profit, now, conversion, trust)
            self._snapshots[(home, key)] = snap
            if self._unconfirmed:
                self._unconfirmed.pop((home, key), None)
            events += self._events(home, key, group.update(edge, now, snap))
            pair.track(key, group)
        return events


def _one(books: list[OrderBook]) -> OrderBook | None:
    return books[0] if books else None
