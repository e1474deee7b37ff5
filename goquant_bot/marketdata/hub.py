"""The market-data hub: ref-counted subscriptions, book queries, staleness, change wake-ups,
and the trade tape (ref-counted trade streams, last trade per book key)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from goquant_bot.domain.book import L1, Integrity, OrderBook, expire_stale
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.trades import Trade
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.trades import TradeBatch, TradeTape
from goquant_bot.venues.feed import VenueFeed

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class HubConfig:
    book_max_age_s: float = 10.0
    unsubscribe_grace_s: float = 30.0
    check_interval_s: float = 0.25


@dataclass(frozen=True, slots=True)
class VenueHealth:
    venue: Venue
    connected: bool
    polling: bool
    books: Mapping[str, int]  # state -> count
    disconnects: int
    frames: int
    integrity: Integrity = Integrity.VERIFIED  # what the venue's protocol checks


class MarketDataHub:
    """One stream per (venue, symbol) whatever the number of monitors watching it."""

    def __init__(self, config: HubConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.feeds: dict[Venue, VenueFeed] = {}
        self.config = config
        self.clock = clock
        self._refs: Counter[InstrumentKey] = Counter()
        self._release_at: dict[InstrumentKey, float] = {}
        self._dirty: set[Symbol] = set()
        self._dirty_event = asyncio.Event()
        self.stale_transitions = 0
        self.tape = TradeTape()
        self._trade_refs: Counter[InstrumentKey] = Counter()
        self._trade_release_at: dict[InstrumentKey, float] = {}

    def add_feed(self, feed: VenueFeed) -> None:
        self.feeds[feed.venue] = feed
        feed.on_trades = self.record_trades

    # -- subscriptions --------------------------------------------------------------------

    def acquire(self, key: InstrumentKey) -> None:
        """The first acquire subscribes; later ones only count."""
        feed = self.feeds.get(key.venue)
        if feed is None:
            msg = f"venue {key.venue.value} is not enabled"
            raise KeyError(msg)
        self._refs[key] += 1
        self._release_at.pop(key, None)
        if self._refs[key] == 1:
            feed.add([key.symbol])

    def release(self, key: InstrumentKey) -> None:
        """The last release unsubscribes after the grace period (a quick re-acquire is free)."""
        if self._refs[key] <= 0:
            return
        self._refs[key] -= 1
        if self._refs[key] == 0:
            del self._refs[key]
            self._release_at[key] = self.clock() + self.config.unsubscribe_grace_s

    def refcount(self, key: InstrumentKey) -> int:
        return self._refs[key]

    def acquire_trades(self, key: InstrumentKey) -> None:
        """Like ``acquire``, for the public trade stream of ``key``."""
        feed = self.feeds.get(key.venue)
        if feed is None:
            msg = f"venue {key.venue.value} is not enabled"
            raise KeyError(msg)
        self._trade_refs[key] += 1
        self._trade_release_at.pop(key, None)
        if self._trade_refs[key] == 1:
            feed.add_trades([key.symbol])

    def release_trades(self, key: InstrumentKey) -> None:
        """Like ``release``: the last one stops the trade stream after the grace period."""
        if self._trade_refs[key] <= 0:
            return
        self._trade_refs[key] -= 1
        if self._trade_refs[key] == 0:
            del self._trade_refs[key]
            self._trade_release_at[key] = self.clock() + self.config.unsubscribe_grace_s

    def trade_refcount(self, key: InstrumentKey) -> int:
        return self._trade_refs[key]

    def trading(self) -> list[InstrumentKey]:
        """Keys whose trade stream is read right now (grace periods included)."""
        return sorted(
            InstrumentKey(venue, symbol)
            for venue, feed in self.feeds.items()
            for symbol in feed.trade_symbols()
        )

    def subscribed(self) -> list[InstrumentKey]:
        return sorted(
            InstrumentKey(venue, book.key.symbol)
            for venue, feed in self.feeds.items()
            for book in feed.books()
        )

    # -- queries --------------------------------------------------------------------------

    def book(self, key: InstrumentKey) -> OrderBook | None:
        feed = self.feeds.get(key.venue)
        return feed.book(key.symbol) if feed else None

    def l1(self, key: InstrumentKey) -> L1 | None:
        book = self.book(key)
        return book.l1() if book else None

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        chosen = self.feeds if venues is None else [v for v in venues if v in self.feeds]
        found = (self.feeds[v].book(symbol) for v in chosen)
        return [b for b in found if b is not None]

    def last_trade(self, key: InstrumentKey) -> Trade | None:
        """The latest trade seen for ``key`` (kept after its stream is released)."""
        return self.tape.last(key)

    def trades_since(self, cursor: int) -> TradeBatch:
        """Every trade recorded after ``cursor`` (start with ``hub.tape.cursor`` or 0)."""
        return self.tape.since(cursor)

    def listen_trades(self, listener: Callable[[Trade], None]) -> Callable[[], None]:
        """Call ``listener`` with every trade as it arrives; returns the way to stop."""
        return self.tape.listen(listener)

    def record_trades(self, trades: Sequence[Trade]) -> None:
        """Feeds hand their trades over here."""
        self.tape.record(trades)

    def health(self) -> list[VenueHealth]:
        result = []
        for venue, feed in self.feeds.items():
            states = Counter(book.state.value for book in feed.books())
            result.append(
                VenueHealth(
                    venue=venue,
                    connected=feed.connected,
                    polling=any(c.polling for c in feed.connections),
                    books=dict(states),
                    disconnects=sum(c.disconnects for c in feed.connections),
                    frames=feed.frames(),
                    integrity=feed.protocol_cls.integrity,
                )
            )
        return result

    # -- change notification (conflated) --------------------------------------------------

    def mark_changed(self, venue: Venue, symbols: AbstractSet[Symbol]) -> None:
        """Feeds call this after every frame that changed books (cheap: a set union)."""
        self._dirty |= symbols
        self._dirty_event.set()

    async def wait_changed(self) -> set[Symbol]:
        """The symbols whose books changed since the last call (latest state, not every tick)."""
        await self._dirty_event.wait()
        self._dirty_event.clear()
        dirty, self._dirty = self._dirty, set()
        return dirty

    # -- housekeeping ---------------------------------------------------------------------

    def check(self, now: float) -> None:
        """Mark books stale past their max age; perform due unsubscriptions."""
        for venue, feed in self.feeds.items():
            expired = expire_stale(feed.books(), now, self.config.book_max_age_s)
            for book in expired:
                log.warning(
                    "book_stale",
                    venue=venue.value,
                    symbol=str(book.key.symbol),
                    age_s=None if book.recv_ts is None else round(now - book.recv_ts, 3),
                )
            if expired:
                self.stale_transitions += len(expired)
                self.mark_changed(venue, {book.key.symbol for book in expired})
        for key, due in list(self._release_at.items()):
            if now >= due:
                del self._release_at[key]
                self.feeds[key.venue].remove([key.symbol])
                log.info("unsubscribed", venue=key.venue.value, symbol=str(key.symbol))
        for key, due in list(self._trade_release_at.items()):
            if now >= due:
                del self._trade_release_at[key]
                self.feeds[key.venue].remove_trades([key.symbol])
                log.info("trades_unsubscribed", venue=key.venue.value, symbol=str(key.symbol))
