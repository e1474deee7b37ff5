from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goquant_bot.domain.book import BookSide, BookState, OrderBook
from goquant_bot.domain.cbbo import Cbbo, Depth, VenueRanking, consolidate
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue

BTC = Symbol("BTC", "USDT")
NOW = 1_000.0
BN, OK, BY, DB = Venue.BINANCE, Venue.OKX, Venue.BYBIT, Venue.DERIBIT


def book(
    venue: Venue,
    bids: Sequence[tuple[float, float]] = (),
    asks: Sequence[tuple[float, float]] = (),
    *,
    state: BookState = BookState.LIVE,
    recv_ts: float | None = NOW - 0.5,
    symbol: Symbol = BTC,
) -> OrderBook:
    result = OrderBook(InstrumentKey(venue, symbol))
    for price, size in bids:
        result.bids.set(price, size)
    for price, size in asks:
        result.asks.set(price, size)
    result.state = state
    result.recv_ts = recv_ts
    return result


def test_best_bid_and_offer_with_ties_sizes_mid_and_spread() -> None:
    books = [
        book(OK, [(100.0, 2.0), (99.0, 5.0)], [(101.0, 1.0)]),
        book(BN, [(100.0, 1.5)], [(100.5, 3.0), (101.0, 1.0)]),
        book(BY, [(99.5, 9.0)], [(100.5, 0.25)]),
    ]
    view = consolidate(books, NOW)
    assert (view.bid, view.bid_size, view.bid_venues) == (100.0, 3.5, (BN, OK))
    assert (view.ask, view.ask_size, view.ask_venues) == (100.5, 3.25, (BN, BY))
    assert view.mid == 100.25
    assert view.spread == 0.5
    assert view.spread_bps == pytest.approx(0.5 / 100.25 * 1e4)
    assert not view.locked
    assert not view.crossed
    assert [q.venue for q in view.venues] == [BN, BY, OK]  # sorted by venue name
    okx = view.quote(OK)
    assert okx is not None
    assert (okx.bid, okx.bid_size, okx.ask, okx.ask_size) == (100.0, 2.0, 101.0, 1.0)
    assert okx.spread_bps == pytest.approx(1.0 / 100.5 * 1e4)
    assert okx.age_s == 0.5
    assert okx.counted
    assert okx.excluded is None


def test_stale_syncing_and_polled_books_are_listed_but_not_counted() -> None:
    books = [
        book(BN, [(100.0, 1.0)], [(102.0, 1.0)]),
        book(OK, [(101.0, 1.0)], [(101.5, 1.0)], state=BookState.STALE),
        book(BY, [(101.2, 1.0)], [(101.4, 1.0)], state=BookState.SYNCING),
        book(DB, [(100.5, 1.0)], [(101.8, 1.0)], state=BookState.POLLED),
    ]
    view = consolidate(books, NOW)
    assert (view.bid, view.bid_venues, view.ask, view.ask_venues) == (100.0, (BN,), 102.0, (BN,))
    assert view.counted_venues == (BN,)
    table = {q.venue: (q.state, q.counted, q.excluded) for q in view.venues}
    assert table == {
        BN: (BookState.LIVE, True, None),
        OK: (BookState.STALE, False, "stale"),
        BY: (BookState.SYNCING, False, "syncing"),
        DB: (BookState.POLLED, False, "polled"),
    }
    stale_row = view.quote(OK)
    assert stale_row is not None
    assert stale_row.bid == 101.0  # still shown

    polled = consolidate(books, NOW, allow_polled=True)
    assert (polled.bid, polled.bid_venues, polled.ask, polled.ask_venues) == (
        100.5,
        (DB,),
        101.8,
        (DB,),
    )


