"""VenueFeed end to end for Gate over real local sockets: spot.obu, a gap, a reconnect."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.gateio import GateioProtocol
from goquant_bot.venues.replay import replay_files
from tests.fakes import gateio_frames as gt
from tests.fakes.feed_harness import LIVE, SYNCING, book_of, is_frame, levels, run_feed
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import wait_until

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
NAMES = {"BTC_USDT": BTC, "ETH_USDT": ETH}


async def subscriptions(conn: ScriptConn, count: int) -> list[str]:
    """Acknowledge ``count`` spot.obu streams as Gate does; their names."""
    streams: list[str] = []
    while len(streams) < count:
        frame = json.loads(await conn.recv_until(is_frame("channel", "spot.obu")))
        assert frame["event"] == "subscribe"
        await conn.send(gt.subscribed("spot.obu", frame["payload"]))
        streams.extend(frame["payload"])
    return streams


async def test_full_books_a_gap_resubscribes_one_book_then_a_reconnect_rebuilds_both() -> None:
    step, drop = asyncio.Event(), asyncio.Event()

    async def first(conn: ScriptConn) -> None:
        assert sorted(await subscriptions(conn, 2)) == ["ob.BTC_USDT.50", "ob.ETH_USDT.50"]
        await conn.send(gt.obu_full("BTC_USDT", 10, [("100", "1")], [("101", "3")], 50))
        await conn.send(gt.obu_full("ETH_USDT", 5, [("20", "1")], [("21", "3")], 50))
        await conn.send(gt.obu_update("BTC_USDT", 11, 12, asks=[("101", "2")], levels=50))
        await step.wait()
        await conn.send(gt.obu_update("BTC_USDT", 14, 14, bids=[("100", "7")], levels=50))
        unsub = json.loads(await conn.recv_until(is_frame("event", "unsubscribe")))
        assert unsub["payload"] == ["ob.BTC_USDT.50"]
        assert await subscriptions(conn, 1) == ["ob.BTC_USDT.50"]
        await conn.send(gt.obu_full("BTC_USDT", 30, [("100", "7")], [("101", "2")], 50))
        await drop.wait()

    async def second(conn: ScriptConn) -> None:
        await subscriptions(conn, 2)
        await conn.send(gt.obu_full("BTC_USDT", 40, [("100", "8")], [("101", "2")], 50))
        await conn.send(gt.obu_full("ETH_USDT", 41, [("20", "2")], [("21", "3")], 50))
        await conn.hold()

    async with (
        ScriptedServer(first, second, path="/ws/v4") as srv,
        run_feed(GateioProtocol, NAMES, srv.url) as (feed, log),
    ):
        feed.add([BTC, ETH])
        btc, eth = book_of(feed, BTC), book_of(feed, ETH)
        await wait_until(lambda: btc.state is LIVE and btc.asks.best() == (101.0, 2.0))
        await wait_until(lambda: eth.state is LIVE)
        step.set()
        await wait_until(lambda: btc.resyncs == 1 and btc.state is LIVE)
        assert levels(btc) == ([(100.0, 7.0)], [(101.0, 2.0)])
        assert eth.resyncs == 0
        assert feed.connections[0].proto.stats.errors == Counter({"gap": 1})
        drop.set()
        await wait_until(lambda: len(srv.conns) == 2 and btc.bids.best() == (100.0, 8.0))
        await wait_until(lambda: eth.bids.best() == (20.0, 2.0))
        assert log.states(BTC) == [SYNCING, LIVE, SYNCING, LIVE, SYNCING, LIVE]


async def _gate(conn: ScriptConn) -> None:
    await subscriptions(conn, 1)
    await conn.send(gt.obu_full("BTC_USDT", 10, [("100", "1")], [("101", "3")]))
    await conn.send(gt.obu_update("BTC_USDT", 11, 11, bids=[("100.5", "2")]))
    await conn.hold()


async def test_record_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    async with RestServer() as rest, ScriptedServer(_gate, path="/ws/v4") as srv:
        pairs = gt.pairs_body(("BTC_USDT", "BTC", "USDT", 1, 5, "tradable"))
        rest.reply("/api/v4/spot/currency_pairs", body=pairs)
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={"gateio": {"taker_fee_pct": 0.1, "ws_url": srv.url, "rest_url": rest.url}},  # type: ignore[arg-type]
        )
        writers = open_captures(
            tmp_path / "cap", [Venue.GATEIO], {"symbols": ["BTC-USDT"]}, compress=False
        )
        await record_market_data(settings, writers, [BTC], duration_s=1.0)
    report = replay_files([tmp_path / "cap" / "gateio.jsonl"]).report()
    book = report["gateio:BTC-USDT"]
    assert (book["bid"], book["bid_size"], book["ask"], book["ask_size"]) == (
        100.5,
        2.0,
        101.0,
        3.0,
    )
    assert (book["state"], book["resyncs"]) == ("live", 0)
