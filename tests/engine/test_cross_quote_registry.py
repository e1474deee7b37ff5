"""A cross-quote monitor subscribes its conversion book through the hub, ref-counted."""

from __future__ import annotations

import pytest

from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.errors import RejectedInput
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.transport import HttpResponse, WsConnection

BTC_USD, BTC_USDT, USDT_USD = Symbol("BTC", "USD"), Symbol("BTC", "USDT"), Symbol("USDT", "USD")
CB, BIN, KR = Venue.COINBASE, Venue.BINANCE, Venue.KRAKEN
LISTED = {BTC_USD: [CB, KR], BTC_USDT: [BIN, CB, KR], USDT_USD: [CB, KR]}


async def _no_ws(url: str) -> WsConnection:
    raise AssertionError("not connected in these tests")


async def _no_http(url: str, params: tuple[tuple[str, str], ...], timeout_s: float) -> HttpResponse:
    raise AssertionError("no REST in these tests")


def setup(listed: dict[Symbol, list[Venue]] = LISTED) -> tuple[MarketDataHub, MonitorRegistry]:
    hub = MarketDataHub(HubConfig(unsubscribe_grace_s=0.0), clock=lambda: 100.0)
    for venue in (CB, BIN, KR):
        hub.add_feed(
            VenueFeed(
                VENUES[venue].protocol,
                SymbolMap(),
                FeedConfig(),
                connector=_no_ws,
                http=_no_http,
                on_change=hub.mark_changed,
            )
        )
    arb = ArbitrageEngine(hub, ArbConfig(fees_pct={}))
    registry = MonitorRegistry(hub, lambda s: listed.get(s, []), arb, MarketViewEngine(hub),
                               clock=lambda: 100.0)  # fmt: skip
    return hub, registry


def monitor(monitor_id: str, venues: tuple[Venue, ...] = (CB, BIN)) -> ArbMonitor:
    return ArbMonitor(id=monitor_id, owner=1, symbols=(BTC_USD,), venues=venues,
                      min_edge_pct=0.3, quotes=("USD", "USDT"))  # fmt: skip


def test_the_conversion_book_is_subscribed_while_such_a_monitor_runs() -> None:
    hub, registry = setup()
    registry.add_arbitrage(monitor("a"))
    registry.add_arbitrage(monitor("b"))
    conversion = InstrumentKey(CB, USDT_USD)
    assert hub.refcount(conversion) == 2
    assert hub.refcount(InstrumentKey(BIN, BTC_USDT)) == 2
    assert hub.refcount(InstrumentKey(KR, USDT_USD)) == 0  # Kraken is not one of its venues
    registry.remove("a")
    assert hub.refcount(conversion) == 1
    registry.remove("b")
    hub.check(101.0)
    assert hub.subscribed() == []


def test_a_monitor_without_a_venue_to_convert_is_refused() -> None:
    _, registry = setup({**LISTED, USDT_USD: [KR]})
    with pytest.raises(RejectedInput, match="no chosen venue lists USDT-USD or USD-USDT"):
        registry.add_arbitrage(monitor("a"))
    assert registry.monitors == {}
