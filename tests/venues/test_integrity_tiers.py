"""Each venue's books carry the tier its protocol can check, shown next to its name."""

from __future__ import annotations

from goquant_bot.bot.render_tables import cbbo_text
from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.cbbo import consolidate
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.gomarket import protocol_for
from goquant_bot.venues.registry import VENUES

BTC = Symbol("BTC", "USD")
# Sequence numbers or checksums on every message, except where only timestamps exist.
EXPECTED = {venue: Integrity.VERIFIED for venue in VENUES} | {
    Venue.GEMINI: Integrity.SNAPSHOT,
    Venue.BITSTAMP: Integrity.SNAPSHOT,
    Venue.HTX: Integrity.VERIFIED,
    Venue.MEXC: Integrity.VERIFIED,  # fromVersion/toVersion chained on every push
}


def test_every_venue_protocol_gives_its_books_its_tier() -> None:
    seen = {}
    for venue, spec in VENUES.items():
        proto = spec.protocol(SymbolMap())
        proto.subscribe([BTC], 0.0)
        seen[venue] = proto.books[BTC].integrity
    assert seen == EXPECTED


def test_get_cbbo_marks_each_venue_with_its_tier_and_explains_the_marks() -> None:
    books = []
    for venue, bid in ((Venue.COINBASE, 100.0), (Venue.GEMINI, 100.2)):
        proto = VENUES[venue].protocol(SymbolMap())
        proto.subscribe([BTC], 0.0)
        book = proto.books[BTC]
        book.bids.replace([(bid, 1.0)])
        book.asks.replace([(bid + 0.5, 1.0)])
        book.state, book.recv_ts = BookState.LIVE, 5.0
        books.append(book)
    lines = cbbo_text(consolidate(books, 5.0)).splitlines()
    table = lines.index("<pre>venue              bid          ask    bps    age")
    assert lines[table + 1 : table + 4] == [
        "coinbase✓     100.0000     100.5000  49.88   0.0s",
        "gemini~       100.2000     100.7000  49.78   0.0s</pre>",
        "✓ verified by sequence numbers or checksums · ~ snapshots or timestamps only",
    ]


def test_every_venue_read_through_gomarket_is_snapshot_tier() -> None:
    for venue in Venue:
        proto = protocol_for(venue)(SymbolMap())
        proto.subscribe([BTC], 0.0)
        assert proto.books[BTC].integrity is Integrity.SNAPSHOT
