"""The arbitrage signal service: one evaluation per dirty symbol, shared by every monitor.

Per symbol and ordered venue pair the engine checks the guards once, walks the books once per
size tier in use, applies each fee profile once, and hands the edge to a ThresholdGroup,
which finds the monitors that open or close without looking at the others.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence

from goquant_bot.domain.arbitrage import Guard, PairQuote, check_pair, quote_pair
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.events import ArbClosed, ArbOpened, Event
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy
from goquant_bot.domain.opportunity import ThresholdGroup, Transition
from goquant_bot.engine.arb_index import (
    GroupKey,
    PairGroups,
    Snapshot,
    all_groups,
    figures_of,
    net_edge,
    top_of_book,
)
from goquant_bot.engine.arb_records import (
    ArbConfig,
    BookSource,
    OpenOpportunity,
)
from goquant_bot.engine.arb_restore import OpenPersistence
from goquant_bot.engine.cross_quote import Route


class ArbitrageEngine(OpenPersistence):
    """Monitors indexed by (symbol, venue pair, tier, fees); synchronous and clock-free."""

    def __init__(self, books: BookSource, config: ArbConfig) -> None:
        self.books = books
        self.config = config
        self.monitors: dict[str, ArbMonitor] = {}
        self._thresholds: dict[str, float] = {}
        # symbol -> ordered venue pair -> group key -> group: the guards and the book walks
        # are done once per pair, the fees once per group.
        self._groups: dict[Symbol, dict[tuple[Venue, Venue], PairGroups]] = {}
        self._snapshots: dict[tuple[Symbol, GroupKey], Snapshot] = {}
        # Cross-quote routes per monitor symbol, and per symbol (either leg or a conversion
        # book) the routes its change re-evaluates.
        self._cross: dict[Symbol, dict[Route, PairGroups]] = {}
        self._watch: dict[Symbol, set[tuple[Symbol, Route]]] = {}
        # Restored openings waiting for their books to come back after a restart: deadline.
        self._unconfirmed: dict[tuple[Symbol, GroupKey], float] = {}
        self.guards: Counter[str] = Counter()
        self.evaluations = 0
        self.finished: list[str] = []  # one-shot monitors that fired; the registry removes them

    # -- monitors -------------------------------------------------------------------------

    def tier_for(self, notional: float) -> float:
        """The smallest size tier that covers ``notional`` (the largest tier at most)."""
        tiers = self.config.size_tiers
        return tiers[min(bisect_left(tiers, notional * (1 - 1e-9)), len(tiers) - 1)]

    def threshold_for(self, monitor: ArbMonitor) -> float:
        """The edge that satisfies both of the monitor's minimums.

        The profit floor is at the monitor's own size, not its tier's: the tier is larger,
        and the floor must hold for what the user would trade."""
        edge = monitor.min_edge_pct or 0.0
        if monitor.min_profit is not None:
            edge = max(edge, monitor.min_profit / monitor.notional * 100.0)
        return edge

    def _keys(self, monitor: ArbMonitor) -> Iterable[GroupKey]:
        fees = {**self.config.fees_pct, **monitor.fee_overrides()}
        tier = self.tier_for(monitor.notional)
        for buy in monitor.venues:
            for sell in monitor.venues:
                if buy is not sell:
                    yield GroupKey(
                        buy,
                        sell,
                        tier,
                        fees.get(buy, 0.0),
                        fees.get(sell, 0.0),
                        monitor.allow_polled,
                        min_integrity=monitor.min_integrity,
                    )

    def add_monitor(self, monitor: ArbMonitor, now: float) -> list[Event]:
        """Index a monitor; an opportunity already past its threshold opens at once."""
        if monitor.id in self.monitors:
            msg = f"monitor {monitor.id!r} exists already"
            raise ValueError(msg)
        self.monitors[monitor.id] = monitor
        threshold = self._thresholds[monitor.id] = self.threshold_for(monitor)
        events: list[Event] = []
        for symbol in monitor.symbols:
            pairs = self._groups.setdefault(symbol, {})
            for key in self._keys(monitor):
                pair = pairs.setdefault((key.buy, key.sell), PairGroups())
                group = pair.groups.get(key)
                if group is None:
                    group = pair.groups[key] = ThresholdGroup(self.config.hysteresis)
                if pair.skipped:
                    group.last_edge = None  # skipped groups have no current edge
                moves = group.add(monitor.id, threshold, monitor.min_duration_s, now)
                pair.refresh()
                pair.track(key, group)
                events += self._events(symbol, key, moves)
        events += self._add_cross(monitor, threshold, now)
        return self._after_opens(events)

    def remove_monitor(self, monitor_id: str) -> ArbMonitor | None:
        monitor = self.monitors.pop(monitor_id, None)
        if monitor is None:
            return None
        threshold = self._thresholds.pop(monitor_id)
        for symbol in monitor.symbols:
            pairs = self._groups.get(symbol, {})
            for key in self._keys(monitor):
                pair = pairs.get((key.buy, key.sell))
                group = pair.groups.get(key) if pair is not None else None
                if pair is None or group is None:
                    continue
                group.remove(monitor_id, threshold)
                pair.track(key, group)
                if not len(group):
                    del pair.groups[key]
                    self._snapshots.pop((symbol, key), None)
                pair.refresh()
                if not pair.groups:
                    del pairs[(key.buy, key.sell)]
            if not pairs:
                self._groups.pop(symbol, None)
        for home, route, key in self._cross_keys(monitor):
            self._remove_cross(home, route, key, monitor_id, threshold)
        return monitor

    def symbols(self) -> list[Symbol]:
        return sorted(self._groups)

    # -- evaluation -----------------------------------------------------------------------

    def evaluate(self, symbol: Symbol, now: float) -> list[Event]:
        """Re-evaluate every group of ``symbol`` against the current books."""
        events = self._evaluate_same(symbol, now)
        for home, route in sorted(self._watch.get(symbol, ())):
            events += self._evaluate_route(home, route, now)
        return self._after_opens(events)

    def _evaluate_same(self, symbol: Symbol, now: float) -> list[Event]:
        pairs = self._groups.get(symbol)
        if not pairs:
            return []
        self.evaluations += 1
        books = {book.key.venue: book for book in self.books.books_for(symbol)}
        events: list[Event] = []
        for (buy_venue, sell_venue), pair in pairs.items():
            buy, sell = books.get(buy_venue), books.get(sell_venue)
            top = top_of_book(buy, sell)
            if top is not None and not pair.active:
                ask, bid = top
                cost = ask * (1.0 + pair.min_buy_fee / 100.0)
                if (
                    bid * (1.0 - pair.min_sell_fee / 100.0) - cost
                ) / cost * 100.0 < pair.min_threshold:
                    # Even the lowest fees at the best prices miss the lowest threshold, and
                    # walking the books only lowers the edge: nothing can open on this pair.
                    pair.skipped = True
                    continue
            pair.skipped = False
            guards: dict[tuple[bool, Integrity], Guard | None] = {}
            quotes: dict[float, PairQuote | None] = {}
            for key, group in pair.groups.items():
                acceptance = key.acceptance
                if acceptance not in guards:
                    guard = (
                        Guard.NOT_LIVE
                        if buy is None or sell is None
                        else check_pair(
                            buy,
                            sell,
                            max_skew_s=self.config.max_skew_s,
                            allow_polled=key.allow_polled,
                            min_integrity=key.min_integrity,
                        )
                    )
                    guards[acceptance] = guard
                    if guard is not None:
                        self.guards[guard.value] += 1  # once per pair, not per group
                guard = guards[acceptance]
                if guard is not None or buy is None or sell is None or top is None:
                    if self._waiting(symbol, key, guard, now):
                        continue  # restored, its books are still syncing after the restart
                    events += self._fail(symbol, key, group, guard or Guard.NOT_LIVE, now)
                    pair.track(key, group)
                    continue
                if not group.active and net_edge(top, key) < group.thresholds[0]:
                    group.last_edge = None  # this idle group cannot open either
                    continue
                if key.tier not in quotes:
                    quotes[key.tier] = quote_pair(buy, sell, key.tier)
                quote = quotes[key.tier]
                if quote is None:
                    self.guards[Guard.NO_LIQUIDITY.value] += 1
                    events += self._fail(symbol, key, group, Guard.NO_LIQUIDITY, now)
                    pair.track(key, group)
                    continue
                edge, profit = quote.net(key.buy_fee, key.sell_fee)
                if edge > self.config.sanity_cap_pct:
                    self.guards[Guard.SUSPECT.value] += 1
                    events += self._fail(symbol, key, group, Guard.SUSPECT, now)
                    pair.track(key, group)
                    continue
                snap = self._snapshots[(symbol, key)] = Snapshot(
                    quote, edge, profit, now, trust=(buy.trust, sell.trust)
                )
                if self._unconfirmed:
                    self._unconfirmed.pop((symbol, key), None)
                events += self._events(symbol, key, group.update(edge, now, snap))
                pair.track(key, group)
        return events

    def tick(self, now: float) -> list[Event]:
        """Open the opportunities whose minimum duration has passed without an update."""
        events: list[Event] = []
        for symbol, pairs in self._groups.items():
            for key, group in all_groups(pairs):
                if group.has_pending():
                    events += self._events(symbol, key, group.promote(now))
        for home, routes in self._cross.items():
            for key, group in all_groups(routes):
                if group.has_pending():
                    events += self._events(home, key, group.promote(now))
        return self._after_opens(events)

    def open_opportunities(self, monitor_id: str) -> list[OpenOpportunity]:
        """Current figures of a monitor's open opportunities (live alerts render these)."""
        monitor = self.monitors.get(monitor_id)
        if monitor is None:
            return []
        keys = [(s, self._groups.get(s, {}).get((k.buy, k.sell)), k)
                for s in monitor.symbols for k in self._keys(monitor)]  # fmt: skip
        keys += [(home, self._cross.get(home, {}).get(route), key)
                 for home, route, key in self._cross_keys(monitor)]  # fmt: skip
        found = []
        for symbol, pair, key in keys:
            group = pair.groups.get(key) if pair is not None else None
            snap = self._snapshots.get((symbol, key))
            if group is None or snap is None or not group.is_open(monitor_id):
                continue
            opened_at = group.opened_at(monitor_id)
            peak = group.peaks.max_since(opened_at)
            found.append(
                OpenOpportunity(
                    monitor_id=monitor_id,
                    symbol=symbol,
                    buy_venue=key.buy,
                    sell_venue=key.sell,
                    opened_at=opened_at,
                    edge_pct=snap.edge_pct,
                    peak_edge_pct=peak if peak is not None else snap.edge_pct,
                    profit=snap.profit,
                    buy_price=snap.quote.buy_vwap,
                    sell_price=snap.quote.sell_vwap,
                    size=snap.quote.size,
                    complete=snap.quote.complete,
                    conversion=snap.conversion,
                    trust=snap.trust,
                )
            )
        return found

    # -- helpers --------------------------------------------------------------------------

    def _waiting(self, symbol: Symbol, key: GroupKey, guard: Guard | None, now: float) -> bool:
        deadline = self._unconfirmed.get((symbol, key))
        if deadline is None:
            return False
        if now < deadline and guard in (None, Guard.NOT_LIVE, Guard.SKEW, Guard.NO_CONVERSION):
            return True
        del self._unconfirmed[(symbol, key)]
        return False

    def _fail(
        self, symbol: Symbol, key: GroupKey, group: ThresholdGroup, guard: Guard, now: float
    ) -> list[Event]:
        self._snapshots.pop((symbol, key), None)
        if group.last_edge is None and not group.active:
            return []
        return self._events(symbol, key, group.fail(now, guard.value))

    def _events(self, symbol: Symbol, key: GroupKey, moves: Sequence[Transition]) -> list[Event]:
        events: list[Event] = []
        for move in moves:
            monitor = self.monitors[move.monitor_id]
            if move.opened:
                snap = self._snapshots[(symbol, key)]
                events.append(
                    ArbOpened(
                        monitor_id=monitor.id,
                        owner=monitor.owner,
                        symbol=symbol,
                        buy_venue=key.buy,
                        sell_venue=key.sell,
                        ts=move.ts,
                        buy_price=snap.quote.buy_vwap,
                        sell_price=snap.quote.sell_vwap,
                        size=snap.quote.size,
                        notional=snap.quote.buy_notional,
                        edge_pct=snap.edge_pct,
                        profit=snap.profit,
                        complete=snap.quote.complete,
                        conversion=snap.conversion,
                        route=key.route,
                        trust=snap.trust,
                    )
                )
            else:
                last = self._snapshots.get((symbol, key))
                events.append(
                    ArbClosed(
                        monitor_id=monitor.id,
                        owner=monitor.owner,
                        symbol=symbol,
                        buy_venue=key.buy,
                        sell_venue=key.sell,
                        ts=move.ts,
                        opened_at=move.opened_at,
                        peak_edge_pct=move.peak_edge,
                        last_edge_pct=last.edge_pct if last is not None else None,
                        reason=move.reason,
                        peak_at=move.peak_at,
                        at_open=figures_of(move.open_figures),
                        at_peak=figures_of(move.peak_figures),
                        route=key.route,
                    )
                )
        return events

    def _after_opens(self, events: list[Event]) -> list[Event]:
        """A one-shot monitor is done after its first opening."""
        for event in events:
            if isinstance(event, ArbOpened):
                monitor = self.monitors.get(event.monitor_id)
                if monitor is not None and monitor.policy is FiringPolicy.ONCE:
                    self.remove_monitor(monitor.id)
                    self.finished.append(monitor.id)
        return events
