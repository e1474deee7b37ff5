"""MEXC spot v3 wire-format builders (shapes from its docs and published protobuf schema).

Binary pushes are encoded here by hand, field number by field number, independent of the
module generated from our ``mexc.proto``: a wrong field number there fails the tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Rows = Sequence[tuple[str, str]]
SEND_TIME = 1736411507002
DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@"
DEALS = "spot@public.aggre.deals.v3.api.pb@100ms@"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, data: bytes | str) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    return _varint(field << 3 | 2) + _varint(len(raw)) + raw


def _level(price: str, qty: str) -> bytes:
    return _bytes(1, price) + _bytes(2, qty)  # PublicAggreDepthV3ApiItem


def _wrapper(channel: str, symbol: str, field: int, body: bytes, send_time: int) -> bytes:
    """PushDataV3ApiWrapper: channel 1, symbol 3, sendTime 6, the body at 313 / 314."""
    return _bytes(1, channel) + _bytes(3, symbol) + _int(6, send_time) + _bytes(field, body)


def depth(
    symbol: str,
    first: int,
    last: int,
    bids: Rows = (),
    asks: Rows = (),
    send_time: int = SEND_TIME,
) -> bytes:
    """A ``publicAggreDepths`` push (asks 1, bids 2, eventType 3, fromVersion 4, toVersion 5)."""
    body = b"".join(_bytes(1, _level(p, q)) for p, q in asks)
    body += b"".join(_bytes(2, _level(p, q)) for p, q in bids)
    body += _bytes(3, DEPTH.removesuffix("@")) + _bytes(4, str(first)) + _bytes(5, str(last))
    return _wrapper(DEPTH + symbol, symbol, 313, body, send_time)


def deals(symbol: str, rows: Sequence[tuple[str, str, int, int]]) -> bytes:
    """A ``publicAggreDeals`` push of (price, quantity, tradeType 1 buy / 2 sell, time ms)."""
    items = [_bytes(1, p) + _bytes(2, q) + _int(3, side) + _int(4, ts) for p, q, side, ts in rows]
    body = b"".join(_bytes(1, item) for item in items) + _bytes(2, DEALS.removesuffix("@"))
    return _wrapper(DEALS + symbol, symbol, 314, body, SEND_TIME)


def book_ticker(symbol: str) -> bytes:
    """A ``publicAggreBookTicker`` push (body 315), a kind the bot does not read."""
    body = _bytes(1, "93000.01") + _bytes(2, "1.5") + _bytes(3, "93000.02") + _bytes(4, "2")
    return _wrapper(f"spot@public.aggre.bookTicker.v3.api.pb@100ms@{symbol}", symbol, 315, body, SEND_TIME)  # fmt: skip


def answer(msg: str, request_id: int = 1, code: int = 0) -> str:
    """``{"id":1,"code":0,"msg":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"}``"""
    return json.dumps({"id": request_id, "code": code, "msg": msg}, separators=(",", ":"))


def pong() -> str:
    return answer("PONG", 0)


def snapshot(last_id: int, bids: Rows, asks: Rows) -> str:
    """``GET /api/v3/depth``."""
    body = {"lastUpdateId": last_id, "bids": [list(b) for b in bids],
            "asks": [list(a) for a in asks], "timestamp": SEND_TIME}  # fmt: skip
    return json.dumps(body)


def symbol(
    name: str,
    base: str,
    quote: str,
    *,
    status: Any = "1",
    price_dp: Any = 2,
    step: str = "0.000001",
) -> dict[str, Any]:
    """One entry of ``GET /api/v3/exchangeInfo``."""
    return {"symbol": name, "status": status, "baseAsset": base, "baseAssetPrecision": 8,
            "quoteAsset": quote, "quotePrecision": price_dp, "quoteAssetPrecision": price_dp,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"], "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False, "quoteAmountPrecision": "1.00000000",
            "baseSizePrecision": step, "permissions": ["SPOT"], "filters": [],
            "maxQuoteAmount": "2000000.00000000", "makerCommission": "0",
            "takerCommission": "0.0005", "tradeSideType": "1"}  # fmt: skip


def symbols_body(*entries: dict[str, Any]) -> str:
    return json.dumps({"timezone": "CST", "serverTime": SEND_TIME, "rateLimits": [],
                       "exchangeFilters": [], "symbols": list(entries)})  # fmt: skip
