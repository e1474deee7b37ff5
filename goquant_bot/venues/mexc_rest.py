"""MEXC spot v3 REST: depth snapshots and the symbol list (sans-I/O)."""

from __future__ import annotations

import math
from typing import Any

import orjson

from goquant_bot.domain.instruments import Instrument, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.levels import Levels, parse_levels
from goquant_bot.venues.symbols import spot_instrument

DEFAULT_REST_BASE = "https://api.mexc.com"
SYMBOLS_PATH = "/api/v3/exchangeInfo"
DEPTH_PATH = "/api/v3/depth"
# MEXC's book recipe asks for the deepest snapshot: levels beyond it that never change are
# never pushed, so a shallower one leaves holes sooner as the market moves.
SNAPSHOT_LIMIT = 5000
POLL_LIMITS = (100, 500, 1000, 5000)
DEPTH_WEIGHT = 3  # the newer documentation's figure (older pages say 1)
# "1" online, "2" paused, "3" offline; older answers spell online "ENABLED".
ONLINE = frozenset({"1", "ENABLED"})

Snapshot = tuple[int, float | None, Levels, Levels]  # lastUpdateId, time (s), bids, asks


def poll_limit(depth: int) -> int:
    """The smallest poll answer holding ``depth`` levels (at most 5000)."""
    return next((limit for limit in POLL_LIMITS if depth <= limit), POLL_LIMITS[-1])


def depth_request(rest_base: str, native: str, limit: int, purpose: str) -> RestRequest:
    """GET /api/v3/depth?symbol=BTCUSDT&limit=N."""
    return RestRequest(
        venue=Venue.MEXC,
        url=f"{rest_base}{DEPTH_PATH}",
        params=(("symbol", native), ("limit", str(limit))),
        weight=DEPTH_WEIGHT,
        purpose=purpose,
    )


def parse_snapshot(body: str) -> Snapshot:
    """``{"lastUpdateId":1112416,"bids":[["93180.18","0.21976424"]],"asks":[...],
    "timestamp":1736411838730}``"""
    snap = orjson.loads(body)
    if type(snap) is not dict:
        msg = "MEXC depth: the answer is not an object"
        raise VenueProtocolError(msg)
    last_id = snap["lastUpdateId"]
    if type(last_id) is not int:
        msg = "MEXC depth: lastUpdateId is not an integer"
        raise VenueProtocolError(msg)
    stamp = snap.get("timestamp")
    venue_ts = stamp / 1000 if type(stamp) is int else None
    return last_id, venue_ts, parse_levels(snap["bids"]), parse_levels(snap["asks"])


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """GET /api/v3/exchangeInfo (weight 10): every spot symbol in one answer."""
    return RestRequest(
        venue=Venue.MEXC,
        url=f"{rest_base or DEFAULT_REST_BASE}{SYMBOLS_PATH}",
        params=(),
        weight=10,
        purpose="instruments",
    )


def _decimals(value: Any) -> float:
    if type(value) is not int or not 0 <= value <= 18:
        msg = f"precision {value!r} is not a number of decimals"
        raise ValueError(msg)
    return 10.0**-value


def _lot(entry: dict[str, Any]) -> float:
    """``baseSizePrecision`` is the quantity step as text ("0.0001"); where it is "0" (seen
    on some listings), ``baseAssetPrecision`` decimals."""
    step = float(entry.get("baseSizePrecision") or 0)
    if 0.0 < step < math.inf:
        return step
    return _decimals(entry["baseAssetPrecision"])


def parse_instruments(body: str) -> list[Instrument]:
    """``{"timezone":"CST","serverTime":1736411838730,"symbols":[{"symbol":"BTCUSDT",
    "status":"1","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDT",
    "quotePrecision":2,"quoteAssetPrecision":2,"baseSizePrecision":"0.000001",
    "isSpotTradingAllowed":true,...}]}``: online symbols only; tick 10^-``quotePrecision``."""
    try:
        entries = orjson.loads(body)["symbols"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        msg = f"MEXC exchangeInfo: no 'symbols' list in the body ({exc})"
        raise VenueProtocolError(msg) from exc
    if type(entries) is not list:
        msg = "MEXC exchangeInfo: 'symbols' is not a list"
        raise VenueProtocolError(msg)
    instruments: list[Instrument] = []
    for index, entry in enumerate(entries):
        try:
            if str(entry["status"]) not in ONLINE:
                continue
            native, base, quote = entry["symbol"], entry["baseAsset"], entry["quoteAsset"]
            tick, lot = _decimals(entry["quotePrecision"]), _lot(entry)
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"MEXC exchangeInfo: entry {index} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(msg) from exc
        instrument = spot_instrument(Venue.MEXC, base, quote, native, tick, lot)
        if instrument is not None:
            instruments.append(instrument)
    return instruments
