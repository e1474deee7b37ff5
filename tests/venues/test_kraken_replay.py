"""Replaying Kraken captures: ours (v2), and one made by another recorder on WebSocket v1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from goquant_bot.venues.capture import CaptureWriter
from goquant_bot.venues.replay import replay_files
from tests.fakes import kraken_frames as kr
from tests.fakes.captures import connect, http, recv, send, write_capture

ASSET_PAIRS = "https://api.kraken.com/0/public/AssetPairs"
BTC_BOOK = (
    [("45283.5", "0.10000000"), ("45283.4", "1.20000000")],
    [("45285.2", "0.00100000"), ("45286.0", "2.50000000")],
)
DOGE_BOOK = ([("0.0812000", "100.00000000")], [("0.0813000", "5.00000000")])


def books_of(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if ":" in key}


def v1_lines() -> list[dict[str, Any]]:
    """Another recorder on v1: trades beside the books, XBT and XDG names, and a corrupted
    update whose checksum cannot match (that book is left syncing: nothing resubscribed)."""
    pairs = kr.asset_pairs_body(
        {"XXBTZUSD": kr.asset_pair("XBT/USD"), "XDGUSD": kr.asset_pair("XDG/USD", pair_decimals=7)}
    )
    subscribe = {
        "event": "subscribe",
        "pair": ["XBT/USD", "XDG/USD"],
        "subscription": {"name": "book", "depth": 10},
    }
    trade = json.dumps(
        [337, [["45285.2", "0.01", "1696613755.1", "b", "l", ""]], "trade", "XBT/USD"]
    )
    btc_after = ([("45283.6", "1.00000000"), *BTC_BOOK[0]], BTC_BOOK[1])
    doge_after = ([("0.0812500", "50.00000000"), *DOGE_BOOK[0]], DOGE_BOOK[1])
    return [
        http(0, 10.0, ASSET_PAIRS, pairs),
        connect(1, 10.5, "wss://ws.kraken.com"),
        recv(1, 10.6, '{"connectionID":1,"event":"systemStatus","status":"online","version":"1.9.2"}'),
        send(1, 10.7, subscribe),
        recv(1, 10.8, kr.v1_status(336, "XBT/USD")),
        recv(1, 10.8, kr.v1_status(338, "XDG/USD")),
        recv(1, 10.9, kr.v1_snapshot(336, "XBT/USD", *BTC_BOOK)),
        recv(1, 10.9, kr.v1_snapshot(338, "XDG/USD", *DOGE_BOOK)),
        recv(1, 11.0, trade),
        recv(1, 11.1, kr.v1_update(336, "XBT/USD", [("45283.6", "1.00000000")], checksum=kr.checksum_of(*btc_after))),
        recv(1, 11.2, '{"event":"heartbeat"}'),
        recv(1, 11.3, kr.v1_update(338, "XDG/USD", [("0.0812500", "50.00000000")], checksum=kr.checksum_of(*doge_after))),
        recv(1, 11.4, kr.v1_update(338, "XDG/USD", [("0.0812600", "1.00000000")], checksum=1)),
    ]  # fmt: skip


def test_a_v1_capture_by_another_recorder_rebuilds_the_books(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "kraken.jsonl", v1_lines(), exchange="KRAKEN")
    report = replay_files([path]).report()
    assert books_of(report) == {
        "kraken:BTC-USD": {
            "bid": 45283.6,
            "bid_size": 1.0,
            "ask": 45285.2,
            "ask_size": 0.001,
            "bid_levels": 3,
            "ask_levels": 2,
            "updates": 2,
            "resyncs": 0,
            "state": "live",
            "integrity": "verified",
        },
        "kraken:DOGE-USD": {
            "bid": None,
            "bid_size": None,
            "ask": None,
            "ask_size": None,
            "bid_levels": 0,
            "ask_levels": 0,
            "updates": 2,
            "resyncs": 1,
            "state": "syncing",
            "integrity": "verified",
        },
    }
    assert report["errors"] == {"checksum": 1}
    assert report["skipped"] == {"channel:trade": 1}


def test_our_v2_recording_replays(tmp_path: Path) -> None:
    path = tmp_path / "kraken.jsonl.zst"
    after = ([("45284.0", "0.50000000"), *BTC_BOOK[0]], BTC_BOOK[1])
    with CaptureWriter(path, exchange="KRAKEN") as writer:
        writer.connect(1, "wss://ws.kraken.com/v2", 1.0)
        writer.send(
            1,
            '{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}',
            1.1,
        )
        writer.recv(1, kr.status(), 1.15)
        writer.recv(1, kr.ack("subscribe", "BTC/USD", 10), 1.2)
        writer.recv(1, kr.book_frame("snapshot", "BTC/USD", *BTC_BOOK), 1.3)
        writer.recv(
            1, kr.book_frame("update", "BTC/USD", [("45284.0", "0.50000000")], book=after), 1.4
        )
    report = replay_files([path]).report()
    book = books_of(report)["kraken:BTC-USD"]
    assert (book["bid"], book["bid_size"], book["updates"], book["state"]) == (
        45284.0,
        0.5,
        2,
        "live",
    )
    assert report["errors"] == {}
    assert report["skipped"] == {"channel:status": 1}


def test_a_re_encoded_v2_capture_is_verified_at_the_precision_of_its_asset_pairs(
    tmp_path: Path,
) -> None:
    """A recorder that stored decoded frames (JSON objects) lost the numbers' trailing zeros
    (0.1 for 0.10000000): the checksum is still verified, at the precision the capture's own
    AssetPairs answer gives; without that answer the same frames cannot be verified."""
    snapshot = json.loads(kr.book_frame("snapshot", "BTC/USD", *BTC_BOOK))
    after = ([("45283.5", "0.30000000"), BTC_BOOK[0][1]], BTC_BOOK[1])
    update = json.loads(kr.book_frame("update", "BTC/USD", [("45283.5", "0.30000000")], book=after))
    pairs = kr.asset_pairs_body({"XXBTZUSD": kr.asset_pair("XBT/USD", lot_decimals=8)})
    frames = [
        connect(1, 1.0, "wss://ws.kraken.com/v2"),
        {"t": "recv", "conn": 1, "ts": 2.0, "data": snapshot},
        {"t": "recv", "conn": 1, "ts": 3.0, "data": update},
    ]
    with_pairs = write_capture(tmp_path / "a.jsonl", [http(0, 0.5, ASSET_PAIRS, pairs), *frames])
    report = replay_files([with_pairs]).report()
    assert books_of(report)["kraken:BTC-USD"]["state"] == "live"
    assert books_of(report)["kraken:BTC-USD"]["bid_size"] == 0.3
    assert report["errors"] == {}
    without = replay_files([write_capture(tmp_path / "b.jsonl", frames)]).report()
    assert books_of(without)["kraken:BTC-USD"]["state"] == "syncing"
    assert without["errors"] == {"checksum": 1}
