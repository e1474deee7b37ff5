"""Cross-quote pairs in the engine: a live conversion book or no alert."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.alerts.state import subject_of
from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.events import ArbClosed, ArbOpened
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.monitors.schema import opening_from_dict, opening_to_dict

BTC_USD, BTC_USDT, USDT_USD = Symbol("BTC", "USD"), Symbol("BTC", "USDT"), Symbol("USDT", "USD")
CB, BIN, KR = Venue.COINBASE, Venue.BINANCE, Venue.KRAKEN
FEES = {CB: 0.1, BIN: 0.1, KR: 0.2}


class Books:
    """Books by instrument for the engine to read (stands in for the market-data hub)."""

    def __init__(self) -> None:
        self.books: dict[InstrumentKey, OrderBook] = {}

    def set(self, venue: Venue, symbol: Symbol, bid: float, ask: float, *, ts: float = 100.0,
            state: BookState = BookState.LIVE, size: float = 1e6) -> OrderBook:  # fmt: skip
        key = InstrumentKey(venue, symbol)
        book = self.books.setdefault(key, OrderBook(key))
        book.bids.replace([(bid, size)])
        book.asks.replace([(ask, size)])
        book.state, book.recv_ts = state, ts
        return book

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        return [
            b
            for k, b in self.books.items()
            if k.symbol == symbol and (venues is None or k.venue in venues)
        ]


def monitor(monitor_id: str = "m1", edge: float = 0.3, **kw: object) -> ArbMonitor:
    return ArbMonitor(
        id=monitor_id, owner=7, symbols=(BTC_USD,), venues=(CB, BIN, KR), min_edge_pct=edge,
        quotes=("USD", "USDT"), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def legs(books: Books, ts: float = 100.0) -> None:
    """BTC at 100 USDT on Binance, bid 101 USD on Coinbase (Kraken only converts)."""
    books.set(BIN, BTC_USDT, 99.9, 100.0, ts=ts)
    books.set(CB, BTC_USD, 101.0, 101.1, ts=ts)


def test_opens_only_with_a_live_conversion_book_and_shows_it() -> None:
    books = Books()
    legs(books)
    arb = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    assert arb.add_monitor(monitor(), 100.0) == []
    assert arb.evaluate(BTC_USDT, 100.0) == []  # no USDT-USD book yet
    assert arb.guards["no_conversion"] >= 1
    books.set(KR, USDT_USD, 0.9990, 0.9993, state=BookState.SYNCING)
    assert arb.evaluate(USDT_USD, 100.0) == []  # a syncing book is no conversion
    books.set(KR, USDT_USD, 0.9990, 0.9993)
    # Only the conversion book changed: that alone re-evaluates the pair.
    (opened,) = arb.evaluate(USDT_USD, 100.5)
    assert isinstance(opened, ArbOpened)
    assert (opened.symbol, opened.buy_venue, opened.sell_venue) == (BTC_USD, BIN, CB)
    assert opened.conversion is not None
    assert opened.conversion.describe() == "USDT-USD 0.9993 from kraken"
    cost = 1000 * 1.001 * 0.9993 * 1.002  # USDT bought with USD at the ask, Kraken's fee
    proceeds = 1010 * 0.999
    assert opened.profit == pytest.approx(proceeds - cost)
    assert opened.edge_pct == pytest.approx((proceeds - cost) / cost * 100)
    assert opened.to_report()["conversion"] == "USDT-USD 0.9993 from kraken"


def test_closes_when_the_conversion_book_goes_stale() -> None:
    books = Books()
    legs(books)
    books.set(KR, USDT_USD, 0.9990, 0.9993)
    arb = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    (opened,) = arb.add_monitor(monitor(), 100.0) or arb.evaluate(BTC_USD, 100.0)
    assert isinstance(opened, ArbOpened)
    books.set(KR, USDT_USD, 0.9990, 0.9993, state=BookState.STALE)
    (closed,) = arb.evaluate(USDT_USD, 101.0)
    assert isinstance(closed, ArbClosed)
    assert closed.reason == "no_conversion"
    assert (closed.buy_venue, closed.sell_venue) == (BIN, CB)
    assert opened.route == closed.route == (BTC_USDT, BTC_USD)
    assert ArbClosed.from_record(closed.to_record()).route == closed.route
    # An alert's subject tells it apart from the same venues in one quote.
    assert (
        subject_of(closed)[0]
        == subject_of(opened)[0]
        == "BTC-USD binance->coinbase BTC-USDT->BTC-USD"
    )
    same_quote = dataclasses.replace(closed, route=None)
    assert subject_of(same_quote)[0] == "BTC-USD binance->coinbase"


def test_an_expensive_conversion_keeps_the_pair_closed() -> None:
    books = Books()
    legs(books)
    books.set(KR, USDT_USD, 1.0040, 1.0060)  # USDT at a premium eats the 1 % gross edge
    arb = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    arb.add_monitor(monitor(edge=0.5), 100.0)
    assert arb.evaluate(BTC_USD, 100.0) == []
    books.set(KR, USDT_USD, 0.9990, 0.9993, ts=100.2)
    (opened,) = arb.evaluate(USDT_USD, 100.2)
    assert isinstance(opened, ArbOpened)


def test_without_quotes_different_quotes_are_never_paired() -> None:
    books = Books()
    legs(books)
    books.set(KR, USDT_USD, 0.9990, 0.9993)
    arb = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    plain = ArbMonitor(id="p", owner=7, symbols=(BTC_USD,), venues=(CB, BIN, KR), min_edge_pct=0.3)
    arb.add_monitor(plain, 100.0)
    assert arb.evaluate(BTC_USDT, 100.0) == []
    assert arb.evaluate(USDT_USD, 100.0) == []
    books.set(KR, BTC_USD, 100.8, 100.9)
    assert arb.evaluate(BTC_USD, 100.0) == []  # Kraken vs Coinbase, BTC-USD: 0.1 % gross
    assert arb.evaluations == 1  # only BTC-USD is indexed at all


def test_removing_the_monitor_stops_watching_the_conversion_book() -> None:
    books = Books()
    legs(books)
    books.set(KR, USDT_USD, 0.9990, 0.9993)
    arb = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    arb.add_monitor(monitor(), 100.0)
    arb.add_monitor(monitor("m2", edge=0.4), 100.0)
    arb.remove_monitor("m1")
    before = arb.evaluations
    arb.evaluate(USDT_USD, 100.0)
    assert arb.evaluations > before  # m2 still needs it
    arb.remove_monitor("m2")
    before = arb.evaluations
    assert arb.evaluate(USDT_USD, 101.0) == []
    assert arb.evaluate(BTC_USDT, 101.0) == []
    assert arb.evaluations == before


@settings(max_examples=60, deadline=None)
@given(
    ask=st.floats(50.0, 150.0),
    gross=st.floats(0.003, 0.03),
    buy_fee=st.floats(0.0, 0.1),
    sell_fee=st.floats(0.0, 0.1),
)
def test_a_conversion_at_exactly_one_without_fee_gives_the_same_quote_edge(
    ask: float, gross: float, buy_fee: float, sell_fee: float
) -> None:
    bid = ask * (1 + gross)
    fees = {CB: sell_fee, BIN: buy_fee, KR: 0.0}
    same, cross = Books(), Books()
    same.set(BIN, BTC_USD, ask * 0.999, ask)
    same.set(CB, BTC_USD, bid, bid * 1.001)
    cross.set(BIN, BTC_USDT, ask * 0.999, ask)
    cross.set(CB, BTC_USD, bid, bid * 1.001)
    cross.set(KR, USDT_USD, 0.9999, 1.0)  # USDT bought at exactly 1, no fee
    plain = ArbMonitor(id="p", owner=7, symbols=(BTC_USD,), venues=(CB, BIN), min_edge_pct=0.001)
    a = ArbitrageEngine(same, ArbConfig(fees_pct=fees))
    b = ArbitrageEngine(cross, ArbConfig(fees_pct=fees))
    a.add_monitor(plain, 100.0)
    b.add_monitor(monitor(edge=0.001), 100.0)
    (expected,) = a.evaluate(BTC_USD, 100.0)
    (got,) = b.evaluate(BTC_USD, 100.0)
    assert isinstance(expected, ArbOpened)
    assert isinstance(got, ArbOpened)
    assert got.conversion is not None
    assert got.conversion.rate == 1.0
    assert got.edge_pct == pytest.approx(expected.edge_pct, rel=1e-12, abs=1e-12)
    assert got.profit == pytest.approx(expected.profit, rel=1e-12, abs=1e-12)


def test_an_opening_across_quotes_survives_a_restart_unannounced() -> None:
    books = Books()
    legs(books)
    books.set(KR, USDT_USD, 0.9990, 0.9993)
    before = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    (opened,) = before.add_monitor(monitor(), 100.0) or before.evaluate(BTC_USD, 100.0)
    assert isinstance(opened, ArbOpened)
    (saved,) = before.export_open()["m1"]
    assert saved.route == (BTC_USDT, BTC_USD)
    restored = opening_from_dict(opening_to_dict(saved))
    assert restored == saved
    after = ArbitrageEngine(books, ArbConfig(fees_pct=FEES))
    after.add_monitor(monitor(), 200.0)
    books.set(KR, USDT_USD, 0.9990, 0.9993, state=BookState.SYNCING, ts=200.0)
    assert after.restore_open("m1", [restored], confirm_by=230.0) == 1
    assert after.evaluate(USDT_USD, 200.0) == []  # still syncing after the restart: kept
    legs(books, ts=210.0)
    books.set(KR, USDT_USD, 0.9990, 0.9993, ts=210.0)
    assert after.evaluate(USDT_USD, 210.0) == []  # confirmed: still open, not announced again
    (opp,) = after.open_opportunities("m1")
    assert opp.conversion is not None
    assert opp.opened_at == saved.opened_at
