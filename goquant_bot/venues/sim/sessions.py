"""The server side of a simulated venue connection, sans-I/O: client frames in, venue frames out.

A session reads what the client sends (subscribe, unsubscribe, ping, JSON-RPC calls), answers
in the venue's format and, on each ``pump``, emits for every subscribed stream what happened in
the model since the stream's previous message: a snapshot first where the venue sends one, then
deltas chained by the venue's sequence numbers. A scheduled gap loses one message; a stall
holds everything back; a disconnect closes the session.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.trades import SimTrade, TradeTap, trades_between

DIFF = "diff"  # a snapshot (where the venue sends one) then deltas
TOP = "top"  # the whole top of the book again whenever it changes


@dataclass(slots=True)
class Delta:
    """Levels to send, best first, as (price, size, the client had this price)."""

    first_id: int
    last_id: int
    bids: list[tuple[int, int, bool]]
    asks: list[tuple[int, int, bool]]


@dataclass(slots=True, eq=False)
class Stream:
    """One subscription of one session, with the book as the client should now hold it."""

    name: str
    book: SimBook
    mode: str
    depth: int | None = None  # levels this stream carries; None: the whole book
    tick: int = -1  # last model tick the client was told about
    seq: int = 0  # the venue's sequence number of the last message
    fresh: bool = True
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    last_top: list[tuple[int, int]] = field(default_factory=list)


class VenueSession(ABC):
    """One simulated WebSocket connection of one venue."""

    venue: ClassVar[Venue]
    # Binance and OKX report every level touched in the interval (so a REST snapshot taken in
    # between still lines up); the others only what differs from what the client holds.
    reports_touched: ClassVar[bool] = True

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        self.model = model
        self.conn_id = conn_id
        self.opened_tick = model.tick
        # Text frames, and binary ones where the venue sends them (MEXC's protobuf pushes).
        self.outbox: list[str | bytes] = []
        self.closed: str | None = None
        self.streams: dict[str, Stream] = {}
        self.taps: dict[str, TradeTap] = {}  # trade subscriptions
        self.frames_in = 0
        self._replies: list[str] = []

    # -- driven by the shell ----------------------------------------------------------------

    def on_text(self, text: str) -> None:
        """A frame from the client."""
        self.frames_in += 1
        if self.closed is None:
            self.handle(text)

    def pump(self) -> None:
        """Produce into ``outbox`` what the venue sends up to the model's current tick."""
        model = self.model
        if self.closed is not None:
            return
        if model.disconnected(self.venue, self.opened_tick, model.tick):
            self.closed = "simulated disconnect"
            return
        if model.stalled(self.venue, self.opened_tick):
            return
        self.keepalive()
        if self.closed is not None:
            return
        self.outbox.extend(self._replies)
        self._replies.clear()
        for stream in list(self.streams.values()):
            if stream.fresh:
                self._open(stream)
            elif stream.tick < model.tick:
                if stream.mode == DIFF:
                    self._advance(stream)
                else:
                    self._refresh(stream)
        for tap in list(self.taps.values()):
            if tap.tick < model.tick:
                for trade in trades_between(model, self.venue, tap.book, tap.tick):
                    frame = self.trade_frame(tap, trade)
                    if frame is not None:
                        self.outbox.append(frame)
                tap.tick = model.tick

    def tap(self, name: str, book: SimBook | None) -> None:
        """Report the trades of ``book`` under the subscription ``name`` (None: stop)."""
        if book is None:
            self.taps.pop(name, None)
        elif name not in self.taps:
            self.taps[name] = TradeTap(name, book, self.model.tick)

    def reply(self, frame: Any) -> None:
        self._replies.append(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    # -- venue specifics --------------------------------------------------------------------

    @abstractmethod
    def handle(self, text: str) -> None:
        """Answer one client frame."""

    def keepalive(self) -> None:  # noqa: B027 - optional hook
        """Server-initiated keep-alives (Deribit's test_request)."""

    @abstractmethod
    def snapshot_frame(self, stream: Stream) -> str | bytes | None:
        """The first message of a DIFF stream (None where the venue sends none)."""

    @abstractmethod
    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | bytes | None:
        """A delta numbered ``seq`` after ``prev``; None when the venue sends nothing."""

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | bytes | None:
        """One trade in the venue's format (None where the session sends no trades)."""
        return None

    def top_frame(self, stream: Stream) -> str:
        msg = f"{self.venue.value} has no top-of-book streams"
        raise NotImplementedError(msg)

    def next_seq(self, stream: Stream, delta: Delta) -> int:
        """The sequence number a delta message carries (the last update id, by default)."""
        return delta.last_id

    # -- stream bookkeeping -----------------------------------------------------------------

    def find_book(self, native: str) -> SimBook | None:
        for symbol in self.model.listings(self.venue):
            if self.native(symbol) == native:
                return self.model.book(self.venue, symbol)
        return None

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}{symbol.quote}"

    def _open(self, stream: Stream) -> None:
        stream.fresh = False
        stream.tick = self.model.tick
        if stream.mode != DIFF:
            self._refresh(stream)
            return
        self._reset_view(stream)
        stream.seq = stream.book.last_id
        frame = self.snapshot_frame(stream)
        if frame is not None:
            self.outbox.append(frame)

    def _refresh(self, stream: Stream) -> None:
        stream.tick = self.model.tick
        top = stream.book.top(True, stream.depth) + stream.book.top(False, stream.depth)
        if top != stream.last_top:
            stream.last_top = top
            self.outbox.append(self.top_frame(stream))

    def _advance(self, stream: Stream) -> None:
        book, tick = stream.book, self.model.tick
        gap = book.gap_in(stream.tick, tick)
        if gap is not None:
            lost = self._diff(stream, gap)
            if lost is not None:
                self._send(stream, lost, deliver=False)  # numbered, then lost on the way
        delta = self._diff(stream, tick)
        if delta is None:
            # The history does not reach back that far: resume with a broken chain, which
            # tells the client to resync.
            self._reset_view(stream)
            stream.tick = tick
            stream.seq += 1
            return
        self._send(stream, delta, deliver=True)

    def _send(self, stream: Stream, delta: Delta, deliver: bool) -> None:
        seq = self.next_seq(stream, delta)
        frame = self.delta_frame(stream, delta, stream.seq, seq)
        if frame is not None:
            stream.seq = seq
            if deliver:
                self.outbox.append(frame)

    def _full_view(self, stream: Stream) -> bool:
        return stream.depth is None or stream.depth >= stream.book.levels

    def _reset_view(self, stream: Stream) -> None:
        book = stream.book
        if self._full_view(stream):
            stream.bids = dict(book.bids)
            stream.asks = dict(book.asks)
        else:
            stream.bids = dict(book.top(True, stream.depth))
            stream.asks = dict(book.top(False, stream.depth))

    def _diff(self, stream: Stream, upto: int) -> Delta | None:
        book = stream.book
        changes = book.changes(stream.tick, upto)
        if changes is None:
            return None
        stream.tick = upto
        if self._full_view(stream):
            bids = self._touched(stream.bids, book.bids, changes.bids, True)
            asks = self._touched(stream.asks, book.asks, changes.asks, False)
        else:
            bids = _top_diff(stream.bids, book.top(True, stream.depth), True)
            asks = _top_diff(stream.asks, book.top(False, stream.depth), False)
        return Delta(changes.first_id, changes.last_id, bids, asks)

    def _touched(
        self, view: dict[int, int], side: dict[int, int], touched: set[int], descending: bool
    ) -> list[tuple[int, int, bool]]:
        out = []
        for price in sorted(touched, reverse=descending):
            size = side.get(price, 0)
            had = view.get(price, 0)
            if had == size and not self.reports_touched:
                continue
            out.append((price, size, had != 0))
            if size:
                view[price] = size
            elif had:
                del view[price]
        return out


def _top_diff(
    view: dict[int, int], top: list[tuple[int, int]], descending: bool
) -> list[tuple[int, int, bool]]:
    """What turns the client's top-N ``view`` into ``top``; updates ``view``."""
    now = dict(top)
    out = [(p, s, p in view) for p, s in top if view.get(p) != s]
    out += [(p, 0, True) for p in view if p not in now]
    out.sort(reverse=descending)
    view.clear()
    view.update(now)
    return out


def query_streams(url: str) -> tuple[bool, list[str]]:
    """Binance: (combined, stream names) of ``/stream?streams=a/b`` or ``/ws/<name>``."""
    parts = urlsplit(url)
    if parts.path.startswith("/stream"):
        names = parse_qs(parts.query).get("streams", [""])[0]
        return True, [n for n in names.split("/") if n]
    if parts.path.startswith("/ws/"):
        return False, [parts.path[len("/ws/") :]]
    return False, []
