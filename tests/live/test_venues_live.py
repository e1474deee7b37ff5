"""Against the real venues (needs the internet): ``make test ARGS="-m live"``.

Excluded from the default run. Each test fetches a venue's instruments, streams one book
through the real driver and checks that it goes live, sane and uncrossed.
"""

from __future__ import annotations

import asyncio

import pytest

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.registry import VENUES
from tests.helpers import wait_until

pytestmark = pytest.mark.live

SYMBOL = {
    Venue.BINANCE: Symbol("BTC", "USDT"),
    Venue.OKX: Symbol("BTC", "USDT"),
    Venue.BYBIT: Symbol("BTC", "USDT"),
    Venue.DERIBIT: Symbol("BTC", "USDC"),
    Venue.COINBASE: Symbol("BTC", "USD"),
    Venue.KRAKEN: Symbol("BTC", "USD"),
    Venue.BITFINEX: Symbol("BTC", "USD"),
    Venue.BITSTAMP: Symbol("BTC", "USD"),
    Venue.GEMINI: Symbol("BTC", "USD"),
    Venue.GATEIO: Symbol("BTC", "USDT"),
    Venue.KUCOIN: Symbol("BTC", "USDT"),
    Venue.BITGET: Symbol("BTC", "USDT"),
    Venue.CRYPTOCOM: Symbol("BTC", "USDT"),
    Venue.HTX: Symbol("BTC", "USDT"),
    Venue.MEXC: Symbol("BTC", "USDT"),
}


@pytest.mark.parametrize("venue", list(VENUES))  # the venues with a native feed
async def test_a_real_book_goes_live(venue: Venue) -> None:
    spec = VENUES[venue]
    async with AiohttpGet() as http:
        request = spec.instruments_request(None)
        response = await http(request.url, request.params, 20.0)
        assert response.status == 200
        instruments = spec.parse_instruments(response.body)
        symbol = SYMBOL[venue]
        listed = [i for i in instruments if i.symbol == symbol]
        assert listed, f"{symbol} not listed on {venue}"
        feed = VenueFeed(
            spec.protocol,
            SymbolMap.from_instruments(listed),
            FeedConfig(depth=50),
            connector=websocket_connect,
            http=http,
            on_change=lambda v, s: None,
        )
        feed.add([symbol])
        task = asyncio.ensure_future(feed.run())
        try:
            await wait_until(
                lambda: (b := feed.book(symbol)) is not None and b.state is BookState.LIVE,
                within=30,
            )
            book = feed.book(symbol)
            assert book is not None
            l1 = book.l1()
            assert l1.bid is not None
            assert l1.ask is not None
            assert 0 < l1.bid < l1.ask < l1.bid * 1.01
            assert len(book.bids) >= 5
            assert len(book.asks) >= 5
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
