"""Binance spot REST: depth snapshot sizes and bodies, the instrument list (sans-I/O)."""

from __future__ import annotations

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.levels import Levels, parse_levels

log = get_logger(__name__)

DEFAULT_REST_BASE = "https://api.binance.com"
# (limit, request weight) of GET /api/v3/depth, smallest first.
SNAPSHOT_LIMITS = ((100, 5), (500, 25), (1000, 50), (5000, 250))

Snapshot = tuple[int, Levels, Levels]  # lastUpdateId, bids, asks


def snapshot_limit(depth: int) -> tuple[int, int]:
    """(limit, weight): the smallest snapshot that holds ``depth`` levels (at most 5000)."""
    for limit, weight in SNAPSHOT_LIMITS:
        if depth <= limit:
            return limit, weight
    return SNAPSHOT_LIMITS[-1]


def parse_snapshot(body: str) -> Snapshot:
    """``{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[...]}``"""
    snap = orjson.loads(body)
    last_id = snap["lastUpdateId"]
    if type(last_id) is not int:
        msg = "lastUpdateId is not an integer"
        raise VenueProtocolError(msg)
    return last_id, parse_levels(snap["bids"]), parse_levels(snap["asks"])


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """GET /api/v3/exchangeInfo (weight 20)."""
    base = rest_base or DEFAULT_REST_BASE
    return RestRequest(
        venue=Venue.BINANCE,
        url=f"{base}/api/v3/exchangeInfo",
        params=(),
        weight=20,
        purpose="instruments",
    )


def parse_instruments(body: str) -> list[Instrument]:
    """``{"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT",
    "filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01"},{"filterType":"LOT_SIZE",
    "stepSize":"0.00001"}]}]}`` -> the trading listings."""
    try:
        entries = orjson.loads(body)["symbols"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        msg = f"Binance exchangeInfo: no 'symbols' list in the body ({exc})"
        raise VenueProtocolError(msg) from exc
    if type(entries) is not list:
        msg = "Binance exchangeInfo: 'symbols' is not a list"
        raise VenueProtocolError(msg)
    instruments = []
    for entry in entries:
        try:
            native, status = entry["symbol"], entry["status"]
            base, quote = entry["baseAsset"], entry["quoteAsset"]
            filters = {f.get("filterType"): f for f in entry.get("filters", ())}
            tick = filters.get("PRICE_FILTER", {}).get("tickSize")
            step = filters.get("LOT_SIZE", {}).get("stepSize")
            tick_size = float(tick) if tick is not None else None
            lot_size = float(step) if step is not None else None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            msg = f"Binance exchangeInfo: malformed entry {str(entry)[:120]} ({exc!r})"
            raise VenueProtocolError(msg) from exc
        if status != "TRADING":
            continue
        try:
            symbol = Symbol.parse(f"{base}-{quote}")
        except (ValueError, AttributeError):
            log.debug("instrument_skipped", venue="binance", native=native)
            continue  # an asset our symbols cannot name (non-ASCII tickers exist)
        instruments.append(
            Instrument(Venue.BINANCE, symbol, native, tick_size=tick_size, lot_size=lot_size)
        )
    return instruments
