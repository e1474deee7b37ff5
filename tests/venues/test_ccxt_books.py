"""Our guards on books handed over by ccxt: timestamps, our clock, crossed books, REST checks."""

from __future__ import annotations

from typing import Any

from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.ccxt_books import CcxtBooks, GuardConfig, protocol_for
from goquant_bot.venues.ccxt_markets import markets_body, parse_instruments
from goquant_bot.venues.ccxt_net import RestBudget

BTC = Symbol("BTC", "KRW")
ETH = Symbol("ETH", "KRW")
GUARD = GuardConfig(max_lag_s=5.0, silence_s=20.0, crosscheck_interval_s=60.0, tolerance_bps=50.0)
T0 = 1_000_000.0


def books(*symbols: Symbol) -> CcxtBooks:
    proto = protocol_for(Venue.UPBIT, GUARD)(SymbolMap(), depth=2)
    proto.subscribe(list(symbols), T0)
    proto.drain()
    return proto


def ccxt_book(bid: float, ask: float, ts: float | None = T0, levels: int = 3) -> dict[str, Any]:
    return {
        "bids": [[bid - i, 1.0 + i] for i in range(levels)],
        "asks": [[ask + i, 2.0 + i] for i in range(levels)],
        "timestamp": None if ts is None else int(ts * 1000),
    }


def test_a_fresh_book_is_published_unverified_and_trimmed_to_depth() -> None:
    proto = books(BTC)
    assert proto.on_book(BTC, ccxt_book(100.0, 101.0), T0 + 0.1)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert book.integrity is Integrity.UNVERIFIED
    assert book.bids.levels() == [(100.0, 1.0), (99.0, 2.0)]
    assert book.asks.levels() == [(101.0, 2.0), (102.0, 3.0)]
    assert book.venue_ts == T0
    assert proto.drain().changed == {BTC}


def test_a_book_stamped_too_long_ago_turns_stale_and_is_not_used() -> None:
    proto = books(BTC)
    proto.on_book(BTC, ccxt_book(100.0, 101.0), T0)
    assert not proto.on_book(BTC, ccxt_book(90.0, 91.0, ts=T0), T0 + 6.0)
    book = proto.books[BTC]
    assert book.state is BookState.STALE
    assert book.bids.best_price() == 100.0
    assert proto.stats.errors["lagging_book"] == 1
    # A fresh stamp brings it back.
    assert proto.on_book(BTC, ccxt_book(90.0, 91.0, ts=T0 + 6.0), T0 + 6.1)
    assert book.state is BookState.LIVE


def test_a_book_from_the_future_or_older_than_the_last_is_not_used() -> None:
    proto = books(BTC)
    assert not proto.on_book(BTC, ccxt_book(100.0, 101.0, ts=T0 + 60.0), T0)
    assert proto.stats.errors["future_timestamp"] == 1
    assert proto.on_book(BTC, ccxt_book(100.0, 101.0, ts=T0 + 1.0), T0 + 1.0)
    assert not proto.on_book(BTC, ccxt_book(50.0, 51.0, ts=T0 + 0.5), T0 + 1.1)
    assert proto.stats.skipped["older_book"] == 1
    assert proto.books[BTC].bids.best_price() == 100.0


def test_a_crossed_book_is_never_published_and_held_back_until_rebuilt() -> None:
    proto = books(BTC)
    proto.on_book(BTC, ccxt_book(100.0, 101.0), T0)
    assert not proto.on_book(BTC, ccxt_book(102.0, 101.0), T0 + 0.1)
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert len(book.bids) == len(book.asks) == 0
    assert proto.stats.errors["crossed"] == 1
    # A sane book from the same (suspect) stream is not used before the rebuild.
    assert not proto.on_book(BTC, ccxt_book(100.0, 101.0), T0 + 0.2)
    assert proto.take_rebuilds() == {BTC}
    assert proto.take_rebuilds() == set()
    proto.rebuilt(BTC, T0 + 0.3)
    assert proto.on_book(BTC, ccxt_book(100.0, 101.0), T0 + 0.4)


