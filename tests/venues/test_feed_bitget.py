"""VenueFeed end to end for Bitget over a real local WebSocket server."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.bitget import BitgetProtocol
from tests.fakes import bitget_frames as bg
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, is_frame, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
NAMES = {"BTCUSDT": BTC, "ETHUSDT": ETH}
BIDS, ASKS = [("100", "1")], [("101", "3")]


async def subscribed(conn: ScriptConn, op: str = "subscribe") -> list[str]:
    """Wait for one (un)subscribe frame; acknowledge each channel as Bitget does."""
    frame = json.loads(await conn.recv_until(is_frame("op", op)))
    names = []
    for arg in frame["args"]:
        assert (arg["instType"], arg["channel"]) == ("SPOT", "books")
        await conn.send(bg.subscribe_ack(arg["instId"], event=op))
        names.append(arg["instId"])
    return names


async def test_snapshot_updates_a_checksum_resync_and_a_reconnect() -> None:
    corrupt, drop = asyncio.Event(), asyncio.Event()

    async def first(conn: ScriptConn) -> None:
        assert sorted(await subscribed(conn)) == ["BTCUSDT", "ETHUSDT"]
        await conn.send(bg.books_frame("snapshot", "BTCUSDT", BIDS, ASKS))
        await conn.send(bg.books_frame("snapshot", "ETHUSDT", [("20", "1")], [("21", "1")]))
        after = ([("100.5", "2"), ("100", "1")], ASKS)
        await conn.send(bg.books_frame("update", "BTCUSDT", [("100.5", "2")], [], book=after))
        await corrupt.wait()
        # The venue's ETH book has a level this client never got.
        venue_eth = ([("20", "1"), ("19", "4")], [("21", "2")])
        await conn.send(bg.books_frame("update", "ETHUSDT", [], [("21", "2")], book=venue_eth))
        assert await subscribed(conn, "unsubscribe") == ["ETHUSDT"]
        assert await subscribed(conn) == ["ETHUSDT"]
        await conn.send(bg.books_frame("snapshot", "ETHUSDT", *venue_eth))
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        assert sorted(await subscribed(conn)) == ["BTCUSDT", "ETHUSDT"]
        await conn.send(bg.books_frame("snapshot", "BTCUSDT", [("99", "7")], ASKS))
        await conn.send(bg.books_frame("snapshot", "ETHUSDT", [("20", "1")], [("21", "1")]))
        await conn.hold()

    async with (
        ScriptedServer(first, second) as srv,
        run_feed(BitgetProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        await wait_until(lambda: btc.updates == 2 and eth.state is LIVE)
        assert levels(btc) == ([(100.5, 2.0), (100.0, 1.0)], [(101.0, 3.0)])
        proto = feed.connections[0].proto
        corrupt.set()
        await wait_until(lambda: eth.resyncs == 1 and eth.state is LIVE)
        assert levels(eth) == ([(20.0, 1.0), (19.0, 4.0)], [(21.0, 2.0)])
        assert (btc.state, btc.resyncs) == (LIVE, 0)
        assert proto.stats.errors == Counter({"checksum": 1})
        drop.set()
        await wait_until(lambda: len(srv.conns) == 2 and btc.bids.best() == (99.0, 7.0))
        await wait_until(lambda: eth.asks.best() == (21.0, 1.0))
        assert log.states(ETH) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]


async def test_rest_polling_keeps_the_book_while_the_websocket_is_down() -> None:
    async with RestServer() as rest:
        rest.reply(
            "/api/v2/spot/market/orderbook",
            body=bg.orderbook_body([("99.5", "2")], [("100.5", "1")]),
            repeat=True,
        )
        async with run_feed(
            BitgetProtocol,
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
                "/api/v2/spot/market/orderbook",
                {"symbol": "BTCUSDT", "type": "step0", "limit": "150"},
            )
