"""Capture files: every frame and REST body a connection saw, as JSON Lines (plain or .zst).

The format is the one the cryptofeed project records, so its captures replay here too::

    {"t":"header","format":2,"exchange":"BINANCE","config":{...},"recorded":1767225600.0}
    {"t":"header","format":2,"exchange":"GOMARKET","venue":"okx","config":{...},...}
    {"t":"connect","conn":1,"ts":1767225600.1,"addr":"wss://stream.binance.com:9443/stream?..."}
    {"t":"send","conn":1,"ts":1767225600.2,"data":"{\\"method\\":\\"SUBSCRIBE\\",...}"}
    {"t":"recv","conn":1,"ts":1767225600.3,"data":"{\\"stream\\":\\"btcusdt@depth@100ms\\",...}"}
    {"t":"http","conn":1,"ts":1767225600.4,"url":"https://api.binance.com/api/v3/depth?...","data":"{...}"}

``ts`` is the local receive time (epoch seconds) and ``data`` the raw text. Reading is
tolerant: a corrupt line or a record of an unknown type is counted and skipped, and a
truncated .zst stream (a recorder that was killed) ends cleanly with an error count.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple, TypeGuard

import orjson
import zstandard

from goquant_bot.logging import get_logger

log = get_logger(__name__)

CAPTURE_FORMAT = 2
RECORD_TYPES = frozenset({"connect", "send", "recv", "http"})
_READ_CHUNK = 1 << 20
_WRITE_BUFFER = 1 << 20


def is_zstd(path: Path) -> bool:
    return path.name.endswith(".zst")


@dataclass(frozen=True, slots=True)
class CaptureHeader:
    """The first line of a capture: who recorded what, and when."""

    format: int | None
    exchange: str | None
    config: Mapping[str, Any]
    recorded: float | None
    venue: str | None = None  # the venue of a capture read through a gateway (GOMARKET)


class CaptureRecord(NamedTuple):
    """One event of a connection. ``data`` is the frame or body; ``target`` the addr or url.

    A named tuple: replay builds one per frame, and it is about three times cheaper to build
    than a frozen dataclass.
    """

    kind: str  # connect, send, recv, http
    conn: int | str
    ts: float
    data: str = ""
    target: str = ""
    status: int = 200  # http only: absent in most captures, where only successes were kept


class CaptureWriter:
    """Writes a capture file; implements the driver's ``Recorder`` protocol.

    Synchronous but buffered: a record costs a JSON encode and a list append, and the file
    (and compressor) only see ~1 MiB at a time, so the event loop is never held for long.
    ``close`` must be called (or use ``with``) so that a .zst file ends with a complete frame.
    """

    def __init__(
        self,
        path: Path,
        *,
        exchange: str,
        venue: str | None = None,
        config: Mapping[str, Any] | None = None,
        recorded: float | None = None,
        buffer_bytes: int = _WRITE_BUFFER,
        level: int = 3,
    ) -> None:
        self.path = path
        self.records = 0
        self.raw_bytes = 0  # uncompressed bytes written, header included
        self._limit = buffer_bytes
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._file: IO[bytes] | None = path.open("wb")
        self._zstd: Any = None
        if is_zstd(path):
            self._zstd = zstandard.ZstdCompressor(level=level).stream_writer(
                self._file, closefd=False
            )
        header = {
            "t": "header",
            "format": CAPTURE_FORMAT,
            "exchange": exchange,
            **({"venue": venue} if venue else {}),
            "config": dict(config or {}),
            "recorded": time.time() if recorded is None else recorded,
        }
        self._append(orjson.dumps(header, default=str))

    # -- Recorder -------------------------------------------------------------------------

    def connect(self, conn: int, addr: str, ts: float) -> None:
        self._record({"t": "connect", "conn": conn, "ts": ts, "addr": addr})

    def send(self, conn: int, data: str, ts: float) -> None:
        self._record({"t": "send", "conn": conn, "ts": ts, "data": data})

    def recv(self, conn: int, data: str, ts: float) -> None:
        self._record({"t": "recv", "conn": conn, "ts": ts, "data": data})

    def http(self, conn: int, url: str, data: str, ts: float, status: int | None = None) -> None:
        record: dict[str, Any] = {"t": "http", "conn": conn, "ts": ts, "url": url, "data": data}
        if status is not None and status != 200:
            # Only non-200 answers carry a status, so the line stays in the common format.
            record["status"] = status
        self._record(record)

    # -- file -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._file is None

    def flush(self) -> None:
        """Hand the buffer to the file; a .zst stream gets a block boundary (readable so far)."""
        if self._file is None:
            return
        if self._buffer:
            chunk = b"".join(self._buffer)
            self._buffer.clear()
            self._buffered = 0
            (self._zstd or self._file).write(chunk)
        if self._zstd is not None:
            self._zstd.flush(zstandard.FLUSH_BLOCK)
        self._file.flush()

    def close(self) -> None:
        """Flush and end the zstd frame; idempotent."""
        if self._file is None:
            return
        try:
            self.flush()
            if self._zstd is not None:
                self._zstd.close()  # writes the frame epilogue; leaves our file open
        finally:
            self._file.close()
            self._file = None
            self._zstd = None

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _record(self, record: dict[str, Any]) -> None:
        if self._file is None:
            msg = f"capture {self.path} is closed"
            raise ValueError(msg)
        self.records += 1
        try:
            line = orjson.dumps(record)
        except orjson.JSONEncodeError:
            # A lone surrogate cannot be UTF-8: keep the record, with "?" in its place.
            line = orjson.dumps({k: _utf8(v) for k, v in record.items()})
        self._append(line)

    def _append(self, line: bytes) -> None:
        self._buffer.append(line)
        self._buffer.append(b"\n")
        self._buffered += len(line) + 1
        self.raw_bytes += len(line) + 1
        if self._buffered >= self._limit:
            self.flush()


class CaptureReader:
    """Iterates the records of one capture file, counting what it cannot use.

    ``header`` is set once the header line was read; ``errors`` and ``skipped`` count by
    reason (``corrupt_line``, ``bad_record``, ``truncated_zst``, ``corrupt_zst``,
    ``unknown_record_type``); ``problems`` says in words where a compressed file broke off.
    Iterating twice reads the file twice.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: CaptureHeader | None = None
        self.records = 0
        self.errors: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.problems: list[str] = []

    def __iter__(self) -> Iterator[CaptureRecord]:
        self.records = 0
        self.problems = []
        stop = _ZstdStop()
        with self.path.open("rb") as fh:
            chunks = (
                _zstd_chunks(fh, self.errors, stop) if is_zstd(self.path) else _plain_chunks(fh)
            )
            for line in _lines(chunks):
                record = self._parse(line)
                if record is not None:
                    self.records += 1
                    yield record
        if stop.reason is not None:
            what = "truncated" if stop.reason == "truncated_zst" else "corrupt"
            self.problems.append(
                f"{self.path}: {what} after {self.records} records "
                f"(compressed byte offset {stop.offset}); the rest could not be read"
            )

    def _parse(self, line: bytes) -> CaptureRecord | None:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            if line.strip():  # blank lines are harmless
                self._reject("corrupt_line", line)
            return None
        kind = obj.get("t") if type(obj) is dict else None
        if type(kind) is not str:
            self._reject("bad_record", line)
            return None
        if kind not in RECORD_TYPES:
            if kind == "header":
                self.header = _header(obj)
            else:
                self.skipped["unknown_record_type"] += 1
            return None
        record = _record(kind, obj)
        if record is None:
            self._reject("bad_record", line)
        return record

    def _reject(self, reason: str, line: bytes) -> None:
        self.errors[reason] += 1
        if self.errors[reason] > 1:
            return  # the first of a kind says what is wrong; the count says how often
        log.warning(
            "capture_line_rejected",
            path=str(self.path),
            reason=reason,
            raw=line[:200].decode("utf-8", errors="replace"),
        )


