"""Symbol lists are fetched until they load and refreshed on their TTL (a local fake REST)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.marketdata.directory import SymbolDirectory
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.marketdata.service import NO_LIST, NO_STREAM, MarketDataService
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.net import AiohttpGet
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.transport import WsConnection
from tests.fakes import okx_frames as okx
from tests.fakes.rest_server import RestServer
from tests.helpers import wait_until

OK = Venue.OKX
BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
PATH = "/api/v5/public/instruments"
FAST = Backoff(initial_s=0.01, factor=2.0, max_s=0.05, jitter=0.0)


def _body(*symbols: Symbol) -> str:
    return okx.instruments_body([okx.instrument(str(s), s.base, s.quote) for s in symbols])


async def _no_ws(url: str) -> WsConnection:
    raise AssertionError("the feed is not run in these tests")


def _service(
    tmp_path: Path, rest: RestServer, http: AiohttpGet, ttl_s: float = 3600.0
) -> MarketDataService:
    hub = MarketDataHub(HubConfig())
    directory = SymbolDirectory(tmp_path / "instruments", ttl_s)
    hub.add_feed(
        VenueFeed(
            VENUES[OK].protocol,
            directory.map_for(OK),
            FeedConfig(),
            connector=_no_ws,
            http=http,
            on_change=hub.mark_changed,
        )
    )
    service = MarketDataService(
        hub, directory, {OK: VENUES[OK]}, {OK: rest.url}, http, watch=[BTC], retry=FAST
    )
    service.listings.min_refresh_s = 0.01
    return service


@asynccontextmanager
async def _running(service: MarketDataService) -> AsyncIterator[None]:
    task = asyncio.ensure_future(service.run())
    try:
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_list_missing_at_start_is_fetched_once_the_rest_answers(tmp_path: Path) -> None:
    async with RestServer() as rest, AiohttpGet() as http:
        rest.refusing = True
        service = _service(tmp_path, rest, http)
        directory = service.directory
        async with _running(service):
            await wait_until(service.ready.is_set)
            # Start-up goes on without the list; the venue is reported, and retried.
            assert OK in directory.unreachable()
            assert service.down() == {OK: NO_LIST}
            assert service.hub.refcount(InstrumentKey(OK, BTC)) == 0
            await wait_until(lambda: rest.count(PATH) >= 4)
            assert directory.all_symbols() == []

            rest.reply(PATH, body=_body(BTC, ETH), repeat=True)
            rest.refusing = False
            arrived = await asyncio.wait_for(anext(service.arrivals()), 5)
            assert arrived is OK
            assert directory.all_symbols() == [BTC, ETH]
            assert directory.unreachable() == {}
            # Down now only as long as its (not running here) stream is not connected.
            assert service.down() == {OK: NO_STREAM}
            # The watched symbol is streamed now that the venue lists it.
            assert service.hub.refcount(InstrumentKey(OK, BTC)) == 1
        cached = tmp_path / "instruments" / "instruments-okx.json"
        assert cached.exists()


async def test_a_list_is_refreshed_on_its_ttl_and_kept_when_a_refresh_fails(
    tmp_path: Path,
) -> None:
    async with RestServer() as rest, AiohttpGet() as http:
        rest.reply(PATH, body=_body(BTC))
        service = _service(tmp_path, rest, http, ttl_s=0.05)
        directory = service.directory
        async with _running(service):
            await wait_until(lambda: directory.all_symbols() == [BTC])
            # The next refresh fails: the list in use stays, nobody is told it is missing.
            rest.refusing = True
            failed = rest.count(PATH)
            await wait_until(lambda: rest.count(PATH) >= failed + 3)
            assert directory.all_symbols() == [BTC]
            assert directory.unreachable() == {}
            # Back: the new listing replaces the old one.
            rest.reply(PATH, body=_body(BTC, ETH), repeat=True)
            rest.refusing = False
            await wait_until(lambda: directory.all_symbols() == [BTC, ETH])


async def test_an_expired_cache_is_used_while_the_venue_is_retried(tmp_path: Path) -> None:
    seed = SymbolDirectory(tmp_path / "instruments", 3600.0)
    seed.set_instruments(OK, VENUES[OK].parse_instruments(_body(BTC)))
    seed.save_cache(OK, 1_000.0)  # long expired
    async with RestServer() as rest, AiohttpGet() as http:
        rest.refusing = True
        service = _service(tmp_path, rest, http)
        async with _running(service):
            await wait_until(service.ready.is_set)
            assert service.directory.all_symbols() == [BTC]
            assert service.directory.unreachable() == {}
            await wait_until(lambda: rest.count(PATH) >= 3)  # still asking for a fresh one
            rest.reply(PATH, body=_body(BTC, ETH), repeat=True)
            rest.refusing = False
            await wait_until(lambda: service.directory.all_symbols() == [BTC, ETH])
