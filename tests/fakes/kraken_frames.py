"""Kraken spot wire-format builders: WebSocket v2 (and v1) frames and REST bodies as JSON text.

v2 writes prices and quantities as JSON numbers with the pair's full precision
(``{"price":45283.5,"qty":0.10000000}``), so frames are assembled as text here: a JSON
encoder would drop the trailing zeros the checksum depends on.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

Pairs = Sequence[tuple[str, str]]  # (price, qty) texts at the pair's precision
TS_TEXT = "2023-10-06T17:35:55.440295Z"
TS = 1696613755.440295


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def brute_checksum(bids: Pairs, asks: Pairs, price_dp: int, qty_dp: int) -> int:
    """Kraken's checksum the slow way: sort both sides, render each level at the pair's
    precision with Decimal, drop the point and the leading zeros, CRC32 the lot."""

    def render(value: str, places: int) -> str:
        text = f"{Decimal(value):.{places}f}"
        return text.replace(".", "").lstrip("0")

    top_asks = sorted(asks, key=lambda level: Decimal(level[0]))[:10]
    top_bids = sorted(bids, key=lambda level: Decimal(level[0]), reverse=True)[:10]
    text = "".join(render(p, price_dp) + render(q, qty_dp) for p, q in (*top_asks, *top_bids))
    return zlib.crc32(text.encode())


def checksum_of(bids: Pairs, asks: Pairs) -> int:
    """The checksum of a book whose texts already carry full precision (best first)."""

    def digits(text: str) -> str:
        return text.replace(".", "").lstrip("0")

    levels = [*asks[:10], *bids[:10]]
    return zlib.crc32("".join(digits(p) + digits(q) for p, q in levels).encode())


def _levels(pairs: Pairs) -> str:
    return ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in pairs)


def book_frame(
    kind: str,
    symbol: str,
    bids: Pairs = (),
    asks: Pairs = (),
    checksum: int | Literal["auto"] = "auto",
    *,
    book: tuple[Pairs, Pairs] | None = None,
    timestamp: str = TS_TEXT,
) -> str:
    """A v2 ``book`` message; checksum "auto" hashes ``book`` (best first) or the levels."""
    if checksum == "auto":
        checksum = checksum_of(*(book if book is not None else (bids, asks)))
    item = (
        f'{{"symbol":"{symbol}","bids":[{_levels(bids)}],"asks":[{_levels(asks)}],'
        f'"checksum":{checksum},"timestamp":"{timestamp}"}}'
    )
    return f'{{"channel":"book","type":"{kind}","data":[{item}]}}'


def heartbeat() -> str:
    return '{"channel":"heartbeat"}'


def status() -> str:
    data = [{"api_version": "v2", "connection_id": 1, "system": "online", "version": "2.0.0"}]
    return _dump({"channel": "status", "type": "update", "data": data})


def ack(method: str, symbol: str, depth: int = 10, req_id: int | None = None) -> str:
    msg: dict[str, Any] = {
        "method": method,
        "result": {"channel": "book", "depth": depth, "snapshot": True, "symbol": symbol},
        "success": True,
        "time_in": "2023-10-06T17:35:55.440295Z",
        "time_out": "2023-10-06T17:35:55.440331Z",
    }
    if req_id is not None:
        msg["req_id"] = req_id
    return _dump(msg)


def error(method: str, symbol: str, message: str = "Currency pair not supported") -> str:
    return _dump(
        {"method": method, "error": f"{message} {symbol}", "success": False, "symbol": symbol}
    )


def pong(req_id: int) -> str:
    return _dump({"method": "pong", "req_id": req_id, "time_in": TS_TEXT, "time_out": TS_TEXT})


# -- WebSocket v1 (captures of other recorders) ---------------------------------------------


def v1_levels(pairs: Pairs, stamp: str = "1696613755.440295") -> list[list[str]]:
    return [[p, q, stamp] for p, q in pairs]


def v1_snapshot(channel_id: int, pair: str, bids: Pairs, asks: Pairs, depth: int = 10) -> str:
    payload = {"as": v1_levels(asks), "bs": v1_levels(bids)}
    return _dump([channel_id, payload, f"book-{depth}", pair])


def v1_update(
    channel_id: int,
    pair: str,
    bids: Pairs = (),
    asks: Pairs = (),
    checksum: int | None = None,
    depth: int = 10,
    stamp: str = "1696613756.500000",
) -> str:
    """An update; with both sides it has two payloads, the checksum in the last one."""
    payloads: list[dict[str, Any]] = []
    if asks:
        payloads.append({"a": v1_levels(asks, stamp)})
    if bids:
        payloads.append({"b": v1_levels(bids, stamp)})
    if checksum is not None:
        payloads[-1]["c"] = str(checksum)
    return _dump([channel_id, *payloads, f"book-{depth}", pair])


def v1_status(channel_id: int, pair: str, depth: int = 10) -> str:
    return _dump(
        {
            "channelID": channel_id,
            "channelName": f"book-{depth}",
            "event": "subscriptionStatus",
            "pair": pair,
            "status": "subscribed",
            "subscription": {"depth": depth, "name": "book"},
        }
    )


# -- REST ------------------------------------------------------------------------------------


def asset_pair(
    wsname: str,
    *,
    altname: str | None = None,
    pair_decimals: int = 1,
    lot_decimals: int = 8,
    tick_size: str | None = "0.1",
    status: str = "online",
) -> dict[str, Any]:
    """One entry of ``GET /0/public/AssetPairs`` (the fields we read plus a few others)."""
    base, quote = wsname.split("/")
    entry: dict[str, Any] = {
        "altname": altname or f"{base}{quote}",
        "wsname": wsname,
        "aclass_base": "currency",
        "base": f"X{base}" if len(base) == 3 else base,
        "aclass_quote": "currency",
        "quote": f"Z{quote}" if quote in ("USD", "EUR") else quote,
        "lot": "unit",
        "cost_decimals": 5,
        "pair_decimals": pair_decimals,
        "lot_decimals": lot_decimals,
        "lot_multiplier": 1,
        "ordermin": "0.0001",
        "costmin": "0.5",
        "status": status,
    }
    if tick_size is not None:
        entry["tick_size"] = tick_size
    return entry


def asset_pairs_body(entries: dict[str, dict[str, Any]]) -> str:
    return _dump({"error": [], "result": entries})


def depth_body(key: str, bids: Pairs, asks: Pairs, stamp: int = 1696613755) -> str:
    book = {"asks": [[p, q, stamp] for p, q in asks], "bids": [[p, q, stamp] for p, q in bids]}
    return _dump({"error": [], "result": {key: book}})


def trade(symbol: str, price: str, qty: str, side: str, stamp: str) -> str:
    """A v2 ``trade`` update (numbers as JSON numbers, ``side`` the taker's)."""
    return (
        f'{{"channel":"trade","type":"update","data":[{{"symbol":"{symbol}","side":"{side}",'
        f'"price":{price},"qty":{qty},"ord_type":"market","trade_id":4665906,'
        f'"timestamp":"{stamp}"}}]}}'
    )
