"""VenueFeed end to end for Bitstamp over real local sockets and a real REST server."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.bitstamp import BitstampProtocol
from tests.fakes import bitstamp_frames as bs
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, is_frame, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USD"), Symbol("ETH", "EUR")
NAMES = {"btcusd": BTC, "etheur": ETH}
T = bs.T_US
BTC_PATH, ETH_PATH = "/api/v2/order_book/btcusd/", "/api/v2/order_book/etheur/"


async def subscriptions(conn: ScriptConn, count: int) -> list[str]:
    """Acknowledge ``count`` subscribes as Bitstamp does; their pairs."""
    pairs = []
    for _ in range(count):
        frame = json.loads(await conn.recv_until(is_frame("event", "bts:subscribe")))
        pair = frame["data"]["channel"].removeprefix("diff_order_book_")
        await conn.send(bs.subscribed(pair))
        pairs.append(pair)
    return pairs


async def test_snapshot_diffs_out_of_order_and_crossed_resync_one_book_then_reconnect() -> None:
    step, drop = asyncio.Event(), asyncio.Event()

    async def first(conn: ScriptConn) -> None:
        await subscriptions(conn, 2)
        await conn.send(bs.diff("btcusd", T + 10, bids=[("100", "1")]))
        await conn.send(bs.diff("etheur", T + 11, asks=[("21", "6")]))
        await conn.send(bs.diff("btcusd", T + 20, asks=[("101", "2")]))
        await step.wait()
        step.clear()
        await conn.send(bs.diff("btcusd", T + 15, bids=[("99", "1")]))  # out of order
        await conn.send(bs.diff("btcusd", T + 40, bids=[("100", "4")]))
        await step.wait()
        await conn.send(bs.diff("etheur", T + 50, bids=[("22", "1")]))  # crosses ask 21
        await conn.send(bs.diff("etheur", T + 60, bids=[("20", "2")]))
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        await subscriptions(conn, 2)
        await conn.send(bs.diff("btcusd", T + 100, bids=[("100", "5")]))
        await conn.send(bs.diff("etheur", T + 100, bids=[("20", "3")]))
        await conn.hold()

    async with RestServer() as rest, ScriptedServer(first, second) as srv:
        rest.reply(BTC_PATH, body=bs.book_body(T + 12, [("100", "1")], [("101", "3")]))
        rest.reply(ETH_PATH, body=bs.book_body(T + 11, [("20", "5")], [("21", "6")]))
        rest.reply(BTC_PATH, body=bs.book_body(T + 40, [("100", "4")], [("101", "2")]))
        rest.reply(ETH_PATH, body=bs.book_body(T + 60, [("20", "2")], [("21", "6")]))
        rest.reply(BTC_PATH, body=bs.book_body(T + 100, [("100", "5")], [("101", "2")]))
        rest.reply(ETH_PATH, body=bs.book_body(T + 100, [("20", "3")], [("21", "6")]))
        async with run_feed(BitstampProtocol, NAMES, srv.url, rest=rest.url) as (feed, log):
            feed.add([BTC, ETH])
            btc, eth = book_of(feed, BTC), book_of(feed, ETH)
            await wait_until(lambda: btc.state is LIVE and btc.asks.best() == (101.0, 2.0))
            assert levels(btc) == ([(100.0, 1.0)], [(101.0, 2.0)])
            await wait_until(lambda: eth.state is LIVE)
            step.set()
            await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
            assert levels(btc) == ([(100.0, 4.0)], [(101.0, 2.0)])
            step.set()
            await wait_until(lambda: eth.resyncs == 1 and eth.state is LIVE)
            assert levels(eth) == ([(20.0, 2.0)], [(21.0, 6.0)])
            errors = feed.connections[0].proto.stats.errors
            assert errors == Counter({"out_of_order": 1, "crossed": 1})
            drop.set()  # the venue closes the connection: both books wait for new snapshots
            await wait_until(lambda: len(srv.conns) == 2 and btc.state is LIVE)
            await wait_until(lambda: eth.state is LIVE and eth.bids.best() == (20.0, 3.0))
            assert levels(btc) == ([(100.0, 5.0)], [(101.0, 2.0)])
            assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
            assert rest.count(BTC_PATH) == 3
            assert rest.count(ETH_PATH) == 3
