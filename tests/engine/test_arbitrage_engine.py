from __future__ import annotations

from collections.abc import Iterable

import pytest

from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.events import ArbClosed, ArbOpened, Event
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine

BTC = Symbol("BTC", "USDT")
BIN, OKX, BYB = Venue.BINANCE, Venue.OKX, Venue.BYBIT
FEES = {BIN: 0.1, OKX: 0.1, BYB: 0.1}


class Books:
    """Books by venue for the engine to read (stands in for the market-data hub)."""

    def __init__(self) -> None:
        self.books: dict[InstrumentKey, OrderBook] = {}

    def set(self, venue: Venue, bid: float, ask: float, *, size: float = 10.0, ts: float = 100.0,
            state: BookState = BookState.LIVE, symbol: Symbol = BTC) -> OrderBook:  # fmt: skip
        book = self.books.setdefault(
            InstrumentKey(venue, symbol), OrderBook(InstrumentKey(venue, symbol))
        )
        book.bids.replace([(bid, size), (bid - 1, size * 10)])
        book.asks.replace([(ask, size), (ask + 1, size * 10)])
        book.state, book.recv_ts = state, ts
        return book

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        return [
            b
            for k, b in self.books.items()
            if k.symbol == symbol and (venues is None or k.venue in venues)
        ]


def monitor(monitor_id: str = "m1", edge: float | None = 0.25, **kw: object) -> ArbMonitor:
    return ArbMonitor(
        id=monitor_id, owner=7, symbols=(BTC,), venues=(BIN, OKX), min_edge_pct=edge, **kw
    )  # type: ignore[arg-type]


def engine(books: Books, **kw: object) -> ArbitrageEngine:
    return ArbitrageEngine(books, ArbConfig(fees_pct=FEES, **kw))  # type: ignore[arg-type]


def calm(books: Books, ts: float = 100.0) -> None:
    books.set(BIN, 99.9, 100.0, ts=ts)
    books.set(OKX, 99.9, 100.0, ts=ts)


def test_opens_once_with_executable_figures_then_closes_with_duration_and_peak() -> None:
    books = Books()
    calm(books)
    arb = engine(books)
    arb.add_monitor(monitor(), 100.0)
    assert arb.evaluate(BTC, 100.0) == []
    books.set(OKX, 100.5, 100.7, ts=101.0)  # buy Binance at 100, sell OKX at 100.5
    books.set(BIN, 99.9, 100.0, ts=101.0)
    (opened,) = arb.evaluate(BTC, 101.0)
    assert isinstance(opened, ArbOpened)
    assert (opened.buy_venue, opened.sell_venue, opened.monitor_id, opened.owner) == (
        BIN,
        OKX,
        "m1",
        7,
    )
    assert opened.buy_price == pytest.approx(100.0)
    assert opened.sell_price == pytest.approx(100.5)
    assert opened.size == pytest.approx(10.0)  # 1,000 USDT at 100
    cost, proceeds = 1000 * 1.001, 1005 * 0.999
    assert opened.profit == pytest.approx(proceeds - cost)
    assert opened.edge_pct == pytest.approx((proceeds - cost) / cost * 100)
    assert opened.complete
    # Still above threshold, or inside the hysteresis band: no new alert.
    books.set(OKX, 100.6, 100.8, ts=102.0)
    books.set(BIN, 99.9, 100.0, ts=102.0)
    assert arb.evaluate(BTC, 102.0) == []
    books.set(OKX, 100.48, 100.8, ts=103.0)
    books.set(BIN, 99.9, 100.0, ts=103.0)
    assert arb.evaluate(BTC, 103.0) == []
    (view,) = arb.open_opportunities("m1")
    assert view.peak_edge_pct > view.edge_pct
    calm(books, ts=104.0)
    (closed,) = arb.evaluate(BTC, 104.0)
    assert isinstance(closed, ArbClosed)
    assert closed.duration_s == pytest.approx(3.0)
    assert closed.peak_edge_pct == pytest.approx((1006 * 0.999 - 1001) / 1001 * 100)
    assert closed.reason == "below_threshold"
    assert arb.open_opportunities("m1") == []


