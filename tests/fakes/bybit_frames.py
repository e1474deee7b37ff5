"""Bybit v5 spot wire-format builders: stream frames and REST bodies as JSON text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Levels = Sequence[Sequence[Any]]


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def orderbook_message(
    kind: str,
    symbol: str,
    u: int,
    bids: Levels,
    asks: Levels,
    *,
    seq: int = 22520573250,
    ts: int = 1671179923028,
    depth: int = 50,
) -> dict[str, Any]:
    """An ``orderbook.{depth}.{symbol}`` message as a dict (to tamper with)."""
    return {
        "topic": f"orderbook.{depth}.{symbol}",
        "type": kind,
        "ts": ts,
        "data": {
            "s": symbol,
            "b": [list(level) for level in bids],
            "a": [list(level) for level in asks],
            "u": u,
            "seq": seq,
        },
        "cts": ts - 8,
    }


def orderbook_frame(
    kind: str,
    symbol: str,
    u: int,
    bids: Levels,
    asks: Levels,
    *,
    seq: int = 22520573250,
    ts: int = 1671179923028,
    depth: int = 50,
) -> str:
    """An order-book frame; ``kind`` is "snapshot" or "delta"."""
    return _dump(orderbook_message(kind, symbol, u, bids, asks, seq=seq, ts=ts, depth=depth))


def dump(message: dict[str, Any]) -> str:
    """Serialise a (tampered) message dict as frame text."""
    return _dump(message)


def pong(req_id: str) -> str:
    """The spot reply to ``{"op":"ping"}``."""
    return _dump(
        {
            "success": True,
            "ret_msg": "pong",
            "conn_id": "cq1m1s0dc9p2",
            "req_id": req_id,
            "op": "ping",
        }
    )


def op_ack(req_id: str, op: str = "subscribe", *, success: bool = True, ret_msg: str = "") -> str:
    """The reply to a subscribe/unsubscribe request."""
    return _dump(
        {
            "success": success,
            "ret_msg": ret_msg or op,
            "conn_id": "cq1m1s0dc9p2",
            "req_id": req_id,
            "op": op,
        }
    )


def orderbook_body(
    symbol: str, u: int, bids: Levels, asks: Levels, *, ts: int = 1716863719031
) -> str:
    """The body of ``GET /v5/market/orderbook?category=spot``."""
    return _dump(
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": {
                "s": symbol,
                "a": [list(level) for level in asks],
                "b": [list(level) for level in bids],
                "ts": ts,
                "u": u,
                "seq": 1432604333,
                "cts": ts - 2,
            },
            "retExtInfo": {},
            "time": ts + 5,
        }
    )


def instrument_entry(
    symbol: str,
    base: str,
    quote: str,
    *,
    status: str = "Trading",
    tick_size: str = "0.01",
    base_precision: str = "0.000001",
) -> dict[str, Any]:
    """One ``result.list[]`` entry of instruments-info (spot)."""
    return {
        "symbol": symbol,
        "baseCoin": base,
        "quoteCoin": quote,
        "innovation": "0",
        "status": status,
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": base_precision,
            "quotePrecision": "0.00000001",
            "minOrderQty": base_precision,
            "maxOrderQty": "71.73956243",
            "minOrderAmt": "1",
            "maxOrderAmt": "2000000",
        },
        "priceFilter": {"tickSize": tick_size},
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
    }


def instruments_body(entries: Sequence[dict[str, Any]]) -> str:
    """The body of ``GET /v5/market/instruments-info?category=spot``."""
    return _dump(
        {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"category": "spot", "list": list(entries)},
            "retExtInfo": {},
            "time": 1716863719031,
        }
    )


def trade(symbol: str, price: str, qty: str, side: str, ms: int) -> str:
    """A ``publicTrade.{symbol}`` push; ``S`` is the taker's side."""
    item = {"T": ms, "s": symbol, "S": side.capitalize(), "v": qty, "p": price,
            "L": "PlusTick", "i": "20f43950-d8dd-5b31-9112-a178eb6023af", "BT": False}  # fmt: skip
    return _dump({"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ms + 3,
                  "data": [item]})  # fmt: skip
