"""Replay with signals: captured books drive the signal path on the capture's clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from goquant_bot.domain.book import OrderBook, expire_stale
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.venues.replay import Replayer, feed_files


class ReplayBooks:
    """The replayer's current books, seen as the live hub is by the signal path.

    Every captured book is already there, so subscribing is a no-op; the replay drives the
    evaluation itself, so nothing waits for changes.
    """

    def __init__(self, depth: int = 200, gomarket_max_lag_s: float = 10.0) -> None:
        self.replayer = Replayer(depth=depth, gomarket_max_lag_s=gomarket_max_lag_s)
        self.now = 0.0  # the capture's clock

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        chosen = tuple(Venue) if venues is None else venues
        books = self.replayer.books
        found = (books.get(InstrumentKey(venue, symbol)) for venue in chosen)
        return [book for book in found if book is not None]

    def acquire(self, key: InstrumentKey) -> None:
        pass

    def release(self, key: InstrumentKey) -> None:
        pass

    async def wait_changed(self) -> set[Symbol]:
        msg = "a replay is driven by its files"
        raise RuntimeError(msg)

    def clock(self) -> float:
        return self.now

    def run(
        self,
        paths: Sequence[Path],
        *,
        start: Callable[[], None],
        evaluate: Callable[[set[Symbol], float], None],
        book_max_age_s: float,
    ) -> dict[str, Any]:
        """Feed the files; ``start()`` once at the first change (monitors start with the
        capture's clock), ``evaluate(symbols, ts)`` after each change. Before each
        evaluation the books not refreshed within ``book_max_age_s`` of the capture's clock
        are made stale, exactly as the live hub does. Returns the replay report."""
        started = False

        def on_changed(ts: float, keys: frozenset[InstrumentKey]) -> None:
            nonlocal started
            self.now = ts
            if not started:
                started = True
                start()
            stale = expire_stale(self.replayer.books.values(), ts, book_max_age_s)
            evaluate({key.symbol for key in keys} | {book.key.symbol for book in stale}, ts)

        self.replayer.on_books_changed = on_changed
        return feed_files(self.replayer, paths).report()
