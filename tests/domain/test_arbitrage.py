from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goquant_bot.domain.arbitrage import Guard, PairQuote, check_pair, quote_pair
from goquant_bot.domain.book import BookSide, BookState, OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue

BTC_USDT = Symbol("BTC", "USDT")


def book(venue: Venue, bids: list[tuple[float, float]], asks: list[tuple[float, float]], *,
         state: BookState = BookState.LIVE, recv_ts: float = 100.0, symbol: Symbol = BTC_USDT) -> OrderBook:  # fmt: skip
    b = OrderBook(InstrumentKey(venue, symbol))
    b.bids.replace(bids)
    b.asks.replace(asks)
    b.state, b.recv_ts = state, recv_ts
    return b


def test_vwap_walks_the_depth_for_the_size() -> None:
    buy = book(Venue.OKX, [(99.0, 1)], [(100.0, 2), (101.0, 5)])
    sell = book(Venue.BINANCE, [(103.0, 1), (102.0, 10)], [(104.0, 1)])
    quote = quote_pair(buy, sell, notional=402.0)
    assert quote is not None
    # 2 @ 100 = 200, then 202 / 101 = 2 @ 101: 4 BTC for 402 USDT
    assert quote.size == pytest.approx(4.0)
    assert quote.buy_vwap == pytest.approx(100.5)
    # sold: 1 @ 103 + 3 @ 102 = 409
    assert quote.sell_notional == pytest.approx(409.0)
    assert quote.complete
    edge, profit = quote.net(0.1, 0.1)
    cost, proceeds = 402 * 1.001, 409 * 0.999
    assert profit == pytest.approx(proceeds - cost)
    assert edge == pytest.approx((proceeds - cost) / cost * 100)


def test_deep_edge_at_the_top_vanishes_at_size() -> None:
    buy = book(Venue.OKX, [(99.0, 1)], [(100.0, 0.001), (100.6, 50)])
    sell = book(Venue.BINANCE, [(100.5, 0.001), (100.3, 50)], [(101.0, 1)])
    top = quote_pair(buy, sell, notional=0.1)
    assert top is not None
    assert top.net(0.1, 0.1)[0] > 0.2
    at_size = quote_pair(buy, sell, notional=1000.0)
    assert at_size is not None
    assert at_size.net(0.1, 0.1)[0] < 0


def test_thin_sell_side_limits_the_size_and_says_so() -> None:
    buy = book(Venue.OKX, [(99.0, 1)], [(100.0, 100)])
    sell = book(Venue.BINANCE, [(102.0, 2)], [(103.0, 1)])
    quote = quote_pair(buy, sell, notional=1000.0)
    assert quote is not None
    assert quote.size == pytest.approx(2.0)
    assert quote.buy_notional == pytest.approx(200.0)
    assert quote.sell_notional == pytest.approx(204.0)
    assert not quote.complete


def test_thin_buy_side_is_partial() -> None:
    buy = book(Venue.OKX, [(99.0, 1)], [(100.0, 3)])
    sell = book(Venue.BINANCE, [(102.0, 20)], [(103.0, 1)])
    quote = quote_pair(buy, sell, notional=1000.0)
    assert quote is not None
    assert (quote.size, quote.buy_notional, quote.complete) == (3.0, 300.0, False)


def test_empty_side_gives_no_quote() -> None:
    assert quote_pair(book(Venue.OKX, [], []), book(Venue.BINANCE, [(1.0, 1)], []), 100) is None
    assert quote_pair(book(Venue.OKX, [], [(1.0, 1)]), book(Venue.BINANCE, [], []), 100) is None


@pytest.mark.parametrize(
    ("changes", "allow_polled", "expected"),
    [
        ({}, False, None),
        ({"buy_state": BookState.STALE}, False, Guard.NOT_LIVE),
        ({"sell_state": BookState.SYNCING}, False, Guard.NOT_LIVE),
        ({"buy_state": BookState.POLLED}, False, Guard.NOT_LIVE),
        ({"buy_state": BookState.POLLED}, True, None),
        ({"sell_ts": 106.0}, False, Guard.SKEW),
        ({"sell_symbol": Symbol("BTC", "USDC")}, False, Guard.QUOTE_MISMATCH),
        ({"crossed": True}, False, Guard.CROSSED),
    ],
)
def test_guards(changes: dict[str, object], allow_polled: bool, expected: Guard | None) -> None:
    buy = book(Venue.OKX, [(99.0, 1)], [(100.0, 1)], state=changes.get("buy_state", BookState.LIVE))  # type: ignore[arg-type]
    sell = book(
        Venue.BINANCE, [(101.0, 1)], [(102.0, 1)],
        state=changes.get("sell_state", BookState.LIVE),  # type: ignore[arg-type]
        recv_ts=changes.get("sell_ts", 101.0),  # type: ignore[arg-type]
        symbol=changes.get("sell_symbol", BTC_USDT),  # type: ignore[arg-type]
    )  # fmt: skip
    if changes.get("crossed"):
        sell.asks.set(100.5, 1.0)
    assert check_pair(buy, sell, max_skew_s=5.0, allow_polled=allow_polled) is expected


levels = st.lists(
    st.tuples(st.integers(1, 400).map(lambda i: 100 + i / 4), st.integers(1, 50).map(lambda i: i / 10)),
    min_size=1, max_size=30, unique_by=lambda level: level[0],
)  # fmt: skip


@given(asks=levels, notional=st.floats(min_value=1, max_value=20_000))
def test_fill_notional_equals_a_brute_force_walk(
    asks: list[tuple[float, float]], notional: float
) -> None:
    side = BookSide(descending=False)
    side.replace(asks)
    qty = spent = 0.0
    for price, size in sorted(asks):
        take = min(size, (notional - spent) / price)
        if take <= 0:
            break
        qty += take
        spent += take * price
    got_qty, got_spent = side.fill_notional(notional)
    assert got_qty == pytest.approx(qty, rel=1e-9)
    assert got_spent == pytest.approx(spent, rel=1e-9)


@given(bids=levels, qty=st.floats(min_value=0.01, max_value=500))
def test_fill_qty_equals_a_brute_force_walk(bids: list[tuple[float, float]], qty: float) -> None:
    side = BookSide(descending=True)
    side.replace(bids)
    filled = amount = 0.0
    for price, size in sorted(bids, reverse=True):
        take = min(size, qty - filled)
        if take <= 0:
            break
        filled += take
        amount += take * price
    got = side.fill_qty(qty)
    assert got[0] == pytest.approx(filled, rel=1e-9)
    assert got[1] == pytest.approx(amount, rel=1e-9)


def test_pair_quote_prices() -> None:
    quote = PairQuote(size=2.0, buy_notional=200.0, sell_notional=204.0, complete=True)
    assert (quote.buy_vwap, quote.sell_vwap) == (100.0, 102.0)
    assert quote.net(0.0, 0.0) == pytest.approx((2.0, 4.0))