def test_routed_old_and_self_crossed_books_are_not_counted() -> None:
    books = [
        book(BN, [(100.0, 1.0)], [(102.0, 1.0)]),
        book(DB, [(101.0, 1.0)], [(101.5, 1.0)]),  # Coinbase liquidity routed through Deribit
        book(OK, [(101.0, 1.0)], [(101.5, 1.0)], recv_ts=NOW - 20.0),
        book(BY, [(103.0, 1.0)], [(102.5, 1.0)]),  # broken: its own bid above its ask
    ]
    view = consolidate(books, NOW, max_age_s=10.0, exclude_routed=frozenset({DB}))
    assert (view.bid, view.ask, view.counted_venues) == (100.0, 102.0, (BN,))
    assert {q.venue: q.excluded for q in view.venues} == {
        BN: None,
        DB: "routed",
        OK: "old",
        BY: "crossed",
    }
    never_refreshed = consolidate([book(BN, [(1.0, 1.0)], recv_ts=None)], NOW, max_age_s=10.0)
    assert never_refreshed.bid is None
    assert never_refreshed.venues[0].excluded == "old"
    assert never_refreshed.venues[0].age_s is None


def test_locked_and_crossed_flags_over_counted_venues_only() -> None:
    locked = consolidate(
        [book(BN, [(100.0, 1.0)], [(101.0, 1.0)]), book(OK, [], [(100.0, 2.0)])], NOW
    )
    assert locked.locked
    assert not locked.crossed
    assert locked.spread == 0.0

    pair = [book(BN, [(100.0, 1.0)], [(101.0, 1.0)]), book(OK, [(98.0, 1.0)], [(99.0, 2.0)])]
    crossed = consolidate(pair, NOW)
    assert crossed.crossed
    assert not crossed.locked
    assert (crossed.bid_venues, crossed.ask_venues) == ((BN,), (OK,))
    assert crossed.spread == -1.0
    assert crossed.spread_bps == pytest.approx(-1.0 / 99.5 * 1e4)

    pair[1].state = BookState.STALE  # a stale venue's prices never make a crossing
    assert not consolidate(pair, NOW).crossed


def test_no_eligible_venue_gives_an_empty_view() -> None:
    view = consolidate([book(BN, [(100.0, 1.0)], [(101.0, 1.0)], state=BookState.STALE)], NOW)
    assert (view.bid, view.ask, view.mid, view.spread, view.spread_bps) == (None,) * 5
    assert (view.bid_size, view.bid_venues, view.depth) == (0.0, (), ())
    assert not view.has_quotes
    assert not view.locked
    assert not view.crossed
    assert view.venues[0].depth == ()

    one_side = consolidate([book(BN, [(100.0, 1.0)])], NOW)
    assert one_side.has_quotes
    assert one_side.mid is None
    assert one_side.depth == ()


def test_needs_one_symbol() -> None:
    with pytest.raises(ValueError, match="needs a symbol"):
        consolidate([], NOW)
    assert consolidate([], NOW, symbol=BTC).venues == ()
    eth = book(OK, [(1.0, 1.0)], symbol=Symbol("ETH", "USDT"))
    with pytest.raises(ValueError, match="is not a BTC-USDT book"):
        consolidate([book(BN, [(1.0, 1.0)]), eth], NOW)


def test_depth_bands_per_venue_and_consolidated() -> None:
    # mid 1000: 10 bps = [999, 1001], 50 bps = [995, 1005], 100 bps = [990, 1010]
    books = [
        book(BN, [(999.5, 1.0), (999.2, 2.0), (996.0, 4.0), (980.0, 100.0)], [(1000.5, 1.0)]),
        book(OK, [(998.0, 0.5)], [(1000.8, 3.0), (1004.0, 2.0), (1009.0, 1.0), (1011.0, 50.0)]),
        book(BY, [(999.9, 7.0)], [(1000.1, 7.0)], state=BookState.STALE),
    ]
    view = consolidate(books, NOW)
    assert view.mid == 1000.0
    binance, bybit, okx = (q.depth for q in view.venues)
    assert binance == (Depth(10.0, 3.0, 1.0), Depth(50.0, 7.0, 1.0), Depth(100.0, 7.0, 1.0))
    assert okx == (Depth(10.0, 0.0, 3.0), Depth(50.0, 0.5, 5.0), Depth(100.0, 0.5, 6.0))
    assert bybit[0] == Depth(10.0, 7.0, 7.0)  # shown for the stale venue...
    assert view.depth == (  # ...but not consolidated
        Depth(10.0, 3.0, 4.0),
        Depth(50.0, 7.5, 6.0),
        Depth(100.0, 7.5, 7.0),
    )
    custom = consolidate(books, NOW, depth_bps=(50.0, 5.0))
    assert [d.bps for d in custom.depth] == [5.0, 50.0]
    assert consolidate(books, NOW, depth_bps=()).depth == ()


