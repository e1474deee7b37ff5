"""Against the real venue through ccxt (needs the internet): ``make test ARGS="-m live"``.

Excluded from the default run: Upbit's markets through ccxt, one book live, sane, uncrossed,
and a REST cross-check that agrees with the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.marketdata.directory import SymbolDirectory, fetch_venue
from goquant_bot.venues.ccxt_books import GuardConfig
from goquant_bot.venues.ccxt_feed import CcxtFeed
from goquant_bot.venues.ccxt_markets import instruments_request, parse_instruments
from goquant_bot.venues.ccxt_net import CcxtMarketsHttp
from goquant_bot.venues.feed import FeedConfig
from goquant_bot.venues.net import AiohttpGet
from tests.helpers import wait_until

pytestmark = pytest.mark.live
BTC_KRW = Symbol("BTC", "KRW")


async def test_a_real_upbit_book_goes_live_through_ccxt(tmp_path: Path) -> None:
    directory = SymbolDirectory(tmp_path, 3600.0)
    guard = GuardConfig(crosscheck_interval_s=2.0)
    feed = CcxtFeed(
        Venue.UPBIT,
        directory.map_for(Venue.UPBIT),
        FeedConfig(depth=50),
        guard,
        on_change=lambda v, s: None,
        rest_per_minute=30,
    )
    async with AiohttpGet() as plain, contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(feed.close)
        http = CcxtMarketsHttp(plain, [feed])
        parse = lambda body: parse_instruments(Venue.UPBIT, body)  # noqa: E731
        request = instruments_request(Venue.UPBIT, None)
        assert await fetch_venue(directory, Venue.UPBIT, request, parse, http, 0.0, 30.0)
        assert directory.instrument(Venue.UPBIT, BTC_KRW) is not None
        task = asyncio.ensure_future(feed.run())
        try:
            feed.add([BTC_KRW])
            book = feed.book(BTC_KRW)
            assert book is not None
            await wait_until(lambda: book.state is BookState.LIVE, 30.0)
            assert not book.is_crossed()
            await wait_until(lambda: feed.state.stats.skipped["crosscheck_ok"] >= 1, 30.0)
            assert feed.state.stats.errors["rest_mismatch"] == 0
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