def test_an_empty_or_unreadable_book_is_resynced() -> None:
    proto = books(BTC)
    assert not proto.on_book(BTC, {"bids": [], "asks": [], "timestamp": int(T0 * 1000)}, T0)
    assert proto.stats.errors["empty_book"] == 1
    proto.rebuilt(BTC, T0)
    assert not proto.on_book(BTC, {"bids": [["x", 1]], "asks": [], "timestamp": None}, T0)
    assert proto.stats.errors["bad_book"] == 1
    assert proto.take_rebuilds() == {BTC}


def test_a_silent_book_turns_stale_on_our_clock_and_is_rebuilt() -> None:
    proto = books(BTC, ETH)
    proto.on_book(BTC, ccxt_book(100.0, 101.0), T0)
    proto.on_book(ETH, ccxt_book(10.0, 11.0, ts=T0 + 15.0), T0 + 15.0)
    proto.check(T0 + 21.0)
    assert proto.books[BTC].state is BookState.STALE
    assert proto.books[ETH].state is BookState.LIVE
    assert proto.take_rebuilds() == {BTC}
    assert proto.stats.errors["silent_book"] == 1


def test_a_book_that_never_arrives_is_rebuilt_too() -> None:
    proto = books(BTC)
    proto.check(T0 + 19.0)
    assert proto.take_rebuilds() == set()
    proto.check(T0 + 21.0)
    assert proto.take_rebuilds() == {BTC}


def test_rest_within_tolerance_keeps_the_book() -> None:
    proto = books(BTC)
    proto.on_book(BTC, ccxt_book(100_000.0, 100_100.0), T0)
    assert proto.crosscheck_due(T0 + 59.0) == []
    assert proto.crosscheck_due(T0 + 60.0) == [BTC]
    assert proto.on_crosscheck(BTC, ccxt_book(100_200.0, 100_300.0), T0 + 60.0)  # 20 bps
    assert proto.books[BTC].state is BookState.LIVE


def test_a_rest_mismatch_marks_the_book_bad_until_rebuilt() -> None:
    proto = books(BTC, ETH)
    proto.on_book(BTC, ccxt_book(100_000.0, 100_100.0), T0)
    proto.on_book(ETH, ccxt_book(10.0, 11.0), T0)
    proto.crosscheck_asked(BTC, T0 + 60.0)
    assert not proto.on_crosscheck(BTC, ccxt_book(100_000.0, 101_000.0), T0 + 60.0)  # 90 bps
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert proto.stats.errors["rest_mismatch"] == 1
    assert not proto.on_book(BTC, ccxt_book(100_000.0, 100_100.0, ts=T0 + 61.0), T0 + 61.0)
    assert proto.books[ETH].state is BookState.LIVE  # the other book is untouched
    assert proto.take_rebuilds() == {BTC}
    proto.rebuilt(BTC, T0 + 62.0)
    assert proto.on_book(BTC, ccxt_book(100_000.0, 100_100.0, ts=T0 + 62.0), T0 + 62.0)
    assert proto.crosscheck_due(T0 + 62.0) == [ETH]  # the rebuilt one is checked later


def test_rest_with_a_missing_side_ours_has_is_a_mismatch() -> None:
    proto = books(BTC)
    proto.on_book(BTC, ccxt_book(100.0, 101.0), T0)
    assert not proto.on_crosscheck(BTC, {"bids": [[100.0, 1.0]], "asks": []}, T0 + 1.0)


