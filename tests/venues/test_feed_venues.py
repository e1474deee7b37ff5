"""VenueFeed end to end for OKX, Bybit and Deribit over real local sockets (and real REST)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.bybit import BybitProtocol
from goquant_bot.venues.deribit import DeribitProtocol
from goquant_bot.venues.feed import FeedConfig, OnChange, VenueFeed
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.okx import OkxProtocol
from tests.fakes import bybit_frames as bybit
from tests.fakes import deribit_frames as deribit
from tests.fakes import okx_frames as okx
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
BTC_USDC, ETH_USDC = Symbol("BTC", "USDC"), Symbol("ETH", "USDC")
OKX_NAMES = {"BTC-USDT": BTC, "ETH-USDT": ETH}
BYBIT_NAMES = {"BTCUSDT": BTC, "ETHUSDT": ETH}
DERIBIT_NAMES = {"BTC_USDC": BTC_USDC, "ETH_USDC": ETH_USDC}
NO_REST = "http://127.0.0.1:9"  # scenarios that must not need REST
FAST = Backoff(initial_s=0.01, factor=2.0, max_s=0.05, jitter=0.0)
SYNCING, LIVE, STALE = BookState.SYNCING, BookState.LIVE, BookState.STALE
Levels = tuple[list[tuple[float, float]], list[tuple[float, float]]]
Pairs = Sequence[tuple[str, str]]
Rows = Sequence[Sequence[str]]
Changes = Sequence[tuple[str, float, float]]


class StateLog:
    """The feed's on_change: every state a book is published in, with the wall-clock time."""

    def __init__(self, forward: OnChange | None = None) -> None:
        self.feed: VenueFeed | None = None
        self.forward = forward
        self.entries: dict[Symbol, list[tuple[float, BookState]]] = {}

    def __call__(self, venue: Venue, symbols: set[Symbol]) -> None:
        now = time.time()
        assert self.feed is not None
        for symbol in symbols:
            book = self.feed.book(symbol)
            seen = self.entries.setdefault(symbol, [])
            if book is not None and (not seen or seen[-1][1] is not book.state):
                seen.append((now, book.state))
        if self.forward is not None:
            self.forward(venue, symbols)

    def states(self, symbol: Symbol) -> list[BookState]:
        return [state for _, state in self.entries.get(symbol, [])]

    def first(self, symbol: Symbol, state: BookState, after: float) -> float:
        return next(t for t, s in self.entries[symbol] if s is state and t >= after)


@asynccontextmanager
async def run_feed(
    proto: type[VenueProtocol],
    natives: dict[str, Symbol],
    url: str,
    *,
    rest: str = NO_REST,
    forward: OnChange | None = None,
    clock: Callable[[], float] = time.time,
    **config: Any,
) -> AsyncIterator[tuple[VenueFeed, StateLog]]:
    """A running feed of ``proto`` against ``url``; depth 50 (Bybit topic orderbook.50)."""
    log = StateLog(forward)
    http = AiohttpGet()
    cfg = FeedConfig(depth=50, ws_base=url, rest_base=rest, reconnect=FAST, **config)
    feed = VenueFeed(
        proto,
        SymbolMap(natives.items()),
        cfg,
        connector=websocket_connect,  # type: ignore[arg-type]
        http=http,
        on_change=log,
        clock=clock,
    )
    log.feed = feed
    task = asyncio.ensure_future(feed.run())
    try:
        yield feed, log
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await http.close()


def book_of(feed: VenueFeed, symbol: Symbol) -> OrderBook:
    book = feed.book(symbol)
    assert book is not None
    return book


def levels(book: OrderBook) -> Levels:
    return book.bids.levels(), book.asks.levels()


def updates(feed: VenueFeed, symbol: Symbol) -> int:
    book = feed.book(symbol)
    return -1 if book is None else book.updates


def is_frame(key: str, value: str) -> Callable[[str], bool]:
    """Matches client JSON frames whose ``key`` is ``value`` (OKX's text ``ping`` never does)."""

    def match(text: str) -> bool:
        try:
            frame = json.loads(text)
        except ValueError:
            return False
        return isinstance(frame, dict) and frame.get(key) == value

    return match


