"""Gate v4 spot WebSocket and REST wire-format builders, as JSON text (shapes from Gate's docs)."""

from __future__ import annotations

import json
from collections.abc import Sequence

Pairs = Sequence[tuple[str, str]]  # (price, amount) decimal strings
T_MS = 1_767_225_600_000


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _levels(levels: Pairs) -> list[list[str]]:
    return [list(level) for level in levels]


def obu_full(pair: str, u: int, bids: Pairs, asks: Pairs, levels: int = 400) -> str:
    result = {"t": T_MS + u, "full": True, "s": f"ob.{pair}.{levels}", "u": u,
              "b": _levels(bids), "a": _levels(asks)}  # fmt: skip
    return _dump({"channel": "spot.obu", "result": result, "time_ms": T_MS + u})


def obu_update(
    pair: str, first: int, last: int, bids: Pairs = (), asks: Pairs = (), levels: int = 400
) -> str:
    result = {"t": T_MS + last, "s": f"ob.{pair}.{levels}", "U": first, "u": last,
              "b": _levels(bids), "a": _levels(asks)}  # fmt: skip
    return _dump({"channel": "spot.obu", "result": result, "time_ms": T_MS + last})


def book_update(pair: str, first: int, last: int, bids: Pairs = (), asks: Pairs = ()) -> str:
    """A ``spot.order_book_update`` push (the channel older recorders subscribed)."""
    result = {"t": T_MS + last, "e": "depthUpdate", "E": (T_MS + last) // 1000, "s": pair,
              "U": first, "u": last, "b": _levels(bids), "a": _levels(asks)}  # fmt: skip
    return _dump({"time": (T_MS + last) // 1000, "time_ms": T_MS + last,
                  "channel": "spot.order_book_update", "event": "update", "result": result})  # fmt: skip


def subscribed(channel: str, payload: list[str]) -> str:
    return _dump({"time": T_MS // 1000, "time_ms": T_MS, "channel": channel,
                  "event": "subscribe", "payload": payload, "result": {"status": "success"}})  # fmt: skip


def sub_error(channel: str, payload: list[str]) -> str:
    return _dump({"time": T_MS // 1000, "channel": channel, "event": "subscribe",
                  "payload": payload, "error": {"code": 2, "message": "unknown currency pair"},
                  "result": None})  # fmt: skip


def pong() -> str:
    return _dump({"time": T_MS // 1000, "time_ms": T_MS, "conn_id": "5e74253e9c793974",
                  "channel": "spot.pong", "event": "", "result": None})  # fmt: skip


def trade(pair: str, price: str, amount: str, side: str, trade_id: int = 309143071) -> str:
    result = {"id": trade_id, "create_time": T_MS // 1000, "create_time_ms": f"{T_MS}.4578",
              "side": side, "currency_pair": pair, "amount": amount, "price": price,
              "range": "2127-2127"}  # fmt: skip
    return _dump({"time": T_MS // 1000, "channel": "spot.trades", "event": "update",
                  "result": result})  # fmt: skip


def book_body(book_id: int, bids: Pairs, asks: Pairs) -> str:
    """``GET /api/v4/spot/order_book?currency_pair=..&with_id=true``."""
    return _dump({"id": book_id, "current": T_MS + 5, "update": T_MS + 3,
                  "asks": _levels(asks), "bids": _levels(bids)})  # fmt: skip


def pairs_body(*entries: tuple[str, str, str, int, int, str]) -> str:
    """(id, base, quote, precision, amount_precision, trade_status) rows."""
    rows = []
    for native, base, quote, precision, amount_precision, status in entries:
        rows.append({"id": native, "base": base, "quote": quote, "fee": "0.2",
                     "min_base_amount": "0.0001", "min_quote_amount": "1",
                     "amount_precision": amount_precision, "precision": precision,
                     "trade_status": status, "sell_start": 1516378650,
                     "buy_start": 1516378650})  # fmt: skip
    return _dump(rows)
