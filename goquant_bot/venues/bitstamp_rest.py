"""Bitstamp REST (sans-I/O): order book snapshots and the trading-pairs list."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.levels import Levels, parse_levels

DEFAULT_REST_BASE = "https://www.bitstamp.net"
PAIRS_PATH = "/api/v2/trading-pairs-info/"
BOOK_PATH = "/api/v2/order_book/"  # + {pair}/


class Snapshot(NamedTuple):
    """A REST order book: its microtimestamp orders it among the stream's diffs."""

    ts_us: int
    bids: Levels
    asks: Levels


def parse_snapshot(body: str) -> Snapshot:
    """``{"timestamp":"1643643584","microtimestamp":"1643643584684047","bids":[["36800.00","0.5"]],"asks":[...]}``"""
    try:
        msg: Any = orjson.loads(body)
        return Snapshot(
            int(msg["microtimestamp"]), parse_levels(msg["bids"]), parse_levels(msg["asks"])
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        text = f"Bitstamp order book: malformed body ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(text) from exc


def is_spot_pair(url_symbol: str) -> bool:
    """``btcusd``; perpetual markets carry a suffix (``btcusd-perp``)."""
    return url_symbol.isalnum() and url_symbol == url_symbol.lower()


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """``GET /api/v2/trading-pairs-info/``."""
    return RestRequest(
        venue=Venue.BITSTAMP,
        url=f"{rest_base or DEFAULT_REST_BASE}{PAIRS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def parse_instruments(body: str) -> list[Instrument]:
    """``[{"name":"BTC/USD","url_symbol":"btcusd","base_decimals":8,"counter_decimals":0,
    "trading":"Enabled",...}]`` -> the spot pairs open for trading."""
    try:
        entries = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "Bitstamp trading pairs: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(entries) is not list:
        text = "Bitstamp trading pairs: expected a list"
        raise VenueProtocolError(text)
    instruments = []
    for index, entry in enumerate(entries):
        try:
            name, native, trading = entry["name"], entry["url_symbol"], entry["trading"]
            tick = 10.0 ** -int(entry["counter_decimals"])
            lot = 10.0 ** -int(entry["base_decimals"])
            market = str(entry.get("market_type", entry.get("instrument_type", "SPOT")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            text = f"Bitstamp trading pairs: entry {index} is malformed ({exc!r})"
            raise VenueProtocolError(text) from exc
        if trading != "Enabled" or market.upper() != "SPOT" or not is_spot_pair(str(native)):
            continue
        try:
            symbol = Symbol.parse(str(name))
        except ValueError:
            continue
        instruments.append(
            Instrument(Venue.BITSTAMP, symbol, str(native), tick_size=tick, lot_size=lot)
        )
    return instruments
