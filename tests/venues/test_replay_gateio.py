"""Replay of Gate captures made by other recorders: both book channels, snapshots from the file."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.registry import venue_of_exchange
from goquant_bot.venues.replay import replay_files
from tests.fakes import gateio_frames as gt
from tests.fakes.captures import connect, http, recv, send, write_capture

BOOK_URL = "https://api.gateio.ws/api/v4/spot/order_book"
OTHER_TOOL = [
    http(0, 10.0, "https://api.gateio.ws/api/v4/spot/currency_pairs",
         gt.pairs_body(("BTC_USDT", "BTC", "USDT", 1, 6, "tradable"),
                       ("ETH_USDT", "ETH", "USDT", 2, 4, "tradable"))),
    connect(1, 10.1, "wss://api.gateio.ws/ws/v4/"),
    send(1, 10.2, '{"time":10,"channel":"spot.order_book_update","event":"subscribe",'
                  '"payload":["BTC_USDT","100ms"]}'),
    send(1, 10.2, '{"time":10,"channel":"spot.trades","event":"subscribe","payload":["BTC_USDT"]}'),
    recv(1, 10.3, gt.subscribed("spot.order_book_update", ["BTC_USDT", "100ms"])),
    recv(1, 10.4, gt.book_update("BTC_USDT", 101, 103, bids=[("87000", "9")])),
    recv(1, 10.5, gt.book_update("BTC_USDT", 104, 106, asks=[("87010", "0"), ("87012", "2")])),
    recv(1, 10.55, gt.trade("BTC_USDT", "87005", "0.1", "buy")),
    # Asked with other parameters than ours: matched by path and currency pair.
    http(1, 10.6, f"{BOOK_URL}?currency_pair=BTC_USDT&limit=10&with_id=true",
         gt.book_body(104, [("87000", "1")], [("87010", "1"), ("87011", "3")])),
    recv(1, 10.7, gt.book_update("BTC_USDT", 107, 107, bids=[("87001", "0.5")])),
    connect(2, 11.0, "wss://api.gateio.ws/ws/v4/"),
    send(2, 11.1, '{"time":11,"channel":"spot.obu","event":"subscribe","payload":["ob.ETH_USDT.50"]}'),
    recv(2, 11.2, gt.obu_full("ETH_USDT", 500, [("3000", "1")], [("3001", "2")], 50)),
    recv(2, 11.3, gt.obu_update("ETH_USDT", 501, 502, bids=[("3000.5", "1")], levels=50)),
    recv(2, 11.4, gt.obu_update("ETH_USDT", 504, 504, bids=[("3000.7", "1")], levels=50)),
    recv(2, 11.5, gt.obu_full("ETH_USDT", 600, [("3000", "4")], [("3001", "2")], 50)),
]  # fmt: skip


def test_header_names_map_to_gate() -> None:
    assert venue_of_exchange("GATEIO") is Venue.GATEIO
    assert venue_of_exchange("gate") is Venue.GATEIO
    assert venue_of_exchange("GATE.IO") is Venue.GATEIO


def test_capture_of_another_recorder_rebuilds_both_channels(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "gate.jsonl", OTHER_TOOL, exchange="GATEIO")
    report = replay_files([path]).report()
    assert sorted(k for k in report if ":" in k) == ["gateio:BTC-USDT", "gateio:ETH-USDT"]
    btc, eth = report["gateio:BTC-USDT"], report["gateio:ETH-USDT"]
    # 101..103 is older than snapshot 104 and dropped; 104..106 brackets it; 107 follows.
    assert (btc["bid"], btc["bid_size"], btc["ask"], btc["ask_size"]) == (
        87001.0,
        0.5,
        87011.0,
        3.0,
    )
    assert (btc["state"], btc["resyncs"]) == ("live", 0)
    # A lost update (503) clears the ETH book until Gate's next full book.
    assert (eth["bid"], eth["bid_size"], eth["state"], eth["resyncs"]) == (3000.0, 4.0, "live", 1)
    assert report["errors"] == {"gap": 1}
    assert report["gateio:BTC-USDT"]["trades"] == 1
