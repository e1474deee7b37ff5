"""VenueFeed end to end for Bitfinex over real local sockets."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.bitfinex import BitfinexProtocol
from tests.fakes import bitfinex_frames as bf
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, is_frame, levels, run_feed, sent
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USD"), Symbol("ETH", "USDT")
NAMES = {"tBTCUSD": BTC, "tETHUST": ETH}
BTC_BOOK = [("100", "1", "2"), ("101", "2", "-3")]
ETH_BOOK = [("20", "1", "5"), ("21", "1", "-6")]


class Channels:
    """Server side of one connection: answers subscribes with channel ids, numbers messages."""

    def __init__(self, conn: ScriptConn, first_chan: int) -> None:
        self.conn = conn
        self.next_chan = first_chan
        self.seq = 0
        self.chan: dict[str, int] = {}

    async def subscribe(self, count: int) -> None:
        for _ in range(count):
            frame = json.loads(await self.conn.recv_until(is_frame("event", "subscribe")))
            self.next_chan += 1
            self.chan[frame["symbol"]] = self.next_chan
            await self.conn.send(bf.subscribed(self.next_chan, frame["symbol"]))

    async def resubscribe(self, count: int) -> None:
        """Answer unsubscribes and subscribes in their order until ``count`` subscribes."""
        while count:
            frame = json.loads(await self.conn.recv())
            if frame.get("event") == "unsubscribe":
                chan = frame["chanId"]
                await self.conn.send(f'{{"event":"unsubscribed","status":"OK","chanId":{chan}}}')
            elif frame.get("event") == "subscribe":
                self.next_chan += 1
                self.chan[frame["symbol"]] = self.next_chan
                await self.conn.send(bf.subscribed(self.next_chan, frame["symbol"]))
                count -= 1

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    async def book(self, symbol: str, levels: list[tuple[str, str, str]]) -> None:
        chan = self.chan[symbol]
        await self.conn.send(bf.snapshot(chan, levels, self.next_seq()))
        await self.checksum(symbol, levels)

    async def checksum(self, symbol: str, levels: list[tuple[str, str, str]]) -> None:
        value = bf.book_checksum(levels)
        await self.conn.send(bf.checksum_frame(self.chan[symbol], value, self.next_seq()))

    async def update(self, symbol: str, level: tuple[str, str, str]) -> None:
        await self.conn.send(bf.update(self.chan[symbol], level, self.next_seq()))


async def start(conn: ScriptConn, first_chan: int, books: int = 2) -> Channels:
    await conn.recv_until(is_frame("event", "conf"))
    await conn.send(bf.conf_ok())
    channels = Channels(conn, first_chan)
    await channels.subscribe(books)
    return channels


async def test_checksum_mismatch_resyncs_one_book_then_a_reconnect_resubscribes_both() -> None:
    checked, drop = asyncio.Event(), asyncio.Event()

    async def first(conn: ScriptConn) -> None:
        ch = await start(conn, 10)
        await ch.book("tBTCUSD", BTC_BOOK)
        await ch.book("tETHUST", ETH_BOOK)
        await ch.update("tBTCUSD", ("100.5", "1", "1"))
        await ch.checksum("tBTCUSD", [*BTC_BOOK, ("100.5", "1", "1")])
        await checked.wait()
        await ch.update("tBTCUSD", ("99", "1", "4"))
        await ch.checksum("tBTCUSD", BTC_BOOK)  # not the book the update made
        await ch.resubscribe(1)
        await ch.book("tBTCUSD", [("98", "1", "1"), ("99", "1", "-1")])
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        ch = await start(conn, 50)
        await ch.book("tBTCUSD", BTC_BOOK)
        await ch.book("tETHUST", ETH_BOOK)
        await conn.hold()

    async with (
        ScriptedServer(first, second) as srv,
        run_feed(BitfinexProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        btc = book_of(feed, BTC)
        eth = book_of(feed, ETH)
        await wait_until(lambda: btc.updates == 2 and eth.state is LIVE)
        assert levels(btc) == ([(100.5, 1.0), (100.0, 2.0)], [(101.0, 3.0)])
        checked.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
        assert levels(btc) == ([(98.0, 1.0)], [(99.0, 1.0)])
        assert (eth.state, eth.resyncs) == (LIVE, 0)
        assert feed.connections[0].proto.stats.errors == Counter({"checksum": 1})
        assert [f["event"] for f in sent(srv.conns[0])] == [
            "conf",
            "subscribe",
            "subscribe",
            "unsubscribe",
            "subscribe",
        ]
        drop.set()  # the venue closes the connection: both books wait for the new one
        await wait_until(lambda: len(srv.conns) == 2 and btc.state is LIVE and eth.state is LIVE)
        assert levels(btc) == ([(100.0, 2.0)], [(101.0, 3.0)])
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH) == [SYNCING, LIVE, SYNCING, LIVE]
        subscribes = [f.get("symbol") for f in sent(srv.conns[1]) if f["event"] != "conf"]
        assert sorted(subscribes) == ["tBTCUSD", "tETHUST"]


async def test_a_sequence_gap_rebuilds_the_connection_books_and_a_crossed_one_resyncs() -> None:
    gap, cross = asyncio.Event(), asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        ch = await start(conn, 10)
        await ch.book("tBTCUSD", BTC_BOOK)
        await ch.book("tETHUST", ETH_BOOK)
        await gap.wait()
        ch.next_seq()  # a message lost on the way
        await ch.update("tETHUST", ("20.5", "1", "1"))
        await ch.resubscribe(2)
        await ch.book("tBTCUSD", BTC_BOOK)
        await ch.book("tETHUST", ETH_BOOK)
        await cross.wait()
        await ch.update("tETHUST", ("21.5", "1", "1"))
        await ch.checksum("tETHUST", [*ETH_BOOK, ("21.5", "1", "1")])
        await ch.resubscribe(1)
        await ch.book("tETHUST", ETH_BOOK)
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(BitfinexProtocol, NAMES, srv.url) as (feed, _),
    ):
        feed.add([BTC, ETH])
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        await wait_until(lambda: btc.state is LIVE and eth.state is LIVE)
        gap.set()
        await wait_until(lambda: btc.resyncs == eth.resyncs == 1)
        await wait_until(lambda: btc.state is LIVE and eth.state is LIVE)
        cross.set()
        await wait_until(lambda: eth.resyncs == 2 and eth.state is LIVE)
        assert (btc.resyncs, btc.state) == (1, LIVE)
        assert levels(eth) == ([(20.0, 5.0)], [(21.0, 6.0)])
        errors = feed.connections[0].proto.stats.errors
        assert errors == Counter({"seq_gap": 2, "crossed": 1})
        assert len(srv.conns) == 1