def test_only_monitors_whose_threshold_is_reached_fire() -> None:
    books = Books()
    calm(books)
    arb = engine(books)
    for i, edge in enumerate([0.1, 0.2, 0.25, 0.5, 1.0]):
        arb.add_monitor(monitor(f"m{i}", edge), 100.0)
    books.set(OKX, 100.5, 100.7, ts=101.0)  # net edge ~0.30 %
    books.set(BIN, 99.9, 100.0, ts=101.0)
    fired = sorted(e.monitor_id for e in arb.evaluate(BTC, 101.0))
    assert fired == ["m0", "m1", "m2"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"state": BookState.STALE}, "not_live"),
        ({"state": BookState.SYNCING}, "not_live"),
        ({"state": BookState.POLLED}, "not_live"),
        ({"ts": 110.0}, "skew"),
    ],
)
def test_a_failing_guard_closes_and_prevents_alerts(change: dict[str, object], reason: str) -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.5, 100.7, ts=101.0)
    arb = engine(books)
    arb.add_monitor(monitor(), 100.0)
    assert len(arb.evaluate(BTC, 101.0)) == 1
    books.set(OKX, 100.5, 100.7, **{"ts": 101.0, **change})  # type: ignore[arg-type]
    (closed,) = arb.evaluate(BTC, 111.0)
    assert isinstance(closed, ArbClosed)
    assert closed.reason == reason
    assert closed.last_edge_pct is None
    assert arb.guards[reason] >= 1
    assert arb.evaluate(BTC, 112.0) == []  # and nothing opens while it lasts


def test_polled_books_count_only_when_the_monitor_allows_them() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.5, 100.7, ts=101.0, state=BookState.POLLED)
    arb = engine(books)
    arb.add_monitor(monitor("strict"), 100.0)
    arb.add_monitor(monitor("lenient", allow_polled=True), 100.0)
    assert [e.monitor_id for e in arb.evaluate(BTC, 101.0)] == ["lenient"]


def test_crossed_book_is_never_used() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    okx = books.set(OKX, 100.5, 100.7, ts=101.0)
    okx.asks.set(100.4, 1.0)  # bid 100.5 >= ask 100.4 on one venue
    arb = engine(books)
    arb.add_monitor(monitor(), 100.0)
    assert arb.evaluate(BTC, 101.0) == []
    # Counted for the pair whose prices could have opened something (buy Binance, sell OKX).
    assert arb.guards["crossed"] == 1


def test_an_edge_above_the_sanity_cap_is_suspect_not_an_alert() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 120.0, 121.0, ts=101.0)
    arb = engine(books, sanity_cap_pct=5.0)
    arb.add_monitor(monitor(), 100.0)
    assert arb.evaluate(BTC, 101.0) == []
    assert arb.guards["suspect"] == 1


def test_thin_books_report_the_size_actually_available() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, size=2.0, ts=101.0)
    books.books[InstrumentKey(BIN, BTC)].asks.replace([(100.0, 2.0)])
    books.set(OKX, 100.6, 100.7, ts=101.0)
    arb = engine(books)
    arb.add_monitor(monitor(), 100.0)
    (opened,) = arb.evaluate(BTC, 101.0)
    assert isinstance(opened, ArbOpened)
    assert opened.size == pytest.approx(2.0)
    assert opened.notional == pytest.approx(200.0)
    assert not opened.complete


def test_fee_overrides_and_profit_thresholds() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.15, 100.3, ts=101.0)  # gross 0.15 %: negative after 0.2 % of fees
    arb = engine(books)
    arb.add_monitor(monitor("default_fees", 0.05), 100.0)
    arb.add_monitor(monitor("vip", 0.05, fees_pct=((BIN, 0.0), (OKX, 0.0))), 100.0)
    arb.add_monitor(
        monitor("profit", None, min_profit=1.0, fees_pct=((BIN, 0.0), (OKX, 0.0))), 100.0
    )
    arb.add_monitor(
        monitor("profit_big", None, min_profit=2.0, fees_pct=((BIN, 0.0), (OKX, 0.0))), 100.0
    )
    assert sorted(e.monitor_id for e in arb.evaluate(BTC, 101.0)) == ["profit", "vip"]


def test_a_profit_floor_holds_at_the_monitors_own_size_not_its_tiers() -> None:
    """700 at the 1,000 tier: 5 of profit needs 5 / 700 = 0.71 %, not 5 / 1,000 = 0.5 %."""
    arb = engine(Books())
    floor = monitor("p", None, min_profit=5.0, notional=700.0)
    assert arb.threshold_for(floor) == pytest.approx(5.0 / 700.0 * 100.0)
    both = monitor("b", 0.9, min_profit=5.0, notional=700.0)
    assert arb.threshold_for(both) == 0.9  # both must hold: the higher of the two