def test_a_stream_error_clears_only_its_own_book() -> None:
    proto = books(BTC, ETH)
    proto.on_book(BTC, ccxt_book(100.0, 101.0), T0)
    proto.on_book(ETH, ccxt_book(10.0, 11.0), T0)
    proto.on_error(BTC, "NetworkError: gone", T0 + 1.0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.books[ETH].state is BookState.LIVE
    assert proto.stats.errors["stream_error"] == 1


def test_trades_are_read_while_wanted_and_bad_ones_counted() -> None:
    proto = books(BTC)
    raw = [
        {"id": "7", "price": 100.5, "amount": 0.25, "side": "buy", "timestamp": 1_000_000_000},
        {"id": "8", "price": "x", "amount": 1, "side": "sell", "timestamp": None},
        {"id": "9", "price": float("nan"), "amount": 1.0, "side": "buy"},
        {"id": "10", "price": 0.0, "amount": -5.0, "side": "sell"},
        {"id": "11", "price": float("inf"), "amount": 1.0, "side": "buy"},
        {"id": "12", "price": 100.0, "amount": 1.0, "side": "sideways"},
        "not a trade",
    ]
    proto.on_trades(BTC, raw, T0)
    assert proto.stats.skipped["trades_unwanted"] == 1
    proto.subscribe_trades([BTC], T0)
    proto.on_trades(BTC, raw, T0)
    (trade,) = proto.drain().trades
    assert (trade.price, trade.size, trade.side, trade.trade_id) == (
        100.5,
        0.25,
        TakerSide.BUY,
        "7",
    )
    assert trade.venue_ts == 1_000_000.0
    assert proto.stats.errors["bad_trade"] == 6  # never published, as on every venue


def test_markets_become_spot_instruments_with_their_steps() -> None:
    markets = [
        {"symbol": "BTC/KRW", "base": "BTC", "quote": "KRW", "spot": True, "precision": {"price": 1000.0, "amount": 1e-8}},
        {"symbol": "ETH/USDT", "base": "ETH", "quote": "USDT", "spot": True, "active": False, "precision": {}},
        {"symbol": "BTC/USDT:USDT", "base": "BTC", "quote": "USDT", "spot": False},
        {"symbol": "@107/USDC", "base": "@107", "quote": "USDC", "spot": True},
    ]  # fmt: skip
    instruments = parse_instruments(Venue.UPBIT, markets_body(markets, precision_mode=4))
    assert [(str(i.symbol), i.native, i.trading, i.tick_size) for i in instruments] == [
        ("BTC-KRW", "BTC/KRW", True, 1000.0),
        ("ETH-USDT", "ETH/USDT", False, None),
    ]
    places = parse_instruments(
        Venue.UPBIT, markets_body([markets[0] | {"precision": {"price": 2}}], precision_mode=2)
    )
    assert places[0].tick_size == 0.01


def test_the_rest_budget_spreads_requests_over_the_minute() -> None:
    now = [0.0]
    budget = RestBudget(30, lambda: now[0])  # one request every 2 s
    assert budget.take()
    assert not budget.take()
    now[0] = 1.0
    assert not budget.take()
    now[0] = 2.0
    assert budget.take()
    now[0] = 600.0  # a long quiet spell earns no burst
    assert budget.take()
    assert not budget.take()


def test_levels_that_are_not_positive_finite_pairs_rebuild_the_book_and_never_crash() -> None:
    proto = books(BTC)
    assert proto.on_book(BTC, ccxt_book(100.0, 101.0), T0)
    for side in ([[float("nan"), 1.0]], [{"price": 100.0}], [[100.0]], [[-1.0, 1.0]]):
        proto.rebuilt(BTC, T0)
        assert not proto.on_book(BTC, {"bids": side, "asks": [[101.0, 1.0]], "timestamp": None}, T0)
        assert proto.books[BTC].state is BookState.SYNCING
        assert proto.take_rebuilds() == {BTC}
    assert proto.stats.errors["bad_book"] == 4
    proto.rebuilt(BTC, T0)
    assert proto.on_book(BTC, ccxt_book(100.0, 101.0), T0)
    # An unreadable REST answer proves nothing: counted, the book stays.
    assert proto.on_crosscheck(BTC, {"bids": [{"price": 1}], "asks": []}, T0)
    assert proto.stats.errors["crosscheck_unreadable"] == 1
    assert proto.books[BTC].state is BookState.LIVE