def read_capture(path: Path) -> Iterator[CaptureRecord]:
    """The records of one capture file (use ``CaptureReader`` to see its counters)."""
    return iter(CaptureReader(path))


def _header(obj: dict[str, Any]) -> CaptureHeader:
    fmt, exchange, config, recorded, venue = (
        obj.get(k) for k in ("format", "exchange", "config", "recorded", "venue")
    )
    return CaptureHeader(
        format=fmt if isinstance(fmt, int) else None,
        exchange=exchange if isinstance(exchange, str) else None,
        config=config if isinstance(config, dict) else {},
        recorded=float(recorded) if _is_number(recorded) else None,
        venue=venue if isinstance(venue, str) else None,
    )


def _record(kind: str, obj: dict[str, Any]) -> CaptureRecord | None:
    """A validated record, or None when a field is missing or of the wrong type."""
    ts, conn, data = obj.get("ts"), obj.get("conn", 0), obj.get("data")
    if type(data) is str and type(ts) is float and type(conn) is int and kind != "http":
        return CaptureRecord(kind, conn, ts, data)  # the common case: a frame, checked fast
    if not _is_number(ts) or not isinstance(conn, int | str) or isinstance(conn, bool):
        return None
    if kind == "connect":
        addr = obj.get("addr")
        return CaptureRecord(kind, conn, float(ts), target=addr) if isinstance(addr, str) else None
    data = _text(data)
    if data is None:
        return None
    if kind != "http":
        return CaptureRecord(kind, conn, float(ts), data)
    url, status = obj.get("url"), obj.get("status", 200)
    if not isinstance(url, str) or not isinstance(status, int):
        return None
    return CaptureRecord(kind, conn, float(ts), data, url, status)


