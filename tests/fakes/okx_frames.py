"""OKX v5 public wire-format builders: WebSocket frames and REST bodies as JSON text."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any, Literal

Pairs = Sequence[tuple[str, str]]  # (price, size) as the venue's decimal strings
TS = 1597026383085


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _levels(pairs: Pairs) -> list[list[str]]:
    return [[price, size, "0", "1"] for price, size in pairs]


def checksum_of(bids: Pairs, asks: Pairs) -> int:
    """OKX's signed CRC32 over the best 25 bids and asks (each best-first), interleaved."""
    fields: list[str] = []
    for i in range(25):
        if i < len(bids):
            fields += bids[i]
        if i < len(asks):
            fields += asks[i]
    value = zlib.crc32(":".join(fields).encode())
    return value - 2**32 if value >= 2**31 else value


def books_message(
    action: str,
    inst_id: str,
    bids: Pairs,
    asks: Pairs,
    seq_id: int,
    prev_seq_id: int,
    checksum: int | Literal["auto"] | None = None,
    ts: int = TS,
    *,
    book: tuple[Pairs, Pairs] | None = None,
) -> dict[str, Any]:
    """A ``books`` push as a dict (to tamper with); see ``books_frame``."""
    if checksum == "auto":
        top_bids, top_asks = book if book is not None else (bids, asks)
        checksum = checksum_of(top_bids, top_asks)
    return {
        "arg": {"channel": "books", "instId": inst_id},
        "action": action,
        "data": [
            {
                "asks": _levels(asks),
                "bids": _levels(bids),
                "ts": str(ts),
                "checksum": checksum or 0,
                "prevSeqId": prev_seq_id,
                "seqId": seq_id,
            }
        ],
    }


def books_frame(
    action: str,
    inst_id: str,
    bids: Pairs,
    asks: Pairs,
    seq_id: int,
    prev_seq_id: int,
    checksum: int | Literal["auto"] | None = None,
    ts: int = TS,
    *,
    book: tuple[Pairs, Pairs] | None = None,
) -> str:
    """A ``books`` snapshot/update; checksum "auto" hashes ``book`` (best-first) or the levels."""
    return _dump(
        books_message(action, inst_id, bids, asks, seq_id, prev_seq_id, checksum, ts, book=book)
    )


def keepalive_frame(inst_id: str, seq_id: int, ts: int = TS) -> str:
    """The no-change push OKX sends on a quiet book: no levels, prevSeqId == seqId."""
    return books_frame("update", inst_id, [], [], seq_id, seq_id, None, ts)


def subscribe_request(inst_ids: Sequence[str], request_id: str, op: str = "subscribe") -> str:
    """What the client sends to (un)subscribe ``books`` channels."""
    args = [{"channel": "books", "instId": inst_id} for inst_id in inst_ids]
    return _dump({"id": request_id, "op": op, "args": args})


def subscribe_ack(inst_id: str, event: str = "subscribe") -> str:
    """The venue's acknowledgement of one subscribed channel."""
    arg = {"channel": "books", "instId": inst_id}
    return _dump({"event": event, "arg": arg, "connId": "a4d3ae55"})


def error_event(code: str = "60018", msg: str = "Wrong URL or channel doesn't exist.") -> str:
    """An ``error`` event (bad request, unknown channel...)."""
    return _dump({"event": "error", "code": code, "msg": msg, "connId": "a4d3ae55"})


def rest_books_body(bids: Pairs, asks: Pairs, ts: int = TS, seq_id: int | None = None) -> str:
    """``GET /api/v5/market/books`` success body; ``seq_id`` adds the announced seqId field."""
    book: dict[str, Any] = {"asks": _levels(asks), "bids": _levels(bids), "ts": str(ts)}
    if seq_id is not None:
        book["seqId"] = seq_id
    return _dump({"code": "0", "msg": "", "data": [book]})


def rest_error_body(code: str = "51001", msg: str = "Instrument ID does not exist") -> str:
    """A REST error body."""
    return _dump({"code": code, "msg": msg, "data": []})


def instrument(
    inst_id: str,
    base: str,
    quote: str,
    *,
    state: str = "live",
    tick: str = "0.1",
    lot: str = "0.00000001",
    inst_type: str = "SPOT",
) -> dict[str, Any]:
    """One entry of ``GET /api/v5/public/instruments`` (the fields we read plus a few others)."""
    return {
        "instType": inst_type,
        "instId": inst_id,
        "baseCcy": base,
        "quoteCcy": quote,
        "state": state,
        "tickSz": tick,
        "lotSz": lot,
        "minSz": lot,
        "listTime": "1606468572000",
        "uly": "",
        "instFamily": "",
    }


def instruments_body(entries: Sequence[dict[str, Any]]) -> str:
    """``GET /api/v5/public/instruments?instType=SPOT`` success body."""
    return _dump({"code": "0", "msg": "", "data": list(entries)})


def trade(inst_id: str, px: str, sz: str, side: str, ms: int, trade_id: str = "130639474") -> str:
    """A ``trades`` channel push (``side`` is the taker's)."""
    item = {"instId": inst_id, "tradeId": trade_id, "px": px, "sz": sz, "side": side,
            "ts": str(ms), "count": "1"}  # fmt: skip
    return _dump({"arg": {"channel": "trades", "instId": inst_id}, "data": [item]})
