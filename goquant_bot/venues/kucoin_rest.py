"""KuCoin spot REST: the public WebSocket token, book snapshots, the symbol list (sans-I/O)."""

from __future__ import annotations

from typing import Any

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.levels import Levels, parse_levels

log = get_logger(__name__)

DEFAULT_REST_BASE = "https://api.kucoin.com"
BULLET_PATH = "/api/v1/bullet-public"
SYMBOLS_PATH = "/api/v2/symbols"
SYMBOLS_V1_PATH = "/api/v1/symbols"
# Public partial book (no key): 100 levels a side. The full book (/api/v3/market/orderbook/
# level2) needs an API key; captures of keyed recorders hold it, replay reads both.
PARTIAL_BOOK_PATH = "/api/v1/market/orderbook/level2_100"
FULL_BOOK_PATH = "/api/v3/market/orderbook/level2"
PARTIAL_LEVELS = 100

Snapshot = tuple[int, float | None, Levels, Levels]  # sequence, time (s), bids, asks


def _data(body: str, what: str) -> Any:
    """The ``data`` of a KuCoin answer ``{"code":"200000","data":...}``."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = f"KuCoin {what}: not JSON ({exc})"
        raise VenueProtocolError(msg) from exc
    if type(answer) is not dict or answer.get("code") != "200000" or "data" not in answer:
        msg = f"KuCoin {what}: not a success answer: {body[:120]}"
        raise VenueProtocolError(msg)
    return answer["data"]


def bullet_request(rest_base: str) -> RestRequest:
    """POST /api/v1/bullet-public: a token, the WebSocket endpoint and its ping interval."""
    return RestRequest(Venue.KUCOIN, f"{rest_base}{BULLET_PATH}", (), 1, "connect", method="POST")


def parse_bullet(body: str) -> tuple[str, str, float]:
    """``{"code":"200000","data":{"token":"...","instanceServers":[{"endpoint":
    "wss://ws-api-spot.kucoin.com/","protocol":"websocket","pingInterval":18000,
    "pingTimeout":10000}]}}`` -> (endpoint, token, ping interval in seconds)."""
    data = _data(body, "bullet-public")
    try:
        token = data["token"]
        server = next(s for s in data["instanceServers"] if s.get("protocol") == "websocket")
        endpoint, ping_ms = server["endpoint"], server.get("pingInterval", 18000)
    except (KeyError, TypeError, AttributeError, StopIteration) as exc:
        msg = f"KuCoin bullet-public: no token or websocket server ({exc!r})"
        raise VenueProtocolError(msg) from exc
    if type(token) is not str or type(endpoint) is not str or not token:
        msg = "KuCoin bullet-public: token or endpoint is not a string"
        raise VenueProtocolError(msg)
    ping_s = ping_ms / 1000 if type(ping_ms) is int and ping_ms > 0 else 18.0
    return endpoint, token, ping_s


def book_request(
    rest_base: str, native: str, path: str, symbol: Symbol, purpose: str
) -> RestRequest:
    return RestRequest(
        Venue.KUCOIN, f"{rest_base}{path}", (("symbol", native),), 1, purpose, symbol
    )


def parse_snapshot(body: str) -> Snapshot:
    """``{"code":"200000","data":{"time":1550653727731,"sequence":"3262786978",
    "bids":[["6500.12","0.45054140"]],"asks":[["6500.16","0.57753524"]]}}``"""
    data = _data(body, "order book")
    sequence = data["sequence"]
    if type(sequence) is str and sequence.isdecimal():
        sequence = int(sequence)
    if type(sequence) is not int:
        msg = "KuCoin order book: sequence is not a number"
        raise VenueProtocolError(msg)
    ts = data.get("time")
    venue_ts = ts / 1000 if type(ts) is int else None
    return sequence, venue_ts, parse_levels(data["bids"]), parse_levels(data["asks"])


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """GET /api/v2/symbols (every spot symbol)."""
    base = rest_base or DEFAULT_REST_BASE
    return RestRequest(Venue.KUCOIN, f"{base}{SYMBOLS_PATH}", (), 1, "instruments")


def _step(value: object) -> float | None:
    try:
        step = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return step if step > 0 else None


def parse_instruments(body: str) -> list[Instrument]:
    """``{"code":"200000","data":[{"symbol":"BTC-USDT","baseCurrency":"BTC",
    "quoteCurrency":"USDT","priceIncrement":"0.1","baseIncrement":"0.00000001",
    "enableTrading":true,...}]}`` (v1 and v2 alike) -> the symbols open for trading."""
    entries = _data(body, "symbols")
    if type(entries) is not list:
        msg = "KuCoin symbols: data is not a list"
        raise VenueProtocolError(msg)
    instruments = []
    for entry in entries:
        try:
            native, base, quote = entry["symbol"], entry["baseCurrency"], entry["quoteCurrency"]
            trading = entry.get("enableTrading")
        except (KeyError, TypeError) as exc:
            msg = f"KuCoin symbols: malformed entry {str(entry)[:120]} ({exc!r})"
            raise VenueProtocolError(msg) from exc
        if trading is not True or type(native) is not str:
            continue
        try:
            symbol = Symbol.parse(f"{base}-{quote}")
        except (ValueError, AttributeError, TypeError):
            log.debug("instrument_skipped", venue="kucoin", native=native)
            continue
        tick, lot = _step(entry.get("priceIncrement")), _step(entry.get("baseIncrement"))
        instruments.append(Instrument(Venue.KUCOIN, symbol, native, tick_size=tick, lot_size=lot))
    return instruments
