"""Bitfinex v2 public wire-format builders: frames as JSON text with the numbers verbatim.

Levels are given as the exact number tokens Bitfinex would send, so the checksum here is
computed from those tokens (the venue's own rendering), independently of the protocol.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence

Level = tuple[str, str, str]  # (price, count, amount) as JSON number tokens
Pair = tuple[str, str]  # (price, amount) tokens; ask amounts negative


def subscribed(chan_id: int, symbol: str, length: str = "250") -> str:
    pair = symbol[1:]
    return json.dumps(
        {
            "event": "subscribed",
            "channel": "book",
            "chanId": chan_id,
            "symbol": symbol,
            "prec": "P0",
            "freq": "F0",
            "len": length,
            "pair": pair,
        },
        separators=(",", ":"),
    )


def conf_ok(flags: int = 196608) -> str:
    return f'{{"event":"conf","status":"OK","flags":{flags}}}'


def info(code: int | None = None) -> str:
    if code is None:
        return '{"event":"info","version":2,"serverId":"x","platform":{"status":1}}'
    return f'{{"event":"info","code":{code},"msg":"info {code}"}}'


def _tail(seq: int | None) -> str:
    return "" if seq is None else f",{seq}"


def snapshot(chan_id: int, levels: Sequence[Level], seq: int | None) -> str:
    body = ",".join(f"[{p},{c},{a}]" for p, c, a in levels)
    return f"[{chan_id},[{body}]{_tail(seq)}]"


def update(chan_id: int, level: Level, seq: int | None) -> str:
    p, c, a = level
    return f"[{chan_id},[{p},{c},{a}]{_tail(seq)}]"


def heartbeat(chan_id: int, seq: int | None) -> str:
    return f'[{chan_id},"hb"{_tail(seq)}]'


def checksum_frame(chan_id: int, checksum: int, seq: int | None) -> str:
    return f'[{chan_id},"cs",{checksum}{_tail(seq)}]'


def checksum_of(bids: Sequence[Pair], asks: Sequence[Pair]) -> int:
    """Signed CRC32 over the best 25 of each side (best first), ``bid:amt:ask:-amt:...``."""
    fields: list[str] = []
    for i in range(25):
        if i < len(bids):
            fields += bids[i]
        if i < len(asks):
            fields += asks[i]
    value = zlib.crc32(":".join(fields).encode())
    return value - 2**32 if value >= 2**31 else value


def book_checksum(levels: Sequence[Level]) -> int:
    """The checksum of a book given as its level tokens (any order): brute force by sorting."""
    bids = sorted((lv for lv in levels if not lv[2].startswith("-")), key=lambda lv: -float(lv[0]))
    asks = sorted((lv for lv in levels if lv[2].startswith("-")), key=lambda lv: float(lv[0]))
    return checksum_of([(p, a) for p, _, a in bids], [(p, a) for p, _, a in asks])


def pairs_body(pairs: Sequence[str]) -> str:
    return json.dumps([list(pairs)])


def trades_subscribed(chan_id: int, symbol: str) -> str:
    return json.dumps(
        {"event": "subscribed", "channel": "trades", "chanId": chan_id, "symbol": symbol,
         "pair": symbol[1:]}, separators=(",", ":"),
    )  # fmt: skip


def trade_executed(
    chan_id: int, trade_id: int, ms: int, amount: str, price: str, seq: int | None
) -> str:
    """``[CHAN,"te",[ID,MTS,AMOUNT,PRICE],SEQ]``: AMOUNT < 0 when the taker sold."""
    return f'[{chan_id},"te",[{trade_id},{ms},{amount},{price}]{_tail(seq)}]'