def sent(conn: ScriptConn) -> list[Any]:
    """What the client sent on one connection: JSON frames decoded, texts such as ``ping`` kept."""
    return [json.loads(t) if t.startswith("{") else t for t in conn.received]


async def okx_op(conn: ScriptConn, op: str) -> None:
    """Wait for the client's (un)subscribe and acknowledge each channel as OKX does."""
    frame = json.loads(await conn.recv_until(is_frame("op", op)))
    for arg in frame["args"]:
        await conn.send(okx.subscribe_ack(arg["instId"], op))


async def bybit_op(conn: ScriptConn, op: str) -> None:
    frame = json.loads(await conn.recv_until(is_frame("op", op)))
    await conn.send(bybit.op_ack(frame["req_id"], op))


async def deribit_call(conn: ScriptConn, method: str) -> None:
    """Wait for a JSON-RPC request and answer it (subscriptions echo their channels)."""
    frame = json.loads(await conn.recv_until(is_frame("method", method)))
    result = frame["params"].get("channels", "ok")
    await conn.send(deribit.rpc_result(frame["id"], result))


def okx_books(
    action: str, inst: str, seq: int, prev: int, bids: Pairs = (), asks: Pairs = (), **kw: Any
) -> str:
    return okx.books_frame(action, inst, bids, asks, seq, prev, **kw)


def bybit_book(kind: str, symbol: str, u: int, bids: Rows = (), asks: Rows = ()) -> str:
    return bybit.orderbook_frame(kind, symbol, u, bids, asks)


def deribit_book(
    kind: str,
    inst: str,
    change_id: int,
    prev: int | None,
    bids: Changes = (),
    asks: Changes = (),
    **kw: Any,
) -> str:
    return deribit.book_notification(kind, inst, change_id, prev, bids, asks, **kw)


def okx_ops(conn: ScriptConn) -> list[tuple[str, list[str]]]:
    return [(f["op"], [a["instId"] for a in f["args"]]) for f in sent(conn) if f != "ping"]


def bybit_ops(conn: ScriptConn) -> list[tuple[str, list[str]]]:
    return [(f["op"], f.get("args", [])) for f in sent(conn)]


def deribit_methods(conn: ScriptConn) -> list[tuple[str, Any]]:
    return [(f["method"], f["params"].get("channels")) for f in sent(conn)]


# -- OKX ------------------------------------------------------------------------------------


async def test_okx_checksum_mismatch_resyncs_that_book_only() -> None:
    checked = asyncio.Event()
    after_update = ([("100.2", "7"), ("100.0", "1")], [("101.0", "2.5"), ("101.5", "4")])

    async def script(conn: ScriptConn) -> None:
        await okx_op(conn, "subscribe")
        bids, asks = [("100.5", "2"), ("100.0", "1")], [("101.0", "3"), ("101.5", "4")]
        await conn.send(okx_books("snapshot", "BTC-USDT", 10, -1, bids, asks, checksum="auto"))
        await conn.send(
            okx_books("snapshot", "ETH-USDT", 50, -1, [("20.10", "5")], [("20.20", "6")])
        )
        bids, asks = [("100.5", "0"), ("100.2", "7")], [("101.0", "2.5")]
        update = okx_books(
            "update", "BTC-USDT", 11, 10, bids, asks, checksum="auto", book=after_update
        )
        await conn.send(update)
        await conn.send(okx_books("update", "ETH-USDT", 51, 50, asks=[("20.15", "1")]))
        await checked.wait()
        # The checksum of the book before this update cannot match the book after it.
        stale = okx.checksum_of(*after_update)
        await conn.send(okx_books("update", "BTC-USDT", 12, 11, [("99.0", "1")], checksum=stale))
        await okx_op(conn, "unsubscribe")
        await okx_op(conn, "subscribe")
        await conn.send(
            okx_books("snapshot", "BTC-USDT", 200, -1, [("98.0", "1")], [("98.5", "2")])
        )
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(OkxProtocol, OKX_NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        await wait_until(lambda: updates(feed, BTC) == 2 and updates(feed, ETH) == 2)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert (btc.state, eth.state) == (LIVE, LIVE)
        assert levels(btc) == ([(100.2, 7.0), (100.0, 1.0)], [(101.0, 2.5), (101.5, 4.0)])
        assert levels(eth) == ([(20.1, 5.0)], [(20.15, 1.0), (20.2, 6.0)])
        assert btc.venue_ts == pytest.approx(okx.TS / 1000)
        checked.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
        assert levels(btc) == ([(98.0, 1.0)], [(98.5, 2.0)])
        assert levels(eth) == ([(20.1, 5.0)], [(20.15, 1.0), (20.2, 6.0)])
        assert (eth.state, eth.resyncs) == (LIVE, 0)
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH) == [SYNCING, LIVE]
        assert feed.connections[0].proto.stats.errors == Counter({"checksum": 1})
        assert okx_ops(srv.conns[0]) == [
            ("subscribe", ["BTC-USDT", "ETH-USDT"]),
            ("unsubscribe", ["BTC-USDT"]),
            ("subscribe", ["BTC-USDT"]),
        ]
        assert len(srv.conns) == 1


