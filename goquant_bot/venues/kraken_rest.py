"""Kraken spot off the stream path: the book checksum, AssetPairs and the REST depth poll."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest

log = get_logger(__name__)

DEFAULT_REST_BASE = "https://api.kraken.com"
ASSET_PAIRS_PATH = "/0/public/AssetPairs"
DEPTH_PATH = "/0/public/Depth"
CHECKSUM_LEVELS = 10
# The only assets whose Kraken ticker differs from everyone else's (REST and WebSocket v1).
LEGACY_TICKERS = {"BTC": "XBT", "DOGE": "XDG"}

Texts = Sequence[tuple[str, str]]  # (price, quantity) as written on the wire


def plain(text: str) -> str:
    """A number's text in plain decimal notation (``1e-05`` -> ``0.00001``)."""
    if "e" in text or "E" in text:
        try:
            return format(Decimal(text), "f")
        except InvalidOperation as exc:
            msg = f"not a number: {text[:40]!r}"
            raise VenueProtocolError(msg) from exc
    return text


def decimals(text: str) -> int:
    """Digits after the point of a plain decimal text."""
    point = text.find(".")
    return 0 if point < 0 else len(text) - point - 1


def places(step: float | None) -> int:
    """Decimals of a tick or lot size: 0.1 -> 1, 1e-08 -> 8 (0 when unknown)."""
    if not step or step <= 0:
        return 0
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def pad(text: str, wanted: int) -> str:
    """``text`` with trailing zeros up to ``wanted`` decimals (never shortened)."""
    missing = wanted - decimals(text)
    if missing <= 0:
        return text
    return f"{text}{'.' if '.' not in text else ''}{'0' * missing}"


def render_level(price: str, qty: str) -> str:
    """A level's part of the checksum: ``("45285.2", "0.00100000")`` -> ``"452852100000"``."""
    return price.replace(".", "").lstrip("0") + qty.replace(".", "").lstrip("0")


def kraken_checksum(asks: Texts, bids: Texts) -> int:
    """Unsigned CRC32 of the best 10 asks (low to high) then the best 10 bids (high to low),
    each level its price then its quantity with the point removed and leading zeros stripped.

    The texts must carry the pair's full precision (``"0.00100000"``, not ``"0.001"``)."""
    parts = [render_level(p, q) for p, q in asks[:CHECKSUM_LEVELS]]
    parts += [render_level(p, q) for p, q in bids[:CHECKSUM_LEVELS]]
    return zlib.crc32("".join(parts).encode())


def legacy_name(symbol: Symbol) -> str:
    """The REST name of a pair: ``XBTUSD``, ``ETHUSD`` (Kraken's altname convention)."""
    base = LEGACY_TICKERS.get(symbol.base, symbol.base)
    quote = LEGACY_TICKERS.get(symbol.quote, symbol.quote)
    return f"{base}{quote}"


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """``GET /0/public/AssetPairs``: every pair, tradable or not (filtered when parsing)."""
    return RestRequest(
        venue=Venue.KRAKEN,
        url=f"{rest_base or DEFAULT_REST_BASE}{ASSET_PAIRS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def _result(body: str, what: str) -> dict[str, Any]:
    """The ``result`` object of ``{"error":[],"result":{...}}``."""
    try:
        reply = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        msg = f"Kraken {what}: the body is not JSON"
        raise VenueProtocolError(msg) from exc
    if type(reply) is not dict:
        msg = f"Kraken {what}: expected a JSON object"
        raise VenueProtocolError(msg)
    if reply.get("error"):
        msg = f"Kraken {what}: {reply['error']!r}"
        raise VenueProtocolError(msg)
    result = reply.get("result")
    if type(result) is not dict:
        msg = f"Kraken {what}: 'result' is not an object"
        raise VenueProtocolError(msg)
    return result


def parse_instruments(body: str) -> list[Instrument]:
    """``{"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT",
    "quote":"ZUSD","pair_decimals":1,"lot_decimals":8,"tick_size":"0.1","status":"online"}}}``

    Symbols come from ``wsname`` with XBT read as BTC and XDG as DOGE; the native name is the
    WebSocket v2 one (``BTC/USD``). Pairs without a ``wsname`` (dark pools) are left out."""
    instruments: list[Instrument] = []
    for key, item in _result(body, "AssetPairs").items():
        try:
            if item.get("status", "online") != "online" or not item.get("wsname"):
                continue
            wsname = item["wsname"]
            lot = 10.0 ** -int(item["lot_decimals"])
            tick_text = item.get("tick_size")
            tick = float(tick_text) if tick_text else 10.0 ** -int(item["pair_decimals"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"Kraken AssetPairs: {key} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(msg) from exc
        try:
            symbol = Symbol.parse(wsname)
        except (ValueError, AttributeError):
            log.debug("instrument_skipped", venue="kraken", native=str(wsname))
            continue
        native = f"{symbol.base}/{symbol.quote}"
        instruments.append(Instrument(Venue.KRAKEN, symbol, native, tick_size=tick, lot_size=lot))
    return instruments


def depth_request(rest_base: str, symbol: Symbol, count: int) -> RestRequest:
    return RestRequest(
        venue=Venue.KRAKEN,
        url=f"{rest_base}{DEPTH_PATH}",
        params=(("pair", legacy_name(symbol)), ("count", str(count))),
        weight=1,
        purpose="poll",
        symbol=symbol,
    )


def parse_depth(
    body: str,
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], float | None]:
    """``{"error":[],"result":{"XXBTZUSD":{"asks":[["65000.1","0.5",1688671834]],"bids":[...]}}}``
    -> (bids, asks, newest level time)."""
    result = _result(body, "Depth")
    if len(result) != 1:
        msg = f"Kraken Depth: expected one pair, got {len(result)}"
        raise VenueProtocolError(msg)
    try:
        book = next(iter(result.values()))
        bids = [(float(p), float(q)) for p, q, *_ in book["bids"]]
        asks = [(float(p), float(q)) for p, q, *_ in book["asks"]]
        stamps = [float(level[2]) for level in (*book["bids"], *book["asks"]) if len(level) > 2]
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"Kraken Depth: malformed book ({type(exc).__name__}: {exc})"
        raise VenueProtocolError(msg) from exc
    return bids, asks, max(stamps) if stamps else None
