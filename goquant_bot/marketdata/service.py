"""Start-up and housekeeping of market data: instruments, watched symbols, staleness, status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.directory import SymbolDirectory
from goquant_bot.marketdata.hub import MarketDataHub
from goquant_bot.marketdata.incidents import IncidentWatch, VenueIncident
from goquant_bot.marketdata.listings import ListingKeeper
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.records import Recorder
from goquant_bot.venues.registry import VenueSpec
from goquant_bot.venues.transport import HttpGet

log = get_logger(__name__)
NO_LIST = "its symbol list cannot be loaded (REST unreachable)"
NO_STREAM = "its WebSocket cannot be reached"
# Instrument lists that cannot be fetched are retried like reconnects: capped at 30 s.
RETRY = Backoff(initial_s=0.5, max_s=30.0, jitter=0.3)


class MarketDataService:
    """Keeps each venue's instruments, watched symbols subscribed, runs the hub checks."""

    def __init__(
        self,
        hub: MarketDataHub,
        directory: SymbolDirectory,
        specs: Mapping[Venue, VenueSpec],
        rest_bases: Mapping[Venue, str | None],
        http: HttpGet,
        *,
        watch: Sequence[Symbol] = (),
        recorders: Mapping[Venue, Recorder] | None = None,
        label: str = "",
        status_interval_s: float = 60.0,
        retry: Backoff = RETRY,
        down_notice_s: float = 300.0,
        timeout_s: float = 10.0,
        on_incident: Callable[[VenueIncident], None] = lambda incident: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``on_incident``: a venue down longer than ``down_notice_s``, or back after it."""
        self.hub = hub
        self.directory = directory
        self.specs = specs
        self.watch = list(watch)
        self.label = label  # "SIMULATED" in demo mode: on every status line
        self.status_interval_s = status_interval_s
        self.clock = clock
        self.ready = asyncio.Event()
        self.listings = ListingKeeper(
            directory,
            specs,
            rest_bases,
            http,
            backoff=retry,
            recorders=recorders,
            timeout_s=timeout_s,
            clock=clock,
            on_listed=self._listed,
        )
        self.incidents = IncidentWatch(down_notice_s, on_incident)
        self._arrivals: asyncio.Queue[Venue] = asyncio.Queue()

    def acquire_watched(self, venues: Sequence[Venue] | None = None) -> list[InstrumentKey]:
        keys = []
        for symbol in self.watch:
            venues_listing = [
                v for v in self.directory.venues_listing(symbol) if v in self.hub.feeds
            ]
            if not venues_listing and venues is None:
                log.warning("watched_symbol_not_listed", symbol=str(symbol))
            for venue in venues_listing:
                if venues is not None and venue not in venues:
                    continue
                key = InstrumentKey(venue, symbol)
                self.hub.acquire(key)
                keys.append(key)
        return keys

    async def arrivals(self) -> AsyncIterator[Venue]:
        """Venues whose symbol list arrived after start-up (they were unreachable)."""
        while True:
            yield await self._arrivals.get()

    def down(self) -> dict[Venue, str | None]:
        """Why each venue is down (no symbol list, or its books cannot stream), or None."""
        result: dict[Venue, str | None] = {}
        for venue in self.specs:
            feed = self.hub.feeds.get(venue)
            if not self.directory.has_list(venue):
                result[venue] = NO_LIST
            elif (
                feed is not None
                and feed.books()
                and not feed.connected
                and not any(c.polling for c in feed.connections)
            ):
                result[venue] = NO_STREAM
            else:
                result[venue] = None
        return result

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            for venue in self.specs:
                tg.create_task(self.listings.keep(venue), name=f"instruments:{venue.value}")
            await self.listings.wait_tried()
            self.acquire_watched()
            self.ready.set()
            await self._housekeeping()

    async def _housekeeping(self) -> None:
        next_status = self.clock() + self.status_interval_s
        while True:
            now = self.clock()
            self.hub.check(now)
            self.incidents.observe(now, self.down())
            if now >= next_status:
                next_status = now + self.status_interval_s
                self._log_status()
            await asyncio.sleep(self.hub.config.check_interval_s)

    def _listed(self, venue: Venue) -> None:
        """A venue's list arrived late: stream its watched symbols, start what waited for it."""
        if not self.ready.is_set():
            return  # start-up handles it
        self.acquire_watched([venue])
        self._arrivals.put_nowait(venue)

    def _log_status(self) -> None:
        for health in self.hub.health():
            log.info(
                "venue_status",
                data=self.label or "live",
                venue=health.venue.value,
                connected=health.connected,
                polling=health.polling,
                books=health.books,
                frames=health.frames,
                disconnects=health.disconnects,
            )
        for venue, since in self.directory.unreachable().items():
            log.warning(
                "venue_unreachable", data=self.label or "live", venue=venue.value, since=since
            )