async def test_okx_keepalive_refreshes_the_book_and_idle_time_gets_a_ping() -> None:
    """OKX's idle time before a ping (25 s) is a module constant, so the feed's injected clock
    jumps instead of the test waiting; ``silence_s`` is above it to keep the watchdog out."""
    skew = [0.0]
    keepalive, update = asyncio.Event(), asyncio.Event()

    def clock() -> float:
        return time.time() + skew[0]

    async def script(conn: ScriptConn) -> None:
        await okx_op(conn, "subscribe")
        await conn.send(
            okx_books("snapshot", "BTC-USDT", 10, -1, [("100.0", "1")], [("101.0", "2")])
        )
        await keepalive.wait()
        await conn.send(okx.keepalive_frame("BTC-USDT", 10, ts=okx.TS + 5000))
        await update.wait()
        await conn.send(okx_books("update", "BTC-USDT", 11, 10, [("100.5", "3")], ts=okx.TS + 6000))
        await conn.recv_until(lambda text: text == "ping")
        await conn.send("pong")
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(OkxProtocol, OKX_NAMES, srv.url, clock=clock, silence_s=60.0) as (feed, _),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 1)
        btc = book_of(feed, BTC)
        snapshot_recv = btc.recv_ts
        assert snapshot_recv is not None
        keepalive.set()
        await wait_until(lambda: btc.updates == 2)
        assert btc.recv_ts is not None
        assert btc.recv_ts > snapshot_recv
        assert btc.venue_ts == pytest.approx((okx.TS + 5000) / 1000)
        assert (btc.state, btc.resyncs) == (LIVE, 0)
        assert levels(btc) == ([(100.0, 1.0)], [(101.0, 2.0)])
        update.set()  # the chain goes on from the keep-alive's seqId
        await wait_until(lambda: btc.updates == 3)
        assert levels(btc) == ([(100.5, 3.0), (100.0, 1.0)], [(101.0, 2.0)])
        assert "ping" not in srv.conns[0].received
        skew[0] = 26.0  # idle for longer than OKX's 25 s
        conn = feed.connections[0]
        conn.wake()
        proto = conn.proto
        await wait_until(lambda: proto.stats.frames == 5)  # ack, 3 book frames, pong
        assert srv.conns[0].received.count("ping") == 1
        assert not proto.stats.errors
        assert (btc.state, len(srv.conns), conn.disconnects) == (LIVE, 1, 0)


