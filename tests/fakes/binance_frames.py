"""Binance spot wire-format builders: stream frames and REST bodies as JSON text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Levels = Sequence[Sequence[Any]]


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def depth_data(
    symbol: str, U: int, u: int, bids: Levels, asks: Levels, *, E: int = 1672515782136
) -> dict[str, Any]:
    """The ``depthUpdate`` payload of a diff-depth event, as a dict (to tamper with)."""
    return {
        "e": "depthUpdate",
        "E": E,
        "s": symbol,
        "U": U,
        "u": u,
        "b": [list(level) for level in bids],
        "a": [list(level) for level in asks],
    }


def stream_frame(data: dict[str, Any], stream: str | None = None) -> str:
    """Wrap a payload as a combined-stream frame ``{"stream":..., "data":...}``."""
    name = stream or f"{str(data.get('s', '')).lower()}@depth@100ms"
    return _dump({"stream": name, "data": data})


def depth_update(
    symbol: str, U: int, u: int, bids: Levels, asks: Levels, *, E: int = 1672515782136
) -> str:
    """A combined-stream diff-depth frame for ``symbol`` (e.g. "BTCUSDT")."""
    return stream_frame(depth_data(symbol, U, u, bids, asks, E=E))


def book_ticker(symbol: str, u: int, bid: str, bid_qty: str, ask: str, ask_qty: str) -> str:
    """A combined-stream ``@bookTicker`` frame (a stream the protocol does not use)."""
    data = {"u": u, "s": symbol, "b": bid, "B": bid_qty, "a": ask, "A": ask_qty}
    return _dump({"stream": f"{symbol.lower()}@bookTicker", "data": data})


def snapshot_body(last_update_id: int, bids: Levels, asks: Levels) -> str:
    """The body of ``GET /api/v3/depth``."""
    return _dump(
        {
            "lastUpdateId": last_update_id,
            "bids": [list(level) for level in bids],
            "asks": [list(level) for level in asks],
        }
    )


def subscribe_ack(request_id: int) -> str:
    """The reply to a successful SUBSCRIBE/UNSUBSCRIBE."""
    return _dump({"result": None, "id": request_id})


def error_reply(request_id: int, code: int = 2, msg: str = "Invalid request") -> str:
    """The reply to a rejected request."""
    return _dump({"error": {"code": code, "msg": msg}, "id": request_id})


def symbol_entry(
    symbol: str,
    base: str,
    quote: str,
    *,
    status: str = "TRADING",
    tick_size: str = "0.01000000",
    step_size: str = "0.00001000",
) -> dict[str, Any]:
    """One ``symbols[]`` entry of exchangeInfo with its price and lot filters."""
    return {
        "symbol": symbol,
        "status": status,
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick_size,
                "maxPrice": "1000000.00000000",
                "tickSize": tick_size,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": step_size,
                "maxQty": "9000.00000000",
                "stepSize": step_size,
            },
            {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
        ],
        "permissions": [],
    }


def exchange_info_body(entries: Sequence[dict[str, Any]]) -> str:
    """The body of ``GET /api/v3/exchangeInfo``."""
    return _dump(
        {
            "timezone": "UTC",
            "serverTime": 1672515782136,
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                }
            ],
            "exchangeFilters": [],
            "symbols": list(entries),
        }
    )


def trade(symbol: str, price: str, qty: str, side: str, ms: int, trade_id: int = 12345) -> str:
    """A ``<symbol>@trade`` event in a combined-stream frame; ``side`` is the taker's."""
    data = {"e": "trade", "E": ms + 1, "s": symbol, "t": trade_id, "p": price, "q": qty,
            "T": ms, "m": side == "sell", "M": True}  # fmt: skip
    return stream_frame(data, f"{symbol.lower()}@trade")
