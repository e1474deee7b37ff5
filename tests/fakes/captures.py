"""Write small capture files (JSON Lines, plain or .zst) from Python lists of records.

Independent of ``CaptureWriter`` on purpose, so reader tests do not trust the writer.
A record is a dict (dumped as one line) or ``bytes`` (written verbatim: garbage, cut lines).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import zstandard

Line = Mapping[str, Any] | bytes


def header(exchange: str = "BINANCE", recorded: float = 1_767_225_600.0) -> dict[str, Any]:
    return {"t": "header", "format": 2, "exchange": exchange, "config": {}, "recorded": recorded}


def _text(data: str | Mapping[str, Any] | Sequence[Any]) -> str:
    return data if isinstance(data, str) else orjson.dumps(data).decode()


def connect(conn: int, ts: float, addr: str) -> dict[str, Any]:
    return {"t": "connect", "conn": conn, "ts": ts, "addr": addr}


def send(conn: int, ts: float, data: str | Mapping[str, Any]) -> dict[str, Any]:
    return {"t": "send", "conn": conn, "ts": ts, "data": _text(data)}


def recv(conn: int, ts: float, data: str | Mapping[str, Any]) -> dict[str, Any]:
    """A received frame; a dict is dumped to the text the venue would have sent."""
    return {"t": "recv", "conn": conn, "ts": ts, "data": _text(data)}


def http(conn: int, ts: float, url: str, data: str | Mapping[str, Any]) -> dict[str, Any]:
    return {"t": "http", "conn": conn, "ts": ts, "url": url, "data": _text(data)}


def encode(lines: Sequence[Line]) -> bytes:
    out = bytearray()
    for line in lines:
        out += line if isinstance(line, bytes) else orjson.dumps(line) + b"\n"
    return bytes(out)


def write_capture(
    path: Path, lines: Sequence[Line], *, with_header: bool = True, exchange: str = "BINANCE"
) -> Path:
    """Write ``lines`` (after a header line unless told not to); .zst names are compressed."""
    raw = encode([header(exchange), *lines] if with_header else list(lines))
    if path.name.endswith(".zst"):
        raw = zstandard.ZstdCompressor(level=3).compress(raw)
    path.write_bytes(raw)
    return path
