"""Replay with signals: captured books drive the engines on the capture's clock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from goquant_bot.domain.book import OrderBook, expire_stale
from goquant_bot.domain.events import Event
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from goquant_bot.engine.arbitrage import ArbConfig, ArbitrageEngine
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.venues.replay import Replayer, feed_files


class _ReplayBooks:
    """The replayer's current books as the engines' book source."""

    def __init__(self, replayer: Replayer) -> None:
        self._replayer = replayer

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        chosen = tuple(Venue) if venues is None else venues
        books = self._replayer.books
        found = (books.get(InstrumentKey(venue, symbol)) for venue in chosen)
        return [book for book in found if book is not None]


def replay_with_signals(
    paths: Sequence[Path],
    arb_monitors: Sequence[ArbMonitor],
    view_monitors: Sequence[MarketViewMonitor],
    config: ArbConfig,
    *,
    book_max_age_s: float,
    depth: int = 200,
) -> dict[str, Any]:
    """The replay report plus ``alerts``: every event in firing order, at capture time.

    Before each evaluation the books not refreshed within ``book_max_age_s`` of the
    capture's clock are made stale, exactly as the live hub does.
    """
    alerts: list[Event] = []
    replayer = Replayer(depth=depth)
    books = _ReplayBooks(replayer)
    arb = ArbitrageEngine(books, config)
    views = MarketViewEngine(books, max_age_s=book_max_age_s)
    started = False

    def on_changed(ts: float, keys: frozenset[InstrumentKey]) -> None:
        nonlocal started
        if not started:  # monitors start with the capture's clock
            started = True
            for monitor in arb_monitors:
                alerts.extend(arb.add_monitor(monitor, ts))
            for view in view_monitors:
                views.add_monitor(view)
        stale = expire_stale(replayer.books.values(), ts, book_max_age_s)
        symbols = {key.symbol for key in keys} | {book.key.symbol for book in stale}
        for symbol in sorted(symbols):
            alerts.extend(arb.evaluate(symbol, ts))
            alerts.extend(views.evaluate(symbol, ts))
        alerts.extend(arb.tick(ts))

    replayer.on_books_changed = on_changed
    report = feed_files(replayer, paths).report()
    report["alerts"] = [event.to_report() for event in alerts]
    report["guards"] = dict(sorted(arb.guards.items()))
    return report