async def test_okx_updates_without_a_snapshot_bootstrap_from_rest() -> None:
    async def script(conn: ScriptConn) -> None:
        await okx_op(conn, "subscribe")
        await conn.send(okx_books("update", "BTC-USDT", 11, 10, [("100.1", "3")]))
        asks = [("101.0", "0"), ("100.9", "2")]
        await conn.send(okx_books("update", "BTC-USDT", 12, 11, asks=asks, ts=okx.TS + 100))
        await conn.hold()

    async with RestServer() as rest, ScriptedServer(script) as srv:
        bids, asks = [("100.1", "3"), ("100.0", "5")], [("101.0", "1"), ("101.2", "2")]
        rest.reply("/api/v5/market/books", body=okx.rest_books_body(bids, asks, seq_id=11))
        async with run_feed(OkxProtocol, OKX_NAMES, srv.url, rest=rest.url) as (feed, log):
            feed.add([BTC])
            btc = book_of(feed, BTC)
            await wait_until(lambda: btc.state is LIVE and btc.asks.best_price() == 100.9)
            assert levels(btc) == ([(100.1, 3.0), (100.0, 5.0)], [(100.9, 2.0), (101.2, 2.0)])
            assert btc.venue_ts == pytest.approx((okx.TS + 100) / 1000)
            assert rest.requests == [("/api/v5/market/books", {"instId": "BTC-USDT", "sz": "400"})]
            assert log.states(BTC) == [SYNCING, LIVE]
            assert not feed.connections[0].proto.stats.errors


# -- Bybit ----------------------------------------------------------------------------------


async def test_bybit_gap_resubscribes_that_symbol_only() -> None:
    gap = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        send = conn.send
        bids, asks = [["100.0", "1"], ["99.5", "2"]], [["100.5", "3"], ["101.0", "4"]]
        await send(bybit_book("snapshot", "BTCUSDT", 100, bids, asks))
        await send(bybit_book("snapshot", "ETHUSDT", 500, [["20.0", "5"]], [["20.5", "6"]]))
        await send(
            bybit_book("delta", "BTCUSDT", 101, [["100.0", "0"], ["99.8", "1.5"]], [["100.5", "2"]])
        )
        await send(bybit_book("delta", "BTCUSDT", 102, asks=[["100.4", "0.5"]]))
        await gap.wait()
        await send(bybit_book("delta", "BTCUSDT", 104, [["99.9", "9"]]))
        await bybit_op(conn, "unsubscribe")
        await bybit_op(conn, "subscribe")
        await send(bybit_book("snapshot", "BTCUSDT", 2000, [["98.0", "1"]], [["98.5", "2"]]))
        await send(bybit_book("delta", "BTCUSDT", 2001, [["97.5", "1"]]))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        await wait_until(lambda: updates(feed, BTC) == 3 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert (btc.state, eth.state) == (LIVE, LIVE)
        assert levels(btc) == (
            [(99.8, 1.5), (99.5, 2.0)],
            [(100.4, 0.5), (100.5, 2.0), (101.0, 4.0)],
        )
        gap.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.bids.size_at(97.5) == 1.0)
        assert btc.state is LIVE
        assert levels(btc) == ([(98.0, 1.0), (97.5, 1.0)], [(98.5, 2.0)])
        assert levels(eth) == ([(20.0, 5.0)], [(20.5, 6.0)])
        assert (eth.state, eth.resyncs) == (LIVE, 0)
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH) == [SYNCING, LIVE]
        assert feed.connections[0].proto.stats.errors == Counter({"gap": 1})
        assert bybit_ops(srv.conns[0]) == [
            ("subscribe", ["orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"]),
            ("unsubscribe", ["orderbook.50.BTCUSDT"]),
            ("subscribe", ["orderbook.50.BTCUSDT"]),
        ]


