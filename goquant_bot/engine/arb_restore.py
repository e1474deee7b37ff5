"""The arbitrage engine's open opportunities across a restart: what is saved, and how the
saved ones are restored as open without a new alert."""

from __future__ import annotations

from collections.abc import Iterable

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.engine.arb_index import GroupKey, PairGroups, all_groups
from goquant_bot.engine.arb_records import RestoredOpening
from goquant_bot.engine.cross_quote import CrossRoutes


class OpenPersistence(CrossRoutes):
    """Export and restore of open opportunities (part of the ArbitrageEngine)."""

    monitors: dict[str, ArbMonitor]
    _groups: dict[Symbol, dict[tuple[Venue, Venue], PairGroups]]

    def _keys(self, monitor: ArbMonitor) -> Iterable[GroupKey]:
        raise NotImplementedError

    def restore_open(
        self, monitor_id: str, opened: Iterable[RestoredOpening], *, confirm_by: float = 0.0
    ) -> int:
        """After a restart: the monitor's opportunities that were open stay open, unannounced.

        Until ``confirm_by`` (epoch seconds) a restored opening survives books that are still
        syncing after the restart; the first trustworthy edge then keeps or closes it as usual.
        Returns how many were restored (a venue pair the monitor no longer has is skipped).
        """
        monitor = self.monitors.get(monitor_id)
        if monitor is None:
            return 0
        cross_keys = list(self._cross_keys(monitor))
        cross = {(k.buy, k.sell, k.route): (home, route) for home, route, k in cross_keys}
        keys = {(k.buy, k.sell, k.route): k for k in self._keys(monitor)}
        keys.update({(k.buy, k.sell, k.route): k for _, _, k in cross_keys})
        restored = 0
        for item in opened:
            where = (item.buy_venue, item.sell_venue, item.route)
            key = keys.get(where)
            if item.route is None:
                pair = self._groups.get(item.symbol, {}).get((item.buy_venue, item.sell_venue))
            else:
                home, route = cross.get(where, (item.symbol, None))
                pair = self._cross.get(home, {}).get(route) if route is not None else None
            if key is None or pair is None or key not in pair.groups:
                continue
            group = pair.groups[key]
            group.restore(monitor_id, item.opened_at, item.peak_edge_pct)
            pair.track(key, group)
            self._unconfirmed[(item.symbol, key)] = confirm_by
            restored += 1
        return restored

    def export_open(self) -> dict[str, list[RestoredOpening]]:
        """Every open opportunity per monitor, to be saved and restored after a restart."""
        found: dict[str, list[RestoredOpening]] = {}
        for index in (self._groups, self._cross):
            for symbol, pairs in index.items():
                for key, group in all_groups(pairs):
                    for monitor_id in group.open_ids():
                        opened_at = group.opened_at(monitor_id)
                        peak = group.peaks.max_since(opened_at)
                        found.setdefault(monitor_id, []).append(
                            RestoredOpening(
                                symbol,
                                key.buy,
                                key.sell,
                                opened_at,
                                peak if peak is not None else 0.0,
                                key.route,
                            )
                        )
        return found
