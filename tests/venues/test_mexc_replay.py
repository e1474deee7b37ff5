"""Replay of MEXC captures: one another recorder made (header MEXC, pushes stored in their JSON
form), and record -> replay of ours (protobuf frames on the wire, their JSON form in the file)."""

from __future__ import annotations

import json
from pathlib import Path

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.capture import CaptureReader
from goquant_bot.venues.registry import venue_of_exchange
from goquant_bot.venues.replay import replay_files
from tests.fakes import mexc_frames as mx
from tests.fakes.captures import connect, http, recv, send, write_capture
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer

WS = "wss://wbs-api.mexc.com/ws"
REST = "https://api.mexc.com"
DEPTH = "spot@public.aggre.depth.v3.api.pb@10ms@KASUSDT"


def pushed(first: int, last: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> str:
    """A depth push as another tool wrote it: protobuf's JSON mapping, keys in its own order,
    indented."""
    body = {
        "toVersion": str(last),
        "fromVersion": str(first),
        "eventType": "spot@public.aggre.depth.v3.api.pb@10ms",
        "bids": [{"quantity": q, "price": p} for p, q in bids],
        "asks": [{"quantity": q, "price": p} for p, q in asks],
    }
    push = {"sendTime": "1736411507002", "symbol": "KASUSDT", "publicAggreDepths": body, "channel": DEPTH}  # fmt: skip
    return json.dumps(push, indent=1)


OTHER_TOOL = [
    http(
        0,
        40.0,
        f"{REST}/api/v3/exchangeInfo",
        mx.symbols_body(mx.symbol("KASUSDT", "KAS", "USDT", price_dp=6, step="0.01")),
    ),
    connect(1, 40.1, WS),
    send(
        1,
        40.2,
        {
            "method": "SUBSCRIPTION",
            "params": [DEPTH, "spot@public.aggre.bookTicker.v3.api.pb@100ms@KASUSDT"],
            "id": 7,
        },
    ),
    recv(1, 40.25, mx.answer(DEPTH, 7)),
    recv(1, 40.3, pushed(5000, 5003, [("0.061234", "1200")], [])),
    recv(1, 40.35, pushed(5004, 5006, [("0.061230", "0")], [("0.061300", "800")])),
    recv(
        1,
        40.4,
        '{"channel":"spot@public.aggre.bookTicker.v3.api.pb@100ms@KASUSDT","symbol":"KASUSDT"}',
    ),
    http(
        1,
        40.45,
        f"{REST}/api/v3/depth?symbol=KASUSDT&limit=1000",
        mx.snapshot(5004, [("0.061234", "1200"), ("0.061230", "10")], [("0.061310", "5")]),
    ),
    recv(1, 40.5, pushed(5007, 5007, [("0.061235", "30")], [])),
    send(1, 40.55, {"method": "PING"}),
    recv(1, 40.6, mx.pong()),
]


def test_a_capture_of_another_recorder_rebuilds_the_book(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "mexc.jsonl", OTHER_TOOL, exchange="MEXC")
    report = replay_files([path]).report()
    assert [key for key in report if ":" in key] == ["mexc:KAS-USDT"]
    entry = report["mexc:KAS-USDT"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["ask_size"]) == (
        0.061235, 30.0, 0.0613, 800.0,
    )  # fmt: skip
    assert (entry["state"], entry["resyncs"]) == ("live", 0)
    assert report["errors"] == {}
    assert report["skipped"]["channel:public.aggre.bookTicker.v3.api.pb"] == 1
    assert venue_of_exchange("MEXC") is venue_of_exchange("MXC") is Venue.MEXC


async def _venue(conn: ScriptConn) -> None:
    frame = json.loads(await conn.recv_until(lambda t: '"SUBSCRIPTION"' in t))
    await conn.send(mx.answer(frame["params"][0], frame["id"]))
    await conn.ws.send(mx.depth("BTCUSDT", 99, 100, bids=[("100.0", "1")]))
    await conn.ws.send(mx.depth("BTCUSDT", 101, 101, bids=[("100.5", "3")]))
    await conn.hold()


async def test_record_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    async with RestServer() as rest, ScriptedServer(_venue, path="/ws") as venue:
        rest.reply(
            "/api/v3/exchangeInfo", body=mx.symbols_body(mx.symbol("BTCUSDT", "BTC", "USDT"))
        )
        rest.reply("/api/v3/depth", body=mx.snapshot(100, [("100.0", "1")], [("101.0", "2")]))
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={"mexc": {"taker_fee_pct": 0.05, "ws_url": venue.url, "rest_url": rest.url}},  # type: ignore[arg-type]
        )
        writers = open_captures(tmp_path / "cap", [Venue.MEXC], {}, compress=True)
        await record_market_data(settings, writers, [Symbol("BTC", "USDT")], duration_s=1.0)
    path = tmp_path / "cap" / "mexc.jsonl.zst"
    reader = CaptureReader(path)
    records = list(reader)
    assert reader.header is not None
    assert reader.header.exchange == "MEXC"
    pushes = [r.data for r in records if r.kind == "recv" and "publicAggreDepths" in r.data]
    assert len(pushes) == 2  # the binary frames, stored as their JSON form
    assert json.loads(pushes[1])["publicAggreDepths"]["fromVersion"] == "101"
    entry = replay_files([path]).report()["mexc:BTC-USDT"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["state"]) == (
        100.5, 3.0, 101.0, "live",
    )  # fmt: skip
