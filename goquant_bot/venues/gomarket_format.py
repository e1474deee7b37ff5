"""GoMarket API wire formats: addresses, symbol lists and full books (one place to correct).

GoMarket publishes no machine-readable schema we could check; the shapes below are the ones
its clients use, and every reader also accepts the close variants listed in
docs/DESIGN-NOTES.md ("GoMarket"). Anything else is refused with a specific reason.

- symbols: ``GET /api/symbols/{exchange}/spot`` -> ``["BTC-USDT", ...]``, or
  ``{"symbols": [...]}``; an item may be an object ``{"symbol", "base", "quote"}``;
- L1: ``GET /api/l1-orderbook/{exchange}/{symbol}`` and L2: ``GET /api/l2-orderbook/...`` and
  every message of ``/ws/l2-orderbook/{exchange}/{symbol}``: one whole book
  ``{"timestamp", "exchange", "symbol", "bids": [["p", "q"], ...], "asks": [...]}`` (L1: one
  level a side). ``timestamp``: epoch seconds, milliseconds or microseconds, or ISO 8601.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.levels import Levels, parse_levels
from goquant_bot.venues.symbols import split_concatenated

DEFAULT_BASE = "https://gomarket-api.goquant.io"
DEFAULT_WS_BASE = "wss://gomarket-api.goquant.io"
API_KEY_HEADER = "X-API-Key"
CAPTURE_EXCHANGE = "GOMARKET"  # a capture header's ``exchange``; the venue goes beside it

# How each exchange writes BTC-USDT when GoMarket's symbol list has not said otherwise.
SEPARATORS = {
    "okx": "-",
    "coinbase": "-",
    "coinbase_intl": "-",
    "kucoin": "-",
    "blofin": "-",
    "deribit": "_",
    "gateio": "_",
    "cryptocom": "_",
    "bitso": "_",
    "kraken": "/",
    "hyperliquid": "/",
}


def exchange_id(venue: Venue) -> str:
    """GoMarket's exchange id of a venue (our venue ids are GoMarket's)."""
    return venue.value


def symbols_path(exchange: str) -> str:
    return f"/api/symbols/{exchange}/spot"


def listing_exchange(path: str) -> str | None:
    """The exchange id of a symbols-list path (``/api/symbols/{exchange}/spot``), else None."""
    pieces = path.rstrip("/").split("/")
    if len(pieces) == 5 and pieces[:3] == ["", "api", "symbols"] and pieces[4] == "spot":
        return pieces[3] or None
    return None


def l2_target(path: str) -> tuple[str, str] | None:
    """The exchange id and native symbol of an L2 book path (``/api/l2-orderbook/...``)."""
    pieces = path.split("/")
    if len(pieces) == 5 and pieces[:3] == ["", "api", "l2-orderbook"] and all(pieces[3:]):
        return pieces[3], unquote(pieces[4])
    return None


def l1_path(exchange: str, native: str) -> str:
    return f"/api/l1-orderbook/{exchange}/{quote(native, safe='')}"


def l2_path(exchange: str, native: str) -> str:
    return f"/api/l2-orderbook/{exchange}/{quote(native, safe='')}"


def ws_path(exchange: str, native: str) -> str:
    return f"/ws/l2-orderbook/{exchange}/{quote(native, safe='')}"


def symbol_of(native: str) -> Symbol | None:
    """Our symbol for a native name: ``BTC-USDT``, ``BTC_USDT``, ``XBT/USD`` or ``BTCUSDT``."""
    for sep in ("-", "_", "/"):
        if native.count(sep) == 1:
            try:
                return Symbol.parse(native)
            except ValueError:
                return None
        if sep in native:
            return None
    return split_concatenated(native.upper())


def parse_symbols(venue: Venue, body: str) -> list[Instrument]:
    """The spot listings of one exchange; items we cannot read are left out."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = f"GoMarket symbols of {venue.value}: not JSON"
        raise VenueProtocolError(msg) from exc
    if type(data) is dict:
        data = data.get("symbols", data.get("data"))
    if type(data) is not list:
        msg = f"GoMarket symbols of {venue.value}: not a list"
        raise VenueProtocolError(msg)
    found: dict[Symbol, Instrument] = {}
    for item in data:
        native, symbol = _listing(item)
        if native is not None and symbol is not None and symbol not in found:
            found[symbol] = Instrument(venue, symbol, native)
    return list(found.values())


def _listing(item: Any) -> tuple[str | None, Symbol | None]:
    if type(item) is str:
        return item, symbol_of(item)
    if type(item) is not dict:
        return None, None
    native = item.get("symbol") or item.get("name")
    if type(native) is not str:
        return None, None
    base, quote_ = item.get("base"), item.get("quote")
    if type(base) is str and type(quote_) is str:
        try:
            return native, Symbol.parse(f"{base}-{quote_}")
        except ValueError:
            return native, None
    return native, symbol_of(native)


@dataclass(frozen=True, slots=True)
class GoMarketBook:
    """One whole book as GoMarket sends it."""

    exchange: str | None
    symbol: str | None
    ts: float | None  # epoch seconds
    bids: Levels
    asks: Levels


def parse_book(text: str) -> GoMarketBook:
    """A book message or REST answer; VenueProtocolError names what is wrong."""
    try:
        msg: Any = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        msg_ = "not JSON"
        raise VenueProtocolError(msg_) from exc
    if type(msg) is dict and type(msg.get("data")) is dict:
        msg = msg["data"]
    if type(msg) is not dict or "bids" not in msg or "asks" not in msg:
        why = "not a book (no bids/asks)"
        raise VenueProtocolError(why)
    exchange, symbol = msg.get("exchange"), msg.get("symbol")
    return GoMarketBook(
        exchange if type(exchange) is str else None,
        symbol if type(symbol) is str else None,
        parse_timestamp(msg.get("timestamp")),
        parse_levels(_pairs(msg["bids"])),
        parse_levels(_pairs(msg["asks"])),
    )


def _pairs(levels: Any) -> Any:
    """Levels as ``[[p, q], ...]``; ``{"price", "quantity"|"size"}`` objects are accepted."""
    if type(levels) is list and levels and type(levels[0]) is dict:
        return [[lv.get("price"), lv.get("quantity", lv.get("size"))] for lv in levels]
    return levels


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds from seconds, milliseconds, microseconds or ISO 8601; None if unreadable."""
    if type(value) is str:
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
        else:
            return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
        return None
    if value > 1e17:  # nanoseconds
        return float(value) / 1e9
    if value > 1e14:  # microseconds
        return float(value) / 1e6
    if value > 1e11:  # milliseconds
        return float(value) / 1e3
    return float(value)
