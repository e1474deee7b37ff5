"""Coinbase Advanced Trade off the stream path: public products, the public book, timestamps."""

from __future__ import annotations

import calendar
from functools import lru_cache
from typing import Any

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest

log = get_logger(__name__)

DEFAULT_REST_BASE = "https://api.coinbase.com"
PRODUCTS_PATH = "/api/v3/brokerage/market/products"
BOOK_PATH = "/api/v3/brokerage/market/product_book"

Levels = list[tuple[float, float]]


# A pure function's memo: consecutive frames share their second, and this runs on each one.
@lru_cache(maxsize=1024)
def _whole_seconds(prefix: str) -> int:
    """``2023-02-09T20:32:50`` (``T`` or a space) as epoch seconds, UTC."""
    if prefix[4] != "-" or prefix[7] != "-" or prefix[10] not in "T " or prefix[13] != ":":
        raise ValueError(prefix)
    fields = (prefix[0:4], prefix[5:7], prefix[8:10], prefix[11:13], prefix[14:16], prefix[17:19])
    year, month, day, hour, minute, second = (int(f) for f in fields)
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


def parse_iso_time(text: str) -> float:
    """``2023-02-09T20:32:50.714964855Z`` (any number of fraction digits, UTC) as epoch seconds.

    Hand-parsed: ``datetime.fromisoformat`` refuses nanoseconds, and this runs on every frame.
    """
    try:
        whole = _whole_seconds(text[:19])
        if text[19] not in ".Z+ ":
            raise ValueError(text)
    except (ValueError, IndexError, TypeError) as exc:
        msg = f"not an ISO 8601 UTC time: {str(text)[:40]!r}"
        raise VenueProtocolError(msg) from exc
    if text[19] != ".":
        return float(whole)
    end = 20
    while end < len(text) and text[end].isdecimal():
        end += 1
    digits = text[20:end]
    return whole + (int(digits) / 10 ** len(digits) if digits else 0.0)


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """``GET /api/v3/brokerage/market/products`` (public; spot is selected when parsing, so a
    capture of the same endpoint with other parameters is recognised too)."""
    return RestRequest(
        venue=Venue.COINBASE,
        url=f"{rest_base or DEFAULT_REST_BASE}{PRODUCTS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def _listed(item: dict[str, Any]) -> bool:
    """Spot, online and tradable; USDC products that alias the USD book are left out (their
    level2 data is the USD book's, and counting it twice would fake a second venue)."""
    return (
        item.get("product_type", "SPOT") == "SPOT"
        and item.get("status") == "online"
        and item.get("trading_disabled") is not True
        and item.get("is_disabled") is not True
        and item.get("cancel_only") is not True
        and item.get("view_only") is not True
        and not item.get("alias")
    )


def parse_instruments(body: str) -> list[Instrument]:
    """``{"products":[{"product_id":"BTC-USD","base_currency_id":"BTC","quote_currency_id":"USD",
    "base_increment":"0.00000001","price_increment":"0.01","status":"online","product_type":"SPOT",
    "trading_disabled":false,"alias":"","alias_to":["BTC-USDC"]}],"num_products":1}``"""
    try:
        reply = orjson.loads(body)
        products = reply["products"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        msg = f"Coinbase products: no 'products' list in the body ({exc!r})"
        raise VenueProtocolError(msg) from exc
    if type(products) is not list:
        msg = "Coinbase products: 'products' is not a list"
        raise VenueProtocolError(msg)
    instruments: list[Instrument] = []
    for index, item in enumerate(products):
        try:
            if not _listed(item):
                continue
            native = item["product_id"]
            base = item.get("base_currency_id") or item["base_display_symbol"]
            quote = item.get("quote_currency_id") or item["quote_display_symbol"]
            tick = item.get("price_increment") or item["quote_increment"]
            tick_size, lot_size = float(tick), float(item["base_increment"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"Coinbase products: entry {index} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(msg) from exc
        if type(native) is not str or native.count("-") != 1:
            continue
        try:
            symbol = Symbol.parse(f"{base}-{quote}")
        except (ValueError, AttributeError):
            log.debug("instrument_skipped", venue="coinbase", native=native)
            continue
        instruments.append(
            Instrument(Venue.COINBASE, symbol, native, tick_size=tick_size, lot_size=lot_size)
        )
    return instruments


def book_request(rest_base: str, native: str, symbol: Symbol, limit: int) -> RestRequest:
    """``GET /api/v3/brokerage/market/product_book?product_id=BTC-USD&limit=N`` (a poll)."""
    return RestRequest(
        venue=Venue.COINBASE,
        url=f"{rest_base}{BOOK_PATH}",
        params=(("product_id", native), ("limit", str(limit))),
        weight=1,
        purpose="poll",
        symbol=symbol,
    )


def _pairs(levels: Any) -> Levels:
    return [(float(level["price"]), float(level["size"])) for level in levels]


def parse_book(body: str) -> tuple[Levels, Levels, float | None]:
    """``{"pricebook":{"product_id":"BTC-USD","bids":[{"price":"65000.01","size":"0.5"}],
    "asks":[...],"time":"2024-05-01T12:00:00.123Z"}}`` -> (bids, asks, venue time)."""
    try:
        book = orjson.loads(body)["pricebook"]
        bids, asks = _pairs(book["bids"]), _pairs(book["asks"])
        time_text = book.get("time")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        msg = f"Coinbase product_book: malformed body ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(msg) from exc
    venue_ts = parse_iso_time(time_text) if type(time_text) is str and time_text else None
    return bids, asks, venue_ts
