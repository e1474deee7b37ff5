"""Replaying Coinbase captures: ours, and one made by another recorder in the same format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from goquant_bot.domain.instruments import Symbol
from goquant_bot.venues.capture import CaptureWriter
from goquant_bot.venues.replay import replay_files
from tests.fakes import coinbase_frames as cb
from tests.fakes.captures import connect, http, recv, send, write_capture

WS = "wss://advanced-trade-ws.coinbase.com"
PRODUCTS = "https://api.coinbase.com/api/v3/brokerage/market/products?limit=1000"


def books_of(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if ":" in key}


def other_recorder_lines() -> list[dict[str, Any]]:
    """What another tool records: its own subscriptions (trades beside the books), a futures
    product on the same connection, and a lost message in the middle."""
    products = cb.products_body(
        [
            cb.product("BTC-USD"),
            cb.product("ETH-USD"),
            cb.product("BTC-USDC", alias="BTC-USD"),
            cb.product("BIT-27DEC24-CDE", product_type="FUTURE"),
        ]
    )
    trades = json.dumps(
        {"channel": "market_trades", "timestamp": cb.TS_TEXT, "sequence_num": 2, "events": []}
    )
    future = cb.l2_frame(3, "snapshot", "BIT-27DEC24-CDE", [("65000", "1")], [("65010", "2")])
    return [
        http(0, 10.0, PRODUCTS, products),
        connect(1, 10.5, WS),
        send(1, 10.6, {"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "market_trades"}),
        send(1, 10.6, {"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "level2"}),
        recv(1, 10.7, cb.subscriptions_frame(0, ["BTC-USD", "ETH-USD"])),
        recv(1, 10.8, cb.l2_frame(1, "snapshot", "BTC-USD", [("65000.00", "1.5"), ("64999.00", "2")], [("65001.00", "0.5"), ("65002.00", "1")])),
        recv(1, 10.9, trades),
        recv(1, 11.0, future),
        recv(1, 11.1, cb.l2_frame(4, "snapshot", "ETH-USD", [("3200.10", "3")], [("3200.30", "4")])),
        recv(1, 11.2, cb.l2_frame(5, "update", "BTC-USD", [("65000.50", "0.25")], [("65001.00", "0")])),
        recv(1, 11.3, cb.heartbeat_frame(6)),
        recv(1, 11.4, cb.l2_frame(8, "update", "ETH-USD", [("3200.20", "1")])),  # 7 lost
        recv(1, 11.5, cb.l2_frame(9, "snapshot", "BTC-USD", [("64990.00", "1")], [("64995.00", "2")])),
    ]  # fmt: skip


def test_a_capture_by_another_recorder_rebuilds_the_spot_books(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "cb.jsonl", other_recorder_lines(), exchange="COINBASE")
    report = replay_files([path]).report()
    assert books_of(report) == {
        "coinbase:BTC-USD": {
            "bid": 64990.0,
            "bid_size": 1.0,
            "ask": 64995.0,
            "ask_size": 2.0,
            "bid_levels": 1,
            "ask_levels": 1,
            "updates": 3,
            "resyncs": 1,
            "state": "live",
            "integrity": "verified",
        },
        "coinbase:ETH-USD": {
            "bid": None,
            "bid_size": None,
            "ask": None,
            "ask_size": None,
            "bid_levels": 0,
            "ask_levels": 0,
            "updates": 1,
            "resyncs": 1,
            "state": "syncing",
            "integrity": "verified",
        },
    }
    assert report["errors"] == {"seq_gap": 1}
    assert report["skipped"] == {
        "unsubscribed": 1,
        "update_before_snapshot": 1,
    }


def test_the_exchange_feed_of_another_format_is_not_taken_for_advanced_trade(
    tmp_path: Path,
) -> None:
    """The header says Coinbase, but the older Exchange feed speaks another format."""
    lines = [
        connect(1, 2.0, "wss://ws-feed.exchange.coinbase.com"),
        recv(1, 3.0, cb.l2_frame(0, "snapshot", "BTC-USD", [("1.0", "1")], [("2.0", "1")])),
    ]
    path = write_capture(tmp_path / "cb.jsonl", lines, exchange="COINBASE")
    report = replay_files([path]).report()
    assert books_of(report) == {}
    assert report["skipped"] == {"unsupported_address": 1}


def test_our_own_recording_replays(tmp_path: Path) -> None:
    path = tmp_path / "coinbase.jsonl.zst"
    with CaptureWriter(path, exchange="COINBASE") as writer:
        writer.connect(1, WS, 1.0)
        writer.send(1, '{"type":"subscribe","channel":"heartbeats"}', 1.1)
        writer.recv(
            1, cb.l2_frame(0, "snapshot", "SOL-USD", [("150.00", "3")], [("150.10", "1")]), 1.2
        )
        writer.recv(1, cb.l2_frame(1, "update", "SOL-USD", [("150.05", "2")]), 1.3)
    result = replay_files([path])
    book = result.books[next(iter(result.books))]
    assert book.key.symbol == Symbol("SOL", "USD")
    l1 = book.l1()
    assert (l1.bid, l1.bid_size, l1.ask, l1.ask_size) == (150.05, 2.0, 150.1, 1.0)
    assert result.updates[book.key] == 2
