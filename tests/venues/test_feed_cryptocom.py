"""VenueFeed end to end for Crypto.com over a real local WebSocket server."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.cryptocom import CryptocomProtocol
from tests.fakes import cryptocom_frames as cc
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, is_frame, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
NAMES = {"BTC_USDT": BTC, "ETH_USDT": ETH}
BIDS, ASKS = [("100", "1")], [("101", "3")]


async def requested(conn: ScriptConn, method: str = "subscribe") -> list[str]:
    """Wait for one (un)subscribe request and acknowledge it; its channels."""
    frame = json.loads(await conn.recv_until(is_frame("method", method)))
    await conn.send(cc.ack(frame["id"], method))
    return list(frame["params"]["channels"])


async def test_heartbeat_snapshot_deltas_a_gap_resync_and_a_reconnect() -> None:
    gap, drop = asyncio.Event(), asyncio.Event()
    opened: list[float] = []
    first_request: list[float] = []

    async def first(conn: ScriptConn) -> None:
        opened.append(time.monotonic())
        await conn.send(cc.heartbeat(77))
        beat = json.loads(await conn.recv_until(is_frame("method", "public/respond-heartbeat")))
        assert beat["id"] == 77
        channels = await requested(conn)
        first_request.append(time.monotonic())
        assert sorted(channels) == ["book.BTC_USDT.50", "book.ETH_USDT.50"]
        await conn.send(cc.snapshot("BTC_USDT", BIDS, ASKS, u=10))
        await conn.send(cc.snapshot("ETH_USDT", [("20", "1")], [("21", "1")], u=5))
        await conn.send(cc.update("BTC_USDT", [("100.5", "2")], [], u=12, pu=10))
        await gap.wait()
        await conn.send(cc.update("ETH_USDT", [("20.5", "1")], [], u=9, pu=7))  # 5 -> 7 lost
        assert await requested(conn, "unsubscribe") == ["book.ETH_USDT.50"]
        assert await requested(conn) == ["book.ETH_USDT.50"]
        await conn.send(cc.snapshot("ETH_USDT", [("20.5", "1")], [("21", "1")], u=20))
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        assert len(await requested(conn)) == 2
        await conn.send(cc.snapshot("BTC_USDT", [("99", "7")], ASKS, u=40))
        await conn.send(cc.snapshot("ETH_USDT", [("20", "1")], [("21", "1")], u=41))
        await conn.hold()

    async with (
        ScriptedServer(first, second) as srv,
        run_feed(CryptocomProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        await wait_until(lambda: btc.updates == 2 and eth.state is LIVE)
        assert levels(btc) == ([(100.5, 2.0), (100.0, 1.0)], [(101.0, 3.0)])
        assert first_request[0] - opened[0] >= 0.9  # nothing asked in the first second
        proto = feed.connections[0].proto
        gap.set()
        await wait_until(lambda: eth.resyncs == 1 and eth.state is LIVE)
        assert eth.bids.best() == (20.5, 1.0)
        assert (btc.state, btc.resyncs) == (LIVE, 0)
        assert proto.stats.errors == Counter({"seq_gap": 1})
        drop.set()
        await wait_until(lambda: len(srv.conns) == 2 and btc.bids.best() == (99.0, 7.0))
        await wait_until(lambda: eth.bids.best() == (20.0, 1.0))
        assert log.states(ETH) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]


async def test_rest_polling_keeps_the_book_while_the_websocket_is_down() -> None:
    async with RestServer() as rest:
        rest.reply(
            "/public/get-book",
            body=cc.book_body("BTC_USDT", [("99.5", "2")], [("100.5", "1")]),
            repeat=True,
        )
        async with run_feed(
            CryptocomProtocol,
            NAMES,
            "ws://127.0.0.1:9",  # nothing listens there
            rest=rest.url,
            poll_after_failures=1,
            poll_interval_s=0.2,
        ) as (feed, _):
            feed.add([BTC])
            btc = book_of(feed, BTC)
            await wait_until(lambda: btc.updates >= 1)
            assert btc.state is BookState.POLLED
            assert levels(btc) == ([(99.5, 2.0)], [(100.5, 1.0)])
            assert rest.requests[0] == (
                "/public/get-book",
                {"instrument_name": "BTC_USDT", "depth": "50"},
            )
