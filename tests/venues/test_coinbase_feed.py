"""VenueFeed end to end for Coinbase over real local sockets: gaps, crossed books, reconnects."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.coinbase import CoinbaseProtocol
from tests.fakes import coinbase_frames as cb
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, levels, run_feed, updates
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USD"), Symbol("ETH", "USD")
NAMES = {"BTC-USD": BTC, "ETH-USD": ETH}
SNAP_BTC = ([("100.0", "1"), ("99.5", "2")], [("100.5", "1"), ("101.0", "3")])
SNAP_ETH = ([("20.10", "5")], [("20.20", "6")])


class Venue:
    """The server side of one Coinbase connection: numbers every message it sends."""

    def __init__(self, conn: ScriptConn, seq: int = 0) -> None:
        self.conn = conn
        self.seq = seq

    async def send(self, build: Any, *args: Any, skip: int = 0, **kw: Any) -> None:
        self.seq += 1 + skip
        await self.conn.send(build(self.seq, *args, **kw))

    async def expect(self, kind: str, channel: str = "level2") -> list[str]:
        """Wait for a (un)subscribe of ``channel``, answer it, return its products."""

        def match(text: str) -> bool:
            frame = json.loads(text)
            return frame.get("type") == kind and frame.get("channel") == channel

        frame = json.loads(await self.conn.recv_until(match))
        products = frame.get("product_ids", [])
        await self.send(cb.subscriptions_frame, products)
        return products


def requests(conn: ScriptConn) -> list[tuple[str, str, list[str]]]:
    """The client's frames on one connection as (type, channel, products)."""
    frames = [json.loads(t) for t in conn.received]
    return [(f["type"], f["channel"], f.get("product_ids", [])) for f in frames]