class _CountingSide(BookSide):
    """A side that records how many levels each read asked for."""

    def __init__(self) -> None:
        super().__init__(descending=True)
        self.reads: list[int | None] = []

    def levels(self, n: int | None = None) -> list[tuple[float, float]]:
        self.reads.append(n)
        return super().levels(n)


def test_depth_walk_stops_at_the_band_edge() -> None:
    deep = book(BN, [], [(1000.0, 1.0)])
    deep.bids = _CountingSide()
    for i in range(1_990):  # down to 4.5: prices stay above 0
        deep.bids.set(999.0 - i * 0.5, 1.0)
    view = consolidate([deep], NOW)
    assert view.depth[-1].bid_size == 19.0  # 999.0 down to 990.0: within 100 bps of mid 999.5
    assert deep.bids.reads == [32]  # one small read, never the whole side

    dense = book(BN, [], [(1000.0, 1.0)])
    dense.bids = _CountingSide()
    for i in range(5_000):
        dense.bids.set(round(999.99 - i * 0.01, 2), 1.0)
    view = consolidate([dense], NOW)
    lowest = view.mid * 0.99  # type: ignore[operator]
    assert view.depth[-1].bid_size == sum(1.0 for p, _ in dense.bids.levels() if p >= lowest)
    assert view.depth[-1].bid_size > 900  # read in growing chunks, still not the 5,000 levels
    assert dense.bids.reads[:-1] == [32, 128, 512, 2048]


prices = st.integers(min_value=180, max_value=220).map(lambda i: i / 2)
sizes = st.integers(min_value=1, max_value=20).map(lambda i: i / 4)
side = st.dictionaries(prices, sizes, max_size=8)
venue_book = st.tuples(side, side, st.sampled_from(list(BookState)))


def _eligible(b: OrderBook) -> bool:
    bid, ask = b.bids.best_price(), b.asks.best_price()
    return b.state is BookState.LIVE and not (bid is not None and ask is not None and bid >= ask)


def _brute_depth(b: OrderBook, mid: float, bps: float) -> tuple[float, float]:
    bid_size = sum(s for p, s in b.bids.levels() if p >= mid * (1 - bps / 1e4))
    ask_size = sum(s for p, s in b.asks.levels() if p <= mid * (1 + bps / 1e4))
    return bid_size, ask_size


@given(st.dictionaries(st.sampled_from(list(Venue)), venue_book, max_size=4))
def test_cbbo_equals_brute_force_over_live_books(
    spec: dict[Venue, tuple[dict[float, float], dict[float, float], BookState]],
) -> None:
    books = [
        book(v, list(bids.items()), list(asks.items()), state=state)
        for v, (bids, asks, state) in spec.items()
    ]
    view = consolidate(books, NOW, symbol=BTC)
    live = [b for b in books if _eligible(b)]
    bests = [(b.key.venue, b.bids.best(), b.asks.best()) for b in live]
    bids = [(v, bid) for v, bid, _ in bests if bid is not None]
    asks = [(v, ask) for v, _, ask in bests if ask is not None]
    best_bid = max((p for _, (p, _) in bids), default=None)
    best_ask = min((p for _, (p, _) in asks), default=None)
    assert view.bid == best_bid
    assert view.ask == best_ask
    assert view.bid_venues == tuple(sorted(v for v, (p, _) in bids if p == best_bid))
    assert view.ask_venues == tuple(sorted(v for v, (p, _) in asks if p == best_ask))
    assert view.bid_size == pytest.approx(sum(s for _, (p, s) in bids if p == best_bid))
    assert view.ask_size == pytest.approx(sum(s for _, (p, s) in asks if p == best_ask))
    assert view.counted_venues == tuple(sorted(b.key.venue for b in live))
    both = best_bid is not None and best_ask is not None
    assert view.crossed == (both and best_bid > best_ask)  # type: ignore[operator]
    assert view.locked == (both and best_bid == best_ask)
    if not both:
        assert view.mid is None
        assert view.depth == ()
        return
    mid = (best_bid + best_ask) / 2  # type: ignore[operator]
    assert view.mid == mid
    for band in view.depth:
        per_venue = [_brute_depth(b, mid, band.bps) for b in live]
        assert band.bid_size == pytest.approx(sum(d[0] for d in per_venue))
        assert band.ask_size == pytest.approx(sum(d[1] for d in per_venue))
    for b in books:
        row = view.quote(b.key.venue)
        assert row is not None
        for band in row.depth:
            assert (band.bid_size, band.ask_size) == pytest.approx(_brute_depth(b, mid, band.bps))


