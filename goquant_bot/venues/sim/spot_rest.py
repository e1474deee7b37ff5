"""REST of the simulated Bitfinex, Bitstamp and Gemini: instrument lists and order books."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.spot_sessions import (
    BitstampSession,
    GeminiSession,
    bitfinex_level,
    bitfinex_pair,
)

SPOT_VENUES = (Venue.BITFINEX, Venue.BITSTAMP, Venue.GEMINI)  # whose REST this module answers


def bitfinex_pairs(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    """``[["BTCUSD","BTCUST",...]]``."""
    return 200, enc.dumps([[bitfinex_pair(s) for s in model.listings(Venue.BITFINEX)]])


def bitfinex_book(model: MarketModel, native: str, query: Mapping[str, str]) -> tuple[int, str]:
    """``GET /v2/book/tBTCUSD/P0?len=25``: ``[[PRICE,COUNT,AMOUNT],...]``."""
    book = next(
        (
            model.book(Venue.BITFINEX, s)
            for s in model.listings(Venue.BITFINEX)
            if f"t{bitfinex_pair(s)}" == native
        ),
        None,
    )
    if book is None:
        return 500, '["error",10020,"symbol: invalid"]'
    length = int(query.get("len", "25")) if query.get("len", "25").isdigit() else 25
    rows = [bitfinex_level(book, p, s, True, 1) for p, s in book.top(True, length)]
    rows += [bitfinex_level(book, p, s, False, 1) for p, s in book.top(False, length)]
    return 200, f"[{','.join(rows)}]"


def bitstamp_pairs(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    """``[{"name":"BTC/USDT","url_symbol":"btcusdt","base_decimals":8,...}]``."""
    entries = []
    for symbol in model.listings(Venue.BITSTAMP):
        asset = model.asset(symbol.base)
        entries.append(
            {
                "name": f"{symbol.base}/{symbol.quote}",
                "url_symbol": BitstampSession.native(symbol),
                "base_decimals": asset.lot_decimals,
                "counter_decimals": asset.tick_decimals,
                "instant_order_counter_decimals": asset.tick_decimals,
                "minimum_order": f"10.0 {symbol.quote}",
                "trading": "Enabled",
                "instant_and_market_orders": "Enabled",
                "description": f"{symbol.base} / {symbol.quote}",
            }
        )
    return 200, enc.dumps(entries)


def bitstamp_book(model: MarketModel, native: str) -> tuple[int, str]:
    """``{"timestamp":"...","microtimestamp":"...","bids":[["p","a"],...],"asks":[...]}``."""
    book = next(
        (
            model.book(Venue.BITSTAMP, s)
            for s in model.listings(Venue.BITSTAMP)
            if BitstampSession.native(s) == native
        ),
        None,
    )
    if book is None:
        return 404, enc.dumps({"status": "error", "reason": "Not Found"})
    body = {
        "timestamp": str(book.ts_ms // 1000),
        "microtimestamp": str(book.ts_ms * 1000),
        "bids": enc.text_levels(book, book.top(True)),
        "asks": enc.text_levels(book, book.top(False)),
    }
    return 200, enc.dumps(body)


def gemini_symbols(model: MarketModel) -> tuple[int, str]:
    """``["btcusd","ethusd",...,"btcgusdperp"]`` (a perpetual is listed too, as on Gemini)."""
    names = [GeminiSession.native(s).lower() for s in model.listings(Venue.GEMINI)]
    return 200, enc.dumps([*names, "btcgusdperp"])


def _gemini_book(model: MarketModel, native: str) -> SimBook | None:
    for symbol in model.listings(Venue.GEMINI):
        if GeminiSession.native(symbol).lower() == native.lower():
            return model.book(Venue.GEMINI, symbol)
    return None


def gemini_details(model: MarketModel, native: str) -> tuple[int, str]:
    """``{"symbol":"BTCUSD","base_currency":"BTC","quote_currency":"USD","tick_size":1e-8,...}``."""
    if native == "btcgusdperp":
        body: dict[str, Any] = {
            "symbol": "BTCGUSDPERP", "base_currency": "BTC", "quote_currency": "GUSD",
            "tick_size": 0.0001, "quote_increment": 0.5, "min_order_size": "0.0001",
            "status": "open", "wrap_enabled": False, "product_type": "swap",
            "contract_type": "linear", "contract_price_currency": "GUSD",
        }  # fmt: skip
        return 200, enc.dumps(body)
    book = _gemini_book(model, native)
    if book is None:
        return 400, enc.dumps({"result": "error", "reason": "InvalidSymbol", "message": native})
    asset = book.asset
    body = {
        "symbol": GeminiSession.native(book.symbol),
        "base_currency": book.symbol.base,
        "quote_currency": book.symbol.quote,
        "tick_size": 10.0**-asset.lot_decimals,
        "quote_increment": 10.0**-asset.tick_decimals,
        "min_order_size": str(10.0**-asset.lot_decimals),
        "status": "open",
        "wrap_enabled": False,
        "product_type": "spot",
        "contract_type": "vanilla",
        "contract_price_currency": book.symbol.quote,
    }
    return 200, enc.dumps(body)


def gemini_book(model: MarketModel, native: str, query: Mapping[str, str]) -> tuple[int, str]:
    """``{"bids":[{"price":"...","amount":"...","timestamp":"..."}],"asks":[...]}``."""
    book = _gemini_book(model, native)
    if book is None:
        return 400, enc.dumps({"result": "error", "reason": "InvalidSymbol", "message": native})
    limit = query.get("limit_bids", "50")
    depth = int(limit) if limit.isdigit() else 50
    ts = str(book.ts_ms // 1000)

    def rows(bids: bool) -> list[dict[str, str]]:
        return [
            {"price": book.price_text(p), "amount": book.size_text(s), "timestamp": ts}
            for p, s in book.top(bids, depth)
        ]

    return 200, enc.dumps({"bids": rows(True), "asks": rows(False)})


def spot_rest_answer(
    model: MarketModel, venue: Venue, path: str, query: Mapping[str, str]
) -> tuple[int, str] | None:
    """The answer of one of these venues' REST paths; None when the path is not theirs."""
    if venue is Venue.BITFINEX:
        if path == "/v2/conf/pub:list:pair:exchange":
            return bitfinex_pairs(model, query)
        parts = path.split("/")
        if len(parts) == 5 and parts[1:3] == ["v2", "book"] and parts[4] == "P0":
            return bitfinex_book(model, parts[3], query)
    if venue is Venue.BITSTAMP:
        if path == "/api/v2/trading-pairs-info":
            return bitstamp_pairs(model, query)
        if path.startswith("/api/v2/order_book/"):
            return bitstamp_book(model, path.rsplit("/", 1)[1])
    if venue is Venue.GEMINI:
        if path == "/v1/symbols":
            return gemini_symbols(model)
        if path.startswith("/v1/symbols/details/"):
            return gemini_details(model, path.rsplit("/", 1)[1])
        if path.startswith("/v1/book/"):
            return gemini_book(model, path.rsplit("/", 1)[1], query)
    return None
