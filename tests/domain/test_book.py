from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goquant_bot.domain.book import BookSide, BookState, OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue

KEY = InstrumentKey(Venue.BYBIT, Symbol("BTC", "USDT"))
prices = st.integers(min_value=1, max_value=60).map(lambda i: i / 2)
sizes = st.one_of(st.just(0.0), st.integers(min_value=1, max_value=9).map(float))
updates = st.lists(st.tuples(prices, sizes), max_size=80)


@given(updates=updates, descending=st.booleans())
def test_side_equals_a_brute_force_model(
    updates: list[tuple[float, float]], descending: bool
) -> None:
    side = BookSide(descending=descending)
    model: dict[float, float] = {}
    for price, size in updates:
        side.set(price, size)
        if size == 0:
            model.pop(price, None)
        else:
            model[price] = size
    expected = sorted(model.items(), reverse=descending)
    assert side.levels() == expected
    assert len(side) == len(model)
    assert side.best() == (expected[0] if expected else None)
    assert side.levels(3) == expected[:3]


@given(updates=updates)
def test_apply_text_equals_set(updates: list[tuple[float, float]]) -> None:
    by_set, by_text = BookSide(descending=True), BookSide(descending=True)
    for price, size in updates:
        by_set.set(price, size)
    by_text.apply_text([[str(p), str(s), "0", "1"] for p, s in updates])
    assert by_set.levels() == by_text.levels()


@given(updates=updates, keep=st.integers(min_value=0, max_value=10), descending=st.booleans())
def test_trim_keeps_the_best_levels(
    updates: list[tuple[float, float]], keep: int, descending: bool
) -> None:
    side = BookSide(descending=descending)
    for price, size in updates:
        side.set(price, size)
    before = side.levels()
    side.trim(keep)
    assert side.levels() == before[:keep]
    side.set(1000.0, 1.0)  # still consistent after trimming
    assert (1000.0, 1.0) in side.levels()


def test_replace_drops_zero_sizes_and_sorts() -> None:
    side = BookSide(descending=False)
    side.replace([(3.0, 1.0), (1.0, 2.0), (2.0, 0.0)])
    assert side.levels() == [(1.0, 2.0), (3.0, 1.0)]
    assert side.size_at(2.0) == 0.0


def test_book_l1_and_crossed() -> None:
    book = OrderBook(KEY)
    assert book.l1().bid is None
    assert book.l1().ask is None
    assert not book.is_crossed()
    book.bids.apply_text([["100.5", "2"], ["100.0", "1"]])
    book.asks.apply_text([["101.0", "3"]])
    book.recv_ts, book.venue_ts, book.state = 10.0, 9.5, BookState.LIVE
    l1 = book.l1()
    assert (l1.bid, l1.bid_size, l1.ask, l1.ask_size) == (100.5, 2.0, 101.0, 3.0)
    assert (l1.recv_ts, l1.venue_ts, l1.state, l1.key) == (10.0, 9.5, BookState.LIVE, KEY)
    assert book.age(12.5) == 2.5
    book.asks.set(100.5, 1.0)  # locked on one venue: broken
    assert book.is_crossed()
    book.clear()
    assert book.l1().bid is None
    assert len(book.asks) == 0


def test_symbol_parsing() -> None:
    assert Symbol.parse(" xbt/usdt ") == Symbol("BTC", "USDT")
    assert str(Symbol.parse("eth_usdc")) == "ETH-USDC"
    assert str(InstrumentKey(Venue.OKX, Symbol("BTC", "USDT"))) == "okx:BTC-USDT"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("BTC", "BASE-QUOTE"),
        ("BTC-USDT-SWAP", "BASE-QUOTE"),
        ("BTC-BTC", "same asset"),
        ("B$C-USDT", "not a valid asset"),
        ("", "BASE-QUOTE"),
    ],
)
def test_bad_symbols_are_refused_with_a_reason(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Symbol.parse(bad)


@pytest.mark.parametrize(
    ("price", "size"),
    [
        ("nan", "1"),
        ("inf", "1"),
        ("-inf", "1"),
        ("100", "NaN"),
        ("100", "-inf"),
        ("100", "-2"),
        ("0", "1"),  # a price at or below 0 is no level either
        ("-5", "1"),
    ],
)
def test_non_finite_negative_or_zero_priced_levels_are_refused(price: str, size: str) -> None:
    side = BookSide(descending=True)
    side.apply_text([["99", "1"]])
    with pytest.raises(ValueError, match="finite"):
        side.apply_text([[price, size]])
    with pytest.raises(ValueError, match="finite"):
        side.set(float(price), float(size))
    with pytest.raises(ValueError, match="finite"):
        side.replace([(float(price), float(size))])
    assert side.levels() == [(99.0, 1.0)]
