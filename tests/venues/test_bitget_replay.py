"""Replay of Bitget captures: one another recorder made, and record -> replay of our own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.capture import CaptureReader
from goquant_bot.venues.registry import venue_of_exchange
from goquant_bot.venues.replay import replay_files
from tests.fakes import bitget_frames as bg
from tests.fakes.captures import connect, http, recv, send, write_capture
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer

WS = "wss://ws.bitget.com/v2/ws/public"
SYMBOLS = "https://api.bitget.com/api/v2/spot/public/symbols"
# Another recorder subscribed to more than we do: a 15-level channel and futures books.
OTHER_SUB = json.dumps({"op": "subscribe", "args": [
    {"instType": "SPOT", "channel": "books", "instId": "BTCEURC"},
    {"instType": "SPOT", "channel": "books15", "instId": "BTCEURC"},
    {"instType": "SPOT", "channel": "trade", "instId": "BTCEURC"},
    {"instType": "USDT-FUTURES", "channel": "books", "instId": "BTCUSDT"},
]})  # fmt: skip
AFTER = ([("87005", "0.5"), ("87000", "1")], [("87011", "4")])
OTHER_TOOL = [
    http(0, 30.0, SYMBOLS, bg.symbols_body(bg.symbol("BTCEURC", "BTC", "EURC"))),
    connect(1, 30.1, WS),
    send(1, 30.2, OTHER_SUB),
    recv(1, 30.25, bg.subscribe_ack("BTCEURC")),
    recv(1, 30.3, bg.books_frame("snapshot", "BTCEURC", [("87000", "1")], [("87010", "2")])),
    recv(1, 30.3, bg.books_frame("snapshot", "BTCUSDT", [("1", "1")], [("2", "1")],
                                 inst_type="USDT-FUTURES")),
    recv(1, 30.35, bg.books_frame("snapshot", "BTCEURC", [("86000", "1")], [("88000", "2")])
         .replace('"books"', '"books15"')),
    recv(1, 30.4, bg.books_frame("update", "BTCEURC", [("87005", "0.5")],
                                 [("87010", "0"), ("87011", "4")], book=AFTER)),
    recv(1, 30.45, bg.trade_frame("BTCEURC", [("87006", "0.1", "buy")])),
    send(1, 31.0, "ping"),
    recv(1, 31.01, "pong"),
]  # fmt: skip


def test_the_header_name_is_bitget() -> None:
    assert venue_of_exchange("BITGET") is Venue.BITGET


def test_a_capture_of_another_recorder_rebuilds_the_spot_book(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "bitget.jsonl", OTHER_TOOL, exchange="BITGET")
    report = replay_files([path]).report()
    # BTCEURC cannot be split without the symbol list: the pair comes from the file's REST answer.
    assert [key for key in report if ":" in key] == ["bitget:BTC-EURC"]
    entry: dict[str, Any] = report["bitget:BTC-EURC"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["ask_size"]) == (
        87005.0, 0.5, 87011.0, 4.0,
    )  # fmt: skip
    assert (entry["state"], entry["updates"], entry["resyncs"], entry["trades"]) == (
        "live", 2, 0, 1,
    )  # fmt: skip
    assert report["errors"] == {}
    assert report["skipped"]["not_spot"] == 1
    assert report["skipped"]["channel:books15"] == 1


async def _venue(conn: ScriptConn) -> None:
    frame = json.loads(await conn.recv_until(lambda t: '"subscribe"' in t))
    assert [a["instId"] for a in frame["args"]] == ["BTCUSDT"]
    await conn.send(bg.subscribe_ack("BTCUSDT"))
    await conn.send(bg.books_frame("snapshot", "BTCUSDT", [("100.00", "1")], [("101.00", "2")]))
    after = ([("100.50", "3"), ("100.00", "1")], [("101.00", "2")])
    await conn.send(bg.books_frame("update", "BTCUSDT", [("100.50", "3")], [], book=after))
    await conn.hold()


async def test_record_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    async with RestServer() as rest, ScriptedServer(_venue, path="/v2/ws/public") as venue:
        body = bg.symbols_body(bg.symbol("BTCUSDT", "BTC", "USDT"))
        rest.reply("/api/v2/spot/public/symbols", body=body)
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={"bitget": {"taker_fee_pct": 0.1, "ws_url": venue.url, "rest_url": rest.url}},  # type: ignore[arg-type]
        )
        writers = open_captures(tmp_path / "cap", [Venue.BITGET], {}, compress=True)
        await record_market_data(settings, writers, [Symbol("BTC", "USDT")], duration_s=1.0)
    path = tmp_path / "cap" / "bitget.jsonl.zst"
    reader = CaptureReader(path)
    assert [record.kind for record in reader][:2] == ["http", "connect"]
    assert reader.header is not None
    assert reader.header.exchange == "BITGET"
    entry = replay_files([path]).report()["bitget:BTC-USDT"]
    assert (entry["bid"], entry["bid_size"], entry["ask"], entry["state"]) == (
        100.5, 3.0, 101.0, "live",
    )  # fmt: skip
