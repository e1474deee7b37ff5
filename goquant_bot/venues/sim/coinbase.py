"""Simulated Coinbase Advanced Trade: ``level2`` and ``heartbeats`` with one sequence count."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim import trade_frames as tf
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

HEARTBEAT_S = 1.0


class CoinbaseSession(VenueSession):
    """``{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}``, one channel each.

    Every message, whatever its channel, takes the next ``sequence_num`` of the connection,
    so a message lost on the way shows as a skipped number."""

    venue: ClassVar[Venue] = Venue.COINBASE
    reports_touched: ClassVar[bool] = False

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self.seq = -1
        self.heartbeats = False
        self._heartbeat_due = 0.0
        self._counter = 0

    @staticmethod
    def native(symbol: Symbol) -> str:
        return enc.native_name(Venue.COINBASE, symbol)

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def handle(self, text: str) -> None:
        try:
            msg: Any = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict or msg.get("type") not in ("subscribe", "unsubscribe"):
            self.reply({"type": "error", "message": "Failed to parse message"})
            return
        kind, channel, products = msg["type"], msg.get("channel"), msg.get("product_ids", [])
        if channel == "heartbeats":
            self.heartbeats = kind == "subscribe"
            self._heartbeat_due = self.model.time
        elif channel == "level2" and type(products) is list:
            for name in products:
                book = self.find_book(name) if type(name) is str else None
                if book is None:
                    self.reply({"type": "error", "message": f"Failed to subscribe: {name}"})
                elif kind == "unsubscribe":
                    self.streams.pop(name, None)
                else:
                    self.streams.setdefault(name, Stream(name, book, DIFF))
        elif channel == "market_trades" and type(products) is list:
            for name in products:
                book = self.find_book(name) if type(name) is str else None
                if book is None:
                    self.reply({"type": "error", "message": f"Failed to subscribe: {name}"})
                else:
                    self.tap(name, book if kind == "subscribe" else None)
        else:
            self.reply({"type": "error", "message": f"Failed to subscribe: {channel}"})
            return
        subs = {
            "level2": list(self.streams),
            "market_trades": list(self.taps),
            "heartbeats": ["heartbeats"] if self.heartbeats else [],
        }
        ts_ms = enc.book_time(self.model)
        self.reply(
            enc.coinbase_message("subscriptions", self._next(), ts_ms, [{"subscriptions": subs}])
        )

    def keepalive(self) -> None:
        """A heartbeats message every second while subscribed."""
        if not self.heartbeats or self.model.time < self._heartbeat_due:
            return
        self._heartbeat_due = self.model.time + HEARTBEAT_S
        self._counter += 1
        ts_ms = enc.book_time(self.model)
        event = {"current_time": enc.iso_time(ts_ms), "heartbeat_counter": str(self._counter)}
        self.reply(enc.coinbase_message("heartbeats", self._next(), ts_ms, [event]))

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        event = tf.coinbase_event(tap.book, tap.name, trade)
        return enc.coinbase_message("market_trades", self._next(), trade.ts_ms, [event])

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        return enc.coinbase_l2(book, self._next(), "snapshot", book.top(True), book.top(False))

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        bids = [(p, s) for p, s, _ in delta.bids]
        asks = [(p, s) for p, s, _ in delta.asks]
        return enc.coinbase_l2(stream.book, self._next(), "update", bids, asks)
