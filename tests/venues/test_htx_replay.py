"""Replay of HTX captures: two another recorder made (header HUOBI; whole ``depth.step0`` books,
and ``mbp.150`` pushes on a req snapshot), and record -> replay of ours (gzip frames on the
wire, text in the file)."""

from __future__ import annotations

import json
from pathlib import Path

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.capture import CaptureReader
from goquant_bot.venues.replay import replay_files
from tests.fakes import htx_frames as hx
from tests.fakes.captures import connect, http, recv, send, write_capture
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer

WS = "wss://api.huobi.pro/ws"
FEED = "wss://api.huobi.pro/feed"
SYMBOLS = "https://api.huobi.pro/v1/common/symbols"
OTHER_TOOL = [
    http(0, 40.0, SYMBOLS, hx.symbols_body(hx.symbol("htxusdt", "htx", "usdt", price_dp=9))),
    connect(1, 40.1, WS),
    send(1, 40.2, '{"sub":"market.htxusdt.depth.step0","id":"a"}'),
    send(1, 40.2, '{"sub":"market.htxusdt.bbo","id":"b"}'),
    recv(1, 40.25, hx.subbed("market.htxusdt.depth.step0", "a")),
    recv(1, 40.3, hx.depth("htxusdt", [(0.0000021, 1e9)], [(0.0000022, 5e8)])),
    recv(1, 40.35, '{"ch":"market.htxusdt.bbo","ts":1,"tick":{"bid":0.0000021}}'),
    recv(1, 40.4, hx.ping(1700000000000)),
    send(1, 40.41, '{"pong":1700000000000}'),
    recv(1, 40.5, hx.depth("htxusdt", [(0.0000021, 2e9)], [(0.0000023, 4e8)], ts=hx.TS + 500)),
    recv(1, 40.6, hx.trades("htxusdt", [(0.0000022, 1e6, "buy")])),
]


def test_a_huobi_capture_of_another_recorder_rebuilds_the_book(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "huobi.jsonl", OTHER_TOOL, exchange="HUOBI")
    report = replay_files([path]).report()
    # "htxusdt" splits as HTX-USDT either way; the REST answer in the file names it.
    assert [key for key in report if ":" in key] == ["htx:HTX-USDT"]
    entry = report["htx:HTX-USDT"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["ask_size"]) == (
        0.0000021, 2e9, 0.0000023, 4e8,
    )  # fmt: skip
    assert (entry["state"], entry["updates"], entry["trades"]) == ("live", 2, 1)
    assert report["errors"] == {}
    assert report["skipped"]["channel:bbo"] == 1


MBP_TOOL = [
    http(0, 50.0, SYMBOLS, hx.symbols_body(hx.symbol("btcusdt", "btc", "usdt"))),
    connect(1, 50.1, FEED),
    send(1, 50.2, '{"sub":"market.btcusdt.mbp.150","id":"7"}'),
    recv(1, 50.25, hx.subbed("market.btcusdt.mbp.150", "7")),
    recv(1, 50.3, hx.mbp("btcusdt", 990, 1001, [(100.0, 9.0)])),  # before the snapshot
    send(1, 50.3, '{"req":"market.btcusdt.mbp.150","id":"8"}'),
    recv(1, 50.35, hx.mbp("btcusdt", 1001, 1002, [(100.0, 2.0)], [(101.0, 0)])),
    recv(
        1, 50.4, hx.mbp_snapshot("btcusdt", 1001, [(100.0, 9.0)], [(101.0, 1.0), (102.0, 2.0)], "8")
    ),
    recv(1, 50.5, hx.mbp("btcusdt", 1002, 1003, [(99.5, 4.0)], ts=hx.TS + 300)),
    recv(1, 50.6, hx.mbp("btcusdt", 1004, 1005, [(99.0, 1.0)])),  # 1004 lost: the book is rebuilt
    recv(1, 50.7, hx.mbp("btcusdt", 1005, 1006, [(99.0, 2.0)])),
    recv(1, 50.8, hx.mbp_snapshot("btcusdt", 1005, [(99.9, 1.0)], [(101.0, 1.0)], "9")),
]


def test_a_huobi_capture_of_mbp_pushes_rebuilds_the_book_from_its_snapshots(
    tmp_path: Path,
) -> None:
    path = write_capture(tmp_path / "huobi-mbp.jsonl", MBP_TOOL, exchange="HUOBI")
    report = replay_files([path]).report()
    entry = report["htx:BTC-USDT"]
    # The second snapshot at 1005 plus the buffered push 1006.
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["ask_size"]) == (
        99.9, 1.0, 101.0, 1.0,
    )  # fmt: skip
    assert (entry["state"], entry["resyncs"]) == ("live", 1)
    assert report["errors"] == {"seq_gap": 1}


async def _venue(conn: ScriptConn) -> None:
    sub = json.loads(await conn.recv_until(lambda t: '"sub"' in t))
    assert sub["sub"] == "market.btcusdt.mbp.150"
    await conn.ws.send(hx.gz(hx.subbed(sub["sub"], sub["id"])))
    req = json.loads(await conn.recv_until(lambda t: '"req"' in t))
    await conn.ws.send(hx.gz(hx.mbp("btcusdt", 10, 11, [(100.0, 1.0)], [(101.0, 2.0)])))
    await conn.ws.send(hx.gz(hx.mbp_snapshot("btcusdt", 10, [(99.0, 1.0)], [], req["id"])))
    await conn.ws.send(hx.gz(hx.mbp("btcusdt", 11, 12, [(100.5, 3.0), (99.0, 0)])))
    await conn.hold()


async def test_record_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    async with RestServer() as rest, ScriptedServer(_venue, path="/feed") as venue:
        rest.reply("/v1/common/symbols", body=hx.symbols_body(hx.symbol("btcusdt", "btc", "usdt")))
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={"htx": {"taker_fee_pct": 0.2, "ws_url": venue.url, "rest_url": rest.url}},  # type: ignore[arg-type]
        )
        writers = open_captures(tmp_path / "cap", [Venue.HTX], {}, compress=True)
        await record_market_data(settings, writers, [Symbol("BTC", "USDT")], duration_s=1.0)
    path = tmp_path / "cap" / "htx.jsonl.zst"
    reader = CaptureReader(path)
    records = list(reader)
    assert [record.kind for record in records][:2] == ["http", "connect"]
    assert reader.header is not None
    assert reader.header.exchange == "HTX"
    entry = replay_files([path]).report()["htx:BTC-USDT"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["state"]) == (
        100.5, 3.0, 101.0, "live",
    )  # fmt: skip
