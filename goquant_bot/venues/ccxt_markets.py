"""A ccxt venue's spot instruments, through the same seam as every venue's symbol list.

The directory asks a venue's list with a ``RestRequest``; for a venue read through ccxt the
request's address is ``ccxt:<exchange id>/markets``, which the feed answers from ccxt's
``load_markets`` (a JSON list of the spot markets, see ``markets_body``), so the list is
cached, refreshed and retried like any other venue's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from goquant_bot.domain.ccxt_venues import CCXT_IDS
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.records import RestRequest

ADDRESS_PREFIX = "ccxt:"
# ccxt's precision modes (ccxt.base.decimal_to_precision), without importing ccxt here.
DECIMAL_PLACES = 2
TICK_SIZE = 4


def markets_address(exchange_id: str) -> str:
    return f"{ADDRESS_PREFIX}{exchange_id}/markets"


def exchange_of(address: str) -> str | None:
    """The ccxt exchange id of a ``ccxt:<id>/markets`` address, None for any other."""
    if not address.startswith(ADDRESS_PREFIX):
        return None
    return address[len(ADDRESS_PREFIX) :].split("/", 1)[0]


def instruments_request(venue: Venue, base: str | None) -> RestRequest:
    """The venue's spot markets, answered by ccxt (``base`` is not used: ccxt has its own)."""
    return RestRequest(
        venue=venue,
        url=markets_address(CCXT_IDS[venue]),
        params=(),
        weight=1,
        purpose="instruments",
    )


def markets_body(markets: Iterable[Mapping[str, Any]], precision_mode: int) -> str:
    """ccxt's markets as the list ``parse_instruments`` reads: spot ones only."""
    rows = [
        {
            "symbol": market.get("symbol"),
            "base": market.get("base"),
            "quote": market.get("quote"),
            "active": market.get("active") is not False,
            "tick": _step((market.get("precision") or {}).get("price"), precision_mode),
            "lot": _step((market.get("precision") or {}).get("amount"), precision_mode),
        }
        for market in markets
        if market.get("spot") is True
    ]
    return orjson.dumps(rows).decode()


def _step(precision: object, mode: int) -> float | None:
    if not isinstance(precision, int | float) or precision < 0:
        return None
    if mode == TICK_SIZE:
        return float(precision) or None
    if mode == DECIMAL_PLACES:
        return 10.0 ** -int(precision)
    return None  # significant digits: no fixed step


def parse_instruments(venue: Venue, body: str) -> list[Instrument]:
    """The spot instruments of ``markets_body``; a market whose assets we cannot name is left
    out (ccxt names some listings by an index, e.g. ``@107``)."""
    try:
        rows = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = "ccxt markets: not JSON"
        raise VenueProtocolError(msg) from exc
    if not isinstance(rows, list):
        msg = "ccxt markets: not a list"
        raise VenueProtocolError(msg)
    instruments = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("symbol"), str):
            continue
        try:
            symbol = Symbol.parse(f"{row.get('base')}-{row.get('quote')}")
        except ValueError:
            continue
        instruments.append(
            Instrument(
                venue=venue,
                symbol=symbol,
                native=row["symbol"],
                trading=bool(row.get("active", True)),
                tick_size=_number(row.get("tick")),
                lot_size=_number(row.get("lot")),
            )
        )
    return instruments


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None
