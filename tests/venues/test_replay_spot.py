"""Replay of Bitfinex, Bitstamp and Gemini captures, including ones other recorders made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.registry import venue_of_exchange
from goquant_bot.venues.replay import replay_files
from tests.fakes import bitfinex_frames as bf
from tests.fakes import bitstamp_frames as bs
from tests.fakes import gemini_frames as gm
from tests.fakes.captures import connect, http, recv, send, write_capture


def books_of(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if ":" in key}


def l1(entry: dict[str, Any]) -> tuple[float, float, float, float, str]:
    return entry["bid"], entry["bid_size"], entry["ask"], entry["ask_size"], entry["state"]


def test_header_names_map_to_venues() -> None:
    assert venue_of_exchange("BITFINEX") is Venue.BITFINEX
    assert venue_of_exchange("okex") is Venue.OKX
    assert venue_of_exchange("POLONIEX") is None
    assert venue_of_exchange(None) is None


BITFINEX_OTHER_TOOL = [
    connect(7, 10.0, "wss://api.bitfinex.com/ws/2"),
    recv(7, 10.01, bf.info()),
    send(7, 10.02, '{"event":"conf","flags":65536}'),
    send(7, 10.03, '{"event":"subscribe","channel":"book","pair":"BTCUST","prec":"P0","len":25}'),
    send(7, 10.03, '{"event":"subscribe","channel":"trades","symbol":"tBTCUST"}'),
    recv(7, 10.04, '{"event":"conf","status":"OK","flags":65536}'),
    # An older answer naming the pair only, a trades channel and a derivative's book.
    recv(7, 10.05, '{"event":"subscribed","channel":"book","chanId":3,"pair":"BTCUST","prec":"P0"}'),
    recv(7, 10.05, '{"event":"subscribed","channel":"trades","chanId":4,"symbol":"tBTCUST"}'),
    recv(7, 10.05, bf.subscribed(5, "tBTCF0:USTF0")),
    recv(7, 10.06, bf.snapshot(3, [("87000", "2", "1.5"), ("87010", "1", "-0.5")], 1)),
    recv(7, 10.06, '[4,[[1,1767225600000,0.1,87005]],2]'),
    recv(7, 10.07, bf.snapshot(5, [("86000", "1", "3"), ("86010", "1", "-3")], 3)),
    recv(7, 10.08, bf.update(3, ("87001", "1", "0.25"), 4)),
    recv(7, 10.09, '[4,"te",[2,1767225600100,0.2,87001],5]'),
    recv(7, 10.10, bf.update(3, ("87010", "0", "-1"), 6)),
    recv(7, 10.10, bf.update(3, ("87012", "3", "-2"), 7)),
    recv(7, 10.20, bf.heartbeat(3, 8)),
    http(0, 10.3, "https://api-pub.bitfinex.com/v2/conf/pub%3Alist%3Apair%3Aexchange", '[["BTCUST"]]'),
]  # fmt: skip


def test_bitfinex_capture_of_another_recorder_rebuilds_the_spot_book(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "bfx.jsonl", BITFINEX_OTHER_TOOL, exchange="BITFINEX")
    report = replay_files([path]).report()
    assert list(books_of(report)) == ["bitfinex:BTC-USDT"]
    entry = report["bitfinex:BTC-USDT"]
    assert l1(entry) == (87001.0, 0.25, 87012.0, 2.0, "live")
    assert (entry["bid_levels"], entry["ask_levels"], entry["resyncs"]) == (2, 1, 0)
    assert report["errors"] == {}
    assert report["skipped"]["not_spot"] == 1
    assert report["skipped"]["unknown_channel"] >= 1  # the derivative's book
    # The trades channel of the capture: its snapshot, then an executed trade.
    assert entry["trades"] == 2
    assert entry["last_trade"] == {
        "price": 87001.0,
        "size": 0.2,
        "side": "buy",
        "venue_ts": 1767225600.1,
        "recv_ts": 10.09,
        "trade_id": "2",
    }


def test_bitfinex_sequence_gap_in_a_capture_is_a_resync(tmp_path: Path) -> None:
    lines = [*BITFINEX_OTHER_TOOL[:-1]]
    lines.append(recv(7, 10.3, bf.update(3, ("87002", "1", "1"), 10)))  # 9 is missing
    path = write_capture(tmp_path / "bfx.jsonl", lines, exchange="BITFINEX")
    report = replay_files([path]).report()
    entry = report["bitfinex:BTC-USDT"]
    assert (entry["state"], entry["resyncs"], entry["bid_levels"]) == ("syncing", 1, 0)
    assert report["errors"] == {"seq_gap": 1}


@pytest.mark.parametrize("exchange", ["BITFINEX", "OTHER"])
def test_a_loopback_capture_is_assigned_by_address_and_header(
    tmp_path: Path, exchange: str
) -> None:
    lines = [
        connect(1, 1.0, "ws://127.0.0.1:8765/ws/2"),
        recv(1, 1.1, bf.subscribed(9, "tETHUSD")),
        recv(1, 1.2, bf.snapshot(9, [("3000", "1", "2"), ("3001", "1", "-2")], None)),
    ]
    path = write_capture(tmp_path / "local.jsonl", lines, exchange=exchange)
    report = replay_files([path]).report()
    assert l1(report["bitfinex:ETH-USD"]) == (3000.0, 2.0, 3001.0, 2.0, "live")


T = bs.T_US
BITSTAMP_OTHER_TOOL = [
    http(0, 20.0, "https://www.bitstamp.net/api/v2/trading-pairs-info/",
         bs.pairs_body(("BTC/USD", "btcusd", 8, 0, "Enabled"))),
    connect(1, 20.1, "wss://ws.bitstamp.net/"),
    send(1, 20.2, '{"event":"bts:subscribe","data":{"channel":"diff_order_book_btcusd"}}'),
    send(1, 20.2, '{"event":"bts:subscribe","data":{"channel":"live_trades_btcusd"}}'),
    recv(1, 20.3, bs.subscribed("btcusd")),
    recv(1, 20.4, bs.diff("btcusd", T + 1, bids=[("87000", "9")])),
    recv(1, 20.45, '{"data":{"id":1,"amount":0.1,"price":87000},"channel":"live_trades_btcusd","event":"trade"}'),
    recv(1, 20.5, bs.diff("btcusd", T + 3, asks=[("87010", "0"), ("87012", "2")])),
    recv(1, 20.55, bs.diff("btcusd-perp", T + 3, asks=[("87010", "1")])),
    # The other recorder asked for the snapshot without the trailing slash, with a parameter.
    http(1, 20.6, "https://www.bitstamp.net/api/v2/order_book/btcusd?group=1",
         bs.book_body(T + 2, [("87000", "1")], [("87010", "1"), ("87011", "3")])),
    recv(1, 20.7, bs.diff("btcusd", T + 4, bids=[("87001", "0.5")])),
]  # fmt: skip


def test_bitstamp_capture_of_another_recorder_rebuilds_the_book(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "bitstamp.jsonl", BITSTAMP_OTHER_TOOL, exchange="BITSTAMP")
    report = replay_files([path]).report()
    assert list(books_of(report)) == ["bitstamp:BTC-USD"]
    entry = report["bitstamp:BTC-USD"]
    # The T+1 diff is older than the snapshot (T+2) and dropped; T+3 and T+4 apply.
    assert l1(entry) == (87001.0, 0.5, 87011.0, 3.0, "live")
    assert (entry["bid_levels"], entry["ask_levels"], entry["resyncs"]) == (2, 2, 0)
    # Its trade lacks the time and the side: counted and skipped, the book untouched.
    assert report["errors"] == {"bad_trade": 1}
    assert report["skipped"]["not_spot"] == 1


GEMINI_SUB = (
    '{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD","BTCGUSDPERP"]},'
    '{"name":"candles_1m","symbols":["BTCUSD"]}]}'
)
GEMINI_OTHER_TOOL = [
    http(0, 30.0, "https://api.gemini.com/v1/symbols/details/btcusd", gm.details("BTCUSD", "BTC", "USD")),
    http(0, 30.0, "https://api.gemini.com/v1/symbols/details/BTCGUSDPERP",
         gm.details("BTCGUSDPERP", "BTC", "GUSD", product="swap")),
    connect(1, 30.1, "wss://api.gemini.com/v2/marketdata/"),
    send(1, 30.2, GEMINI_SUB),
    recv(1, 30.3, gm.initial("BTCUSD", [("buy", "87000", "1"), ("sell", "87010", "2")])),
    recv(1, 30.3, gm.initial("BTCGUSDPERP", [("buy", "86000", "1"), ("sell", "86010", "2")])),
    recv(1, 30.35, '{"type":"candles_1m_updates","symbol":"BTCUSD","changes":[[1,2,3,4,5,6]]}'),
    recv(1, 30.4, gm.update("BTCUSD", [("buy", "87005", "0.5"), ("sell", "87010", "0")])),
    recv(1, 30.4, gm.update("BTCUSD", [("sell", "87011", "4")])),
    recv(1, 30.5, gm.trade("BTCUSD")),
]  # fmt: skip


def test_gemini_capture_of_another_recorder_reports_the_spot_book_only(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "gemini.jsonl", GEMINI_OTHER_TOOL, exchange="GEMINI")
    report = replay_files([path]).report()
    assert list(books_of(report)) == ["gemini:BTC-USD"]
    entry = report["gemini:BTC-USD"]
    assert l1(entry) == (87005.0, 0.5, 87011.0, 4.0, "live")
    assert (entry["updates"], entry["resyncs"]) == (3, 0)
    assert report["errors"] == {}
    assert report["skipped"]["not_spot"] == 1
    assert "rest_unanswered" not in report["skipped"]
