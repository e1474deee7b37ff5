"""Simulated Gate v4 spot: ``spot.obu`` books, ``spot.trades``, ``spot.ping`` and its REST."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim.encoders import dumps
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

OBU_LEVELS = frozenset({50, 400})


def _levels(book: Any, levels: list[tuple[int, int]]) -> list[list[str]]:
    return [[book.price_text(p), book.size_text(s)] for p, s in levels]


class GateioSession(VenueSession):
    """``{"time":N,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.400"]}``."""

    venue: ClassVar[Venue] = Venue.GATEIO
    reports_touched: ClassVar[bool] = False

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}_{symbol.quote}"

    def _ack(self, channel: Any, event: Any, payload: Any, error: str | None = None) -> None:
        msg: dict[str, Any] = {"time": self.model.time, "channel": channel, "event": event}
        msg["payload"] = payload
        if error is None:
            msg["result"] = {"status": "success"}
        else:
            msg["error"] = {"code": 2, "message": error}
        self.reply(msg)

    def handle(self, text: str) -> None:
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            msg = None
        if type(msg) is not dict:
            self._ack("", "", None, "invalid request")
            return
        channel, event, payload = msg.get("channel"), msg.get("event"), msg.get("payload")
        if channel == "spot.ping":
            self.reply({"time": int(self.model.time), "channel": "spot.pong", "event": ""})
            return
        if event not in ("subscribe", "unsubscribe") or type(payload) is not list:
            self._ack(channel, event, payload, "invalid request")
            return
        bad = []
        for name in payload:
            if channel == "spot.trades":
                book = self.find_book(name) if type(name) is str else None
                if book is None:
                    bad.append(str(name))
                else:
                    self.tap(name, book if event == "subscribe" else None)
                continue
            stream = self._stream(name) if channel == "spot.obu" else None
            if stream is None:
                bad.append(str(name))
            elif event == "unsubscribe":
                self.streams.pop(stream.name, None)
            else:
                self.streams.setdefault(stream.name, stream)
        self._ack(channel, event, payload, f"unknown {','.join(bad)}" if bad else None)

    def _stream(self, name: Any) -> Stream | None:
        parts = name.split(".") if type(name) is str else []
        if len(parts) != 3 or parts[0] != "ob" or not parts[2].isdigit():
            return None
        book = self.find_book(parts[1])
        if book is None or int(parts[2]) not in OBU_LEVELS:
            return None
        return Stream(name, book, DIFF, depth=int(parts[2]))

    def next_seq(self, stream: Stream, delta: Delta) -> int:
        return stream.seq + 1  # one depth id per message

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        bids, asks = book.top(True, stream.depth), book.top(False, stream.depth)
        result = {"t": book.ts_ms, "full": True, "s": stream.name, "u": stream.seq,
                  "b": _levels(book, bids), "a": _levels(book, asks)}  # fmt: skip
        return dumps({"channel": "spot.obu", "result": result})

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        book = stream.book
        bids = [(p, s) for p, s, _ in delta.bids]
        asks = [(p, s) for p, s, _ in delta.asks]
        result = {"t": book.ts_ms, "s": stream.name, "U": prev + 1, "u": seq,
                  "b": _levels(book, bids), "a": _levels(book, asks)}  # fmt: skip
        return dumps({"channel": "spot.obu", "result": result})

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        book = tap.book
        result = {"id": trade.trade_id, "create_time": trade.ts_ms // 1000,
                  "create_time_ms": f"{trade.ts_ms}.000", "side": "buy" if trade.buy else "sell",
                  "currency_pair": self.native(book.symbol), "amount": book.size_text(trade.size),
                  "price": book.price_text(trade.price), "range": f"{trade.trade_id}-{trade.trade_id}"}  # fmt: skip
        return dumps({"time": trade.ts_ms // 1000, "channel": "spot.trades",
                      "event": "update", "result": result})  # fmt: skip


def rest_answer(model: MarketModel, path: str, query: Mapping[str, str]) -> tuple[int, str] | None:
    """``/api/v4/spot/currency_pairs`` and ``/api/v4/spot/order_book``; None for other paths."""
    if path == "/api/v4/spot/currency_pairs":
        entries = []
        for symbol in model.listings(Venue.GATEIO):
            asset = model.asset(symbol.base)
            entries.append({"id": GateioSession.native(symbol), "base": symbol.base,
                            "quote": symbol.quote, "fee": "0.1", "min_quote_amount": "3",
                            "amount_precision": asset.lot_decimals,
                            "precision": asset.tick_decimals, "trade_status": "tradable",
                            "sell_start": 0, "buy_start": 0})  # fmt: skip
        return 200, dumps(entries)
    if path == "/api/v4/spot/order_book":
        native = query.get("currency_pair")
        book = next(
            (
                model.book(Venue.GATEIO, s)
                for s in model.listings(Venue.GATEIO)
                if GateioSession.native(s) == native
            ),
            None,
        )
        if book is None:
            return 400, dumps({"label": "INVALID_CURRENCY_PAIR", "message": "Invalid pair"})
        limit = query.get("limit", "10")
        depth = min(int(limit), 1000) if limit.isdigit() else 10
        body = {"id": book.last_id, "current": book.ts_ms, "update": book.ts_ms,
                "asks": _levels(book, book.top(False, depth)),
                "bids": _levels(book, book.top(True, depth))}  # fmt: skip
        return 200, dumps(body)
    return None
