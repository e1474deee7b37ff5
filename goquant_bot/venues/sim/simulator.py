"""Simulated venues for ``--demo``: the real protocols and driver, fed by a market model.

``SimulatedVenues`` implements the driver's two I/O seams (``connector`` and ``http_get``)
on top of one seeded ``MarketModel``: a connection picks its venue from the URL, answers the
subscribe frames the protocol sends and delivers the venue's frames at a steady pace; REST
answers depth snapshots and instrument lists. Everything below the seams is the production
code path. This module is the I/O shell (asyncio, the wall clock); the model stays pure.

Pieces for tests and benchmarks without sockets: ``MarketModel`` (sim_model),
``open_session`` (sim_venues: client frames in, venue frames out) and ``rest_answer``
(sim_rest).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueUnavailable
from goquant_bot.venues.sim.addresses import open_session
from goquant_bot.venues.sim.model import MarketModel, SimConfig
from goquant_bot.venues.sim.rest_routes import rest_answer
from goquant_bot.venues.sim.sessions import VenueSession
from goquant_bot.venues.transport import HttpGet, HttpResponse, WsConnector

# Shown wherever simulated data reaches a user (status lines, alerts, the console banner).
SIMULATED_LABEL = "SIMULATED"
_HEADERS = {"Content-Type": "application/json", "X-Simulated": "true"}


class SimulatedVenues:
    """A ``WsConnector`` and an ``HttpGet`` serving every simulated venue from one model."""

    label = SIMULATED_LABEL

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        seed: int = 1,
        pace_s: float = 0.1,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``pace_s``: wall seconds between two sends of a connection. ``time_scale``: model
        seconds per wall second (tests speed the market up; the demo runs in real time)."""
        self._clock = clock
        self._wall_start = clock()
        self.model = MarketModel(config or SimConfig(), seed, start=self._wall_start)
        self.pace_s = pace_s
        self.time_scale = time_scale
        self.opened = 0
        self.connector: WsConnector = self._connect
        self.http_get: HttpGet = _SimHttp(self)

    def now(self) -> float:
        """Model time: the wall clock, scaled from the start."""
        return self._wall_start + (self._clock() - self._wall_start) * self.time_scale

    def advance(self) -> None:
        self.model.advance_to(self.now())

    def listings(self) -> dict[Venue, list[Symbol]]:
        """The pairs each simulated venue lists."""
        return {spec.venue: self.model.listings(spec.venue) for spec in self.model.config.venues}

    async def _connect(self, url: str) -> SimConnection:
        self.advance()
        self.opened += 1
        session = open_session(self.model, url, f"sim{self.opened:05d}")
        await asyncio.sleep(0)  # a connect always yields to the loop, as a real one does
        return SimConnection(self, session)

    async def _get(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        self.advance()
        status, body = rest_answer(self.model, url, params)
        await asyncio.sleep(0)
        return HttpResponse(status, body, _HEADERS)


class _SimHttp:
    """The simulator's HTTP seam: GET, and POST for the venues that need it (KuCoin's token)."""

    def __init__(self, venues: SimulatedVenues) -> None:
        self._venues = venues

    async def __call__(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        return await self._venues._get(url, params, timeout_s)

    async def post(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        return await self._venues._get(url, params, timeout_s)


class SimConnection:
    """One simulated WebSocket: ``recv`` delivers the session's frames, one round per pace."""

    def __init__(self, venues: SimulatedVenues, session: VenueSession) -> None:
        self.venues = venues
        self.session = session
        self._frames: deque[str | bytes] = deque()
        self._closed = False
        self._wake = asyncio.Event()
        self._next_round = 0.0  # loop time of the next round; the first one is due at once

    def _collect(self) -> None:
        session = self.session
        session.pump()
        if session.outbox:
            self._frames.extend(session.outbox)
            session.outbox.clear()
            self._wake.set()

    def _check_open(self) -> None:
        if self._closed:
            msg = f"{self.session.venue.value} (simulated): connection closed"
            raise VenueUnavailable(msg)
        if self.session.closed is not None:
            self._closed = True
            msg = f"{self.session.venue.value} (simulated): {self.session.closed}"
            raise VenueUnavailable(msg)

    async def send(self, text: str) -> None:
        self._check_open()
        self.session.on_text(text)
        self.venues.advance()
        self._collect()  # answers go out at once, not at the next round

    async def recv(self) -> str | bytes:
        loop = asyncio.get_running_loop()
        if self._closed:
            self._check_open()
        while not self._frames:
            self._check_open()
            delay = self._next_round - loop.time()
            if delay <= 0:
                self._next_round = loop.time() + self.venues.pace_s
                self.venues.advance()
                self._collect()
                continue
            self._wake.clear()
            # A stall simply never sets the event: recv waits, round after round.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
        return self._frames.popleft()

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
