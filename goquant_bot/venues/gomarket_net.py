"""GoMarket's limits at the I/O seams, shared by every venue read through it (one API key).

- ``BudgetedConnector``: at most ``limit`` WebSockets open at once. A stream beyond the budget
  is refused like an unreachable one, so the shared driver keeps that book from REST polls
  (state POLLED) and retries the WebSocket until a connection is released.
- ``BackoffHttp``: a 429 pauses every GoMarket request, for ``initial_s`` doubled on each 429
  in a row (or the server's Retry-After if longer), up to ``max_s``. While paused a request is
  answered 429 locally with the remaining pause as Retry-After, so each feed's REST budget
  waits too and the server is not asked again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from goquant_bot.errors import VenueUnavailable
from goquant_bot.logging import get_logger
from goquant_bot.venues.transport import HttpGet, HttpResponse, WsConnection, WsConnector

log = get_logger(__name__)


class _Leased:
    """A connection that gives its slot back when closed."""

    def __init__(self, inner: WsConnection, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def send(self, text: str) -> None:
        await self._inner.send(text)

    async def recv(self) -> str | bytes:
        return await self._inner.recv()

    async def close(self) -> None:
        try:
            await self._inner.close()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


class BudgetedConnector:
    """A WsConnector that opens at most ``limit`` connections at once."""

    def __init__(self, inner: WsConnector, limit: int) -> None:
        self._inner = inner
        self.limit = limit
        self.open = 0
        self.refused = 0

    async def __call__(self, url: str) -> WsConnection:
        if self.open >= self.limit:
            self.refused += 1
            msg = f"GoMarket WebSocket budget of {self.limit} connections in use"
            raise VenueUnavailable(msg)
        self.open += 1
        try:
            conn = await self._inner(url)
        except BaseException:
            self.open -= 1
            raise
        return _Leased(conn, self._release)

    def _release(self) -> None:
        self.open -= 1


class BackoffHttp:
    """An HttpGet that backs off exponentially on 429 across every caller."""

    def __init__(
        self,
        inner: HttpGet,
        *,
        initial_s: float,
        max_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self.initial_s = initial_s
        self.max_s = max_s
        self._clock = clock
        self.paused_until = 0.0
        self.in_a_row = 0
        self.rate_limited = 0

    async def __call__(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        now = self._clock()
        if now < self.paused_until:
            return _too_many(self.paused_until - now)
        resp = await self._inner(url, params, timeout_s)
        if resp.status != 429:
            self.in_a_row = 0
            return resp
        self.rate_limited += 1
        pause = min(self.max_s, self.initial_s * 2**self.in_a_row)
        pause = max(pause, _retry_after(resp.headers) or 0.0)
        self.in_a_row += 1
        self.paused_until = self._clock() + pause
        log.warning("gomarket_rate_limited", pause_s=pause, in_a_row=self.in_a_row)
        return _too_many(pause, resp.body)


def _too_many(pause_s: float, body: str = "") -> HttpResponse:
    return HttpResponse(429, body, {"Retry-After": f"{pause_s:.3f}"})


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None
