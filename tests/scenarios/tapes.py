"""Capture writers that speak each venue's wire format for a scripted market.

A tape is one venue's capture file. The scenario states the whole book it wants at a given
time; the tape turns that into what the venue would have sent: a snapshot the first time
(Binance: a buffered diff, then the REST snapshot), then diffs holding only the levels that
changed, chained by the venue's own sequence numbers. Times are seconds after the scenario's
start; the capture holds epoch seconds.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from tests.fakes import binance_frames as bn
from tests.fakes import bybit_frames as bb
from tests.fakes import deribit_frames as dr
from tests.fakes import okx_frames as ok
from tests.fakes.captures import connect, header, http, recv, send, write_capture

Level = tuple[float, float]  # price, size
Book = tuple[list[Level], list[Level]]  # bids best-first, asks best-first

# How long before our receive time the venue stamped a frame.
LATENCY_S = 0.0042


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _changes(old: dict[float, float], new: Sequence[Level], *, bids: bool) -> list[Level]:
    """The levels to send so that ``old`` becomes ``new``: size 0 deletes, best first."""
    target = dict(new)
    out = [(price, 0.0) for price in old if price not in target]
    out += [(price, size) for price, size in target.items() if old.get(price) != size]
    return sorted(out, key=lambda level: -level[0] if bids else level[0])


class _State:
    """What the venue's book holds, and where its sequence stands."""

    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.seq = 0
        self.messages = 0
        self.live = False  # a snapshot was sent since the (re)subscription

    def set(self, book: Book) -> None:
        self.bids, self.asks = dict(book[0]), dict(book[1])

    def diff(self, book: Book) -> Book:
        return _changes(self.bids, book[0], bids=True), _changes(self.asks, book[1], bids=False)


class Tape(ABC):
    """One venue's capture file being written."""

    exchange: ClassVar[str]

    def __init__(self, start: float) -> None:
        self.start = start
        self.lines: list[dict[str, Any]] = []
        self.conn = 0
        self.states: dict[str, _State] = {}

    def at(self, t: float) -> float:
        return round(self.start + t, 6)

    def venue_ms(self, t: float) -> int:
        return round((self.start + t - LATENCY_S) * 1000)

    def connect(self, t: float, addr: str) -> None:
        self.conn += 1
        self.lines.append(connect(self.conn, self.at(t), addr))
        for state in self.states.values():
            state.live = False

    def send(self, t: float, data: str) -> None:
        self.lines.append(send(self.conn, self.at(t), data))

    def recv(self, t: float, data: str) -> None:
        self.lines.append(recv(self.conn, self.at(t), data))

    def http(self, t: float, url: str, body: str) -> None:
        self.lines.append(http(self.conn, self.at(t), url, body))

    def state(self, native: str) -> _State:
        return self.states.setdefault(native, _State())

    def book(self, t: float, native: str, book: Book) -> None:
        """Send what turns the venue's book into ``book`` (a snapshot when none was sent)."""
        state = self.state(native)
        state.messages += 1
        if state.live:
            self._update(t, native, state, state.diff(book))
        else:
            self._snapshot(t, native, state, book)
            state.live = True
        state.set(book)

    def snapshot(self, t: float, native: str, book: Book) -> None:
        """A snapshot even if the book was sent before (after a resubscription)."""
        self.state(native).live = False
        self.book(t, native, book)

    def lose(self, native: str, book: Book, *, consume: bool = True) -> None:
        """The venue's book became ``book`` through a message that never reached us."""
        state = self.state(native)
        state.messages += 1
        if consume:
            state.seq += self._step(state)
        state.set(book)

    def write(self, path: Path) -> Path:
        lines = sorted(self.lines, key=lambda line: line["ts"])  # stable: send before recv
        first = header(self.exchange, recorded=self.start)
        return write_capture(path, [first, *lines], with_header=False)

    def _step(self, state: _State) -> int:
        return 1

    @abstractmethod
    def _snapshot(self, t: float, native: str, state: _State, book: Book) -> None: ...

    @abstractmethod
    def _update(self, t: float, native: str, state: _State, diff: Book) -> None: ...