# -- venue ranking ------------------------------------------------------------------------


def at(ts: float, bid: tuple[Venue, ...], ask: tuple[Venue, ...]) -> Cbbo:
    """A CBBO at ``ts`` whose best bid is held by ``bid`` and best offer by ``ask``."""
    books = {v: book(v, recv_ts=ts) for v in (*bid, *ask)}
    for v in bid:
        books[v].bids.set(100.0, 1.0)
    for v in ask:
        books[v].asks.set(101.0, 1.0)
    return consolidate(list(books.values()), ts, symbol=BTC)


def test_ranking_shares_time_weighted_with_ties() -> None:
    ranking = VenueRanking(window_s=600.0, buckets=60)
    ranking.update(at(0.0, (BN,), (OK,)))
    ranking.update(at(30.0, (BN, OK), (OK,)))  # BN held the bid alone for 30 s
    ranking.update(at(40.0, (OK,), (BN,)))  # then tied with OK for 10 s
    assert ranking.shares(60.0) == {
        BN: pytest.approx((40 / 60, 20 / 60)),
        OK: pytest.approx((30 / 60, 40 / 60)),  # the current holders hold until now
    }


def test_ranking_counts_only_time_with_a_best_on_that_side() -> None:
    ranking = VenueRanking(window_s=600.0, buckets=60)
    ranking.update(at(0.0, (BN,), ()))
    ranking.update(at(10.0, (BN,), (OK,)))
    ranking.update(at(20.0, (), ()))  # nothing eligible: time not counted
    ranking.update(at(50.0, (OK,), (OK,)))
    assert ranking.shares(60.0) == {
        BN: pytest.approx((20 / 30, 0.0)),
        OK: pytest.approx((10 / 30, 1.0)),
    }


def test_ranking_window_rolls() -> None:
    ranking = VenueRanking(window_s=600.0, buckets=60)  # 10 s buckets
    assert ranking.shares(0.0) == {}
    ranking.update(at(0.0, (BN,), (BN,)))
    ranking.update(at(300.0, (OK,), (OK,)))
    assert ranking.shares(300.0) == {BN: (1.0, 1.0)}
    # The window is whole buckets: at 600 s it starts at 10 s (BN's first bucket has rolled out).
    assert ranking.shares(600.0) == {
        BN: pytest.approx((290 / 590, 290 / 590)),
        OK: pytest.approx((300 / 590, 300 / 590)),
    }
    # At 900 s the window starts at 310 s: BN's 300 s are gone, OK held all of it.
    ranking.update(at(900.0, (OK,), (BN,)))
    assert ranking.shares(900.0) == {OK: (1.0, 1.0)}
    assert ranking.shares(1200.0) == {
        BN: pytest.approx((0.0, 300 / 590)),
        OK: pytest.approx((1.0, 290 / 590)),
    }


def test_ranking_memory_is_bounded_and_time_never_runs_back() -> None:
    ranking = VenueRanking(window_s=60.0, buckets=6)
    for i in range(1_000):
        ranking.update(at(float(i), (BN if i % 2 else OK,), (BN,)))
    assert len(ranking._buckets) <= 7
    ranking.update(at(500.0, (OK,), (OK,)))  # out of order: no negative time
    shares = ranking.shares(999.0)
    assert shares[BN][1] == 1.0
    assert sum(bid for bid, _ in shares.values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="window above 0"):
        VenueRanking(window_s=0.0)