def _text(data: object) -> str | None:
    if isinstance(data, str):
        return data
    # Some recorders stored already-decoded JSON payloads: give the protocols text again.
    if isinstance(data, dict | list):
        return orjson.dumps(data).decode()
    return None


def _utf8(value: object) -> object:
    return value.encode("utf-8", "replace").decode() if isinstance(value, str) else value


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while chunk := fh.read(_READ_CHUNK):
        yield chunk


class _ZstdStop:
    """Where a compressed stream broke off: the reason and the compressed byte offset."""

    __slots__ = ("offset", "reason")

    def __init__(self) -> None:
        self.reason: str | None = None
        self.offset = 0


def _zstd_chunks(fh: IO[bytes], errors: Counter[str], stop: _ZstdStop) -> Iterator[bytes]:
    """Decompressed data of every frame in the file; a cut-off or corrupt stream just ends."""
    dctx = zstandard.ZstdDecompressor()
    dobj = dctx.decompressobj()
    in_frame = False  # the current decompressor has been fed part of a frame
    while raw := fh.read(_READ_CHUNK):
        while raw:
            try:
                out = dobj.decompress(raw)
            except zstandard.ZstdError:
                errors["corrupt_zst"] += 1
                stop.reason, stop.offset = "corrupt_zst", fh.tell() - len(raw)
                return
            in_frame = True
            if out:
                yield out
            if not dobj.eof:
                break
            # A file appended to by several recordings holds several frames.
            raw, dobj, in_frame = dobj.unused_data, dctx.decompressobj(), False
    if in_frame and not dobj.eof:
        errors["truncated_zst"] += 1
        stop.reason, stop.offset = "truncated_zst", fh.tell()


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Split a byte stream into lines; a last line without a newline is yielded too."""
    partial: list[bytes] = []
    for chunk in chunks:
        pieces = chunk.split(b"\n")
        if len(pieces) == 1:
            partial.append(chunk)
            continue
        if partial:
            partial.append(pieces[0])
            pieces[0] = b"".join(partial)
            partial = []
        last = pieces.pop()
        if last:
            partial.append(last)
        yield from pieces
    if partial:
        yield b"".join(partial)
