"""HTX REST: the spot symbol list and the ``/market/depth`` book polled while the stream is down."""

from __future__ import annotations

from typing import Any

import orjson

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.levels import Levels, float_levels, valid_levels
from goquant_bot.venues.symbols import spot_instrument

DEFAULT_REST_BASE = "https://api.huobi.pro"
SYMBOLS_PATH = "/v1/common/symbols"
DEPTH_PATH = "/market/depth"  # step0: 150 levels a side, unaggregated


def instruments_request(rest_base: str | None = None) -> RestRequest:
    """The REST request listing HTX spot symbols."""
    return RestRequest(
        venue=Venue.HTX,
        url=f"{rest_base or DEFAULT_REST_BASE}{SYMBOLS_PATH}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def depth_request(rest_base: str, native: str, symbol: Symbol) -> RestRequest:
    """GET /market/depth?symbol=btcusdt&type=step0: one poll of one book (weight 1)."""
    return RestRequest(
        venue=Venue.HTX,
        url=f"{rest_base}{DEPTH_PATH}",
        params=(("symbol", native), ("type", "step0")),
        weight=1,
        purpose="poll",
        symbol=symbol,
    )


def parse_depth(body: str) -> tuple[Levels, Levels, float | None]:
    """``{"ch":"market.btcusdt.depth.step0","status":"ok","ts":1630983549503,"tick":{"ts":
    1630983549500,"version":136998124622,"bids":[[52690.69,0.36281]],"asks":[[52690.7,2.2]]}}``
    -> (bids, asks, venue time); an error answer or a malformed book raises."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "HTX depth: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is not dict or msg.get("status") != "ok":
        code = msg.get("err-code") if type(msg) is dict else None
        text = f"HTX depth: not a successful answer ({code!r})"
        raise VenueProtocolError(text)
    tick = msg.get("tick")
    if type(tick) is not dict or not (
        valid_levels(tick.get("bids")) and valid_levels(tick.get("asks"))
    ):
        text = "HTX depth: tick.bids / tick.asks are not [[price, size], ...]"
        raise VenueProtocolError(text)
    bids, asks = tick["bids"], tick["asks"]
    ts_ms = tick.get("ts", msg.get("ts"))
    venue_ts = ts_ms / 1000 if type(ts_ms) is int else None
    return (
        float_levels(bids),
        float_levels(asks),
        venue_ts,
    )


def _step(digits: Any) -> float:
    if type(digits) is not int or not 0 <= digits <= 18:
        msg = f"precision {digits!r} is not a number of decimals"
        raise ValueError(msg)
    return 10.0**-digits


def parse_instruments(body: str) -> list[Instrument]:
    """Parse ``{"status":"ok","data":[{"base-currency":"btc","quote-currency":"usdt",
    "price-precision":2,"amount-precision":6,"symbol":"btcusdt","state":"online"}]}``;
    symbols not ``online`` (offline, suspend, pre-online) are left out."""
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        text = "HTX symbols: the body is not JSON"
        raise VenueProtocolError(text) from exc
    if type(msg) is not dict or msg.get("status") != "ok" or type(msg.get("data")) is not list:
        code = msg.get("err-code") if type(msg) is dict else None
        text = f"HTX symbols: not a successful answer ({code!r})"
        raise VenueProtocolError(text)
    instruments: list[Instrument] = []
    for index, item in enumerate(msg["data"]):
        try:
            if item["state"] != "online":
                continue
            native, base, quote = item["symbol"], item["base-currency"], item["quote-currency"]
            tick, lot = _step(item["price-precision"]), _step(item["amount-precision"])
        except (KeyError, TypeError, ValueError) as exc:
            text = f"HTX symbols: entry {index} is malformed ({type(exc).__name__}: {exc})"
            raise VenueProtocolError(text) from exc
        instrument = spot_instrument(Venue.HTX, base, quote, native, tick, lot)
        if instrument is not None:
            instruments.append(instrument)
    return instruments
