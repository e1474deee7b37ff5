from __future__ import annotations

import asyncio

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.binance import BinanceProtocol
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.transport import HttpResponse, WsConnection

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")


async def _no_ws(url: str) -> WsConnection:
    raise AssertionError("the feed is not running in these tests")


async def _no_http(url: str, params: tuple[tuple[str, str], ...], timeout_s: float) -> HttpResponse:
    raise AssertionError("no REST in these tests")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _hub(clock: Clock, grace: float = 30.0, max_age: float = 10.0) -> MarketDataHub:
    hub = MarketDataHub(HubConfig(book_max_age_s=max_age, unsubscribe_grace_s=grace), clock=clock)
    symbols = SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)])
    hub.add_feed(
        VenueFeed(
            BinanceProtocol,
            symbols,
            FeedConfig(),
            connector=_no_ws,
            http=_no_http,
            on_change=hub.mark_changed,
            clock=clock,
        )
    )
    return hub


def test_many_acquires_cost_one_stream() -> None:
    clock = Clock()
    hub = _hub(clock)
    key = InstrumentKey(Venue.BINANCE, BTC)
    for _ in range(50):
        hub.acquire(key)
    feed = hub.feeds[Venue.BINANCE]
    assert len(feed.connections) == 1
    assert list(feed.connections[0].proto.books) == [BTC]
    assert hub.refcount(key) == 50
    assert hub.subscribed() == [key]


def test_last_release_unsubscribes_after_grace() -> None:
    clock = Clock()
    hub = _hub(clock, grace=30.0)
    key = InstrumentKey(Venue.BINANCE, BTC)
    hub.acquire(key)
    hub.acquire(key)
    hub.release(key)
    hub.check(clock.now + 100)
    assert hub.book(key) is not None  # one holder left
    hub.release(key)
    hub.check(clock.now + 29)
    assert hub.book(key) is not None  # within grace
    hub.check(clock.now + 31)
    assert hub.book(key) is None
    assert hub.feeds[Venue.BINANCE].connections == []


def test_reacquire_within_grace_keeps_the_stream() -> None:
    clock = Clock()
    hub = _hub(clock)
    key = InstrumentKey(Venue.BINANCE, BTC)
    hub.acquire(key)
    book = hub.book(key)
    hub.release(key)
    hub.acquire(key)
    hub.check(clock.now + 1_000)
    assert hub.book(key) is book


def test_release_without_acquire_is_ignored() -> None:
    hub = _hub(Clock())
    key = InstrumentKey(Venue.BINANCE, ETH)
    hub.release(key)
    assert hub.refcount(key) == 0


def test_book_older_than_max_age_turns_stale_and_is_reported() -> None:
    clock = Clock()
    hub = _hub(clock, max_age=10.0)
    for symbol in (BTC, ETH):
        hub.acquire(InstrumentKey(Venue.BINANCE, symbol))
    btc = hub.book(InstrumentKey(Venue.BINANCE, BTC))
    eth = hub.book(InstrumentKey(Venue.BINANCE, ETH))
    assert btc is not None
    assert eth is not None
    btc.state, btc.recv_ts = BookState.LIVE, clock.now
    eth.state, eth.recv_ts = BookState.POLLED, clock.now + 5
    hub._dirty.clear()
    hub.check(clock.now + 10.0)
    assert btc.state is BookState.LIVE  # exactly at the limit: still fresh
    hub.check(clock.now + 10.2)
    assert btc.state is BookState.STALE
    assert eth.state is BookState.POLLED
    assert hub._dirty == {BTC}
    hub.check(clock.now + 15.3)
    assert eth.state is BookState.STALE
    assert hub.stale_transitions == 2


async def test_changes_are_conflated() -> None:
    hub = _hub(Clock())
    for _ in range(100):
        hub.mark_changed(Venue.BINANCE, {BTC})
    hub.mark_changed(Venue.BINANCE, {ETH})
    assert await asyncio.wait_for(hub.wait_changed(), 1) == {BTC, ETH}
    waiter = asyncio.ensure_future(hub.wait_changed())
    await asyncio.sleep(0)
    assert not waiter.done()  # nothing new: the engine sleeps
    hub.mark_changed(Venue.BINANCE, {ETH})
    assert await asyncio.wait_for(waiter, 1) == {ETH}


def test_health_counts_books_by_state() -> None:
    clock = Clock()
    hub = _hub(clock)
    hub.acquire(InstrumentKey(Venue.BINANCE, BTC))
    hub.acquire(InstrumentKey(Venue.BINANCE, ETH))
    (health,) = hub.health()
    assert health.venue is Venue.BINANCE
    assert health.books == {"syncing": 2}
    assert health.connected is False
