"""Keeping each venue's symbol list: retried until it loads, refreshed when it expires."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from goquant_bot.domain.instruments import Venue
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.directory import SymbolDirectory, fetch_venue
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.records import Recorder
from goquant_bot.venues.registry import VenueSpec
from goquant_bot.venues.transport import HttpGet

log = get_logger(__name__)
# A refresh is never sooner than this after a success, whatever the cache's age says.
MIN_REFRESH_S = 1.0


class ListingKeeper:
    """One loop per venue: fresh cache, else the venue's endpoint, else an expired cache;
    failed fetches are retried with jittered capped backoff, a loaded list on its TTL."""

    def __init__(
        self,
        directory: SymbolDirectory,
        specs: Mapping[Venue, VenueSpec],
        rest_bases: Mapping[Venue, str | None],
        http: HttpGet,
        *,
        backoff: Backoff,
        recorders: Mapping[Venue, Recorder] | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        on_listed: Callable[[Venue], None] = lambda venue: None,
        min_refresh_s: float = MIN_REFRESH_S,
    ) -> None:
        self.directory = directory
        self.specs = specs
        self.rest_bases = rest_bases
        self.http = http
        self.backoff = backoff
        self.recorders = dict(recorders or {})
        self.timeout_s = timeout_s
        self.clock = clock
        self.on_listed = on_listed
        self.min_refresh_s = min_refresh_s
        self.tried: dict[Venue, asyncio.Event] = {v: asyncio.Event() for v in specs}
        self.failures: dict[Venue, int] = dict.fromkeys(specs, 0)

    async def wait_tried(self) -> None:
        """Until every venue had its first attempt (whatever its outcome)."""
        for event in self.tried.values():
            await event.wait()

    async def keep(self, venue: Venue) -> None:
        """Run forever for one venue."""
        first = True
        while True:
            had_list = self.directory.has_list(venue)
            missing_since = self.directory.missing_since.get(venue)
            fetched = await self.attempt(venue, first=first)
            first = False
            self.tried[venue].set()
            if not had_list and self.directory.has_list(venue):
                if missing_since is not None:
                    log.info(
                        "instruments_recovered",
                        venue=venue.value,
                        missing_for_s=round(self.clock() - missing_since, 1),
                    )
                self.on_listed(venue)
            if fetched:
                self.failures[venue] = 0
                due = self.directory.fetched.get(venue, self.clock()) + self.directory.ttl_s
                delay = max(self.min_refresh_s, due - self.clock())
            else:
                delay = self.backoff.delay(self.failures[venue])
                self.failures[venue] += 1
            await asyncio.sleep(delay)

    async def attempt(self, venue: Venue, *, first: bool) -> bool:
        """One try; True when the list in use is fresh (no retry needed before its TTL)."""
        now = self.clock()
        recorder = self.recorders.get(venue)
        if (
            first
            and recorder is None
            and self.directory.load_cache(venue, now, allow_expired=False)
        ):
            return True
        spec = self.specs[venue]
        request = spec.instruments_request(self.rest_bases.get(venue))
        if await fetch_venue(
            self.directory,
            venue,
            request,
            spec.parse_instruments,
            self.http,
            now,
            self.timeout_s,
            recorder,
        ):
            return True
        if first and self.directory.load_cache(venue, now, allow_expired=True):
            log.warning("instruments_cache_expired_used", venue=venue.value)
        if not self.directory.has_list(venue):
            since = self.directory.missing_since.setdefault(venue, now)
            log.error(
                "instruments_unavailable",
                venue=venue.value,
                since=since,
                attempts=self.failures[venue] + 1,
            )
        return False
