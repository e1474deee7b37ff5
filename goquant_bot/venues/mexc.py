"""MEXC spot v3: aggregated depth diffs on REST snapshots, and aggregated deals (sans-I/O).

Pushes are binary protobuf frames (``decode_binary`` turns each into its JSON form, see
``mexc_wire``); answers to our requests are JSON text. Books follow MEXC's recipe: buffer the
diffs, fetch ``/api/v3/depth``, drop diffs with ``toVersion <= lastUpdateId``, the first kept
one must straddle ``lastUpdateId + 1``, then every ``fromVersion`` must be the previous
``toVersion + 1``. A broken chain rebuilds that one book from a new snapshot; the
subscription stays. ``{"method":"PING"}`` keeps a connection alive (MEXC drops one that
carries no data for a minute).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import orjson

from goquant_bot.domain.book import Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RAW_LOG_LIMIT, RestRequest
from goquant_bot.venues.levels import address_matches, apply_polled
from goquant_bot.venues.mexc_rest import (
    DEFAULT_REST_BASE,
    SNAPSHOT_LIMIT,
    Snapshot,
    depth_request,
    instruments_request,
    parse_instruments,
    parse_snapshot,
    poll_limit,
)
from goquant_bot.venues.mexc_wire import push_to_json
from goquant_bot.venues.snapshot_sync import SnapshotSyncProtocol, SyncFeed

__all__ = ["MexcProtocol", "instruments_request", "parse_instruments"]

log = get_logger(__name__)

HOSTS = frozenset({"wbs-api.mexc.com"})
WS_PATH = "/ws"
DEPTH_CHANNEL = "spot@public.aggre.depth.v3.api.pb@100ms@"
DEALS_CHANNEL = "spot@public.aggre.deals.v3.api.pb@100ms@"
PING = orjson.dumps({"method": "PING"}).decode()
_SIDES = {1: TakerSide.BUY, 2: TakerSide.SELL}
# "Not Subscribed successfully! [ch1,ch2]. Reason: Blocked!": the refused channels.
_REFUSED = re.compile(r"\[([^\]]*)\]")
REFUSED_RETRY_S = 30.0  # a refused channel is asked for again after this, doubled each time
REFUSED_RETRY_MAX_S = 600.0
_loads = orjson.loads


class MexcProtocol(SnapshotSyncProtocol[SyncFeed, Snapshot]):
    """One MEXC spot market WebSocket connection (at most 30 channels)."""

    venue: ClassVar[Venue] = Venue.MEXC
    integrity: ClassVar[Integrity] = Integrity.VERIFIED
    default_ws_base: ClassVar[str] = "wss://wbs-api.mexc.com/ws"
    default_rest_base: ClassVar[str] = DEFAULT_REST_BASE
    # MEXC's cap: 30 subscriptions per connection (books and trade streams together).
    max_symbols_per_connection: ClassVar[int] = 30
    max_symbols_per_request: ClassVar[int] = 15
    max_sends_per_second: ClassVar[float] = 5.0
    # A PING every 20 s: MEXC closes a subscribed connection that carried nothing for 60 s.
    timer_interval_s: ClassVar[float] = 20.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request_id = 0
        self._poll_limit = poll_limit(self.depth)
        # Channels MEXC refused: refusals in a row, and when to ask again.
        self._refused: dict[str, tuple[int, float]] = {}

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """The spot market endpoint (``wss://wbs-api.mexc.com/ws``); futures live elsewhere."""
        return address_matches(addr, HOSTS, WS_PATH)

    def decode_binary(self, data: bytes) -> str | None:
        """A protobuf push as its JSON text; an unreadable one is counted and skipped."""
        try:
            return push_to_json(data)
        except VenueProtocolError:
            self.bad_frame("bad_protobuf", repr(data[:RAW_LOG_LIMIT]))
            return None

    # -- subscriptions --------------------------------------------------------------------

    def _send(self, method: str, prefix: str, symbols: list[Symbol]) -> None:
        self._send_channels(method, [f"{prefix}{self.native_name(s)}" for s in symbols])

    def _send_channels(self, method: str, channels: list[str]) -> None:
        step = self.max_symbols_per_request
        for channel in channels:
            self._refused.pop(channel, None)  # asked for or dropped now: its count starts over
        for i in range(0, len(channels), step):
            self._request_id += 1
            frame = {"method": method, "params": channels[i : i + step], "id": self._request_id}
            self._outbox.append(orjson.dumps(frame).decode())

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("SUBSCRIPTION", DEPTH_CHANNEL, symbols)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("UNSUBSCRIPTION", DEPTH_CHANNEL, symbols)

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("SUBSCRIPTION", DEALS_CHANNEL, symbols)

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        self._send("UNSUBSCRIPTION", DEALS_CHANNEL, symbols)

    def probe(self, now: float) -> None:
        """``{"method":"PING"}``: always answered ``{"id":0,"code":0,"msg":"PONG"}``."""
        self._outbox.append(PING)

    def on_timer(self, now: float) -> None:
        """Keep the connection alive, re-request snapshots whose back-off expired and ask
        again for channels MEXC refused."""
        if self.connected and (self.books or self.trade_symbols):
            self._outbox.append(PING)
        self._retry_snapshots(now)
        if self.connected:
            self._retry_refused(now)

    def _retry_refused(self, now: float) -> None:
        """Ask again for each refused channel still wanted whose wait is over."""
        due = [ch for ch, (_, at) in self._refused.items() if at <= now]
        for channel in due:
            count, _ = self._refused.pop(channel)
            prefix, _, native = channel.rpartition("@")
            symbol = self.symbols.symbol(native)
            wanted = self.trade_symbols if prefix + "@" == DEALS_CHANNEL else self.books
            if symbol is None or symbol not in wanted:
                continue  # released meanwhile
            self._send_channels("SUBSCRIPTION", [channel])
            # No answer at all counts as a refusal too: asked again after the same wait.
            self._refused[channel] = (count, now + _refused_wait(count))

    # -- frames ---------------------------------------------------------------------------

    def on_frame(self, text: str, now: float) -> None:
        """A push in its JSON form (see ``mexc_wire``) or an answer such as
        ``{"id":1,"code":0,"msg":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"}``."""
        try:
            msg = _loads(text)
        except orjson.JSONDecodeError:
            self.bad_frame("invalid_json", text)
            return
        if type(msg) is not dict:
            self.bad_frame("not_an_object", text)
            return
        depth = msg.get("publicAggreDepths")
        if depth is not None:
            self._on_depth(msg, depth, now, text)
            return
        deals = msg.get("publicAggreDeals")
        if deals is not None:
            self._on_deals(msg, deals, now, text)
        elif "code" in msg or "msg" in msg:
            self._on_answer(msg, text, now)
        elif type(msg.get("channel")) is str:
            parts = msg["channel"].split("@")
            self.stats.skipped[f"channel:{parts[1] if len(parts) > 1 else parts[0]}"] += 1
        else:
            self.bad_frame("unknown_frame", text)

    @staticmethod
    def _native(msg: dict[str, Any]) -> Any:
        """The push's symbol, else the last part of its channel (``...@BTCUSDT``)."""
        native = msg.get("symbol")
        if native is None:
            channel = msg.get("channel")
            native = channel.rpartition("@")[2] if type(channel) is str else None
        return native

    def _on_answer(self, msg: dict[str, Any], text: str, now: float) -> None:
        """``{"id":0,"code":0,"msg":"PONG"}``, a subscription echoed in ``msg``, or a refusal
        (a non-zero ``code``, or ``"Not Subscribed successfully! [...]. Reason: Blocked!"``):
        the refused channels are asked for again later (30 s, doubled each time, 10 min at
        most) while their book or trades are still wanted; the book stays syncing meanwhile."""
        code, answer = msg.get("code"), msg.get("msg")
        if code == 0 and type(answer) is str and not answer.startswith("Not Subscribed"):
            for channel in answer.split(","):
                self._refused.pop(channel, None)  # accepted
            return
        self.stats.errors["request_error"] += 1
        found = _REFUSED.search(answer) if type(answer) is str else None
        for channel in found.group(1).split(",") if found else ():
            count = self._refused.get(channel.strip(), (0, 0.0))[0] + 1
            self._refused[channel.strip()] = (count, now + _refused_wait(count))
        log.warning("venue_request_failed", venue=self.venue.value, code=code, msg=answer)

    def _on_depth(self, msg: dict[str, Any], depth: Any, now: float, text: str) -> None:
        native = self._native(msg)
        try:
            first = int(depth["fromVersion"])
            last = int(depth["toVersion"])
            bids = [(i["price"], i["quantity"]) for i in depth.get("bids", ())]
            asks = [(i["price"], i["quantity"]) for i in depth.get("asks", ())]
            sent = msg.get("sendTime")
            venue_ts = int(sent) / 1000 if sent is not None else None
        except (KeyError, TypeError, ValueError, AttributeError):
            self.bad_frame("bad_field", text)
            return
        if type(native) is not str or first > last:
            self.bad_frame("bad_field", text)
            return
        feed = self._feed(native)
        if feed is None:
            self.stats.skipped["unknown_symbol"] += 1
            return
        diff = {"U": first, "u": last, "E": venue_ts, "b": bids, "a": asks}
        if feed.last < 0:
            self._buffer(feed, diff, now, text)
            return
        book = feed.book
        if not self._in_chain(feed, first, last, diff, now, text):
            return
        try:
            book.bids.apply_text(bids)
            book.asks.apply_text(asks)
        except (ValueError, TypeError, IndexError):
            self.resync(book, "bad_level", now, text)  # a half-applied diff: rebuild the book
            return
        feed.last = last
        self._trim(book)
        self.mark_live(book, now, venue_ts)

    def _on_deals(self, msg: dict[str, Any], deals: Any, now: float, text: str) -> None:
        """``{"deals":[{"price":"93220.00","quantity":"0.04438243","tradeType":2,
        "time":"1736409765051"}],"eventType":"spot@public.aggre.deals.v3.api.pb@100ms"}``:
        ``tradeType`` 1 is a taker buy, 2 a taker sell."""
        native = self._native(msg)
        items = deals.get("deals", []) if type(deals) is dict else None
        if type(native) is not str or type(items) is not list:
            self.bad_trade("bad_field", text)
            return
        symbol = self.trade_symbol(native)
        if symbol is None:
            return
        for item in items:
            try:
                venue_ts: float | None = int(item["time"]) / 1000
                side = _SIDES.get(item.get("tradeType"))
            except (KeyError, TypeError, ValueError, AttributeError):
                self.bad_trade("bad_field", text)
                continue
            self.add_trade(
                symbol, item.get("price"), item.get("quantity"), side, venue_ts, now, text
            )

    # -- snapshots ------------------------------------------------------------------------

    def _depth_request(self, symbol: Symbol, limit: int, purpose: str) -> RestRequest:
        request = depth_request(self.rest_base, self.native_name(symbol), limit, purpose)
        return RestRequest(
            request.venue, request.url, request.params, request.weight, purpose, symbol
        )

    def _snapshot_requests(self, symbol: Symbol) -> list[RestRequest]:
        return [self._depth_request(symbol, SNAPSHOT_LIMIT, "snapshot")]

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        return self._depth_request(symbol, self._poll_limit, "poll")

    def _parse_body(self, body: str) -> Snapshot:
        return parse_snapshot(body)

    def _apply_poll(self, book: OrderBook, snap: Snapshot, now: float) -> None:
        apply_polled(self, book, snap[2], snap[3], now, snap[1])

    def _apply_snapshot(
        self, feed: SyncFeed, snap: Snapshot, request: RestRequest, now: float
    ) -> None:
        last_id, venue_ts, bids, asks = snap
        if last_id + 1 < feed.buffer[0]["U"]:
            # Older than the first buffered diff: ask again. MEXC's recipe asks again when
            # lastUpdateId < fromVersion, but a snapshot just before the diff lines up too.
            self._snapshot_stale(feed, now)
            return
        self._chain_snapshot(feed, (last_id, bids, asks), now, venue_ts, _diff_time)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """Nothing to send: the next diff starts a new buffer and asks for a snapshot."""


def _diff_time(diff: Any) -> float | None:
    """A buffered diff's push time (seconds), as the diff was stored."""
    ts: float | None = diff["E"]
    return ts


def _refused_wait(refusals: int) -> float:
    """How long to wait before asking again for a channel refused ``refusals`` times in a row."""
    return min(REFUSED_RETRY_S * 2 ** (refusals - 1), REFUSED_RETRY_MAX_S)
