"""HTX (Huobi) public spot order books and trades, sans-I/O.

Every frame is gzip-compressed binary (``decode_binary``). Books come from the market-by-price
channel ``market.{symbol}.mbp.150`` on ``/feed``: each push carries the levels that changed
(size 0 removes one) with its ``seqNum`` and the previous push's ``prevSeqNum``. Pushes are
buffered until the book's ``req`` snapshot (same topic, its ``seqNum``) arrives; pushes up to
the snapshot's number are dropped, the first one applied must start at or before it
(``prevSeqNum <= seqNum``) and every next one must continue the chain. A break rebuilds that
one book from a new ``req`` (the subscription stays). ``depth.step0`` whole books (other
recorders' captures) are still read, as snapshot-tier books. The server's ``{"ping": n}`` is
answered with ``{"pong": n}``.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RAW_LOG_LIMIT, RestRequest, VenueProtocol, taker_side
from goquant_bot.venues.htx_mbp import MAX_BUFFERED as MAX_BUFFERED
from goquant_bot.venues.htx_mbp import SNAPSHOT_TIMEOUT_S as SNAPSHOT_TIMEOUT_S
from goquant_bot.venues.htx_mbp import Mbp, Push
from goquant_bot.venues.htx_rest import DEFAULT_REST_BASE, depth_request, parse_depth
from goquant_bot.venues.htx_rest import instruments_request as instruments_request
from goquant_bot.venues.htx_rest import parse_instruments as parse_instruments
from goquant_bot.venues.levels import address_matches, float_levels, non_finite, valid_levels
from goquant_bot.venues.polling import on_poll_answer

log = get_logger(__name__)

FEED_PATH = "/feed"  # market-by-price topics
WS_PATH = "/ws"  # the general market endpoint (depth.step0 captures)
LIVE_HOSTS = frozenset({"api.huobi.pro", "api-aws.huobi.pro", "api.htx.com"})
MBP_LEVELS = 150  # pushed every 100 ms; 5 and 20 are tick by tick but shallow
MBP_TOPIC = f"mbp.{MBP_LEVELS}"
DEPTH_TOPIC = "depth.step0"  # 150 levels a side, whole on every push
TRADE_TOPIC = "trade.detail"


class HtxProtocol(VenueProtocol):
    """One HTX market WebSocket connection: ``mbp.150`` books on ``/feed``, or (a connection
    of trades apart) ``trade.detail`` on ``/ws``."""

    venue: ClassVar[Venue] = Venue.HTX
    integrity: ClassVar[Integrity] = Integrity.VERIFIED
    default_ws_base: ClassVar[str] = f"wss://api.huobi.pro{FEED_PATH}"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    max_symbols_per_connection: ClassVar[int] = 50
    max_symbols_per_request: ClassVar[int] = 1  # one topic per sub request
    max_sends_per_second: ClassVar[float] = 10.0
    timer_interval_s: ClassVar[float] = 5.0
    # HTX serves market-by-price on /feed and trades on the general endpoint, /ws.
    trades_apart: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_id = 1
        self._leaves_at = 0.0  # when the last queued frame leaves, at max_sends_per_second
        self._mbp: dict[Symbol, Mbp] = {}
        self._last_ts: dict[Symbol, int] = {}  # depth.step0 books only

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The market-by-price endpoint (``/feed``) and the general one (``/ws``)."""
        return address_matches(addr, LIVE_HOSTS, FEED_PATH) or address_matches(
            addr, LIVE_HOSTS, WS_PATH
        )

    def native_name(self, symbol: Symbol) -> str:
        """``btcusdt``: HTX names are lower case."""
        native = self.symbols.native(symbol)
        if native is None:
            native = f"{symbol.base}{symbol.quote}".lower()
            self.symbols.add(native, symbol)
        return native

    def decode_binary(self, data: bytes) -> str | None:
        """Every HTX frame is a gzip member holding JSON text."""
        try:
            return gzip.decompress(data).decode()
        except (OSError, EOFError, zlib.error, UnicodeDecodeError):
            self.bad_frame("bad_gzip", repr(data[:RAW_LOG_LIMIT]))
            return None

    def ws_url(self) -> str:
        """``/feed`` for books; ``/ws`` for a connection of trades apart."""
        if self.for_trades and self.ws_base.endswith(FEED_PATH):
            return self.ws_base.removesuffix(FEED_PATH) + WS_PATH
        return self.ws_base

    def probe(self, now: float) -> None:
        """A ``req`` HTX always answers with a ``rep``: a held book's (or BTC-USDT's) mbp
        snapshot, or on a trades connection the recent trades of one of its symbols."""
        if self.for_trades:
            symbol = next(iter(self.trade_symbols), None)
            topic = TRADE_TOPIC
        else:
            symbol, topic = next(iter(self.books), None), MBP_TOPIC
        native = self.native_name(symbol) if symbol is not None else "btcusdt"
        self._send("req", f"market.{native}.{topic}", now)

    def on_timer(self, now: float) -> None:
        """Ask again for a snapshot the venue left unanswered (later each time in a row, so a
        topic the venue refuses is not asked for every 10 s forever)."""
        if not self.connected:
            return
        for symbol, state in self._mbp.items():
            if state.seq is None and now - state.asked_at >= state.wait_s():
                state.asked_at = self._send("req", self._topic(symbol), now)
                state.unanswered += 1
                self.stats.errors["snapshot_timeout"] += 1
                log.warning(
                    "snapshot_timeout",
                    venue=self.venue.value,
                    symbol=str(symbol),
                    unanswered=state.unanswered,
                    next_in_s=state.wait_s(),
                )

    def on_open(self, now: float) -> None:
        self._leaves_at = now  # a new connection: nothing is waiting to be sent
        super().on_open(now)

    def _send(self, op: str, topic: str, now: float) -> float:
        frame = {op: topic, "id": str(self._next_id)}
        self._next_id += 1
        return self._queue(orjson.dumps(frame).decode(), now)

    def _queue(self, text: str, now: float) -> float:
        """Queue a frame; returns when it should leave at the driver's pace (a book's
        snapshot request is timed from then: with many books it leaves seconds later)."""
        self._leaves_at = max(now, self._leaves_at) + 1.0 / self.max_sends_per_second
        self._outbox.append(text)
        return self._leaves_at

    def _topic(self, symbol: Symbol) -> str:
        return f"market.{self.native_name(symbol)}.{MBP_TOPIC}"

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """``{"ping": n}``, an answer, or a push such as
        ``{"ch":"market.btcusdt.mbp.150","ts":1573199608679,"tick":{"seqNum":100020146795,"prevSeqNum":100020146794,"bids":[[618.37,0]],"asks":[[618.5,1.2]]}}``
        """
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("bad_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("bad_shape", text)
            return
        if "ping" in msg:
            self._queue(orjson.dumps({"pong": msg["ping"]}).decode(), now)
            return
        channel = msg.get("ch")
        if channel is None:
            self._on_answer(msg, text, now)
            return
        parts = channel.split(".") if type(channel) is str else []
        tick = msg.get("tick")
        if len(parts) < 3 or parts[0] != "market" or type(tick) is not dict:
            self.bad_frame("bad_shape", text)
            return
        topic = ".".join(parts[2:])
        if topic == TRADE_TOPIC:
            self._on_trades(parts[1], tick, text, now)
            return
        if topic not in (MBP_TOPIC, DEPTH_TOPIC):
            self.stats.skipped[f"channel:{topic}"] += 1
            return
        book = self.book_for(parts[1])
        if book is None:
            self.stats.skipped["unsubscribed"] += 1
        elif topic == MBP_TOPIC:
            self._on_push(book, msg, tick, text, now)
        else:
            self._on_depth(book, tick, text, now)

    def _on_answer(self, msg: dict[str, Any], text: str, now: float) -> None:
        """``{"id":"1","status":"ok","subbed":"market.btcusdt.mbp.150"}``, a snapshot
        ``{"id":"2","rep":"market.btcusdt.mbp.150","status":"ok","data":{"seqNum":100020142010,"bids":[[618.37,71.594]],"asks":[[618.5,1.2]]}}``
        or ``{"status":"error","err-code":"bad-request","err-msg":"invalid topic ..."}``."""
        status = msg.get("status")
        if status == "error":
            code = msg.get("err-code")
            self.stats.errors[f"venue_error:{code}"] += 1
            log.warning("venue_error", venue=self.venue.value, code=code, msg=msg.get("err-msg"))
            return
        if status != "ok" and "pong" not in msg:
            self.bad_frame("bad_shape", text)
            return
        rep = msg.get("rep")
        if rep is None:
            return  # sub / unsub acknowledged
        parts = rep.split(".") if type(rep) is str else []
        if len(parts) < 3 or ".".join(parts[2:]) != MBP_TOPIC:
            self.stats.skipped["rep"] += 1
            return
        book = self.book_for(parts[1])
        if book is None:
            self.stats.skipped["unsubscribed"] += 1
            return
        self._on_snapshot(book, msg, text, now)

    def _on_snapshot(self, book: OrderBook, msg: dict[str, Any], text: str, now: float) -> None:
        data = msg.get("data")
        seq = data.get("seqNum") if type(data) is dict else None
        bids: Any = data.get("bids") if type(data) is dict else None
        asks: Any = data.get("asks") if type(data) is dict else None
        if type(seq) is not int or not (valid_levels(bids) and valid_levels(asks)):
            if non_finite(bids) or non_finite(asks):
                self.resync(book, "non_finite", now, text)
            else:
                self.bad_frame("bad_snapshot", text)
            return
        symbol = book.key.symbol
        state = self._mbp.get(symbol)
        if state is None:  # a capture's book, or a probe's answer: start its chain here
            state = self._mbp[symbol] = Mbp(now)
        elif state.seq is not None:
            self.stats.skipped["snapshot_unneeded"] += 1
            return
        book.integrity = Integrity.VERIFIED
        book.bids.replace(float_levels(bids))
        book.asks.replace(float_levels(asks))
        state.seq, state.aligned = seq, False
        buffered, state.buffer = state.buffer, []
        for push in buffered:
            if not self._chain(book, state, push, text, now):
                return
        ts_ms = msg.get("ts")
        self._live(book, now, ts_ms)

    def _on_push(
        self, book: OrderBook, msg: dict[str, Any], tick: dict[str, Any], text: str, now: float
    ) -> None:
        prev, seq = tick.get("prevSeqNum"), tick.get("seqNum")
        # mbp.150 sends an empty list for the side that did not change; be lenient if absent.
        bids: Any = tick.get("bids", [])
        asks: Any = tick.get("asks", [])
        if type(prev) is not int or type(seq) is not int:
            self.bad_frame("bad_mbp", text)
            return
        if not (valid_levels(bids) and valid_levels(asks)):
            if non_finite(bids) or non_finite(asks):
                self.resync(book, "non_finite", now, text)
            else:
                self.bad_frame("bad_mbp", text)
            return
        symbol = book.key.symbol
        state = self._mbp.get(symbol)
        if state is None:  # a capture's book: wait for a snapshot in the file
            state = self._mbp[symbol] = Mbp(now)
        if state.seq is None:
            state.buffer.append((prev, seq, bids, asks))
            if len(state.buffer) > MAX_BUFFERED:
                del state.buffer[0]  # an older push is useless once a newer one is kept
            return
        if self._chain(book, state, (prev, seq, bids, asks), text, now):
            self._live(book, now, msg.get("ts"))

    def _chain(self, book: OrderBook, state: Mbp, push: Push, text: str, now: float) -> bool:
        """Apply one push in sequence (or skip one the snapshot already holds); False when
        it broke the chain and the book is being rebuilt."""
        prev, seq, bids, asks = push
        last = state.seq
        assert last is not None  # only called once the snapshot arrived
        if not state.aligned:
            if seq <= last:
                self.stats.skipped["before_snapshot"] += 1
                return True
            if prev > last:
                self.resync(book, "seq_gap", now, text)
                return False
            state.aligned = True
        elif prev != last:
            self.resync(book, "seq_gap", now, text)
            return False
        book.bids.apply_text(bids)
        book.asks.apply_text(asks)
        state.seq = seq
        return True

    def _live(self, book: OrderBook, now: float, ts_ms: Any) -> None:
        # Levels pushed out of the venue's 150 are normally deleted; the cut makes sure.
        book.bids.trim(MBP_LEVELS)
        book.asks.trim(MBP_LEVELS)
        self.mark_live(book, now, ts_ms / 1000 if type(ts_ms) is int else None)

    def _on_depth(self, book: OrderBook, tick: dict[str, Any], text: str, now: float) -> None:
        """A ``depth.step0`` whole book (captures of other recorders): replaces the book."""
        bids: Any = tick.get("bids")
        asks: Any = tick.get("asks")
        ts_ms = tick.get("ts")
        if not (valid_levels(bids) and valid_levels(asks)) or type(ts_ms) is not int:
            if non_finite(bids) or non_finite(asks):
                self.resync(book, "non_finite", now, text)
            else:
                self.bad_frame("bad_depth", text)
            return
        symbol = book.key.symbol
        if ts_ms < self._last_ts.get(symbol, 0):
            self.stats.skipped["out_of_order"] += 1
            return
        self._last_ts[symbol] = ts_ms
        book.integrity = Integrity.SNAPSHOT  # whole books, no sequence to check
        book.bids.replace(float_levels(bids))
        book.asks.replace(float_levels(asks))
        self.mark_live(book, now, ts_ms / 1000)

    def _on_trades(self, native: str, tick: dict[str, Any], text: str, now: float) -> None:
        """``{"data":[{"id":1,"ts":1630994963173,"tradeId":102523573486,"amount":0.006754,
        "price":52648.62,"direction":"buy"}]}``; ``direction`` is the taker's side."""
        symbol = self.trade_symbol(native)
        if symbol is None:
            return
        data = tick.get("data")
        items: list[Any] = data if type(data) is list else [{}]
        for item in items:
            ts = item.get("ts") if type(item) is dict else None
            if type(item) is not dict or type(ts) is not int:
                self.bad_trade("bad_field", text)
                continue
            self.add_trade(
                symbol,
                item.get("price"),
                item.get("amount"),
                taker_side(item.get("direction")),
                ts / 1000,
                now,
                text,
                item.get("tradeId", ""),
            )

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return depth_request(self.rest_base, self.native_name(symbol), symbol)

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        # The chain must start again from a snapshot: pushes never apply to polled data.
        on_poll_answer(self, request, status, body, now, parse_depth, self._restart_chain)

    def _restart_chain(self, symbol: Symbol) -> None:
        self._mbp.pop(symbol, None)
        self._last_ts.pop(symbol, None)

    # -- subscriptions --------------------------------------------------------------------

    def _forget(self, symbol: Symbol) -> None:
        self._restart_chain(symbol)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        self._restart_chain(symbol)
        super()._invalidate(book, symbol)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """A new snapshot for that one book; its subscription stays, its pushes are buffered."""
        if self.connected:
            symbol = book.key.symbol
            self._mbp[symbol] = Mbp(self._send("req", self._topic(symbol), now))

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            topic = self._topic(symbol)
            self._send("sub", topic, now)
            # Answered after the sub: pushes are buffered meanwhile.
            self._mbp[symbol] = Mbp(self._send("req", topic, now))

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._mbp.pop(symbol, None)
            self._send("unsub", self._topic(symbol), now)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._send("sub", f"market.{self.native_name(symbol)}.{TRADE_TOPIC}", now)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._send("unsub", f"market.{self.native_name(symbol)}.{TRADE_TOPIC}", now)
