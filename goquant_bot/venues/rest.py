"""REST for the venues: a request-weight budget per venue and 429/418 back-off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlencode

from goquant_bot.errors import VenueUnavailable
from goquant_bot.logging import get_logger
from goquant_bot.venues.records import Recorder, RestRequest
from goquant_bot.venues.transport import HttpGet

log = get_logger(__name__)
# When a venue says 429/418 without Retry-After, wait this long (seconds).
DEFAULT_PAUSE_S = {429: 30.0, 418: 120.0}


class WeightBudget:
    """Token bucket of request weight per minute (pure: time is an argument)."""

    def __init__(self, per_minute: float, now: float) -> None:
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.tokens = per_minute
        self.paused_until = 0.0
        self._at = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
        self._at = max(self._at, now)

    def wait_time(self, weight: float, now: float) -> float:
        """Seconds until ``weight`` may be spent (0 when it may be spent now)."""
        self._refill(now)
        weight = min(weight, self.capacity)
        by_tokens = 0.0 if self.tokens >= weight else (weight - self.tokens) / self.rate
        return max(by_tokens, self.paused_until - now, 0.0)

    def take(self, weight: float, now: float) -> None:
        self._refill(now)
        self.tokens -= min(weight, self.capacity)

    def pause(self, until: float) -> None:
        self.paused_until = max(self.paused_until, until)


class RestClient:
    """Performs a venue's RestRequests within its weight budget; never raises on failures."""

    def __init__(
        self,
        http: HttpGet,
        *,
        weight_per_minute: float,
        timeout_s: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        recorder: Recorder | None = None,
    ) -> None:
        self._http = http
        self._timeout_s = timeout_s
        self._clock = clock
        self._sleep = sleep
        self._recorder = recorder
        self.budget = WeightBudget(weight_per_minute, clock())
        self.requests = 0
        self.failures = 0

    async def fetch(self, request: RestRequest, conn: int = 0) -> tuple[int, str]:
        """(status, body); status 0 when the request could not be performed."""
        while (wait := self.budget.wait_time(request.weight, self._clock())) > 0:
            await self._sleep(wait)
        self.budget.take(request.weight, self._clock())
        self.requests += 1
        try:
            if request.method == "GET":
                resp = await self._http(request.url, request.params, self._timeout_s)
            else:
                post = getattr(self._http, "post", None)
                if post is None:
                    msg = f"this HTTP client cannot {request.method} {request.url}"
                    raise VenueUnavailable(msg)
                resp = await post(request.url, request.params, self._timeout_s)
        except VenueUnavailable as exc:
            self.failures += 1
            log.warning("rest_failed", venue=request.venue.value, url=request.url, error=str(exc))
            return 0, ""
        now = self._clock()
        if resp.status in DEFAULT_PAUSE_S:
            pause = _retry_after(resp.headers) or DEFAULT_PAUSE_S[resp.status]
            self.budget.pause(now + pause)
            log.warning(
                "rest_rate_limited", venue=request.venue.value, status=resp.status, pause_s=pause
            )
        if self._recorder is not None:
            query = f"?{urlencode(request.params)}" if request.params else ""
            self._recorder.http(conn, request.url + query, resp.body, now, resp.status)
        return resp.status, resp.body


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None
