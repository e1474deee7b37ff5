"""The REST poll answer shared by the venues that keep a book from REST while the stream is down."""

from __future__ import annotations

from collections.abc import Callable

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, VenueProtocol
from goquant_bot.venues.levels import Levels, apply_polled

log = get_logger(__name__)

ParseBook = Callable[[str], tuple[Levels, Levels, float | None]]


def on_poll_answer(
    proto: VenueProtocol,
    request: RestRequest,
    status: int,
    body: str,
    now: float,
    parse: ParseBook,
    restart: Callable[[Symbol], None],
) -> None:
    """Apply a poll answer to its book unless it failed, is malformed or the stream is live;
    ``restart`` first drops the stream's state so updates never apply to polled data."""
    symbol = request.symbol
    book = proto.books.get(symbol) if symbol is not None else None
    if book is None or request.purpose != "poll":
        proto.stats.skipped[f"rest:{request.purpose}"] += 1
        return
    if status != 200:
        proto.stats.errors["poll_failed"] += 1
        log.warning("poll_failed", venue=proto.venue.value, symbol=str(symbol), status=status)
        return
    try:
        bids, asks, venue_ts = parse(body)
    except VenueProtocolError:
        proto.bad_frame("poll_invalid", body)
        return
    if book.state is BookState.LIVE:
        proto.stats.skipped["poll_while_live"] += 1
        return
    restart(book.key.symbol)
    apply_polled(proto, book, bids, asks, now, venue_ts)
