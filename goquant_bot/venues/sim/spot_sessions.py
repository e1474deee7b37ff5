"""Simulated Bitfinex, Bitstamp and Gemini connections (sans-I/O sessions).

Same contract as ``sim.venues``: client frames in, venue frames out, in each venue's exact
shape, so the real protocols parse them.
"""

from __future__ import annotations

import zlib
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.sim import encoders as enc
from goquant_bot.venues.sim import trade_frames as tf
from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import DIFF, Delta, Stream, VenueSession
from goquant_bot.venues.sim.trades import SimTrade, TradeTap

BITFINEX_LENGTHS = frozenset({1, 25, 100, 250})
BITFINEX_SEQ_ALL, BITFINEX_CHECKSUM = 65536, 131072
BITFINEX_HEARTBEAT_S = 15.0
BITFINEX_ALIASES = {"USDT": "UST", "USDC": "UDC"}
BITSTAMP_DIFF = "diff_order_book_"
BITSTAMP_TRADES = "live_trades_"


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def js_text(text: str) -> str:
    """A decimal string as a JSON number the way JavaScript prints it ("6500.10" -> 6500.1)."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def bitfinex_pair(symbol: Symbol) -> str:
    base, quote = (BITFINEX_ALIASES.get(a, a) for a in (symbol.base, symbol.quote))
    return f"{base}{quote}" if len(base) == len(quote) == 3 else f"{base}:{quote}"


def bitfinex_level(book: SimBook, price: int, size: int, bid: bool, count: int) -> str:
    """``[PRICE,COUNT,AMOUNT]``: amount negative for asks; a deletion is count 0, amount +-1."""
    if size == 0:
        return f"[{js_text(book.price_text(price))},0,{1 if bid else -1}]"
    amount = js_text(book.size_text(size))
    return f"[{js_text(book.price_text(price))},{count},{amount if bid else '-' + amount}]"


def bitfinex_checksum(book: SimBook, bids: dict[int, int], asks: dict[int, int]) -> int:
    """Signed CRC32 over the best 25 levels of the client's view, from the wire tokens."""
    top_bids = sorted(bids, reverse=True)[:25]
    top_asks = sorted(asks)[:25]
    fields: list[str] = []
    for i in range(25):
        if i < len(top_bids):
            p = top_bids[i]
            fields += (js_text(book.price_text(p)), js_text(book.size_text(bids[p])))
        if i < len(top_asks):
            p = top_asks[i]
            fields += (js_text(book.price_text(p)), "-" + js_text(book.size_text(asks[p])))
    crc = zlib.crc32(":".join(fields).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


class BitfinexSession(VenueSession):
    """``conf`` flags, ``subscribe`` book channels by chanId, ``ping``; heartbeats when quiet.

    Sequence numbers count every channel message of the connection, lost ones included.
    """

    venue: ClassVar[Venue] = Venue.BITFINEX
    reports_touched: ClassVar[bool] = False

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self.flags = 0
        self.seq = 0
        self._next_chan = 100
        self._last_sent: dict[str, float] = {}

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"t{bitfinex_pair(symbol)}"

    def _error(self, code: int, text: str, **extra: Any) -> None:
        self.reply({"event": "error", "msg": text, "code": code, **extra})

    def handle(self, text: str) -> None:
        msg = _loads(text)
        event = msg.get("event") if type(msg) is dict else None
        if event == "conf" and type(msg.get("flags")) is int:
            self.flags = msg["flags"]
            self.reply({"event": "conf", "status": "OK", "flags": self.flags})
        elif event == "ping":
            self.reply({"event": "pong", "ts": enc.book_time(self.model), "cid": msg.get("cid")})
        elif event == "subscribe":
            self._subscribe(msg)
        elif event == "unsubscribe":
            chan = msg.get("chanId")
            trades = self.taps.pop(str(chan), None)
            if self.streams.pop(str(chan), None) is None and trades is None:
                self._error(10401, "unsubscribe: invalid", chanId=chan)
            else:
                self.reply({"event": "unsubscribed", "status": "OK", "chanId": chan})
        else:
            self._error(10000, "Unknown event")

    def _subscribe(self, msg: dict[str, Any]) -> None:
        symbol = msg.get("symbol")
        length = int(msg.get("len", 25)) if str(msg.get("len", 25)).isdigit() else 0
        book = self.find_book(symbol) if type(symbol) is str else None
        if msg.get("channel") == "trades" and book is not None:
            self._subscribe_trades(book, str(symbol))
            return
        if msg.get("channel") != "book" or book is None or length not in BITFINEX_LENGTHS:
            self._error(10300, "Subscription failed (generic)", symbol=symbol)
            return
        if any(s.book is book for s in self.streams.values()):
            self._error(10301, "subscribe: dup", symbol=symbol)
            return
        self._next_chan += 1
        chan = self._next_chan
        self.streams[str(chan)] = Stream(str(chan), book, DIFF, depth=length)
        self._last_sent[str(chan)] = self.model.time
        self.reply(
            {
                "event": "subscribed",
                "channel": "book",
                "chanId": chan,
                "symbol": symbol,
                "prec": msg.get("prec", "P0"),
                "freq": msg.get("freq", "F0"),
                "len": str(length),
                "pair": symbol[1:],  # type: ignore[index]
            }
        )

    def _subscribe_trades(self, book: SimBook, symbol: str) -> None:
        if any(t.book is book for t in self.taps.values()):
            self._error(10301, "subscribe: dup", symbol=symbol)
            return
        self._next_chan += 1
        chan = self._next_chan
        self.tap(str(chan), book)
        subscribed = {"event": "subscribed", "channel": "trades", "chanId": chan}
        self.reply({**subscribed, "symbol": symbol, "pair": symbol[1:]})

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        """``[CHAN,"te",[ID,MTS,AMOUNT,PRICE],SEQ]``: AMOUNT < 0 when the taker sold."""
        book = tap.book
        size = js_text(book.size_text(trade.size))
        amount = size if trade.buy else f"-{size}"
        price = js_text(book.price_text(trade.price))
        return self._numbered(f'{tap.name},"te",[{trade.trade_id},{trade.ts_ms},{amount},{price}]')

    def _numbered(self, body: str) -> str:
        """``[chan,...]`` with the connection's next sequence number when asked for."""
        if not self.flags & BITFINEX_SEQ_ALL:
            return f"[{body}]"
        self.seq += 1
        return f"[{body},{self.seq}]"

    def _checksum(self, stream: Stream) -> list[str]:
        if not self.flags & BITFINEX_CHECKSUM:
            return []
        value = bitfinex_checksum(stream.book, stream.bids, stream.asks)
        return [self._numbered(f'{stream.name},"cs",{value}')]

    def keepalive(self) -> None:
        now = self.model.time
        for name in list(self.streams):
            if now - self._last_sent.get(name, now) >= BITFINEX_HEARTBEAT_S:
                self._last_sent[name] = now
                self.outbox.append(self._numbered(f'{name},"hb"'))

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        levels = [bitfinex_level(book, p, s, True, 1 + (p + s) % 9) for p, s in stream.bids.items()]
        levels += [
            bitfinex_level(book, p, s, False, 1 + (p + s) % 9) for p, s in stream.asks.items()
        ]
        self.outbox.append(self._numbered(f"{stream.name},[{','.join(levels)}]"))
        self.outbox.extend(self._checksum(stream))
        self._last_sent[stream.name] = self.model.time
        return None

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        return None  # one message per level: see _send

    def _send(self, stream: Stream, delta: Delta, deliver: bool) -> None:
        if not delta.bids and not delta.asks:
            return
        book = stream.book
        frames = [
            self._numbered(f"{stream.name},{bitfinex_level(book, p, s, bid, 1 + (p + s) % 9)}")
            for bid, levels in ((True, delta.bids), (False, delta.asks))
            for p, s, _ in levels
        ]
        frames += self._checksum(stream)
        stream.seq = delta.last_id
        if deliver:
            self.outbox.extend(frames)
            self._last_sent[stream.name] = self.model.time


class BitstampSession(VenueSession):
    """``bts:subscribe`` to ``diff_order_book_{pair}``, ``bts:heartbeat``; diffs by microtimestamp.

    The client takes its snapshot over REST. A lost message is a late one here: Bitstamp has
    no sequence numbers, so the diff arrives after the next one (out of order).
    """

    venue: ClassVar[Venue] = Venue.BITSTAMP

    def __init__(self, model: MarketModel, conn_id: str) -> None:
        super().__init__(model, conn_id)
        self._late: dict[str, str] = {}

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}{symbol.quote}".lower()

    def handle(self, text: str) -> None:
        msg = _loads(text)
        event = msg.get("event") if type(msg) is dict else None
        data = msg.get("data") if type(msg) is dict else None
        channel = data.get("channel") if type(data) is dict else None
        if event == "bts:heartbeat":
            self.reply({"event": "bts:heartbeat", "channel": "", "data": {"status": "success"}})
            return
        book = None
        if type(channel) is str and channel.startswith(BITSTAMP_DIFF):
            book = self.find_book(channel[len(BITSTAMP_DIFF) :])
        elif type(channel) is str and channel.startswith(BITSTAMP_TRADES):
            trades = self.find_book(channel[len(BITSTAMP_TRADES) :])
            if trades is not None and event in ("bts:subscribe", "bts:unsubscribe"):
                self.tap(channel, trades if event == "bts:subscribe" else None)
                done = "subscription" if event == "bts:subscribe" else "unsubscription"
                self.reply({"event": f"bts:{done}_succeeded", "channel": channel, "data": {}})
                return
        if event not in ("bts:subscribe", "bts:unsubscribe") or book is None:
            error = {"code": None, "message": "Bad subscription string."}
            self.reply({"event": "bts:error", "channel": "", "data": error})
            return
        assert isinstance(channel, str)
        if event == "bts:subscribe":
            self.streams.setdefault(channel, Stream(channel, book, DIFF))
            self.reply({"event": "bts:subscription_succeeded", "channel": channel, "data": {}})
        else:
            self.streams.pop(channel, None)
            self.reply({"event": "bts:unsubscription_succeeded", "channel": channel, "data": {}})

    def snapshot_frame(self, stream: Stream) -> str | None:
        return None  # from REST

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return tf.bitstamp(tap.book, self.native(tap.book.symbol), trade)

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        book, model = stream.book, self.model
        # The time of the tick the diff brings the client to (a late diff keeps its own).
        ts_us = round((model.time - (model.tick - stream.tick) * model.config.tick_s) * 1e6)
        data = {
            "timestamp": str(ts_us // 1_000_000),
            "microtimestamp": str(ts_us),
            "bids": [[book.price_text(p), book.size_text(s)] for p, s, _ in delta.bids],
            "asks": [[book.price_text(p), book.size_text(s)] for p, s, _ in delta.asks],
        }
        return enc.dumps({"data": data, "channel": stream.name, "event": "data"})

    def _send(self, stream: Stream, delta: Delta, deliver: bool) -> None:
        frame = self.delta_frame(stream, delta, stream.seq, delta.last_id)
        if frame is None:
            return
        stream.seq = delta.last_id
        if not deliver:
            self._late[stream.name] = frame
            return
        self.outbox.append(frame)
        late = self._late.pop(stream.name, None)
        if late is not None:
            self.outbox.append(late)


class GeminiSession(VenueSession):
    """``{"type":"subscribe","subscriptions":[{"name":"l2","symbols":[...]}]}``: the first
    ``l2_updates`` is the whole book (with recent ``trades``), then changes. No sequence
    numbers, so a lost message is simply missing."""

    venue: ClassVar[Venue] = Venue.GEMINI
    reports_touched: ClassVar[bool] = False

    @staticmethod
    def native(symbol: Symbol) -> str:
        return f"{symbol.base}{symbol.quote}"

    def handle(self, text: str) -> None:
        msg = _loads(text)
        kind = msg.get("type") if type(msg) is dict else None
        subs = msg.get("subscriptions") if type(msg) is dict else None
        if kind not in ("subscribe", "unsubscribe") or type(subs) is not list:
            self.reply({"result": "error", "reason": "InvalidJson", "message": "bad request"})
            return
        for sub in subs:
            name = sub.get("name") if type(sub) is dict else None
            symbols = sub.get("symbols") if type(sub) is dict else None
            for native in symbols if type(symbols) is list else []:
                book = self.find_book(native) if type(native) is str else None
                if book is None:
                    continue
                if name == "candles_1m":
                    if kind == "subscribe":
                        self.reply(gemini_candles(book))
                elif name == "l2" and kind == "subscribe":
                    self.streams.setdefault(native, Stream(native, book, DIFF))
                    self.tap(native, book)  # l2 carries the trades
                elif name == "l2":
                    self.streams.pop(native, None)
                    self.tap(native, None)

    def trade_frame(self, tap: TradeTap, trade: SimTrade) -> str | None:
        return tf.gemini(tap.book, tap.name, trade)

    def snapshot_frame(self, stream: Stream) -> str | None:
        book = stream.book
        changes = [gemini_change(book, "buy", p, s) for p, s in stream.bids.items()]
        changes += [gemini_change(book, "sell", p, s) for p, s in stream.asks.items()]
        return enc.dumps(
            {"type": "l2_updates", "symbol": stream.name, "changes": changes, "trades": []}
        )

    def delta_frame(self, stream: Stream, delta: Delta, prev: int, seq: int) -> str | None:
        if not delta.bids and not delta.asks:
            return None
        book = stream.book
        changes = [gemini_change(book, "buy", p, s) for p, s, _ in delta.bids]
        changes += [gemini_change(book, "sell", p, s) for p, s, _ in delta.asks]
        return enc.dumps({"type": "l2_updates", "symbol": stream.name, "changes": changes})


def gemini_change(book: SimBook, side: str, price: int, size: int) -> list[str]:
    return [side, book.price_text(price), book.size_text(size)]


def gemini_candles(book: SimBook) -> dict[str, Any]:
    mid = float(book.price_text(book.top(True, 1)[0][0]))
    candle = [book.ts_ms // 60_000 * 60_000, mid, mid, mid, mid, 1.0]
    return {
        "type": "candles_1m_updates",
        "symbol": GeminiSession.native(book.symbol),
        "changes": [candle],
    }
