"""HTX market WebSocket wire-format builders (shapes from its docs): JSON text, and the gzip
binary frames the venue actually sends."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from typing import Any

Levels = Sequence[tuple[float, float]]  # HTX writes prices and sizes as JSON numbers
TS = 1630983549500


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def gz(text: str) -> bytes:
    """A frame as HTX sends it: one gzip member."""
    return gzip.compress(text.encode())


def depth(symbol: str, bids: Levels, asks: Levels, ts: int = TS, version: int = 1) -> str:
    """A ``market.{symbol}.depth.step0`` push: the whole top of the book."""
    tick = {"bids": [list(b) for b in bids], "asks": [list(a) for a in asks],
            "version": version, "ts": ts}  # fmt: skip
    return _dump({"ch": f"market.{symbol}.depth.step0", "ts": ts + 3, "tick": tick})


def trades(symbol: str, rows: Sequence[tuple[float, float, str]], ts: int = TS) -> str:
    """A ``market.{symbol}.trade.detail`` push of (price, amount, taker direction) trades."""
    data = [{"id": 10 + i, "ts": ts + i, "tradeId": 102523573486 + i, "amount": q, "price": p,
             "direction": d} for i, (p, q, d) in enumerate(rows)]  # fmt: skip
    tick = {"id": 138368922, "ts": ts, "data": data}
    return _dump({"ch": f"market.{symbol}.trade.detail", "ts": ts + 2, "tick": tick})


def ping(n: int = 1492420473027) -> str:
    return _dump({"ping": n})


def subbed(topic: str, req_id: str = "1") -> str:
    return _dump({"id": req_id, "status": "ok", "subbed": topic, "ts": TS})


def error(topic: str, req_id: str = "1") -> str:
    return _dump({"id": req_id, "status": "error", "err-code": "bad-request",
                  "err-msg": f"invalid topic {topic}", "ts": TS})  # fmt: skip


def symbol(
    name: str,
    base: str,
    quote: str,
    *,
    state: str = "online",
    price_dp: Any = 2,
    amount_dp: Any = 6,
) -> dict[str, Any]:
    """One entry of ``GET /v1/common/symbols``."""
    return {"base-currency": base, "quote-currency": quote, "price-precision": price_dp,
            "amount-precision": amount_dp, "symbol-partition": "main", "symbol": name,
            "state": state, "value-precision": 8, "min-order-amt": 0.0001,
            "api-trading": "enabled"}  # fmt: skip


def symbols_body(*entries: dict[str, Any]) -> str:
    return _dump({"status": "ok", "data": list(entries)})


def mbp(
    symbol: str, prev: int, seq: int, bids: Levels = (), asks: Levels = (), ts: int = TS
) -> str:
    """A ``market.{symbol}.mbp.150`` push: the levels that changed (size 0 removes one)."""
    tick = {"seqNum": seq, "prevSeqNum": prev, "bids": [list(b) for b in bids],
            "asks": [list(a) for a in asks]}  # fmt: skip
    return _dump({"ch": f"market.{symbol}.mbp.150", "ts": ts, "tick": tick})


def mbp_snapshot(symbol: str, seq: int, bids: Levels, asks: Levels, req_id: str = "2") -> str:
    """The answer to ``{"req": "market.{symbol}.mbp.150"}``: the whole top 150 at ``seq``."""
    data = {"seqNum": seq, "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}
    return _dump({"id": req_id, "rep": f"market.{symbol}.mbp.150", "status": "ok", "ts": TS,
                  "data": data})  # fmt: skip


def depth_body(bids: Levels, asks: Levels, ts: int = TS) -> str:
    """An answer of ``GET /market/depth?symbol=...&type=step0``."""
    tick = {"ts": ts, "version": 136998124622, "bids": [list(b) for b in bids],
            "asks": [list(a) for a in asks]}  # fmt: skip
    return _dump({"ch": "market.btcusdt.depth.step0", "status": "ok", "ts": ts + 3, "tick": tick})