class BinanceTape(Tape):
    """Combined diff-depth streams; each book starts from a REST snapshot."""

    exchange = "BINANCE"
    WS = "wss://stream.binance.com:9443/stream"

    def open(self, t: float, natives: Sequence[str], assets: Sequence[tuple[str, str]]) -> None:
        entries = [bn.symbol_entry(n, b, q) for n, (b, q) in zip(natives, assets, strict=True)]
        self.http(
            t - 0.4, "https://api.binance.com/api/v3/exchangeInfo", bn.exchange_info_body(entries)
        )
        self.connect(t, self.WS)
        streams = [f"{native.lower()}@depth@100ms" for native in natives]
        self.send(t + 0.001, _compact({"method": "SUBSCRIBE", "params": streams, "id": 1}))
        self.recv(t + 0.09, bn.subscribe_ack(1))

    def _step(self, state: _State) -> int:
        return 1 + state.messages % 4  # one diff folds several book events

    def _diff(self, t: float, native: str, state: _State, diff: Book) -> None:
        first = state.seq + 1
        state.seq += self._step(state)
        bids, asks = (_binance_levels(side) for side in diff)
        event_ms = self.venue_ms(t)
        self.recv(t, bn.depth_update(native, first, state.seq, bids, asks, E=event_ms))

    def _snapshot(self, t: float, native: str, state: _State, book: Book) -> None:
        if state.seq == 0:
            state.seq = 4_166_201_000 + 977 * len(self.states)
        # The first diff waits for the snapshot, which already contains it.
        self._diff(t, native, state, (book[0][:1], book[1][:1]))
        url = f"https://api.binance.com/api/v3/depth?symbol={native}&limit=500"
        bids, asks = (_binance_levels(side) for side in book)
        self.http(t + 0.15, url, bn.snapshot_body(state.seq, bids, asks))

    def _update(self, t: float, native: str, state: _State, diff: Book) -> None:
        self._diff(t, native, state, diff)


class OkxTape(Tape):
    """``books`` channel: in-band snapshot, then updates chained by seqId."""

    exchange = "OKX"
    WS = "wss://ws.okx.com:8443/ws/v5/public"

    def open(self, t: float, inst_ids: Sequence[str]) -> None:
        if self.conn == 0:
            entries = [ok.instrument(i, *i.split("-")) for i in inst_ids]
            url = "https://www.okx.com/api/v5/public/instruments?instType=SPOT"
            self.http(t - 0.4, url, ok.instruments_body(entries))
        self.connect(t, self.WS)
        self.send(t + 0.001, ok.subscribe_request(inst_ids, "1"))
        for inst_id in inst_ids:
            self.recv(t + 0.08, ok.subscribe_ack(inst_id))

    def _step(self, state: _State) -> int:
        return 1 + state.messages % 3

    def _snapshot(self, t: float, native: str, state: _State, book: Book) -> None:
        state.seq += 31_467_000_000 if state.seq == 0 else self._step(state)
        bids, asks = (_okx_levels(side) for side in book)
        self.recv(
            t, ok.books_frame("snapshot", native, bids, asks, state.seq, -1, ts=self.venue_ms(t))
        )

    def _update(self, t: float, native: str, state: _State, diff: Book) -> None:
        prev = state.seq
        state.seq += self._step(state)
        bids, asks = (_okx_levels(side) for side in diff)
        frame = ok.books_frame("update", native, bids, asks, state.seq, prev, ts=self.venue_ms(t))
        self.recv(t, frame)


