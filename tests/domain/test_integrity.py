"""Every book says how far it can be trusted, and signals never stand on an unverified one."""

from __future__ import annotations

from goquant_bot.domain.arbitrage import Guard, check_pair, conversion_from
from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.cbbo import consolidate
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue

BTC = Symbol("BTC", "USDT")


def live(venue: Venue, bid: float, ask: float, integrity: Integrity) -> OrderBook:
    book = OrderBook(InstrumentKey(venue, BTC), integrity)
    book.bids.replace([(bid, 1.0)])
    book.asks.replace([(ask, 1.0)])
    book.state, book.recv_ts = BookState.LIVE, 10.0
    return book


def test_a_polled_book_is_trusted_as_a_snapshot_only() -> None:
    checked = live(Venue.BINANCE, 100.0, 101.0, Integrity.VERIFIED)
    assert checked.trust is Integrity.VERIFIED
    checked.state = BookState.POLLED  # kept from REST snapshots while the stream is down
    assert checked.trust is Integrity.SNAPSHOT
    unverified = live(Venue.GEMINI, 100.0, 101.0, Integrity.UNVERIFIED)
    unverified.state = BookState.POLLED
    assert unverified.trust is Integrity.UNVERIFIED  # polling never raises the tier


def test_arbitrage_accepts_verified_and_snapshot_books_never_unverified() -> None:
    buy = live(Venue.BINANCE, 99.0, 100.0, Integrity.VERIFIED)
    snapshot = live(Venue.GEMINI, 101.0, 102.0, Integrity.SNAPSHOT)
    unverified = live(Venue.OKX, 101.0, 102.0, Integrity.UNVERIFIED)
    assert check_pair(buy, snapshot, max_skew_s=5.0, allow_polled=False) is None
    assert check_pair(buy, unverified, max_skew_s=5.0, allow_polled=False) is Guard.UNVERIFIED
    assert check_pair(unverified, buy, max_skew_s=5.0, allow_polled=False) is Guard.UNVERIFIED


def test_the_cbbo_counts_snapshot_books_and_leaves_unverified_ones_out() -> None:
    books = [
        live(Venue.BINANCE, 100.0, 101.0, Integrity.VERIFIED),
        live(Venue.GEMINI, 100.5, 101.5, Integrity.SNAPSHOT),
        live(Venue.OKX, 100.9, 100.95, Integrity.UNVERIFIED),  # would hold both bests
    ]
    cbbo = consolidate(books, 10.0)
    assert (cbbo.bid, cbbo.bid_venues) == (100.5, (Venue.GEMINI,))
    assert (cbbo.ask, cbbo.ask_venues) == (101.0, (Venue.BINANCE,))
    rows = {q.venue: (q.integrity, q.counted, q.excluded) for q in cbbo.venues}
    assert rows == {
        Venue.BINANCE: (Integrity.VERIFIED, True, None),
        Venue.GEMINI: (Integrity.SNAPSHOT, True, None),
        Venue.OKX: (Integrity.UNVERIFIED, False, "unverified"),
    }


def test_the_tiers_are_ordered_verified_snapshot_unverified() -> None:
    order = [Integrity.VERIFIED, Integrity.SNAPSHOT, Integrity.UNVERIFIED]
    for i, tier in enumerate(order):
        for j, required in enumerate(order):
            assert tier.meets(required) is (i <= j), (tier, required)


def guard(
    buy: OrderBook, sell: OrderBook, tier: Integrity, *, polled: bool = False
) -> Guard | None:
    return check_pair(buy, sell, max_skew_s=5.0, allow_polled=polled, min_integrity=tier)


def test_a_monitor_requiring_verified_books_refuses_a_snapshot_or_polled_leg() -> None:
    buy = live(Venue.BINANCE, 99.0, 100.0, Integrity.VERIFIED)
    sell = live(Venue.OKX, 101.0, 102.0, Integrity.VERIFIED)
    snapshot = live(Venue.GEMINI, 101.0, 102.0, Integrity.SNAPSHOT)
    assert guard(buy, sell, Integrity.VERIFIED) is None
    assert guard(buy, snapshot, Integrity.VERIFIED) is Guard.BELOW_TIER
    assert guard(snapshot, buy, Integrity.VERIFIED) is Guard.BELOW_TIER
    sell.state = BookState.POLLED  # the venue's stream is down: its book is a snapshot now
    assert guard(buy, sell, Integrity.VERIFIED, polled=True) is Guard.BELOW_TIER
    assert guard(buy, sell, Integrity.SNAPSHOT, polled=True) is None


def test_a_monitor_accepting_unverified_books_may_use_them() -> None:
    buy = live(Venue.BINANCE, 99.0, 100.0, Integrity.VERIFIED)
    unverified = live(Venue.OKX, 101.0, 102.0, Integrity.UNVERIFIED)
    assert guard(buy, unverified, Integrity.SNAPSHOT) is Guard.UNVERIFIED
    assert guard(buy, unverified, Integrity.UNVERIFIED) is None
    # The other guards still hold: a crossed unverified book is refused as crossed.
    unverified.bids.replace([(103.0, 1.0)])
    assert guard(buy, unverified, Integrity.UNVERIFIED) is Guard.CROSSED


def test_a_conversion_book_must_meet_the_monitor_tier() -> None:
    usdt_usd = live(Venue.GEMINI, 0.999, 1.001, Integrity.SNAPSHOT)
    usdt_usd.key = InstrumentKey(Venue.GEMINI, Symbol("USDT", "USD"))

    def convert(tier: Integrity) -> float | None:
        found = conversion_from(
            usdt_usd,
            "USDT",
            "USD",
            0.1,
            max_skew_s=5.0,
            legs_ts=(10.0, 10.0),
            allow_polled=False,
            min_integrity=tier,
        )
        return None if found is None else found.price

    assert convert(Integrity.SNAPSHOT) == 1.001
    assert convert(Integrity.VERIFIED) is None


def test_the_cbbo_of_a_verified_only_view_leaves_snapshot_books_out() -> None:
    books = [
        live(Venue.BINANCE, 100.0, 101.0, Integrity.VERIFIED),
        live(Venue.GEMINI, 100.5, 101.5, Integrity.SNAPSHOT),
        live(Venue.OKX, 100.9, 100.95, Integrity.UNVERIFIED),
    ]
    strict = consolidate(books, 10.0, min_integrity=Integrity.VERIFIED)
    assert (strict.bid, strict.ask, strict.counted_venues) == (100.0, 101.0, (Venue.BINANCE,))
    reasons = {q.venue: q.excluded for q in strict.venues}
    assert reasons == {Venue.BINANCE: None, Venue.GEMINI: "below tier", Venue.OKX: "unverified"}
    everything = consolidate(books, 10.0, min_integrity=Integrity.UNVERIFIED)
    assert (everything.bid, everything.bid_venues) == (100.9, (Venue.OKX,))
    assert (everything.ask, everything.ask_venues) == (100.95, (Venue.OKX,))