async def test_bybit_snapshot_after_a_venue_restart_resets_the_book() -> None:
    restart = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        bids, asks = [["100.0", "1"], ["99.0", "2"]], [["101.0", "1"], ["102.0", "2"]]
        await conn.send(bybit_book("snapshot", "BTCUSDT", 7000, bids, asks))
        await conn.send(bybit_book("delta", "BTCUSDT", 7001, [["98.0", "3"]]))
        await restart.wait()
        await conn.send(bybit_book("snapshot", "BTCUSDT", 1, [["100.2", "4"]], [["100.8", "5"]]))
        await conn.send(bybit_book("delta", "BTCUSDT", 2, asks=[["100.7", "1"]]))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 2)
        btc = book_of(feed, BTC)
        assert levels(btc) == (
            [(100.0, 1.0), (99.0, 2.0), (98.0, 3.0)],
            [(101.0, 1.0), (102.0, 2.0)],
        )
        restart.set()
        await wait_until(lambda: btc.updates == 4)
        assert levels(btc) == ([(100.2, 4.0)], [(100.7, 1.0), (100.8, 5.0)])
        assert (btc.state, btc.resyncs) == (LIVE, 0)
        assert log.states(BTC) == [SYNCING, LIVE]
        assert not feed.connections[0].proto.stats.errors
        assert bybit_ops(srv.conns[0]) == [("subscribe", ["orderbook.50.BTCUSDT"])]


# -- Deribit --------------------------------------------------------------------------------


async def test_deribit_change_id_mismatch_resubscribes_that_channel_only() -> None:
    mismatch = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await deribit_call(conn, "public/set_heartbeat")
        await deribit_call(conn, "public/subscribe")
        bids = [("new", 42000.0, 1.0), ("new", 41999.5, 2.0)]
        asks = [("new", 42001.0, 0.5), ("new", 42002.0, 3.0)]
        await conn.send(deribit_book("snapshot", "BTC_USDC", 1000, None, bids, asks))
        eth_bids, eth_asks = [("new", 2000.0, 10.0)], [("new", 2001.0, 8.0)]
        await conn.send(deribit_book("snapshot", "ETH_USDC", 500, None, eth_bids, eth_asks))
        bids = [("change", 42000.0, 1.5), ("delete", 41999.5, 0.0)]
        asks = [("new", 42000.5, 0.25)]
        ts = deribit.TS + 100
        await conn.send(deribit_book("change", "BTC_USDC", 1003, 1000, bids, asks, timestamp=ts))
        await conn.send(deribit_book("change", "ETH_USDC", 507, 500, [("new", 2000.5, 1.0)]))
        await mismatch.wait()
        await conn.send(deribit_book("change", "BTC_USDC", 1010, 1005, [("new", 41990.0, 9.0)]))
        await deribit_call(conn, "public/unsubscribe")
        await deribit_call(conn, "public/subscribe")
        bids, asks = [("new", 41000.0, 1.0)], [("new", 41001.0, 1.0)]
        await conn.send(deribit_book("snapshot", "BTC_USDC", 2000, None, bids, asks))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(DeribitProtocol, DERIBIT_NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC_USDC, ETH_USDC])
        await wait_until(lambda: updates(feed, BTC_USDC) == 2 and updates(feed, ETH_USDC) == 2)
        btc, eth = book_of(feed, BTC_USDC), book_of(feed, ETH_USDC)
        assert (btc.state, eth.state) == (LIVE, LIVE)
        assert levels(btc) == ([(42000.0, 1.5)], [(42000.5, 0.25), (42001.0, 0.5), (42002.0, 3.0)])
        assert levels(eth) == ([(2000.5, 1.0), (2000.0, 10.0)], [(2001.0, 8.0)])
        assert btc.venue_ts == pytest.approx((deribit.TS + 100) / 1000)
        mismatch.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
        assert levels(btc) == ([(41000.0, 1.0)], [(41001.0, 1.0)])
        assert levels(eth) == ([(2000.5, 1.0), (2000.0, 10.0)], [(2001.0, 8.0)])
        assert (eth.state, eth.resyncs) == (LIVE, 0)
        assert log.states(BTC_USDC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH_USDC) == [SYNCING, LIVE]
        assert feed.connections[0].proto.stats.errors == Counter({"change_id_gap": 1})
        assert deribit_methods(srv.conns[0]) == [
            ("public/set_heartbeat", None),
            ("public/subscribe", ["book.BTC_USDC.100ms", "book.ETH_USDC.100ms"]),
            ("public/unsubscribe", ["book.BTC_USDC.100ms"]),
            ("public/subscribe", ["book.BTC_USDC.100ms"]),
        ]
        assert sent(srv.conns[0])[0]["params"] == {"interval": 30}


