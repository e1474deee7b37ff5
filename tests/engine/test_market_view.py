from __future__ import annotations

from collections.abc import Iterable

import pytest

from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import MarketViewMonitor
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
BN, OK, BY, DB = Venue.BINANCE, Venue.OKX, Venue.BYBIT, Venue.DERIBIT


class Books:
    """A book source over a fixed set of books that records every query."""

    def __init__(self) -> None:
        self.books: dict[InstrumentKey, OrderBook] = {}
        self.calls: list[tuple[Symbol, tuple[Venue, ...] | None]] = []

    def put(
        self,
        venue: Venue,
        bid: float,
        ask: float,
        *,
        symbol: Symbol = BTC,
        ts: float = 0.0,
        state: BookState = BookState.LIVE,
    ) -> OrderBook:
        book = self.books.get(InstrumentKey(venue, symbol)) or OrderBook(
            InstrumentKey(venue, symbol)
        )
        book.bids.replace([(bid, 1.0), (bid * 0.999, 2.0)])
        book.asks.replace([(ask, 1.0), (ask * 1.001, 2.0)])
        book.state, book.recv_ts = state, ts
        self.books[book.key] = book
        return book

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        chosen = None if venues is None else tuple(venues)
        self.calls.append((symbol, chosen))
        return [
            b
            for k, b in self.books.items()
            if k.symbol == symbol and (chosen is None or k.venue in chosen)
        ]


def monitor(
    id: str,
    symbol: Symbol = BTC,
    venues: tuple[Venue, ...] = (),
    *,
    mid_move_pct: float | None = None,
) -> MarketViewMonitor:
    """Venue changes, or a mid move when ``mid_move_pct`` is given; no cooldown."""
    return MarketViewMonitor(
        id=id,
        owner=1,
        symbol=symbol,
        venues=venues,
        best_venue_change=mid_move_pct is None,
        mid_move_pct=mid_move_pct,
        cooldown_s=0.0,
    )


def test_one_cbbo_per_venue_set_and_only_the_symbols_monitors() -> None:
    books = Books()
    books.put(BN, 100.0, 101.0)
    books.put(OK, 99.0, 102.0)
    books.put(BY, 99.5, 101.5)
    books.put(BN, 10.0, 11.0, symbol=ETH)
    engine = MarketViewEngine(books)
    engine.add_monitor(monitor("all-1"))
    engine.add_monitor(monitor("pair", venues=(OK, BY)))
    engine.add_monitor(monitor("all-2", mid_move_pct=0.1))
    engine.add_monitor(monitor("pair-2", venues=(BY, OK)))
    engine.add_monitor(monitor("eth", symbol=ETH))
    assert engine.evaluate(BTC, 1.0) == []  # references
    assert books.calls == [(BTC, None), (BTC, (BY, OK))]  # ETH never read, (OK, BY) read once

    books.calls.clear()
    books.put(OK, 100.5, 102.0, ts=2.0)  # okx takes the best bid everywhere
    signals = engine.evaluate(BTC, 2.0)
    assert books.calls == [(BTC, None), (BTC, (BY, OK))]
    assert [(s.monitor_id, s.kind) for s in signals] == [
        ("all-1", "best_bid_venue"),
        ("all-2", "mid_move"),
        ("pair", "best_bid_venue"),
        ("pair-2", "best_bid_venue"),
    ]
    pair = dict(signals[2].details)
    assert pair["previous"] == ("bybit",)  # binance is not in this monitor's venues
    assert [m.id for m in engine.monitors_for(BTC)] == ["all-1", "all-2", "pair", "pair-2"]
    assert engine.symbols() == [BTC, ETH]


def test_add_replaces_and_remove_forgets() -> None:
    books = Books()
    books.put(BN, 100.0, 101.0)
    books.put(OK, 99.0, 102.0)
    engine = MarketViewEngine(books)
    engine.add_monitor(monitor("m"))
    engine.evaluate(BTC, 0.0)
    engine.add_monitor(monitor("m", symbol=ETH))  # same id: replaced, moved to ETH
    assert engine.monitors_for(BTC) == []
    assert [m.symbol for m in engine.monitors_for(ETH)] == [ETH]
    books.put(OK, 100.5, 102.0)
    assert engine.evaluate(BTC, 1.0) == []
    assert engine.remove_monitor("m")
    assert not engine.remove_monitor("m")
    assert engine.symbols() == []
    engine.add_monitor(monitor("m"))  # fresh state: the first view is only a reference
    assert engine.evaluate(BTC, 2.0) == []


def test_cbbo_view_with_depth_filters_and_exclusions() -> None:
    books = Books()
    books.put(BN, 100.0, 101.0, ts=9.0)
    books.put(OK, 100.4, 100.6, ts=0.0)  # too old at 10 s
    books.put(BY, 99.0, 102.0, ts=9.0, state=BookState.POLLED)
    books.put(DB, 100.5, 100.7, ts=9.0)  # routed to Coinbase on BTC-USDT only
    engine = MarketViewEngine(
        books,
        max_age_s=5.0,
        exclude_routed=lambda symbol: frozenset({DB}) if symbol == BTC else frozenset(),
    )
    view = engine.cbbo(BTC, now=10.0)
    assert (view.bid, view.ask, view.counted_venues) == (100.0, 101.0, (BN,))
    assert {q.venue: q.excluded for q in view.venues} == {
        BN: None,
        BY: "polled",
        OK: "old",
        DB: "routed",
    }
    assert [d.bps for d in view.depth] == [10.0, 50.0, 100.0]
    assert view.depth[-1].bid_size == pytest.approx(3.0)  # 100.0 and 99.9 within 100 bps
    only = engine.cbbo(BTC, [BY, OK], now=1.0)
    assert [q.venue for q in only.venues] == [BY, OK]
    assert (only.bid, only.ask) == (100.4, 100.6)

    polled = MarketViewEngine(books, allow_polled=True, exclude_routed=frozenset({DB}))
    assert polled.cbbo(BTC, now=10.0).counted_venues == (BN, BY, OK)


