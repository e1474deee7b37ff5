"""Gate v4 spot REST: order book snapshots with their id, the currency pair list (sans-I/O)."""

from __future__ import annotations

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.levels import Levels, parse_levels

log = get_logger(__name__)

DEFAULT_REST_BASE = "https://api.gateio.ws"
PAIRS_PATH = "/api/v4/spot/currency_pairs"
BOOK_PATH = "/api/v4/spot/order_book"
# The order book endpoint returns at most this many levels per side.
MAX_SNAPSHOT_LEVELS = 1000

Snapshot = tuple[int, float | None, Levels, Levels]  # id, update time (s), bids, asks


def book_request(rest_base: str, native: str, depth: int, purpose: str) -> RestRequest:
    """GET /api/v4/spot/order_book?currency_pair=BTC_USDT&limit=N&with_id=true."""
    limit = str(min(max(depth, 1), MAX_SNAPSHOT_LEVELS))
    return RestRequest(
        venue=Venue.GATEIO,
        url=f"{rest_base}{BOOK_PATH}",
        params=(("currency_pair", native), ("limit", limit), ("with_id", "true")),
        weight=1,
        purpose=purpose,
    )


def parse_snapshot(body: str) -> Snapshot:
    """``{"id":123456,"current":1623898993123,"update":1623898993121,
    "asks":[["1.52","1.151"]],"bids":[["1.17","201.863"]]}``"""
    snap = orjson.loads(body)
    book_id = snap["id"]
    if type(book_id) is not int:
        msg = "order book 'id' is not an integer (asked without with_id=true?)"
        raise VenueProtocolError(msg)
    update = snap.get("update")
    venue_ts = update / 1000 if type(update) is int else None
    return book_id, venue_ts, parse_levels(snap["bids"]), parse_levels(snap["asks"])


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """GET /api/v4/spot/currency_pairs (every spot pair, one request)."""
    base = rest_base or DEFAULT_REST_BASE
    return RestRequest(
        venue=Venue.GATEIO, url=f"{base}{PAIRS_PATH}", params=(), weight=1, purpose="instruments"
    )


def _step(decimals: object) -> float | None:
    return 10.0**-decimals if type(decimals) is int and 0 <= decimals <= 18 else None


def parse_instruments(body: str) -> list[Instrument]:
    """``[{"id":"ETH_USDT","base":"ETH","quote":"USDT","precision":2,"amount_precision":4,
    "trade_status":"tradable",...}]`` -> the tradable pairs (tick = 10^-precision,
    lot = 10^-amount_precision)."""
    try:
        entries = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = f"Gate currency_pairs: not JSON ({exc})"
        raise VenueProtocolError(msg) from exc
    if type(entries) is not list:
        msg = "Gate currency_pairs: the body is not a list of pairs"
        raise VenueProtocolError(msg)
    instruments = []
    for entry in entries:
        try:
            native, base, quote = entry["id"], entry["base"], entry["quote"]
            status = entry.get("trade_status")
            tick, lot = _step(entry.get("precision")), _step(entry.get("amount_precision"))
        except (KeyError, TypeError, AttributeError) as exc:
            msg = f"Gate currency_pairs: malformed entry {str(entry)[:120]} ({exc!r})"
            raise VenueProtocolError(msg) from exc
        if status != "tradable" or type(native) is not str:
            continue
        try:
            symbol = Symbol.parse(f"{base}-{quote}")
        except (ValueError, AttributeError, TypeError):
            log.debug("instrument_skipped", venue="gateio", native=native)
            continue
        instruments.append(Instrument(Venue.GATEIO, symbol, native, tick_size=tick, lot_size=lot))
    return instruments
