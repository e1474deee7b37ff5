"""Gemini REST (sans-I/O): the symbol list, symbol details and the order book.

``/v1/symbols`` lists every market (spot and perpetuals, lower case) without metadata;
``/v1/symbols/details/{symbol}`` gives one market's currencies, product type and sizes. Note
Gemini's naming: ``tick_size`` is the quantity step (our lot) and ``quote_increment`` the
price step (our tick). ``parse_instruments`` reads either body.
"""

from __future__ import annotations

from typing import Any

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.levels import Levels
from goquant_bot.venues.symbols import split_concatenated

DEFAULT_REST_BASE = "https://api.gemini.com"
SYMBOLS_PATH = "/v1/symbols"
DETAILS_PATH = "/v1/symbols/details/"  # + {symbol}
BOOK_PATH = "/v1/book/"  # + {symbol}
# Gemini's quote currencies, longest first (GUSD before USD: BTCGUSD is BTC-GUSD).
QUOTES = (
    "RLUSD",
    "GUSD",
    "USDT",
    "USDC",
    "DAI",
    "USD",
    "EUR",
    "GBP",
    "SGD",
    "BTC",
    "ETH",
    "LTC",
    "BCH",
)


def is_spot_name(native: str) -> bool:
    """Spot markets; perpetuals share the names with a ``PERP`` suffix (``BTCGUSDPERP``)."""
    upper = native.upper()
    return upper.isalnum() and not upper.endswith("PERP")


def split_symbol(native: str) -> Symbol | None:
    """``btcusd`` -> BTC-USD by Gemini's quote currencies, when no details say otherwise."""
    upper = native.upper()
    return split_concatenated(upper, QUOTES) if is_spot_name(upper) else None


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """``GET /v1/symbols``."""
    return RestRequest(
        venue=Venue.GEMINI,
        url=f"{rest_base or DEFAULT_REST_BASE}{SYMBOLS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def details_request(
    native: str, rest_base: str | None = None, symbol: Symbol | None = None
) -> RestRequest:
    """``GET /v1/symbols/details/{symbol}``."""
    return RestRequest(
        venue=Venue.GEMINI,
        url=f"{rest_base or DEFAULT_REST_BASE}{DETAILS_PATH}{native.lower()}",
        params=(),
        weight=1,
        purpose="details",
        symbol=symbol,
    )


def parse_instruments(body: str) -> list[Instrument]:
    """``["btcusd","ethbtc","btcgusdperp",...]`` (names only) or one details object
    ``{"symbol":"BTCUSD","base_currency":"BTC","quote_currency":"USD","tick_size":1E-8,
    "quote_increment":0.01,"status":"open","product_type":"spot",...}``."""
    try:
        msg: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "Gemini symbols: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is dict:
        instrument = _details(msg)
        return [] if instrument is None else [instrument]
    if type(msg) is not list or not all(type(name) is str for name in msg):
        text = "Gemini symbols: expected a list of names or a details object"
        raise VenueProtocolError(text)
    instruments = []
    for name in msg:
        symbol = split_symbol(name)
        if symbol is not None:
            instruments.append(Instrument(Venue.GEMINI, symbol, name.upper()))
    return instruments


def _details(msg: dict[str, Any]) -> Instrument | None:
    try:
        native = str(msg["symbol"]).upper()
        base, quote = str(msg["base_currency"]), str(msg["quote_currency"])
        tick = float(msg["quote_increment"])
        lot = float(msg["tick_size"])
        status, product = msg.get("status", "open"), msg.get("product_type", "spot")
    except (KeyError, TypeError, ValueError) as exc:
        text = f"Gemini symbol details: malformed ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(text) from exc
    if product != "spot" or not is_spot_name(native):
        return None
    try:
        symbol = Symbol.parse(f"{base}-{quote}")
    except ValueError:
        return None
    return Instrument(
        Venue.GEMINI, symbol, native, trading=status == "open", tick_size=tick, lot_size=lot
    )


def parse_book(body: str) -> tuple[Levels, Levels]:
    """``{"bids":[{"price":"3607.85","amount":"6.643373","timestamp":"1547147541"}],"asks":[...]}``."""
    try:
        msg = orjson.loads(body)
        bids = [(float(level["price"]), float(level["amount"])) for level in msg["bids"]]
        asks = [(float(level["price"]), float(level["amount"])) for level in msg["asks"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        text = f"Gemini book: malformed body ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(text) from exc
    return bids, asks
