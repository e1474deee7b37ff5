"""VenueFeed end to end for OKX over real local sockets (and real REST)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from goquant_bot.venues.okx import OkxProtocol
from tests.fakes import okx_frames as okx
from tests.fakes.feed_harness import (
    BTC,
    ETH,
    LIVE,
    OKX_NAMES,
    SYNCING,
    book_of,
    levels,
    okx_books,
    okx_op,
    okx_ops,
    run_feed,
    updates,
)
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until


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