async def test_deribit_test_request_is_answered_with_public_test() -> None:
    answered = asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        await deribit_call(conn, "public/set_heartbeat")
        await deribit_call(conn, "public/subscribe")
        bids, asks = [("new", 100.0, 1.0)], [("new", 101.0, 1.0)]
        await conn.send(deribit_book("snapshot", "BTC_USDC", 1, None, bids, asks))
        await conn.send(deribit.heartbeat("heartbeat"))
        await conn.send(deribit.heartbeat("test_request"))
        await deribit_call(conn, "public/test")
        answered.set()
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(DeribitProtocol, DERIBIT_NAMES, srv.url) as (feed, _),
    ):
        feed.add([BTC_USDC])
        await wait_until(answered.is_set)
        test = sent(srv.conns[0])[-1]
        assert test["jsonrpc"] == "2.0"
        assert (test["method"], test["params"]) == ("public/test", {})
        conn = feed.connections[0]
        await wait_until(lambda: conn.proto.stats.frames == 6)  # 2 answers, book, 2 beats, test
        assert not conn.proto.stats.errors
        assert book_of(feed, BTC_USDC).state is LIVE
        assert (len(srv.conns), conn.disconnects) == (1, 0)


# -- connection failures and staleness (Bybit) ----------------------------------------------


async def test_bybit_disconnect_mid_stream_then_resubscribe_and_rebuild() -> None:
    cut = asyncio.Event()
    cut_at: list[float] = []

    async def first(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 10, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.send(bybit_book("snapshot", "ETHUSDT", 20, [["20.0", "1"]], [["21.0", "1"]]))
        await conn.send(bybit_book("delta", "BTCUSDT", 11, [["100.5", "2"]]))
        await cut.wait()
        cut_at.append(time.time())
        await conn.close()

    async def second(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 90, [["200.0", "1"]], [["201.0", "1"]]))
        await conn.send(bybit_book("snapshot", "ETHUSDT", 95, [["30.0", "2"]], [["31.0", "2"]]))
        await conn.hold()

    async with (
        ScriptedServer(first, second) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url, silence_s=5.0) as (feed, log),
    ):
        feed.add([BTC, ETH])
        await wait_until(lambda: updates(feed, BTC) == 2 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert levels(btc) == ([(100.5, 2.0), (100.0, 1.0)], [(101.0, 1.0)])
        cut.set()
        await wait_until(lambda: len(srv.conns) == 2 and btc.state is LIVE and eth.state is LIVE)
        assert levels(btc) == ([(200.0, 1.0)], [(201.0, 1.0)])
        assert levels(eth) == ([(30.0, 2.0)], [(31.0, 2.0)])
        for symbol in (BTC, ETH):
            assert log.states(symbol) == [SYNCING, LIVE, SYNCING, LIVE]
            # At once: far below the 5 s watchdog, only the local close handshake.
            assert log.first(symbol, SYNCING, after=cut_at[0]) - cut_at[0] < 0.5
        assert feed.connections[0].disconnects == 1
        topics = ["orderbook.50.BTCUSDT", "orderbook.50.ETHUSDT"]
        assert bybit_ops(srv.conns[1]) == [("subscribe", topics)]


async def test_bybit_silent_stall_is_cut_by_the_watchdog() -> None:
    silence_s = 0.3

    async def stalls(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 10, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.hold()  # and never says anything again

    async def serves(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 50, [["150.0", "1"]], [["151.0", "1"]]))
        await conn.hold()

    async with (
        ScriptedServer(stalls, serves) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url, silence_s=silence_s) as (feed, log),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 1)
        btc = book_of(feed, BTC)
        last_frame = btc.recv_ts
        assert last_frame is not None
        await wait_until(lambda: len(srv.conns) == 2 and btc.updates == 2, within=silence_s + 2)
        assert levels(btc) == ([(150.0, 1.0)], [(151.0, 1.0)])
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        detected_after = log.first(BTC, SYNCING, after=last_frame) - last_frame
        assert silence_s <= detected_after < silence_s + 1.0
        assert feed.connections[0].disconnects == 1


