"""Replay of Crypto.com captures: one another recorder made, and record -> replay of ours."""

from __future__ import annotations

import json
from pathlib import Path

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.capture import CaptureReader
from goquant_bot.venues.replay import replay_files
from tests.fakes import cryptocom_frames as cc
from tests.fakes.captures import connect, http, recv, send, write_capture
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer

WS = "wss://stream.crypto.com/exchange/v1/market"
INSTRUMENTS = "https://api.crypto.com/exchange/v1/public/get-instruments"
# Another recorder: full snapshots of a 10-level book, tickers, a perpetual's book too.
OTHER_SUB = json.dumps({"id": 1, "method": "subscribe", "nonce": 1, "params": {
    "channels": ["book.CRO_USD.50", "ticker.CRO_USD", "trade.CRO_USD", "book.BTCUSD-PERP.50"]}})  # fmt: skip
OTHER_TOOL = [
    http(0, 20.0, INSTRUMENTS, cc.instruments_body(
        cc.instrument("CRO_USD", "CRO", "USD", tick="0.00001", lot="1"),
        cc.instrument("BTCUSD-PERP", "BTC", "USD", inst_type="PERPETUAL_SWAP"))),
    connect(1, 20.1, WS),
    recv(1, 20.15, cc.heartbeat(5)),
    send(1, 20.16, '{"id":5,"method":"public/respond-heartbeat"}'),
    send(1, 21.2, OTHER_SUB),
    recv(1, 21.25, cc.ack(1)),
    recv(1, 21.3, cc.snapshot("CRO_USD", [("0.09001", "1000")], [("0.09010", "500")], u=100)),
    recv(1, 21.3, cc.snapshot("BTCUSD-PERP", [("60000", "1")], [("60001", "1")], u=7)),
    recv(1, 21.35, '{"id":-1,"method":"subscribe","code":0,"result":{"instrument_name":"CRO_USD",'
                   '"subscription":"ticker.CRO_USD","channel":"ticker","data":[{"h":"0.1"}]}}'),
    recv(1, 21.4, cc.update("CRO_USD", [("0.09005", "300")], [("0.09010", "0")], u=104, pu=100)),
    recv(1, 21.45, cc.update("CRO_USD", [], [("0.09012", "80")], u=109, pu=104)),
    recv(1, 21.5, cc.trades("CRO_USD", [("0.09005", "10", "SELL")])),
]  # fmt: skip


def test_a_capture_of_another_recorder_rebuilds_the_spot_book(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "cdc.jsonl", OTHER_TOOL, exchange="CRYPTO.COM")
    report = replay_files([path]).report()
    assert [key for key in report if ":" in key] == ["cryptocom:CRO-USD"]
    entry = report["cryptocom:CRO-USD"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["ask_size"]) == (
        0.09005, 300.0, 0.09012, 80.0,
    )  # fmt: skip
    assert (entry["state"], entry["updates"], entry["resyncs"], entry["trades"]) == (
        "live", 3, 0, 1,
    )  # fmt: skip
    assert report["errors"] == {}
    assert report["skipped"]["channel:ticker"] == 1


async def _venue(conn: ScriptConn) -> None:
    frame = json.loads(await conn.recv_until(lambda t: '"subscribe"' in t))
    assert frame["params"]["channels"] == ["book.BTC_USDT.50"]
    await conn.send(cc.ack(frame["id"]))
    await conn.send(cc.snapshot("BTC_USDT", [("100.00", "1")], [("101.00", "2")], u=1))
    await conn.send(cc.update("BTC_USDT", [("100.50", "3")], [], u=2, pu=1))
    await conn.hold()


async def test_record_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    async with RestServer() as rest, ScriptedServer(_venue, path="/exchange/v1/market") as venue:
        body = cc.instruments_body(cc.instrument("BTC_USDT", "BTC", "USDT"))
        rest.reply("/public/get-instruments", body=body)
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={"cryptocom": {"taker_fee_pct": 0.5, "ws_url": venue.url, "rest_url": rest.url}},  # type: ignore[arg-type]
        )
        writers = open_captures(tmp_path / "cap", [Venue.CRYPTOCOM], {}, compress=True)
        await record_market_data(settings, writers, [Symbol("BTC", "USDT")], duration_s=2.0)
    path = tmp_path / "cap" / "cryptocom.jsonl.zst"
    reader = CaptureReader(path)
    assert [record.kind for record in reader][:2] == ["http", "connect"]
    assert reader.header is not None
    assert reader.header.exchange == "CRYPTOCOM"
    entry = replay_files([path]).report()["cryptocom:BTC-USDT"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["state"]) == (
        100.5, 3.0, 101.0, "live",
    )  # fmt: skip
