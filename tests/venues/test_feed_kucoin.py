"""VenueFeed end to end for KuCoin: a token before each connection, snapshots, a gap, a reconnect."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.kucoin import KucoinProtocol
from goquant_bot.venues.replay import replay_files
from tests.fakes import kucoin_frames as kc
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, is_frame, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
NAMES = {"BTC-USDT": BTC, "ETH-USDT": ETH}
BULLET, BOOK = "/api/v1/bullet-public", "/api/v1/market/orderbook/level2_100"


async def subscribed(conn: ScriptConn) -> list[str]:
    """Welcome, then acknowledge one level2 subscription; its symbols."""
    await conn.send(kc.welcome())
    frame = json.loads(await conn.recv_until(is_frame("type", "subscribe")))
    await conn.send(kc.ack(frame["id"]))
    return sorted(frame["topic"].removeprefix("/market/level2:").split(","))


async def test_token_snapshot_gap_then_a_reconnect_with_a_new_token() -> None:
    step, drop = asyncio.Event(), asyncio.Event()
    tokens: list[str] = []

    async def first(conn: ScriptConn) -> None:
        tokens.append(conn.ws.request.path)
        assert await subscribed(conn) == ["BTC-USDT", "ETH-USDT"]
        await conn.send(kc.level2("BTC-USDT", 11, 12, bids=[("100", "2", 12)]))
        await conn.send(kc.level2("ETH-USDT", 5, 5, asks=[("21", "6", 5)]))
        await step.wait()
        await conn.send(kc.level2("BTC-USDT", 14, 14, asks=[("101", "1", 14)]))  # 13 lost
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        tokens.append(conn.ws.request.path)
        await subscribed(conn)
        await conn.send(kc.level2("BTC-USDT", 31, 31, bids=[("100", "5", 31)]))
        await conn.send(kc.level2("ETH-USDT", 31, 31, bids=[("20", "3", 31)]))
        await conn.hold()

    async with RestServer() as rest, ScriptedServer(first, second) as srv:
        rest.reply(BULLET, body=kc.bullet_body(srv.url, "first"))
        rest.reply(BULLET, body=kc.bullet_body(srv.url, "second"))
        rest.reply(BOOK, body=kc.book_body(11, [("100", "1")], [("101", "3")]))
        rest.reply(BOOK, body=kc.book_body(4, [("20", "5")], [("21", "6")]))
        rest.reply(BOOK, body=kc.book_body(14, [("100", "2")], [("101", "1")]))
        rest.reply(BOOK, body=kc.book_body(30, [("100", "4")], [("101", "1")]))
        rest.reply(BOOK, body=kc.book_body(30, [("20", "2")], [("21", "6")]))
        async with run_feed(KucoinProtocol, NAMES, "", rest=rest.url) as (feed, log):
            feed.add([BTC, ETH])
            btc, eth = book_of(feed, BTC), book_of(feed, ETH)
            await wait_until(lambda: btc.state is LIVE and eth.state is LIVE)
            assert levels(btc) == ([(100.0, 2.0)], [(101.0, 3.0)])
            step.set()
            await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
            assert levels(btc) == ([(100.0, 2.0)], [(101.0, 1.0)])
            assert feed.connections[0].proto.stats.errors == Counter({"gap": 1})
            drop.set()
            await wait_until(lambda: len(srv.conns) == 2 and btc.bids.best() == (100.0, 5.0))
            await wait_until(lambda: eth.bids.best() == (20.0, 3.0))
            assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]
    assert rest.posts == [BULLET, BULLET]
    assert tokens == ["/?token=first", "/?token=second"]


async def test_no_token_no_connection_until_the_venue_answers() -> None:
    async def only(conn: ScriptConn) -> None:
        await subscribed(conn)
        await conn.send(kc.level2("BTC-USDT", 2, 2, bids=[("100", "1", 2)]))
        await conn.hold()

    async with RestServer() as rest, ScriptedServer(only) as srv:
        rest.reply(BULLET, status=500, body='{"code":"500000","msg":"busy"}')
        rest.reply(BULLET, body=kc.bullet_body(srv.url, "late"))
        rest.reply(BOOK, body=kc.book_body(1, [("100", "1")], [("101", "1")]))
        async with run_feed(KucoinProtocol, {"BTC-USDT": BTC}, "", rest=rest.url) as (feed, _):
            feed.add([BTC])
            btc = book_of(feed, BTC)
            await wait_until(lambda: btc.state is LIVE)
            assert feed.connections[0].proto.stats.errors["token_failed"] == 1
    assert rest.count(BULLET) == 2
    assert len(srv.conns) == 1


async def _kucoin(conn: ScriptConn) -> None:
    await subscribed(conn)
    await conn.send(kc.level2("BTC-USDT", 8, 8, bids=[("100.5", "2", 8)]))
    await conn.hold()


async def test_record_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    async with RestServer() as rest, ScriptedServer(_kucoin) as srv:
        rest.reply(
            "/api/v2/symbols",
            body=kc.symbols_body(("BTC-USDT", "BTC", "USDT", "0.1", "0.0001", True)),
        )
        rest.reply(BULLET, body=kc.bullet_body(srv.url), repeat=True)
        rest.reply(BOOK, body=kc.book_body(7, [("100", "1")], [("101", "3")]), repeat=True)
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={"kucoin": {"taker_fee_pct": 0.1, "rest_url": rest.url}},  # type: ignore[arg-type]
        )
        writers = open_captures(
            tmp_path / "cap", [Venue.KUCOIN], {"symbols": ["BTC-USDT"]}, compress=False
        )
        await record_market_data(settings, writers, [BTC], duration_s=1.0)
    report = replay_files([tmp_path / "cap" / "kucoin.jsonl"]).report()
    book = report["kucoin:BTC-USDT"]
    assert (book["bid"], book["bid_size"], book["ask"], book["ask_size"]) == (
        100.5,
        2.0,
        101.0,
        3.0,
    )
    assert (book["state"], book["resyncs"]) == ("live", 0)
