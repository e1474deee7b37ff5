"""Level lists shared by the venue protocols: validation, parsing, polled snapshots, addresses."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import VenueProtocol

Levels = list[tuple[float, float]]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


_INF = math.inf


def valid_levels(levels: Any) -> bool:
    """Whether ``[[price, size], ...]`` is a list of finite prices above 0 and finite sizes
    of 0 or more ("NaN" and "Infinity" parse as floats, so they are checked explicitly)."""
    if type(levels) is not list:
        return False
    try:
        for level in levels:
            if not (0.0 < float(level[0]) < _INF and 0.0 <= float(level[1]) < _INF):
                return False
    except (ValueError, TypeError, IndexError, KeyError):
        return False
    return True


def non_finite(levels: Any) -> bool:
    """Whether a level list holds a NaN or infinite price or size (a corrupt feed, not a
    malformed frame: the book it was meant for is rebuilt)."""
    if type(levels) is not list:
        return False
    for level in levels:
        for value in level[:2] if isinstance(level, list | tuple) else ():
            try:
                if not math.isfinite(float(value)):
                    return True
            except (ValueError, TypeError):
                continue
    return False


def parse_levels(levels: Any) -> Levels:
    """Snapshot levels ``[["4.00000000", "431.00000000"], ...]`` as floats."""
    if not valid_levels(levels):
        msg = f"levels are not [[price, size], ...] decimal strings: {str(levels)[:80]}"
        raise VenueProtocolError(msg)
    return float_levels(levels)


def float_levels(levels: Any) -> Levels:
    """``[["41006.8", "0.6", ...], ...]`` (texts or numbers, fields after the size ignored)
    as (price, size) floats; ValueError for a level that is not a finite positive price and
    a finite size of 0 or more (a book's ``replace`` drops the zero sizes)."""
    out = [(float(level[0]), float(level[1])) for level in levels]
    if not all(0.0 < p < _INF and 0.0 <= s < _INF for p, s in out):
        msg = "a level is not a finite positive price and size"
        raise ValueError(msg)
    return out


def apply_polled(
    proto: VenueProtocol,
    book: OrderBook,
    bids: Levels,
    asks: Levels,
    now: float,
    venue_ts: float | None,
) -> None:
    """Replace a book from a REST poll and mark it POLLED (a crossed answer is refused)."""
    book.bids.replace(bids)
    book.asks.replace(asks)
    book.bids.trim(proto.depth)
    book.asks.trim(proto.depth)
    if book.is_crossed():
        book.clear()
        book.state = BookState.SYNCING
        proto.stats.errors["poll_crossed"] += 1
    else:
        book.state = BookState.POLLED
        book.recv_ts = now
        book.venue_ts = venue_ts
        book.updates += 1
    proto.note_changed(book.key.symbol)


def address_matches(addr: str, hosts: frozenset[str], path: str) -> bool:
    """Whether a connection address is ``path`` on one of ``hosts`` (or on a loopback test host)."""
    parts = urlsplit(addr if "://" in addr else f"wss://{addr}")
    host_ok = parts.hostname in hosts or parts.hostname in LOOPBACK_HOSTS
    return host_ok and parts.path.rstrip("/") == path.rstrip("/")
