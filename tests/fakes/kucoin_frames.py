"""KuCoin spot WebSocket and REST wire-format builders, as JSON text (shapes from KuCoin's docs)."""

from __future__ import annotations

import json
from collections.abc import Sequence

Changes = Sequence[tuple[str, str, int]]  # (price, size, sequence)
Pairs = Sequence[tuple[str, str]]
T_MS = 1_767_225_600_000


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def level2(symbol: str, first: int, last: int, bids: Changes = (), asks: Changes = ()) -> str:
    changes = {"asks": [[p, s, str(q)] for p, s, q in asks],
               "bids": [[p, s, str(q)] for p, s, q in bids]}  # fmt: skip
    data = {"changes": changes, "sequenceEnd": last, "sequenceStart": first, "symbol": symbol,
            "time": T_MS + last}  # fmt: skip
    return _dump({"topic": f"/market/level2:{symbol}", "type": "message",
                  "subject": "trade.l2update", "data": data})  # fmt: skip


def match(symbol: str, price: str, size: str, side: str, trade_id: str = "5c24c5da03aa") -> str:
    data = {"makerOrderId": "5c2187d003aa677bd09d5c93", "price": price, "sequence": "1545896669145",
            "side": side, "size": size, "symbol": symbol,
            "takerOrderId": "5c24c5d903aa6772d55b371e", "time": f"{T_MS}000123",
            "tradeId": trade_id, "type": "match"}  # fmt: skip
    return _dump({"topic": f"/market/match:{symbol}", "type": "message",
                  "subject": "trade.l3match", "data": data})  # fmt: skip


def welcome(conn_id: str = "hQvf8jkno") -> str:
    return _dump({"id": conn_id, "type": "welcome"})


def ack(request_id: str) -> str:
    return _dump({"id": request_id, "type": "ack"})


def pong(request_id: str) -> str:
    return _dump({"id": request_id, "type": "pong"})


def error(request_id: str, topic: str) -> str:
    return _dump({"id": request_id, "type": "error", "code": 404,
                  "data": f"topic {topic} is not found"})  # fmt: skip


def bullet_body(
    endpoint: str, token: str = "2neAiuYvAU61ZDXANAGAsiL4", ping_ms: int = 18000
) -> str:
    server = {"endpoint": endpoint, "encrypt": True, "protocol": "websocket",
              "pingInterval": ping_ms, "pingTimeout": 10000}  # fmt: skip
    return _dump({"code": "200000", "data": {"token": token, "instanceServers": [server]}})


def book_body(sequence: int, bids: Pairs, asks: Pairs) -> str:
    data = {"time": T_MS, "sequence": str(sequence), "bids": [list(b) for b in bids],
            "asks": [list(a) for a in asks]}  # fmt: skip
    return _dump({"code": "200000", "data": data})


def symbols_body(*entries: tuple[str, str, str, str, str, bool]) -> str:
    """(symbol, base, quote, priceIncrement, baseIncrement, enableTrading) rows."""
    rows = []
    for symbol, base, quote, tick, lot, trading in entries:
        rows.append({"symbol": symbol, "name": symbol, "baseCurrency": base,
                     "quoteCurrency": quote, "feeCurrency": quote, "market": "USDS",
                     "baseMinSize": "0.00001", "quoteMinSize": "0.1",
                     "baseIncrement": lot, "quoteIncrement": tick, "priceIncrement": tick,
                     "priceLimitRate": "0.1", "isMarginEnabled": True,
                     "enableTrading": trading})  # fmt: skip
    return _dump({"code": "200000", "data": rows})
