"""Deribit API v2 wire-format builders: JSON-RPC frames and REST bodies as JSON text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Changes = Sequence[tuple[str, float, float]]  # (action, price, amount), numbers as in JSON
TS = 1700000000123


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def book_message(
    kind: str,
    instrument: str,
    change_id: int,
    prev_change_id: int | None,
    bids: Changes,
    asks: Changes,
    timestamp: int = TS,
) -> dict[str, Any]:
    """A ``book.{instrument}.100ms`` notification as a dict (to tamper with)."""
    data: dict[str, Any] = {
        "type": kind,
        "timestamp": timestamp,
        "instrument_name": instrument,
        "change_id": change_id,
        "bids": [list(level) for level in bids],
        "asks": [list(level) for level in asks],
    }
    if prev_change_id is not None:
        data["prev_change_id"] = prev_change_id
    channel = f"book.{instrument}.100ms"
    return {
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": {"channel": channel, "data": data},
    }


def book_notification(
    kind: str,
    instrument: str,
    change_id: int,
    prev_change_id: int | None,
    bids: Changes,
    asks: Changes,
    timestamp: int = TS,
) -> str:
    """A book notification; ``kind`` is "snapshot" (prev_change_id None) or "change"."""
    return _dump(book_message(kind, instrument, change_id, prev_change_id, bids, asks, timestamp))


def heartbeat(kind: str = "test_request") -> str:
    """A server heartbeat: "test_request" wants a public/test answer, "heartbeat" nothing."""
    return _dump({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": kind}})


def rpc_result(request_id: int, result: Any) -> str:
    """The answer to one of our requests."""
    return _dump(
        {"jsonrpc": "2.0", "id": request_id, "result": result, "usIn": 1, "usOut": 2, "usDiff": 1}
    )


def rpc_error(request_id: int, code: int = 10028, message: str = "too_many_requests") -> str:
    """An error answer to one of our requests."""
    return _dump({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def order_book_body(
    instrument: str,
    bids: Sequence[tuple[float, float]],
    asks: Sequence[tuple[float, float]],
    timestamp: int = TS,
    change_id: int = 1000,
) -> str:
    """``GET /api/v2/public/get_order_book`` success body."""
    result = {
        "timestamp": timestamp,
        "state": "open",
        "instrument_name": instrument,
        "change_id": change_id,
        "bids": [list(level) for level in bids],
        "asks": [list(level) for level in asks],
    }
    return _dump({"jsonrpc": "2.0", "result": result, "usIn": 1, "usOut": 2, "usDiff": 1})


def instrument(
    name: str,
    base: str,
    quote: str,
    *,
    active: bool = True,
    tick: float = 0.01,
    min_amount: float = 0.0001,
    kind: str = "spot",
    cbe_routed: bool | None = None,
) -> dict[str, Any]:
    """One entry of ``public/get_instruments`` (the fields we read plus a few others)."""
    entry: dict[str, Any] = {
        "tick_size": tick,
        "taker_commission": 0.0,
        "quote_currency": quote,
        "price_index": f"{base.lower()}_{quote.lower()}",
        "min_trade_amount": min_amount,
        "maker_commission": 0.0,
        "kind": kind,
        "is_active": active,
        "instrument_name": name,
        "instrument_id": 1,
        "expiration_timestamp": 32503708800000,
        "creation_timestamp": 1682323200000,
        "counter_currency": quote,
        "contract_size": min_amount,
        "base_currency": base,
        "state": "open" if active else "closed",
    }
    if cbe_routed is not None:
        entry["is_cbe_routed"] = cbe_routed
    return entry


def instruments_body(entries: Sequence[dict[str, Any]]) -> str:
    """``GET /api/v2/public/get_instruments?currency=any&kind=spot`` success body."""
    return _dump({"jsonrpc": "2.0", "result": list(entries), "usIn": 1, "usOut": 2, "usDiff": 1})


def trade(instrument: str, price: float, amount: float, direction: str, ms: int) -> str:
    """A ``trades.{instrument}.100ms`` notification; ``direction`` is the taker's."""
    item = {"trade_seq": 1966, "trade_id": "USDC-2716", "timestamp": ms, "tick_direction": 0,
            "price": price, "mark_price": price, "instrument_name": instrument,
            "index_price": price, "direction": direction, "amount": amount}  # fmt: skip
    params = {"channel": f"trades.{instrument}.100ms", "data": [item]}
    return _dump({"jsonrpc": "2.0", "method": "subscription", "params": params})
