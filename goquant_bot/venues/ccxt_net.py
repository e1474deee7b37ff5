"""ccxt at our I/O seams: making its clients (lazily imported, readdressed), closing them
fully, a REST budget for our own checks, and the symbol lists it answers for the directory."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from goquant_bot.venues.ccxt_markets import exchange_of
from goquant_bot.venues.transport import HttpGet, HttpResponse

if TYPE_CHECKING:
    from goquant_bot.venues.ccxt_feed import CcxtFeed

# A ccxt exchange instance (ccxt ships no type hints we could name here).
Exchange = Any
ExchangeFactory = Callable[[], Awaitable[Exchange]]


class RestBudget:
    """At most ``per_minute`` requests a minute, spread evenly (a token bucket)."""

    def __init__(self, per_minute: float, clock: Callable[[], float]) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 60.0)
        self.tokens = self.capacity
        self.clock = clock
        self.at = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def exchange_factory(
    exchange_id: str, ws_base: str | None, rest_base: str | None
) -> ExchangeFactory:
    """New ccxt.pro clients of one exchange; ``ws_base`` / ``rest_base`` replace every public
    WebSocket / HTTP address of the exchange (a proxy, a test server)."""

    async def make() -> Exchange:
        pro = await asyncio.to_thread(importlib.import_module, "ccxt.pro")
        exchange = getattr(pro, exchange_id)({"enableRateLimit": True})
        if ws_base or rest_base:
            exchange.urls["api"] = _readdressed(exchange.urls["api"], ws_base, rest_base)
        return exchange

    return make


def _readdressed(urls: Any, ws_base: str | None, rest_base: str | None) -> Any:
    if isinstance(urls, dict):
        return {k: _readdressed(v, ws_base, rest_base) for k, v in urls.items()}
    if isinstance(urls, str) and urls.startswith(("ws://", "wss://")) and ws_base:
        return ws_base
    if isinstance(urls, str) and urls.startswith(("http://", "https://")) and rest_base:
        return rest_base
    return urls


class CcxtMarketsHttp:
    """``ccxt:<id>/markets`` addresses answered by that exchange's feed, the rest by ``plain``."""

    def __init__(self, plain: HttpGet, feeds: Iterable[CcxtFeed]) -> None:
        self._plain = plain
        self._feeds = {feed.exchange_id: feed for feed in feeds}

    async def __call__(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        exchange_id = exchange_of(url)
        if exchange_id is None:
            return await self._plain(url, params, timeout_s)
        feed = self._feeds.get(exchange_id)
        if feed is None:
            return HttpResponse(404, f"no feed reads {exchange_id} through ccxt", {})
        try:
            async with asyncio.timeout(timeout_s):
                return await feed.markets()
        except TimeoutError:
            return HttpResponse(
                504, f"ccxt markets of {exchange_id}: no answer in {timeout_s} s", {}
            )


async def close(exchange: Exchange) -> None:
    """Close a ccxt client; a close cut short by a second cancellation (a symbol released,
    then the feed stopped) is finished before the cancellation goes on: half-closed, ccxt
    would leave its HTTP session open."""
    try:
        with contextlib.suppress(Exception):
            await exchange.close()
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await exchange.close()
        raise