class BybitTape(Tape):
    """``orderbook.200`` topic: snapshots and deltas whose ``u`` grows by one."""

    exchange = "BYBIT"
    WS = "wss://stream.bybit.com/v5/public/spot"

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.req_id = 0

    def open(self, t: float, natives: Sequence[str], assets: Sequence[tuple[str, str]]) -> None:
        entries = [bb.instrument_entry(n, b, q) for n, (b, q) in zip(natives, assets, strict=True)]
        url = "https://api.bybit.com/v5/market/instruments-info?category=spot"
        self.http(t - 0.4, url, bb.instruments_body(entries))
        self.connect(t, self.WS)
        self._op(t + 0.001, "subscribe", natives)

    def ping(self, t: float) -> None:
        """Our keep-alive probe and the venue's answer."""
        self.req_id += 1
        self.send(t, _compact({"req_id": str(self.req_id), "op": "ping"}))
        self.recv(t + 0.04, bb.pong(str(self.req_id)))

    def resubscribe(self, t: float, native: str) -> None:
        """What the client does after a gap: the venue answers with a fresh snapshot."""
        self._op(t, "unsubscribe", [native])
        self._op(t + 0.001, "subscribe", [native])

    def _op(self, t: float, op: str, natives: Sequence[str]) -> None:
        self.req_id += 1
        req = str(self.req_id)
        args = [f"orderbook.200.{native}" for native in natives]
        self.send(t, _compact({"req_id": req, "op": op, "args": args}))
        self.recv(t + 0.06, bb.op_ack(req, op))

    def _frame(self, kind: str, t: float, native: str, state: _State, book: Book) -> None:
        bids, asks = (_bybit_levels(side) for side in book)
        seq = 61_380_000_000 + 7 * state.seq
        ms = self.venue_ms(t)
        self.recv(
            t, bb.orderbook_frame(kind, native, state.seq, bids, asks, seq=seq, ts=ms, depth=200)
        )

    def _snapshot(self, t: float, native: str, state: _State, book: Book) -> None:
        state.seq = state.seq or 38_450_112
        self._frame("snapshot", t, native, state, book)

    def _update(self, t: float, native: str, state: _State, diff: Book) -> None:
        state.seq += 1
        self._frame("delta", t, native, state, diff)


class DeribitTape(Tape):
    """JSON-RPC ``book.{instrument}.100ms`` notifications chained by change ids."""

    exchange = "DERIBIT"
    WS = "wss://www.deribit.com/ws/api/v2"

    def open(self, t: float, names: Sequence[str]) -> None:
        entries = [dr.instrument(n, *n.split("_")) for n in names]
        url = "https://www.deribit.com/api/v2/public/get_instruments?currency=any&kind=spot"
        self.http(t - 0.4, url, dr.instruments_body(entries))
        self.connect(t, self.WS)
        heartbeat = {"interval": 30}
        channels = [f"book.{name}.100ms" for name in names]
        self.send(t + 0.001, _rpc(1, "public/set_heartbeat", heartbeat))
        self.send(t + 0.002, _rpc(2, "public/subscribe", {"channels": channels}))
        self.recv(t + 0.07, dr.rpc_result(1, "ok"))
        self.recv(t + 0.08, dr.rpc_result(2, channels))

    def _step(self, state: _State) -> int:
        return 3 + state.messages % 5  # ids are increasing, not consecutive

    def _snapshot(self, t: float, native: str, state: _State, book: Book) -> None:
        state.seq = state.seq or 82_113_400_000
        bids, asks = ([("new", p, s) for p, s in side] for side in book)
        frame = dr.book_notification(
            "snapshot", native, state.seq, None, bids, asks, self.venue_ms(t)
        )
        self.recv(t, frame)

    def _update(self, t: float, native: str, state: _State, diff: Book) -> None:
        prev = state.seq
        state.seq += self._step(state)
        bids = [(_action(state.bids, p, s), p, s) for p, s in diff[0]]
        asks = [(_action(state.asks, p, s), p, s) for p, s in diff[1]]
        frame = dr.book_notification(
            "change", native, state.seq, prev, bids, asks, self.venue_ms(t)
        )
        self.recv(t, frame)


def _action(old: dict[float, float], price: float, size: float) -> str:
    if size == 0:
        return "delete"
    return "change" if price in old else "new"


def _compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _rpc(request_id: int, method: str, params: dict[str, Any]) -> str:
    return _compact({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def _binance_levels(levels: Sequence[Level]) -> list[list[str]]:
    return [[f"{price:.8f}", f"{size:.8f}"] for price, size in levels]


def _okx_levels(levels: Sequence[Level]) -> list[tuple[str, str]]:
    return [(_trim(f"{price:.1f}"), _trim(f"{size:.8f}")) for price, size in levels]


def _bybit_levels(levels: Sequence[Level]) -> list[list[str]]:
    return [[f"{price:.2f}", f"{size:.6f}"] for price, size in levels]
