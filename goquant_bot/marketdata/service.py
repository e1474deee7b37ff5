"""Start-up and housekeeping of market data: instruments, watched symbols, staleness, status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence

from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.directory import SymbolDirectory, refresh_venue
from goquant_bot.marketdata.hub import MarketDataHub
from goquant_bot.venues.base import Recorder
from goquant_bot.venues.registry import VenueSpec
from goquant_bot.venues.transport import HttpGet

log = get_logger(__name__)


class MarketDataService:
    """Loads each venue's instruments, keeps watched symbols subscribed, runs the hub checks."""

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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub = hub
        self.directory = directory
        self.specs = specs
        self.rest_bases = rest_bases
        self.http = http
        self.watch = list(watch)
        self.recorders = dict(recorders or {})
        self.label = label  # "SIMULATED" in demo mode: on every status line
        self.status_interval_s = status_interval_s
        self.clock = clock
        self.ready = asyncio.Event()

    async def load_instruments(self) -> None:
        async def one(venue: Venue, spec: VenueSpec) -> None:
            request = spec.instruments_request(self.rest_bases.get(venue))
            await refresh_venue(
                self.directory,
                venue,
                request,
                spec.parse_instruments,
                self.http,
                self.clock(),
                recorder=self.recorders.get(venue),
            )

        async with asyncio.TaskGroup() as tg:
            for venue, spec in self.specs.items():
                tg.create_task(one(venue, spec), name=f"instruments:{venue.value}")

    def acquire_watched(self) -> list[InstrumentKey]:
        keys = []
        for symbol in self.watch:
            venues = [v for v in self.directory.venues_listing(symbol) if v in self.hub.feeds]
            if not venues:
                log.warning("watched_symbol_not_listed", symbol=str(symbol))
            for venue in venues:
                key = InstrumentKey(venue, symbol)
                self.hub.acquire(key)
                keys.append(key)
        return keys

    async def run(self) -> None:
        await self.load_instruments()
        self.acquire_watched()
        self.ready.set()
        next_status = self.clock() + self.status_interval_s
        while True:
            now = self.clock()
            self.hub.check(now)
            if now >= next_status:
                next_status = now + self.status_interval_s
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
            await asyncio.sleep(self.hub.config.check_interval_s)