def test_sizes_map_to_the_smallest_covering_tier() -> None:
    arb = engine(Books())
    assert arb.tier_for(1000) == 1000
    assert arb.tier_for(3000) == 5000
    assert arb.tier_for(1_000_000) == 100_000
    assert arb.tier_for(10) == 100


def test_minimum_duration_opens_on_tick() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.5, 100.7, ts=101.0)
    arb = engine(books)
    arb.add_monitor(monitor(min_duration_s=2.0), 100.0)
    assert arb.evaluate(BTC, 101.0) == []
    assert arb.tick(102.0) == []
    (opened,) = arb.tick(103.0)
    assert isinstance(opened, ArbOpened)
    assert opened.ts == 103.0


def test_one_shot_monitor_is_done_after_its_first_alert() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.5, 100.7, ts=101.0)
    arb = engine(books)
    arb.add_monitor(monitor(policy=FiringPolicy.ONCE), 100.0)
    assert len(arb.evaluate(BTC, 101.0)) == 1
    assert arb.finished == ["m1"]
    assert "m1" not in arb.monitors
    calm(books, ts=102.0)
    books.set(OKX, 100.5, 100.7, ts=103.0)
    books.set(BIN, 99.9, 100.0, ts=103.0)
    assert arb.evaluate(BTC, 103.0) == []


def test_monitor_added_during_an_opportunity_alerts_at_once_and_removal_is_silent() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.5, 100.7, ts=101.0)
    arb = engine(books)
    arb.add_monitor(monitor("first"), 100.0)
    arb.evaluate(BTC, 101.0)
    events: list[Event] = arb.add_monitor(monitor("second"), 101.5)
    assert [e.monitor_id for e in events] == ["second"]
    arb.remove_monitor("first")
    calm(books, ts=102.0)
    assert [e.monitor_id for e in arb.evaluate(BTC, 102.0)] == ["second"]
    with pytest.raises(ValueError, match="exists already"):
        arb.add_monitor(monitor("second"), 103.0)


def test_three_venues_evaluate_every_ordered_pair() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.5, 100.7, ts=101.0)
    books.set(BYB, 100.6, 100.8, ts=101.0)
    arb = engine(books)
    arb.add_monitor(
        ArbMonitor(id="m", owner=1, symbols=(BTC,), venues=(BIN, OKX, BYB), min_edge_pct=0.2), 100.0
    )
    pairs = sorted((e.buy_venue.value, e.sell_venue.value) for e in arb.evaluate(BTC, 101.0))
    assert pairs == [("binance", "bybit"), ("binance", "okx")]


def test_open_opportunities_survive_a_restart_without_a_new_alert() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.6, 100.8, ts=101.0)
    before = engine(books)
    before.add_monitor(monitor(), 100.0)
    assert len(before.evaluate(BTC, 101.0)) == 1
    saved = before.export_open()
    assert [(o.buy_venue, o.sell_venue, o.opened_at) for o in saved["m1"]] == [(BIN, OKX, 101.0)]
    # A new process: same monitor, restored state, same market: no second "open".
    after = engine(books)
    assert after.add_monitor(monitor(), 200.0) == []
    assert after.restore_open("m1", saved["m1"]) == 1
    assert after.evaluate(BTC, 201.0) == []
    calm(books, ts=202.0)
    (closed,) = after.evaluate(BTC, 202.0)
    assert isinstance(closed, ArbClosed)
    assert closed.opened_at == 101.0
    assert closed.duration_s == pytest.approx(101.0)
    assert closed.peak_edge_pct == pytest.approx(saved["m1"][0].peak_edge_pct)


def test_a_restored_opening_waits_for_syncing_books_within_its_grace() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.6, 100.8, ts=101.0)
    before = engine(books)
    before.add_monitor(monitor(), 100.0)
    before.evaluate(BTC, 101.0)
    saved = before.export_open()["m1"]
    books.set(OKX, 100.6, 100.8, ts=101.0, state=BookState.SYNCING)  # the restart
    after = engine(books)
    after.add_monitor(monitor(), 200.0)
    after.restore_open("m1", saved, confirm_by=260.0)
    assert after.evaluate(BTC, 201.0) == []  # still syncing: no fake close
    books.set(OKX, 100.6, 100.8, ts=210.0)
    books.set(BIN, 99.9, 100.0, ts=210.0)
    assert after.evaluate(BTC, 210.0) == []  # live again and still open: nothing to say
    books.set(OKX, 100.6, 100.8, ts=211.0, state=BookState.STALE)
    (closed,) = after.evaluate(BTC, 211.0)  # confirmed once: a later failure closes it
    assert isinstance(closed, ArbClosed)
    assert closed.opened_at == 101.0