def test_ranking_follows_the_evaluations() -> None:
    books = Books()
    books.put(BN, 100.0, 101.0)
    books.put(OK, 99.0, 100.5)
    engine = MarketViewEngine(books, ranking_window_s=600.0)
    assert engine.ranking(BTC, 0.0) == {}
    engine.evaluate(BTC, 0.0)  # no monitor needed
    books.put(OK, 100.0, 100.5)
    engine.evaluate(BTC, 30.0)
    assert engine.ranking(BTC, 60.0) == {
        BN: pytest.approx((1.0, 0.0)),
        OK: pytest.approx((0.5, 1.0)),
    }


def test_the_market_data_hub_is_a_book_source() -> None:
    engine = MarketViewEngine(MarketDataHub(HubConfig()))
    view = engine.cbbo(BTC, now=0.0)
    assert (view.symbol, view.venues, view.has_quotes) == (BTC, (), False)


def test_default_views_on_a_flickering_crossed_book_only_refresh_the_live_view() -> None:
    """20 views as /view_market makes them, on two venues crossing by 0.03 bps every 0.5 s for
    80 s: no alert at all (the live view shows the crossing); opting in with crossed=2 does not
    fire on such crumbs either, and crossed=0 fires once per alert cooldown, not every flip."""
    books = Books()
    engine = MarketViewEngine(books)
    for i in range(20):
        engine.add_monitor(
            MarketViewMonitor(
                id=f"v{i}",
                owner=i,
                symbol=BTC,
                venues=(BN, OK),
                best_venue_change=True,
                cooldown_s=5.0,
            )
        )
    engine.add_monitor(
        MarketViewMonitor(
            id="big", owner=99, symbol=BTC, venues=(BN, OK), cooldown_s=5.0, crossed_min_bps=2.0
        )
    )
    engine.add_monitor(
        MarketViewMonitor(
            id="any",
            owner=98,
            symbol=BTC,
            venues=(BN, OK),
            cooldown_s=5.0,
            crossed_min_bps=0.0,
            alert_cooldown_s=60.0,
        )
    )
    kinds: list[tuple[str, str]] = []
    for step in range(160):
        ts = step * 0.5
        books.put(BN, 60_000.0, 60_000.5, ts=ts)
        books.put(OK, 60_000.5 + (0.18 if step % 2 else -0.1), 60_001.0, ts=ts)
        kinds += [(s.monitor_id, s.kind) for s in engine.evaluate(BTC, ts)]
    notifying = [k for k in kinds if not k[1].startswith("best_")]
    assert notifying == [("any", "crossed"), ("any", "crossed")]  # at 0.5 s and 60.5 s


def test_a_view_started_on_quiet_books_reports_the_first_change_after_its_start() -> None:
    books = Books()
    books.put(BN, 100.0, 101.0)
    books.put(OK, 99.0, 102.0)
    engine = MarketViewEngine(books)
    engine.add_monitor(monitor("started"), now=1.0)  # the market now is its reference
    engine.add_monitor(monitor("unprimed"))  # no start time: the first evaluation is
    books.put(OK, 100.5, 102.0, ts=2.0)  # okx takes the best bid: the books' first change
    signals = engine.evaluate(BTC, 2.0)
    assert [(s.monitor_id, s.kind) for s in signals] == [("started", "best_bid_venue")]
    assert dict(signals[0].details)["previous"] == ("binance",)


def test_a_verified_only_view_reads_its_own_cbbo_and_names_the_tiers() -> None:
    books = Books()
    books.put(BN, 100.0, 101.0)
    books.put(OK, 100.2, 100.9).integrity = Integrity.SNAPSHOT  # holds both bests
    engine = MarketViewEngine(books)
    default = MarketViewMonitor(id="any", owner=1, symbol=BTC, venues=(), best_venue_change=True)
    strict = MarketViewMonitor(
        id="strict",
        owner=1,
        symbol=BTC,
        venues=(),
        best_venue_change=True,
        min_integrity=Integrity.VERIFIED,
        cooldown_s=0.0,
    )
    engine.add_monitor(default, now=0.0)
    engine.add_monitor(strict, now=0.0)
    books.put(BN, 100.5, 101.0, ts=1.0)  # Binance now holds the best bid among all books
    signals = {(s.monitor_id, s.kind): s for s in engine.evaluate(BTC, 1.0)}
    # The strict view never counted OKX: its best bid was Binance all along.
    assert set(signals) == {("any", "best_bid_venue")}
    assert signals["any", "best_bid_venue"].trust == (
        (BN, Integrity.VERIFIED),
        (OK, Integrity.SNAPSHOT),
    )
    books.put(OK, 100.6, 100.9, ts=2.0).integrity = Integrity.VERIFIED  # checked again
    strict_signals = {s.kind: s for s in engine.evaluate(BTC, 2.0) if s.monitor_id == "strict"}
    assert set(strict_signals) == {"best_bid_venue", "best_ask_venue"}  # OKX holds both now
    assert dict(strict_signals["best_bid_venue"].details)["venues"] == ("okx",)
    both = ((BN, Integrity.VERIFIED), (OK, Integrity.VERIFIED))
    assert strict_signals["best_bid_venue"].trust == both
