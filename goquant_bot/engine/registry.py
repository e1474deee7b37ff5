"""The monitor registry: which monitors run in the engines.

It subscribes the books a monitor needs through the hub (reference-counted, so a thousand
monitors on BTC-USDT cost one stream per venue) and indexes the monitor in its engine. The
records (paused monitors included) and the announcements of changes belong to the monitor
service (``goquant_bot.monitors``), which drives this.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from goquant_bot.domain.arbitrage import conversion_books
from goquant_bot.domain.events import ArbOpened, Event
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.errors import RejectedInput


class Subscriptions(Protocol):
    def acquire(self, key: InstrumentKey) -> None: ...
    def release(self, key: InstrumentKey) -> None: ...


Monitor = ArbMonitor | MarketViewMonitor


class MonitorRegistry:
    def __init__(
        self,
        subscriptions: Subscriptions,
        listing: Callable[[Symbol], Sequence[Venue]],
        arbitrage: ArbitrageEngine,
        market_view: MarketViewEngine,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.subscriptions = subscriptions
        self.listing = listing
        self.arbitrage = arbitrage
        self.market_view = market_view
        self.clock = clock
        self.monitors: dict[str, Monitor] = {}
        self._keys: dict[str, list[InstrumentKey]] = {}

    def _resolve(
        self,
        monitor_id: str | None,
        symbols: Sequence[Symbol],
        venues: Sequence[Venue],
        minimum: int,
    ) -> list[InstrumentKey]:
        if monitor_id is not None and monitor_id in self.monitors:
            msg = f"a monitor with id {monitor_id!r} exists already"
            raise RejectedInput(msg)
        keys = []
        for symbol in symbols:
            listed = [v for v in self.listing(symbol) if not venues or v in venues]
            if len(listed) < minimum:
                where = ", ".join(v.value for v in listed) or "no enabled venue"
                msg = f"{symbol} is listed on {where}: it needs at least {minimum} of the chosen venues"
                raise RejectedInput(msg)
            keys += [InstrumentKey(v, symbol) for v in listed]
        return keys

    def _resolve_arb(self, monitor: ArbMonitor, monitor_id: str | None) -> list[InstrumentKey]:
        """The books of an arbitrage monitor: with ``quotes``, also the same base in the other
        quotes and the conversion books between them, on the monitor's venues."""
        if not monitor.quotes:
            return self._resolve(monitor_id, monitor.symbols, monitor.venues, 2)
        if monitor_id is not None and monitor_id in self.monitors:
            msg = f"a monitor with id {monitor_id!r} exists already"
            raise RejectedInput(msg)
        keys: list[InstrumentKey] = []
        for symbol in monitor.symbols:
            family = (symbol, *monitor.alternatives(symbol))
            found = [
                InstrumentKey(v, s) for s in family for v in self.listing(s) if v in monitor.venues
            ]
            if len({k.venue for k in found}) < 2:
                names = ", ".join(str(s) for s in family)
                msg = f"{names} are listed on fewer than 2 of the chosen venues"
                raise RejectedInput(msg)
            keys += found
            for other in monitor.alternatives(symbol):
                books = conversion_books(other.quote, symbol.quote)
                converters = [
                    InstrumentKey(v, b)
                    for b in books
                    for v in self.listing(b)
                    if v in monitor.venues
                ]
                if not converters:
                    msg = (
                        f"no chosen venue lists {books[0]} or {books[1]} to convert "
                        f"{other.quote} and {symbol.quote}"
                    )
                    raise RejectedInput(msg)
                keys += [k for k in converters if k not in keys]
        return list(dict.fromkeys(keys))

    def add_arbitrage(self, monitor: ArbMonitor) -> list[Event]:
        """Subscribe its books and index it; raise RejectedInput when it cannot work."""
        keys = self._resolve_arb(monitor, monitor.id)
        self._subscribe(monitor, keys)
        return self.arbitrage.add_monitor(monitor, self.clock())

    def add_market_view(self, monitor: MarketViewMonitor) -> None:
        keys = self._resolve(monitor.id, (monitor.symbol,), monitor.venues, 1)
        self._subscribe(monitor, keys)
        self.market_view.add_monitor(monitor, self.clock())

    def remove(self, monitor_id: str) -> Monitor | None:
        monitor = self.monitors.pop(monitor_id, None)
        if monitor is None:
            return None
        if isinstance(monitor, ArbMonitor):
            self.arbitrage.remove_monitor(monitor_id)
        else:
            self.market_view.remove_monitor(monitor_id)
        for key in self._keys.pop(monitor_id, []):
            self.subscriptions.release(key)
        return monitor

    def finished(self, monitor_ids: list[str]) -> None:
        """One-shot monitors that fired: drop them and their subscriptions."""
        for monitor_id in monitor_ids:
            self.remove(monitor_id)

    def replace(self, monitor: ArbMonitor | MarketViewMonitor) -> list[Event]:
        """Change a monitor in place (same id): its open opportunities stay open, nothing is
        announced again, and its books stay subscribed while it changes."""
        old = self.monitors.get(monitor.id)
        if old is None or type(old) is not type(monitor):
            msg = f"no monitor {monitor.id!r} of that kind to change"
            raise RejectedInput(msg)
        old_keys = self._keys[monitor.id]
        if isinstance(monitor, ArbMonitor):
            keys = self._resolve_arb(monitor, None)
            opened = self.arbitrage.export_open().get(monitor.id, [])
            for key in keys:
                self.subscriptions.acquire(key)
            self.arbitrage.remove_monitor(monitor.id)
            # Joining a group whose edge is past the threshold opens at once; an opening the
            # monitor already had open is carried over below, never announced again.
            carried = {(o.symbol, o.buy_venue, o.sell_venue, o.route) for o in opened}
            events = [
                e
                for e in self.arbitrage.add_monitor(monitor, self.clock())
                if not (
                    isinstance(e, ArbOpened)
                    and (e.symbol, e.buy_venue, e.sell_venue, e.route) in carried
                )
            ]
            self.arbitrage.restore_open(monitor.id, opened)
        else:
            keys = self._resolve(None, (monitor.symbol,), monitor.venues, 1)
            for key in keys:
                self.subscriptions.acquire(key)
            self.market_view.add_monitor(monitor, self.clock())  # replaces, fresh signal state
            events = []
        for key in old_keys:
            self.subscriptions.release(key)
        self.monitors[monitor.id] = monitor
        self._keys[monitor.id] = keys
        return events

    def venues_of(self, monitor_id: str) -> set[Venue]:
        """The venues whose books a running monitor is subscribed to."""
        return {key.venue for key in self._keys.get(monitor_id, [])}

    def _subscribe(self, monitor: Monitor, keys: list[InstrumentKey]) -> None:
        for key in keys:
            self.subscriptions.acquire(key)
        self.monitors[monitor.id] = monitor
        self._keys[monitor.id] = keys
