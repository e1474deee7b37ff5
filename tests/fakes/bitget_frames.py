"""Bitget v2 public wire-format builders (shapes from the venue's docs), as JSON text."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

Pairs = Sequence[tuple[str, str]]  # (price, size) as the venue's decimal strings
TS = 1695716059516


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def checksum_of(bids: Pairs, asks: Pairs, *, signed: bool = True) -> int:
    """CRC32 of the best 25 bids and asks (each best first), ``bid:ask`` interleaved; Bitget
    prints it as a signed 32-bit integer."""
    fields: list[str] = []
    for i in range(25):
        if i < len(bids):
            fields += bids[i]
        if i < len(asks):
            fields += asks[i]
    value = zlib.crc32(":".join(fields).encode())
    return value - 2**32 if signed and value >= 2**31 else value


def books_frame(
    action: str,
    inst_id: str,
    bids: Pairs,
    asks: Pairs,
    *,
    book: tuple[Pairs, Pairs] | None = None,
    checksum: int | None = None,
    seq: int = 1,
    ts: int = TS,
    inst_type: str = "SPOT",
) -> str:
    """A ``books`` push; the checksum hashes ``book`` (the whole book after the message, best
    first) or, for a snapshot, its own levels, unless ``checksum`` is given."""
    if checksum is None:
        top_bids, top_asks = book if book is not None else (bids, asks)
        checksum = checksum_of(top_bids, top_asks)
    item = {
        "asks": [list(level) for level in asks],
        "bids": [list(level) for level in bids],
        "checksum": checksum,
        "seq": seq,
        "ts": str(ts),
    }
    arg = {"instType": inst_type, "channel": "books", "instId": inst_id}
    return _dump({"action": action, "arg": arg, "data": [item], "ts": ts})


def trade_frame(
    inst_id: str,
    trades: Sequence[tuple[str, str, str]],
    action: str = "update",
    ts: int = TS,
) -> str:
    """A ``trade`` push of (price, size, taker side) trades."""
    data = [
        {"ts": str(ts + i), "price": p, "size": s, "side": side, "tradeId": str(1000 + i)}
        for i, (p, s, side) in enumerate(trades)
    ]
    arg = {"instType": "SPOT", "channel": "trade", "instId": inst_id}
    return _dump({"action": action, "arg": arg, "data": data, "ts": ts})


def subscribe_ack(inst_id: str, channel: str = "books", event: str = "subscribe") -> str:
    return _dump(
        {"event": event, "arg": {"instType": "SPOT", "channel": channel, "instId": inst_id}}
    )


def error_event(inst_id: str = "NOPEUSDT") -> str:
    arg = {"instType": "SPOT", "channel": "books", "instId": inst_id}
    msg = f"instType:SPOT,channel:books,instId:{inst_id} doesn't exist"
    return _dump({"event": "error", "arg": arg, "code": 30001, "msg": msg, "op": "subscribe"})


def symbol(
    name: str,
    base: str,
    quote: str,
    *,
    status: str = "online",
    price_dp: str = "2",
    qty_dp: str = "6",
) -> dict[str, Any]:
    """One entry of ``GET /api/v2/spot/public/symbols`` (the fields we read and a few more)."""
    return {
        "symbol": name, "baseCoin": base, "quoteCoin": quote, "minTradeAmount": "0",
        "maxTradeAmount": "900000000000000000000", "takerFeeRate": "0.001",
        "makerFeeRate": "0.001", "pricePrecision": price_dp, "quantityPrecision": qty_dp,
        "quotePrecision": "8", "status": status, "minTradeUSDT": "1",
        "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05", "areaSymbol": "no",
    }  # fmt: skip


def symbols_body(*entries: dict[str, Any]) -> str:
    return _dump({"code": "00000", "msg": "success", "requestTime": TS, "data": list(entries)})


def orderbook_body(bids: Pairs, asks: Pairs, ts: int = TS) -> str:
    """An answer of ``GET /api/v2/spot/market/orderbook``."""
    data = {"asks": [list(a) for a in asks], "bids": [list(b) for b in bids], "ts": str(ts)}
    return _dump({"code": "00000", "msg": "success", "requestTime": ts + 5, "data": data})