def test_a_restored_opening_whose_books_never_return_closes_after_the_grace() -> None:
    books = Books()
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.6, 100.8, ts=101.0)
    before = engine(books)
    before.add_monitor(monitor(), 100.0)
    before.evaluate(BTC, 101.0)
    saved = before.export_open()["m1"]
    books.set(OKX, 100.6, 100.8, ts=101.0, state=BookState.SYNCING)
    after = engine(books)
    after.add_monitor(monitor(), 200.0)
    after.restore_open("m1", saved, confirm_by=260.0)
    assert after.evaluate(BTC, 259.0) == []
    (closed,) = after.evaluate(BTC, 261.0)
    assert isinstance(closed, ArbClosed)
    assert closed.reason == "not_live"


def test_an_opening_and_its_live_figures_carry_each_legs_book_tier() -> None:
    books = Books()
    calm(books)
    arb = engine(books)
    arb.add_monitor(monitor(), 100.0)
    arb.evaluate(BTC, 100.0)
    books.set(OKX, 100.5, 100.7, ts=101.0).integrity = Integrity.SNAPSHOT  # e.g. no sequence
    polled = books.set(BIN, 99.9, 100.0, ts=101.0, state=BookState.POLLED)
    arb.remove_monitor("m1")
    arb.add_monitor(monitor(allow_polled=True), 101.0)
    (opened,) = arb.evaluate(BTC, 101.0)
    assert isinstance(opened, ArbOpened)
    # A book kept from REST polls is a snapshot too, whatever its venue checks when streaming.
    assert polled.integrity is Integrity.VERIFIED
    assert opened.trust == (Integrity.SNAPSHOT, Integrity.SNAPSHOT)
    (live,) = arb.open_opportunities("m1")
    assert live.trust == (Integrity.SNAPSHOT, Integrity.SNAPSHOT)
    books.set(BIN, 99.9, 100.0, ts=102.0)  # streaming again: verified
    books.set(OKX, 100.5, 100.7, ts=102.0)
    arb.evaluate(BTC, 102.0)
    (live,) = arb.open_opportunities("m1")
    assert live.trust == (Integrity.VERIFIED, Integrity.SNAPSHOT)


def test_a_monitor_requiring_verified_books_ignores_a_pair_with_a_snapshot_leg() -> None:
    books = Books()
    calm(books)
    arb = engine(books)
    arb.add_monitor(monitor("default"), 100.0)
    arb.add_monitor(monitor("strict", min_integrity=Integrity.VERIFIED), 100.0)
    arb.add_monitor(monitor("any", min_integrity=Integrity.UNVERIFIED), 100.0)
    books.set(BIN, 99.9, 100.0, ts=101.0)
    books.set(OKX, 100.5, 100.7, ts=101.0).integrity = Integrity.SNAPSHOT  # e.g. no sequence
    opened = arb.evaluate(BTC, 101.0)
    assert sorted(e.monitor_id for e in opened) == ["any", "default"]
    assert arb.guards["below_tier"] == 1  # counted once for the pair, not per monitor
    # The venue turns out unverified: only the monitor that accepts every tier keeps it.
    books.set(OKX, 100.5, 100.7, ts=102.0).integrity = Integrity.UNVERIFIED
    closed = arb.evaluate(BTC, 102.0)
    assert [(e.monitor_id, e.reason) for e in closed if isinstance(e, ArbClosed)] == [
        ("default", "unverified")
    ]
    assert [o.trust for o in arb.open_opportunities("any")] == [
        (Integrity.VERIFIED, Integrity.UNVERIFIED)
    ]
    # Verified again: the strict monitor opens too; the others stay open without a new alert.
    books.set(OKX, 100.5, 100.7, ts=103.0).integrity = Integrity.VERIFIED
    reopened = arb.evaluate(BTC, 103.0)
    assert sorted(e.monitor_id for e in reopened) == ["default", "strict"]


def test_polled_books_and_verified_only_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="either polled books or integrity=verified"):
        monitor(allow_polled=True, min_integrity=Integrity.VERIFIED)