async def test_a_gap_resubscribes_the_connection_and_a_crossed_book_only_itself() -> None:
    gap, crossed = asyncio.Event(), asyncio.Event()

    async def script(conn: ScriptConn) -> None:
        venue = Venue(conn)
        await venue.expect("subscribe", "heartbeats")
        assert await venue.expect("subscribe") == ["BTC-USD", "ETH-USD"]
        await venue.send(cb.l2_frame, "snapshot", "BTC-USD", *SNAP_BTC)
        await venue.send(cb.l2_frame, "snapshot", "ETH-USD", *SNAP_ETH)
        await venue.send(cb.l2_frame, "update", "BTC-USD", [("100.0", "0"), ("100.2", "7")])
        await venue.send(cb.heartbeat_frame)
        await gap.wait()
        await venue.send(cb.l2_frame, "update", "ETH-USD", [("20.15", "1")], skip=1)
        await venue.expect("unsubscribe")
        await venue.expect("subscribe")
        await venue.send(cb.l2_frame, "snapshot", "BTC-USD", [("98.0", "1")], [("98.5", "2")])
        await venue.send(cb.l2_frame, "snapshot", "ETH-USD", [("21.0", "1")], [("21.5", "1")])
        await crossed.wait()
        await venue.send(cb.l2_frame, "update", "BTC-USD", [("99.0", "1")])  # bid above 98.5
        assert await venue.expect("unsubscribe") == ["BTC-USD"]
        await venue.expect("subscribe")
        await venue.send(cb.l2_frame, "snapshot", "BTC-USD", [("97.0", "1")], [("97.5", "2")])
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(CoinbaseProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        await wait_until(lambda: updates(feed, BTC) == 2 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert levels(btc) == ([(100.2, 7.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
        assert levels(eth) == ([(20.1, 5.0)], [(20.2, 6.0)])
        gap.set()
        await wait_until(lambda: btc.resyncs == 1 and eth.resyncs == 1)
        await wait_until(lambda: btc.state is LIVE and eth.state is LIVE)
        assert levels(btc) == ([(98.0, 1.0)], [(98.5, 2.0)])
        assert levels(eth) == ([(21.0, 1.0)], [(21.5, 1.0)])
        crossed.set()
        await wait_until(lambda: btc.resyncs == 2 and btc.state is LIVE)
        assert levels(btc) == ([(97.0, 1.0)], [(97.5, 2.0)])
        assert (eth.state, eth.resyncs, levels(eth)) == (LIVE, 1, ([(21.0, 1.0)], [(21.5, 1.0)]))
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH) == [SYNCING, LIVE, SYNCING, LIVE]
        proto = feed.connections[0].proto
        assert proto.stats.errors == Counter({"seq_gap": 1, "crossed": 1})
        assert requests(srv.conns[0]) == [
            ("subscribe", "heartbeats", []),
            ("subscribe", "level2", ["BTC-USD", "ETH-USD"]),
            ("unsubscribe", "level2", ["BTC-USD", "ETH-USD"]),
            ("subscribe", "level2", ["BTC-USD", "ETH-USD"]),
            ("unsubscribe", "level2", ["BTC-USD"]),
            ("subscribe", "level2", ["BTC-USD"]),
        ]
        assert len(srv.conns) == 1


async def test_a_dropped_connection_reconnects_and_resubscribes_with_a_new_count() -> None:
    async def first(conn: ScriptConn) -> None:
        venue = Venue(conn, seq=40)
        await venue.expect("subscribe", "heartbeats")
        await venue.expect("subscribe")
        await venue.send(cb.l2_frame, "snapshot", "BTC-USD", *SNAP_BTC)
        await venue.send(cb.l2_frame, "update", "BTC-USD", [("99.8", "4")])
        # returning closes the connection

    async def second(conn: ScriptConn) -> None:
        venue = Venue(conn)  # sequence_num starts again on a new connection
        await venue.expect("subscribe", "heartbeats")
        await venue.expect("subscribe")
        await venue.send(cb.l2_frame, "snapshot", "BTC-USD", [("99.0", "1")], [("99.5", "1")])
        await conn.hold()

    async with (
        ScriptedServer(first, second) as srv,
        run_feed(CoinbaseProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC])
        await wait_until(lambda: len(srv.conns) == 2 and updates(feed, BTC) >= 3)
        btc = book_of(feed, BTC)
        await wait_until(lambda: btc.state is LIVE)
        assert levels(btc) == ([(99.0, 1.0)], [(99.5, 1.0)])
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert feed.connections[0].disconnects == 1
        assert not feed.connections[0].proto.stats.errors
        assert requests(srv.conns[1]) == [
            ("subscribe", "heartbeats", []),
            ("subscribe", "level2", ["BTC-USD"]),
        ]


async def test_a_quiet_connection_is_probed_with_a_heartbeats_subscribe() -> None:
    """Silence past half the watchdog brings a heartbeats subscribe, answered in time."""

    async def script(conn: ScriptConn) -> None:
        venue = Venue(conn)
        await venue.expect("subscribe", "heartbeats")
        await venue.expect("subscribe")
        await venue.send(cb.l2_frame, "snapshot", "BTC-USD", *SNAP_BTC)
        await venue.expect("subscribe", "heartbeats")  # the probe
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(CoinbaseProtocol, NAMES, srv.url, silence_s=0.6) as (feed, _),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 1)
        await wait_until(lambda: len(srv.conns[0].received) == 3)
        assert requests(srv.conns[0])[-1] == ("subscribe", "heartbeats", [])
        assert not feed.connections[0].proto.stats.errors


async def test_rest_polling_keeps_the_book_while_the_websocket_is_down() -> None:
    async with RestServer() as rest:
        body = cb.product_book_body("BTC-USD", [("99.5", "2")], [("100.5", "1")])
        rest.reply("/api/v3/brokerage/market/product_book", body=body, repeat=True)
        url = "ws://127.0.0.1:9"  # nothing listens there
        async with run_feed(
            CoinbaseProtocol, NAMES, url, rest=rest.url, poll_after_failures=1, poll_interval_s=0.2
        ) as (feed, _):
            feed.add([BTC])
            btc = book_of(feed, BTC)
            await wait_until(lambda: btc.updates >= 2)
            assert btc.state.value == "polled"
            assert levels(btc) == ([(99.5, 2.0)], [(100.5, 1.0)])
            assert rest.requests[0] == (
                "/api/v3/brokerage/market/product_book",
                {"product_id": "BTC-USD", "limit": "50"},
            )
