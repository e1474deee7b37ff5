"""Simulated HTX market WebSocket: ``mbp.150`` (the changed levels of the top 150, numbered by
``seqNum``/``prevSeqNum``, with its ``req`` snapshot), ``depth.step0`` (the top 150 levels,
whole, whenever they change), ``trade.detail``, the server's ``ping``; and its symbol list.
These frames are the JSON a real client reads after gunzipping: the demo skips the gzip,
which would only cost time."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, TOP, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

DEPTH = 150
MBP = "mbp.150"
PING_S = 5.0


def _rows(book: SimBook, levels: list[tuple[int, int]]) -> list[list[float]]:
    return [[float(book.price_text(p)), float(book.size_text(s))] for p, s in levels]


def htx_symbols(model: MarketModel, query: Any) -> tuple[int, str]:
    """``/v1/common/symbols``: lower-case names, precisions as numbers of decimals."""
    data = []
    for symbol in model.listings(Venue.HTX):
        asset = model.asset(symbol.base)
        data.append({
            "base-currency": symbol.base.lower(), "quote-currency": symbol.quote.lower(),
            "price-precision": asset.tick_decimals, "amount-precision": asset.lot_decimals,
            "symbol-partition": "main", "symbol": HtxSession.native(symbol), "state": "online",
        })  # fmt: skip
    return 200, enc.dumps({"status": "ok", "data": data})


def htx_depth(model: MarketModel, query: Any) -> tuple[int, str]:
    """``/market/depth?symbol=..&type=step0``: the top 150 levels."""
    native = query.get("symbol")
    book = next(
        (model.book(Venue.HTX, s) for s in model.listings(Venue.HTX)
         if HtxSession.native(s) == native),
        None,
    )  # fmt: skip
    if book is None or query.get("type") != "step0":
        body = {"status": "error", "err-code": "invalid-parameter", "err-msg": "invalid symbol"}
        return 200, enc.dumps(body)
    tick = {"ts": book.ts_ms, "version": book.last_id, "bids": _rows(book, book.top(True, DEPTH)),
            "asks": _rows(book, book.top(False, DEPTH))}  # fmt: skip
    ch = f"market.{native}.depth.step0"
    return 200, enc.dumps({"ch": ch, "status": "ok", "ts": book.ts_ms, "tick": tick})


class HtxSession(VenueSession):
    """``{"sub":"market.btcusdt.mbp.150","id":"1"}``, ``{"req": ...}`` and ``{"pong": n}``."""

    venue: ClassVar[Venue] = Venue.HTX
    reports_touched: ClassVar[bool] = False  # mbp.150 is the difference of two top-150 views

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self._ping_due = model.time + PING_S

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}{symbol.quote}".lower()

    def handle(self, text: str) -> None:
        try:
            msg: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict:
            self.reply({"status": "error", "err-code": "bad-request", "err-msg": "invalid json"})
            return
        if "pong" in msg:
            return
        op = next((k for k in ("sub", "unsub", "req") if k in msg), None)
        topic: str = msg.get(op, "") if op else ""
        parts = topic.split(".") if type(topic) is str else []
        book = self.find_book(parts[1]) if len(parts) > 2 else None
        kind = ".".join(parts[2:])
        if op is None or book is None or kind not in ("depth.step0", "trade.detail", MBP):
            self.reply({"id": msg.get("id"), "status": "error", "err-code": "bad-request",
                        "err-msg": f"invalid topic {topic}"})  # fmt: skip
            return
        stamp = int(self.model.time * 1000)
        if op == "req":
            data = self._snapshot(topic, book) if kind == MBP else self._tick(book)
            self.reply({"id": msg.get("id"), "status": "ok", "rep": topic, "ts": stamp,
                        "data": data})  # fmt: skip
            return
        if kind == "trade.detail":
            self.tap(topic, book if op == "sub" else None)
        elif op == "unsub":
            self.streams.pop(topic, None)
        else:
            mode = DIFF if kind == MBP else TOP
            self.streams.setdefault(topic, Stream(topic, book, mode, depth=DEPTH))
        done = "subbed" if op == "sub" else "unsubbed"
        self.reply({"id": msg.get("id"), "status": "ok", done: topic, "ts": stamp})

    def keepalive(self) -> None:
        if self.model.time >= self._ping_due:
            self._ping_due = self.model.time + PING_S
            self.reply({"ping": int(self.model.time * 1000)})

    def _snapshot(self, topic: str, book: SimBook) -> dict[str, Any]:
        """The view the subscription's pushes continue from, numbered by its last push."""
        stream = self.streams.get(topic)
        if stream is None:  # a req without a sub: the book as it is now
            return {"seqNum": book.last_id, "bids": _rows(book, book.top(True, DEPTH)),
                    "asks": _rows(book, book.top(False, DEPTH))}  # fmt: skip
        if stream.fresh:
            self._open(stream)
        bids = sorted(stream.bids.items(), reverse=True)
        asks = sorted(stream.asks.items())
        return {"seqNum": stream.seq, "bids": _rows(book, bids), "asks": _rows(book, asks)}

    @staticmethod
    def _tick(book: Any) -> dict[str, Any]:
        def rows(bids: bool) -> list[list[float]]:
            return [[float(book.price_text(p)), float(book.size_text(s))]
                    for p, s in book.top(bids, DEPTH)]  # fmt: skip

        return {"bids": rows(True), "asks": rows(False), "version": book.last_id,
                "ts": book.ts_ms}  # fmt: skip

    def top_frame(self, stream: Stream) -> str:
        book = stream.book
        return enc.dumps({"ch": stream.name, "ts": book.ts_ms, "tick": self._tick(book)})

    def snapshot_frame(self, stream: Stream) -> str | None:
        return None  # mbp's snapshot is asked for with a req

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        book = stream.book
        tick = {"seqNum": seq, "prevSeqNum": prev,
                "bids": _rows(book, [(p, s) for p, s, _ in delta.bids]),
                "asks": _rows(book, [(p, s) for p, s, _ in delta.asks])}  # fmt: skip
        return enc.dumps({"ch": stream.name, "ts": book.ts_ms, "tick": tick})

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        book = tap.book
        item = {"id": trade.trade_id, "ts": trade.ts_ms, "tradeId": trade.trade_id,
                "amount": float(book.size_text(trade.size)),
                "price": float(book.price_text(trade.price)),
                "direction": "buy" if trade.buy else "sell"}  # fmt: skip
        tick = {"id": trade.trade_id, "ts": trade.ts_ms, "data": [item]}
        return enc.dumps({"ch": tap.name, "ts": trade.ts_ms, "tick": tick})
