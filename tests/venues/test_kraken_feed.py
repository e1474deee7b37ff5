"""VenueFeed end to end for Kraken over real local sockets: checksums, crossed books, reconnects."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.kraken import KrakenProtocol
from tests.fakes import kraken_frames as kr
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, levels, run_feed, updates
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USD"), Symbol("ETH", "USD")
NAMES = {"BTC/USD": BTC, "ETH/USD": ETH}
BTC_BOOK = ([("100.0", "1.000"), ("99.5", "2.000")], [("100.5", "1.000"), ("101.0", "3.000")])
ETH_BOOK = ([("20.10", "5.0")], [("20.20", "6.0")])


async def expect(conn: ScriptConn, method: str) -> list[str]:
    """Wait for a (un)subscribe, acknowledge each symbol as Kraken does, return the symbols."""

    def match(text: str) -> bool:
        return json.loads(text).get("method") == method

    frame = json.loads(await conn.recv_until(match))
    symbols: list[str] = frame["params"]["symbol"]
    for symbol in symbols:
        await conn.send(kr.ack(method, symbol, frame["params"]["depth"], frame["req_id"]))
    return symbols


def book_requests(conn: ScriptConn) -> list[tuple[str, list[str]]]:
    frames = [json.loads(t) for t in conn.received]
    return [(f["method"], f["params"]["symbol"]) for f in frames if f["method"] != "ping"]


async def test_a_checksum_mismatch_or_a_crossed_book_resubscribes_that_book_only() -> None:
    bad_checksum, crossed = asyncio.Event(), asyncio.Event()
    after = ([("100.2", "7.000"), *BTC_BOOK[0]], BTC_BOOK[1])

    async def script(conn: ScriptConn) -> None:
        await conn.send(kr.status())
        assert await expect(conn, "subscribe") == ["BTC/USD", "ETH/USD"]
        await conn.send(kr.book_frame("snapshot", "BTC/USD", *BTC_BOOK))
        await conn.send(kr.book_frame("snapshot", "ETH/USD", *ETH_BOOK))
        await conn.send(kr.book_frame("update", "BTC/USD", [("100.2", "7.000")], book=after))
        await conn.send(kr.heartbeat())
        await bad_checksum.wait()
        await conn.send(kr.book_frame("update", "BTC/USD", [("99.0", "1.000")], checksum=1))
        await expect(conn, "unsubscribe")
        await expect(conn, "subscribe")
        await conn.send(
            kr.book_frame("snapshot", "BTC/USD", [("98.0", "1.000")], [("98.5", "2.000")])
        )
        await crossed.wait()
        ask_crossed = ([("20.10", "5.0")], [("20.05", "1.0"), ("20.20", "6.0")])
        await conn.send(
            kr.book_frame("update", "ETH/USD", asks=[("20.05", "1.0")], book=ask_crossed)
        )
        assert await expect(conn, "unsubscribe") == ["ETH/USD"]
        await expect(conn, "subscribe")
        await conn.send(
            kr.book_frame("snapshot", "ETH/USD", [("21.00", "1.0")], [("21.50", "1.0")])
        )
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(KrakenProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        await wait_until(lambda: updates(feed, BTC) == 2 and updates(feed, ETH) == 1)
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        assert levels(btc) == (
            [(100.2, 7.0), (100.0, 1.0), (99.5, 2.0)],
            [(100.5, 1.0), (101.0, 3.0)],
        )
        bad_checksum.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
        assert levels(btc) == ([(98.0, 1.0)], [(98.5, 2.0)])
        assert (eth.state, eth.resyncs) == (LIVE, 0)
        crossed.set()
        await wait_until(lambda: eth.resyncs == 1 and eth.state is LIVE)
        assert levels(eth) == ([(21.0, 1.0)], [(21.5, 1.0)])
        assert (btc.state, btc.resyncs) == (LIVE, 1)
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert log.states(ETH) == [SYNCING, LIVE, SYNCING, LIVE]
        proto = feed.connections[0].proto
        assert proto.stats.errors == Counter({"checksum": 1, "crossed": 1})
        assert book_requests(srv.conns[0]) == [
            ("subscribe", ["BTC/USD", "ETH/USD"]),
            ("unsubscribe", ["BTC/USD"]),
            ("subscribe", ["BTC/USD"]),
            ("unsubscribe", ["ETH/USD"]),
            ("subscribe", ["ETH/USD"]),
        ]
        assert len(srv.conns) == 1


async def test_a_dropped_connection_reconnects_and_resubscribes() -> None:
    async def first(conn: ScriptConn) -> None:
        await expect(conn, "subscribe")
        await conn.send(kr.book_frame("snapshot", "BTC/USD", *BTC_BOOK))

    async def second(conn: ScriptConn) -> None:
        await expect(conn, "subscribe")
        await conn.send(
            kr.book_frame("snapshot", "BTC/USD", [("99.0", "1.000")], [("99.5", "1.000")])
        )
        await conn.hold()

    async with (
        ScriptedServer(first, second) as srv,
        run_feed(KrakenProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC])
        btc = book_of(feed, BTC)
        await wait_until(lambda: len(srv.conns) == 2 and btc.updates == 2 and btc.state is LIVE)
        assert levels(btc) == ([(99.0, 1.0)], [(99.5, 1.0)])
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE]
        assert feed.connections[0].disconnects == 1
        assert book_requests(srv.conns[1]) == [("subscribe", ["BTC/USD"])]


async def test_a_quiet_connection_is_pinged() -> None:
    async def script(conn: ScriptConn) -> None:
        await expect(conn, "subscribe")
        await conn.send(kr.book_frame("snapshot", "BTC/USD", *BTC_BOOK))
        ping = json.loads(await conn.recv_until(lambda t: json.loads(t)["method"] == "ping"))
        await conn.send(kr.pong(ping["req_id"]))
        await conn.hold()

    async with (
        ScriptedServer(script) as srv,
        run_feed(KrakenProtocol, NAMES, srv.url, silence_s=0.6) as (feed, _),
    ):
        feed.add([BTC])
        await wait_until(lambda: updates(feed, BTC) == 1)
        proto = feed.connections[0].proto
        assert isinstance(proto, KrakenProtocol)
        await wait_until(lambda: proto.last_pong is not None)
        assert not proto.stats.errors
        assert len(srv.conns) == 1


async def test_rest_polling_keeps_the_book_while_the_websocket_is_down() -> None:
    async with RestServer() as rest:
        body = kr.depth_body("XXBTZUSD", [("99.5", "2.0")], [("100.5", "1.0")])
        rest.reply("/0/public/Depth", body=body, repeat=True)
        async with run_feed(
            KrakenProtocol,
            NAMES,
            "ws://127.0.0.1:9",
            rest=rest.url,
            poll_after_failures=1,
            poll_interval_s=0.2,
        ) as (feed, _):
            feed.add([BTC])
            btc = book_of(feed, BTC)
            await wait_until(lambda: btc.updates >= 1)
            assert btc.state.value == "polled"
            assert levels(btc) == ([(99.5, 2.0)], [(100.5, 1.0)])
            assert rest.requests[0] == ("/0/public/Depth", {"pair": "XBTUSD", "count": "50"})
