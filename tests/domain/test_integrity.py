"""Every book says how far it can be trusted, and signals never stand on an unverified one."""

from __future__ import annotations

from goquant_bot.domain.arbitrage import Guard, check_pair
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
