"""The signal loop and the registry with the real hub (feeds not connected)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from goquant_bot.bot.console.adapter import LOCAL_USER_ID
from goquant_bot.domain.book import BookState
from goquant_bot.domain.events import ArbClosed, ArbOpened, Event
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import INTERNAL_OWNER, ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.engine.history import HistoryWriter, OpportunityStats
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.engine.service import SignalService
from goquant_bot.errors import RejectedInput
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.transport import HttpResponse, WsConnection
from tests.helpers import wait_until

BTC = Symbol("BTC", "USDT")
LISTED = {BTC: [Venue.BINANCE, Venue.OKX], Symbol("ETH", "USDT"): [Venue.BINANCE]}


async def _no_ws(url: str) -> WsConnection:
    raise AssertionError("not connected in these tests")


async def _no_http(url: str, params: tuple[tuple[str, str], ...], timeout_s: float) -> HttpResponse:
    raise AssertionError("no REST in these tests")


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.now = 100.0
        self.hub = MarketDataHub(HubConfig(unsubscribe_grace_s=0.0), clock=lambda: self.now)
        for venue in (Venue.BINANCE, Venue.OKX):
            self.hub.add_feed(
                VenueFeed(
                    VENUES[venue].protocol,
                    SymbolMap(),
                    FeedConfig(),
                    connector=_no_ws,
                    http=_no_http,
                    on_change=self.hub.mark_changed,
                )
            )
        self.arb = ArbitrageEngine(
            self.hub, ArbConfig(fees_pct={Venue.BINANCE: 0.1, Venue.OKX: 0.1})
        )
        self.views = MarketViewEngine(self.hub)
        self.registry = MonitorRegistry(self.hub, lambda s: LISTED.get(s, []), self.arb, self.views,
                                        clock=lambda: self.now)  # fmt: skip
        self.sunk: list[Event] = []
        self.stats = OpportunityStats()
        self.history = HistoryWriter(tmp_path / "opportunities.jsonl")
        self.service = SignalService(
            self.hub, self.arb, self.views, self.sink, stats=self.stats, history=self.history,
            on_finished=self.registry.finished, tick_s=0.05, flush_s=0.0, clock=lambda: self.now,
        )  # fmt: skip

    def sink(self, events: Sequence[Event]) -> None:
        self.sunk.extend(events)

    def quote(self, venue: Venue, bid: float, ask: float) -> None:
        book = self.hub.book(InstrumentKey(venue, BTC))
        assert book is not None
        book.bids.replace([(bid, 50.0)])
        book.asks.replace([(ask, 50.0)])
        book.state, book.recv_ts = BookState.LIVE, self.now
        self.hub.mark_changed(venue, {BTC})


def arb_monitor(monitor_id: str = "m1", **kw: object) -> ArbMonitor:
    return ArbMonitor(id=monitor_id, owner=5, symbols=(BTC,), venues=(Venue.BINANCE, Venue.OKX),
                      min_edge_pct=0.2, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_registry_subscribes_once_per_book_and_releases(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.registry.add_arbitrage(arb_monitor("a"))
    s.registry.add_arbitrage(arb_monitor("b"))
    key = InstrumentKey(Venue.OKX, BTC)
    assert s.hub.refcount(key) == 2
    assert len(s.hub.feeds[Venue.OKX].connections) == 1
    s.registry.remove("a")
    assert s.hub.refcount(key) == 1
    s.registry.remove("b")
    s.hub.check(s.now + 1)
    assert s.hub.subscribed() == []
    assert s.registry.remove("b") is None


@pytest.mark.parametrize(
    ("monitor", "message"),
    [
        (
            ArbMonitor(
                id="x",
                owner=1,
                symbols=(Symbol("ETH", "USDT"),),
                venues=(Venue.BINANCE, Venue.OKX),
                min_edge_pct=0.2,
            ),
            "listed on binance",
        ),
        (
            ArbMonitor(
                id="x",
                owner=1,
                symbols=(Symbol("DOGE", "USDT"),),
                venues=(Venue.BINANCE, Venue.OKX),
                min_edge_pct=0.2,
            ),
            "no enabled venue",
        ),
    ],
)
def test_registry_refuses_monitors_that_cannot_work(
    tmp_path: Path, monitor: ArbMonitor, message: str
) -> None:
    s = Setup(tmp_path)
    with pytest.raises(RejectedInput, match=message):
        s.registry.add_arbitrage(monitor)
    assert s.hub.subscribed() == []


def test_registry_refuses_a_duplicate_id(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.registry.add_arbitrage(arb_monitor("a"))
    with pytest.raises(RejectedInput, match="exists already"):
        s.registry.add_market_view(
            MarketViewMonitor(id="a", owner=1, symbol=BTC, venues=(), best_venue_change=True)
        )


async def test_loop_evaluates_changed_symbols_and_records_closings(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.registry.add_arbitrage(arb_monitor())
    s.registry.add_arbitrage(arb_monitor("once", policy=FiringPolicy.ONCE))
    runner = asyncio.ensure_future(s.service.run())
    try:
        s.quote(Venue.BINANCE, 99.9, 100.0)
        s.quote(Venue.OKX, 100.6, 100.7)
        await wait_until(lambda: len(s.sunk) == 2)
        assert {type(e) for e in s.sunk} == {ArbOpened}
        await wait_until(lambda: "once" not in s.registry.monitors)  # one-shot: done
        s.now += 3
        s.quote(Venue.OKX, 99.95, 100.1)
        s.quote(Venue.BINANCE, 99.9, 100.0)
        await wait_until(lambda: len(s.sunk) == 3)
        closed = s.sunk[-1]
        assert isinstance(closed, ArbClosed)
        assert closed.duration_s == pytest.approx(3.0)
        assert s.stats.summary(5, s.now)["BTC-USDT binance->okx"]["all"]["count"] == 1
        await wait_until(lambda: (tmp_path / "opportunities.jsonl").exists())
    finally:
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
    assert s.service.latency.samples


def test_replacing_a_monitor_keeps_its_open_opportunity_and_books(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.registry.add_arbitrage(arb_monitor())
    s.quote(Venue.BINANCE, 99.9, 100.0)
    s.quote(Venue.OKX, 100.6, 100.7)
    (opened,) = s.service.process({BTC}, s.now)
    assert isinstance(opened, ArbOpened)
    events = s.registry.replace(arb_monitor(min_duration_s=0.0, notional=500.0))
    assert events == []  # still open: not announced again
    assert s.service.process({BTC}, s.now + 1) == []
    assert [o.monitor_id for o in s.arb.open_opportunities("m1")] == ["m1"]
    assert s.hub.refcount(InstrumentKey(Venue.OKX, BTC)) == 1
    assert s.registry.monitors["m1"].notional == 500.0
    with pytest.raises(RejectedInput, match="no monitor"):
        s.registry.replace(arb_monitor("zz"))


def test_a_fired_one_shot_is_dropped_with_its_books(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.registry.add_arbitrage(arb_monitor("once", policy=FiringPolicy.ONCE))
    s.quote(Venue.BINANCE, 99.9, 100.0)
    s.quote(Venue.OKX, 100.6, 100.7)
    assert len(s.service.process({BTC}, s.now)) == 1
    assert "once" not in s.registry.monitors
    assert s.hub.refcount(InstrumentKey(Venue.OKX, BTC)) == 0


def test_the_bots_own_monitors_never_reach_the_sink(tmp_path: Path) -> None:
    """The demo's watch monitors (INTERNAL_OWNER) log; only users' events go on to delivery,
    the console's user (chat 0) included."""
    s = Setup(tmp_path)
    s.registry.add_arbitrage(
        dataclasses.replace(arb_monitor("demo:BTC-USDT"), owner=INTERNAL_OWNER)
    )
    s.registry.add_market_view(
        MarketViewMonitor(
            id="demo:view",
            owner=INTERNAL_OWNER,
            symbol=BTC,
            venues=(),
            best_venue_change=True,
            mid_move_pct=0.1,
        )
    )
    s.registry.add_arbitrage(arb_monitor("user"))
    s.registry.add_arbitrage(dataclasses.replace(arb_monitor("console"), owner=LOCAL_USER_ID))
    s.quote(Venue.BINANCE, 99.9, 100.0)
    s.quote(Venue.OKX, 100.6, 100.7)
    s.service.process({BTC}, s.now)
    s.quote(Venue.BINANCE, 101.9, 102.0)
    s.quote(Venue.OKX, 99.9, 100.0)
    events = s.service.process({BTC}, s.now + 1)
    assert {e.monitor_id for e in events} >= {"demo:BTC-USDT", "demo:view", "user", "console"}
    assert s.sunk
    assert {e.owner for e in s.sunk} == {5, LOCAL_USER_ID}
    assert s.stats.closed(INTERNAL_OWNER)  # their opportunities are still recorded
