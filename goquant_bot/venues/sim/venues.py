"""The simulated Binance, OKX, Bybit and Deribit: how each one talks on its WebSocket (sans-I/O
sessions; ``addresses`` opens the session an address leads to)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim import trade_frames as tf
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, TOP, Delta, Stream, VenueSession, query_streams
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

OKX_DEPTHS: Mapping[str, int] = MappingProxyType({"books": 400, "books5": 5, "bbo-tbt": 1})
BYBIT_DEPTHS = frozenset({1, 50, 200, 1000})
BYBIT_MAX_ARGS = 10
DERIBIT_INTERVALS = frozenset({"100ms", "agg2"})  # "raw" needs an authenticated connection
DERIBIT_GROUPED_DEPTHS = frozenset({1, 10, 20})
DERIBIT_MIN_HEARTBEAT_S = 10


def _levels(entries: list[tuple[int, int, bool]]) -> list[tuple[int, int]]:
    return [(p, s) for p, s, _ in entries]


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


class BinanceSession(VenueSession):
    """Combined streams (``/stream``) or raw ones (``/ws``); live SUBSCRIBE also works."""

    venue: ClassVar[Venue] = Venue.BINANCE

    def __init__(self, model: MarketModel, conn_id: str, url: str) -> None:
        super().__init__(model, conn_id)
        self.combined, names = query_streams(url)
        for name in names:
            self._add(name)

    def handle(self, text: str) -> None:
        """``{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}``"""
        msg = _loads(text)
        if type(msg) is not dict:
            self.reply({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
            return
        method, params, request_id = msg.get("method"), msg.get("params"), msg.get("id")
        names: list[str] = params if type(params) is list else []
        if (
            method in ("SUBSCRIBE", "UNSUBSCRIBE")
            and type(params) is list
            and all(type(n) is str for n in names)
        ):
            for name in names:
                if method == "SUBSCRIBE":
                    self._add(name)
                else:
                    self.streams.pop(name, None)
                    self.tap(name, None)
            self.reply({"result": None, "id": request_id})
        elif method == "LIST_SUBSCRIPTIONS":
            self.reply({"result": list(self.streams), "id": request_id})
        else:
            error = {"code": 2, "msg": "Invalid request: unknown method or bad params"}
            self.reply({"error": error, "id": request_id})

    def _add(self, name: str) -> None:
        """Unknown names are accepted and never send anything, as on Binance."""
        native, _, kind = name.partition("@")
        book = self.find_book(native.upper()) if native == native.lower() else None
        if book is None or name in self.streams:
            return
        kind = kind.removesuffix("@100ms").removesuffix("@1000ms")
        if kind == "trade":
            self.tap(name, book)
        elif kind == "depth":
            self.streams[name] = Stream(name, book, DIFF)
        elif kind in ("depth5", "depth10", "depth20"):
            self.streams[name] = Stream(name, book, TOP, depth=int(kind[5:]))
        elif kind == "bookTicker":
            self.streams[name] = Stream(name, book, TOP, depth=1)

    def _wrap(self, stream: Stream | TradeTap, data: dict[str, Any]) -> str:
        return enc.dumps({"stream": stream.name, "data": data} if self.combined else data)

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return self._wrap(tap, tf.binance(tap.book, self.native(tap.book.symbol), trade))

    def snapshot_frame(self, stream: Stream) -> str | None:
        return None  # the client takes its snapshot over REST

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        bids, asks = _levels(delta.bids), _levels(delta.asks)
        data = enc.binance_depth_update(stream.book, delta.first_id, delta.last_id, bids, asks)
        return self._wrap(stream, data)

    def top_frame(self, stream: Stream) -> str:
        if stream.name.endswith("@bookTicker"):
            return self._wrap(stream, enc.binance_book_ticker(stream.book))
        return self._wrap(stream, enc.binance_partial_depth(stream.book, stream.depth or 5))


class OkxSession(VenueSession):
    """``{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`` and ``ping``."""

    venue: ClassVar[Venue] = Venue.OKX

    @staticmethod
    def native(symbol: Symbol) -> str:
        return enc.native_name(Venue.OKX, symbol)

    def _error(self, code: str, text: str, request_id: Any = None) -> None:
        msg: dict[str, Any] = {"event": "error", "code": code, "msg": text, "connId": self.conn_id}
        if request_id is not None:
            msg = {"id": request_id, **msg}
        self.reply(msg)

    def handle(self, text: str) -> None:
        if text == "ping":
            self.reply("pong")
            return
        msg = _loads(text)
        if type(msg) is not dict:
            self._error("60012", f"Invalid request: {text[:100]}")
            return
        op, args, request_id = msg.get("op"), msg.get("args"), msg.get("id")
        if op not in ("subscribe", "unsubscribe") or type(args) is not list:
            self._error("60012", f"Invalid request: {text[:100]}", request_id)
            return
        for arg in args:
            channel = arg.get("channel") if type(arg) is dict else None
            inst = arg.get("instId") if type(arg) is dict else None
            book = self.find_book(inst) if type(inst) is str else None
            depth = OKX_DEPTHS.get(channel) if type(channel) is str else None
            if channel == "trades" and book is not None:
                self.tap(f"trades:{inst}", book if op == "subscribe" else None)
                depth = 0
            if depth is None or book is None:
                reason = f"Wrong URL or channel:{channel},instId:{inst} doesn't exist"
                self._error("60018", reason, request_id)
                continue
            key = f"{channel}:{inst}"
            if op == "unsubscribe":
                self.streams.pop(key, None)
            elif key not in self.streams and channel != "trades":
                mode = DIFF if channel == "books" else TOP
                self.streams[key] = Stream(key, book, mode, depth=depth)
            ack: dict[str, Any] = {"event": op, "arg": {"channel": channel, "instId": inst}}
            if request_id is not None:
                ack = {"id": request_id, **ack}
            self.reply({**ack, "connId": self.conn_id})

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        bids, asks = book.top(True, stream.depth), book.top(False, stream.depth)
        return enc.okx_books(book, "snapshot", -1, stream.seq, bids, asks)

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return tf.okx(tap.book, self.native(tap.book.symbol), trade)

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        # An empty update (prevSeqId == seqId) is OKX's keep-alive for a quiet book.
        bids, asks = _levels(delta.bids), _levels(delta.asks)
        return enc.okx_books(stream.book, "update", prev, seq, bids, asks)

    def top_frame(self, stream: Stream) -> str:
        channel = stream.name.partition(":")[0]
        return enc.okx_top(stream.book, channel, stream.depth or 1)


class BybitSession(VenueSession):
    """``{"req_id":"1","op":"subscribe","args":["orderbook.50.BTCUSDT"]}`` and ``ping``."""

    venue: ClassVar[Venue] = Venue.BYBIT
    reports_touched: ClassVar[bool] = False

    def _answer(self, op: Any, request_id: Any, success: bool, ret_msg: str) -> None:
        msg: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": self.conn_id}
        if request_id is not None:
            msg["req_id"] = request_id
        msg["op"] = op
        self.reply(msg)

    def handle(self, text: str) -> None:
        msg = _loads(text)
        if type(msg) is not dict:
            self._answer(None, None, False, "error:invalid json")
            return
        op, args, request_id = msg.get("op"), msg.get("args"), msg.get("req_id")
        if op == "ping":
            self._answer(op, request_id, True, "pong")
            return
        if op not in ("subscribe", "unsubscribe") or type(args) is not list:
            self._answer(op, request_id, False, f"error:unknown op {op}")
            return
        if len(args) > BYBIT_MAX_ARGS:
            self._answer(op, request_id, False, f"args size >{BYBIT_MAX_ARGS}")
            return
        bad = []
        for topic in args:
            if type(topic) is str and topic.startswith("publicTrade."):
                book = self.find_book(topic.removeprefix("publicTrade."))
                if book is None:
                    bad.append(topic)
                else:
                    self.tap(topic, book if op == "subscribe" else None)
                continue
            stream = self._stream(topic) if type(topic) is str else None
            if stream is None:
                bad.append(str(topic))
            elif op == "unsubscribe":
                self.streams.pop(stream.name, None)
            else:
                self.streams.setdefault(stream.name, stream)
        if bad:
            self._answer(op, request_id, False, f"error:handler not found,topic:{','.join(bad)}")
        else:
            self._answer(op, request_id, True, op if op == "subscribe" else "")

    def _stream(self, topic: str) -> Stream | None:
        parts = topic.split(".")
        if len(parts) != 3 or parts[0] != "orderbook" or not parts[1].isdigit():
            return None
        depth = int(parts[1])
        book = self.find_book(parts[2])
        if depth not in BYBIT_DEPTHS or book is None:
            return None
        return Stream(topic, book, TOP if depth == 1 else DIFF, depth=depth)

    def next_seq(self, stream: Stream, delta: Delta) -> int:
        return stream.seq + 1  # u counts messages

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return tf.bybit(tap.book, self.native(tap.book.symbol), trade)

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        bids, asks = book.top(True, stream.depth), book.top(False, stream.depth)
        return enc.bybit_orderbook(book, stream.name, "snapshot", stream.seq, bids, asks)

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        bids, asks = _levels(delta.bids), _levels(delta.asks)
        return enc.bybit_orderbook(stream.book, stream.name, "delta", seq, bids, asks)

    def top_frame(self, stream: Stream) -> str:
        stream.seq = stream.seq + 1 if stream.seq else stream.book.last_id
        top = stream.book.top(True, 1), stream.book.top(False, 1)
        return enc.bybit_orderbook(stream.book, stream.name, "snapshot", stream.seq, *top)


class DeribitSession(VenueSession):
    """JSON-RPC: subscribe/unsubscribe, set_heartbeat (then test_request), test, get_time."""

    venue: ClassVar[Venue] = Venue.DERIBIT
    reports_touched: ClassVar[bool] = False

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self.heartbeat_s: float | None = None
        self._heartbeat_due = 0.0
        self._test_pending = False

    @staticmethod
    def native(symbol: Symbol) -> str:
        return enc.native_name(Venue.DERIBIT, symbol)

    def handle(self, text: str) -> None:
        """``{"jsonrpc":"2.0","id":42,"method":"public/subscribe","params":{"channels":[...]}}``"""
        msg = _loads(text)
        ts_ms = enc.book_time(self.model)
        if type(msg) is not dict or type(msg.get("method")) is not str:
            error = {"message": "Parse error", "code": -32700}
            self.reply(enc.deribit_reply(None, ts_ms, error=error))
            return
        request_id, method = msg.get("id"), msg["method"]
        params: dict[str, Any] = msg["params"] if type(msg.get("params")) is dict else {}
        result: Any = "ok"
        if method in ("public/subscribe", "public/unsubscribe"):
            channels = params.get("channels")
            names = [c for c in channels if type(c) is str] if type(channels) is list else []
            if method == "public/subscribe":
                result = [name for name in names if self._add(name)]
            else:
                result = [name for name in names if self._drop(name)]
        elif method == "public/set_heartbeat":
            interval = params.get("interval")
            if not isinstance(interval, int | float) or interval < DERIBIT_MIN_HEARTBEAT_S:
                error = {
                    "message": "Invalid params",
                    "code": -32602,
                    "data": {"reason": "must be at least 10", "param": "interval"},
                }
                self.reply(enc.deribit_reply(request_id, ts_ms, error=error))
                return
            self.heartbeat_s = float(interval)
            self._heartbeat_due = self.model.time + self.heartbeat_s
        elif method == "public/disable_heartbeat":
            self.heartbeat_s = None
        elif method in ("public/test", "public/hello"):
            self._test_pending = False
            result = {"version": "1.2.26"}
        elif method == "public/get_time":
            result = ts_ms
        else:
            error = {"message": "Method not found", "code": -32601}
            self.reply(enc.deribit_reply(request_id, ts_ms, error=error))
            return
        self.reply(enc.deribit_reply(request_id, ts_ms, result))

    def _add(self, channel: str) -> bool:
        parts = channel.split(".")
        if len(parts) == 3 and parts[0] == "trades" and parts[2] in DERIBIT_INTERVALS:
            trades_of = self.find_book(parts[1])
            self.tap(channel, trades_of)
            return trades_of is not None
        book = self.find_book(parts[1]) if len(parts) > 2 and parts[0] == "book" else None
        if book is None or parts[-1] not in DERIBIT_INTERVALS:
            return False
        if len(parts) == 3:
            self.streams.setdefault(channel, Stream(channel, book, DIFF))
            return True
        if len(parts) == 5 and parts[2] == "none" and parts[3].isdigit():
            depth = int(parts[3])
            if depth in DERIBIT_GROUPED_DEPTHS:
                self.streams.setdefault(channel, Stream(channel, book, TOP, depth=depth))
                return True
        return False

    def _drop(self, channel: str) -> bool:
        if channel in self.taps:
            self.tap(channel, None)
            return True
        return self.streams.pop(channel, None) is not None

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return tf.deribit(tap.book, self.native(tap.book.symbol), trade)

    def keepalive(self) -> None:
        """Every interval a test_request; one still unanswered at the next closes the session."""
        if self.heartbeat_s is None or self.model.time < self._heartbeat_due:
            return
        if self._test_pending:
            self.closed = "heartbeat test_request not answered"
            return
        self._test_pending = True
        self._heartbeat_due = self.model.time + self.heartbeat_s
        heartbeat = {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
        self.reply(heartbeat)

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        bids = [(p, s, False) for p, s in book.top(True)]
        asks = [(p, s, False) for p, s in book.top(False)]
        return enc.deribit_book(book, stream.name, None, stream.seq, bids, asks)

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        return enc.deribit_book(stream.book, stream.name, prev, seq, delta.bids, delta.asks)

    def top_frame(self, stream: Stream) -> str:
        return enc.deribit_grouped_book(stream.book, stream.name, stream.depth or 10)
