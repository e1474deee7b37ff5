"""Crypto.com Exchange v1 market-data wire-format builders (shapes from its docs), as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Pairs = Sequence[tuple[str, str]]  # (price, qty) as the venue's decimal strings
TS = 1654780033786


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _rows(pairs: Pairs) -> list[list[str]]:
    return [[p, q, "0" if float(q) == 0 else "2"] for p, q in pairs]


def _push(inst: str, channel: str, subscription: str, data: list[Any]) -> str:
    result = {"instrument_name": inst, "subscription": subscription, "channel": channel,
              "depth": 50, "data": data}  # fmt: skip
    return _dump({"id": -1, "method": "subscribe", "code": 0, "result": result})


def snapshot(inst: str, bids: Pairs, asks: Pairs, u: int, ts: int = TS) -> str:
    """The first ``book`` push of a ``SNAPSHOT_AND_UPDATE`` subscription."""
    item = {"asks": _rows(asks), "bids": _rows(bids), "t": ts, "tt": ts - 50, "u": u}
    return _push(inst, "book", f"book.{inst}.50", [item])


def update(inst: str, bids: Pairs, asks: Pairs, u: int, pu: int, ts: int = TS) -> str:
    """A ``book.update`` delta numbered ``u`` after ``pu``."""
    item = {"update": {"asks": _rows(asks), "bids": _rows(bids)}, "t": ts, "tt": ts - 50,
            "u": u, "pu": pu}  # fmt: skip
    return _push(inst, "book.update", f"book.{inst}.50", [item])


def trades(inst: str, rows: Sequence[tuple[str, str, str]], ts: int = TS) -> str:
    """A ``trade`` push of (price, qty, taker side BUY/SELL) trades, newest first."""
    data = [{"d": str(4611686018439397540 + i), "t": ts + i, "p": p, "q": q, "s": s, "i": inst,
             "m": str(76423 + i)} for i, (p, q, s) in enumerate(rows)]  # fmt: skip
    result = {"instrument_name": inst, "subscription": f"trade.{inst}", "channel": "trade",
              "data": data}  # fmt: skip
    return _dump({"id": -1, "method": "subscribe", "code": 0, "result": result})


def heartbeat(beat_id: int = 1587523073344) -> str:
    return _dump({"id": beat_id, "method": "public/heartbeat", "code": 0})


def ack(req_id: int, method: str = "subscribe", code: int = 0) -> str:
    msg: dict[str, Any] = {"id": req_id, "method": method, "code": code}
    if code:
        msg["message"] = "UNKNOWN_CHANNEL"
    return _dump(msg)


def instrument(
    symbol: str,
    base: str,
    quote: str,
    *,
    inst_type: str = "CCY_PAIR",
    tick: str = "0.01",
    lot: str = "0.00001",
    tradable: bool = True,
) -> dict[str, Any]:
    """One entry of ``public/get-instruments``."""
    return {"symbol": symbol, "inst_type": inst_type, "display_name": f"{base}/{quote}",
            "base_ccy": base, "quote_ccy": quote, "quote_decimals": 2, "quantity_decimals": 5,
            "price_tick_size": tick, "qty_tick_size": lot, "max_leverage": "50",
            "tradable": tradable, "expiry_timestamp_ms": 0, "beta_product": False}  # fmt: skip


def instruments_body(*entries: dict[str, Any]) -> str:
    return _dump({"id": 1, "method": "public/get-instruments", "code": 0,
                  "result": {"data": list(entries)}})  # fmt: skip


def book_body(inst: str, bids: Pairs, asks: Pairs, ts: int = TS) -> str:
    """An answer of ``GET /public/get-book?instrument_name=...&depth=50``."""
    result = {"depth": 50, "data": [{"asks": _rows(asks), "bids": _rows(bids), "t": ts}],
              "instrument_name": inst}  # fmt: skip
    return _dump({"id": -1, "method": "public/get-book", "code": 0, "result": result})