async def test_bybit_garbage_frames_are_counted_and_the_connection_kept() -> None:
    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")
        await conn.send(bybit_book("snapshot", "BTCUSDT", 10, [["100.0", "1"]], [["101.0", "1"]]))
        await conn.send("{not json")
        await conn.send("[1, 2, 3]")
        await conn.send('{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1671179923028}')
        await conn.send(bybit_book("partial", "BTCUSDT", 11, [["99.0", "1"]]))
        await conn.send(bybit_book("snapshot", "BTCUSDT", 11, [["abc", "1"]]))
        await conn.send(bybit_book("delta", "BTCUSDT", 11, [["100.0", "4"]]))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url) as (feed, _),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 2)
        btc = book_of(feed, BTC)
        conn = feed.connections[0]
        assert levels(btc) == ([(100.0, 4.0)], [(101.0, 1.0)])
        assert (btc.state, btc.resyncs) == (LIVE, 0)
        assert conn.proto.stats.frames == 8
        assert conn.proto.stats.errors == Counter(
            invalid_json=1, not_an_object=1, missing_field=1, bad_type=1, bad_level=1
        )
        assert (len(srv.conns), conn.disconnects, conn.connected) == (1, 0, True)


async def test_hub_marks_a_quiet_book_stale_then_live_on_its_next_update() -> None:
    max_age = 0.5
    frames: asyncio.Queue[str] = asyncio.Queue()

    async def script(conn: ScriptConn) -> None:
        await bybit_op(conn, "subscribe")

        async def push() -> None:
            while True:
                await conn.send(await frames.get())

        pusher = asyncio.ensure_future(push())
        try:
            await conn.hold()  # returns when the connection closes, so the server can stop
        finally:
            pusher.cancel()

    hub = MarketDataHub(HubConfig(book_max_age_s=max_age), clock=time.time)
    async with (
        ScriptedServer(script) as srv,
        run_feed(BybitProtocol, BYBIT_NAMES, srv.url, forward=hub.mark_changed) as (feed, _),
    ):
        hub.add_feed(feed)
        hub.acquire(InstrumentKey(Venue.BYBIT, BTC))
        hub.acquire(InstrumentKey(Venue.BYBIT, ETH))
        frames.put_nowait(bybit_book("snapshot", "BTCUSDT", 1, [["100.0", "1"]], [["101.0", "1"]]))
        frames.put_nowait(bybit_book("snapshot", "ETHUSDT", 1, [["20.0", "1"]], [["21.0", "1"]]))
        await wait_until(lambda: updates(feed, BTC) == 1 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert btc.recv_ts is not None
        eth_u, last_push, stale_at = 1, 0.0, []

        def keep_eth_alive_and_check() -> bool:
            """The venue keeps streaming ETH (every 50 ms) while BTC stays quiet."""
            nonlocal eth_u, last_push
            now = time.time()
            if now - last_push >= 0.05:
                eth_u, last_push = eth_u + 1, now
                frames.put_nowait(bybit_book("delta", "ETHUSDT", eth_u, [["20.0", str(eth_u)]]))
            hub.check(now)
            if btc.state is STALE:
                stale_at.append(now)
            return bool(stale_at)

        await wait_until(keep_eth_alive_and_check, within=max_age + 2)
        stale_after = stale_at[0] - btc.recv_ts
        assert max_age < stale_after < max_age + 1.0
        assert levels(btc) == ([(100.0, 1.0)], [(101.0, 1.0)])  # kept, only flagged
        assert eth.state is LIVE
        assert eth.updates > 1
        assert hub.stale_transitions == 1
        assert BTC in await hub.wait_changed()
        frames.put_nowait(bybit_book("delta", "BTCUSDT", 2, [["100.5", "2"]]))
        await wait_until(lambda: btc.state is LIVE)
        assert levels(btc) == ([(100.5, 2.0), (100.0, 1.0)], [(101.0, 1.0)])
        hub.check(time.time())
        assert (btc.state, hub.stale_transitions) == (LIVE, 1)
