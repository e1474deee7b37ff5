"""Replay of KuCoin captures made by other recorders, and a lost message on the simulator."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.registry import venue_of_exchange
from goquant_bot.venues.replay import replay_files
from goquant_bot.venues.sim.model import MarketModel
from tests.fakes import kucoin_frames as kc
from tests.fakes.captures import connect, http, recv, send, write_capture
from tests.venues.sim.test_simulator import START, Link, calm, run

API = "https://api.kucoin.com"
SUB = '{"id":"1","type":"subscribe","topic":"/market/level2:BTC-USDT,ETH-USDT","response":true}'
OTHER_TOOL = [
    http(0, 10.0, f"{API}/api/v1/symbols",
         kc.symbols_body(("BTC-USDT", "BTC", "USDT", "0.1", "0.00000001", True),
                         ("ETH-USDT", "ETH", "USDT", "0.01", "0.0001", True))),
    http(0, 10.0, f"{API}/api/v1/bullet-public", kc.bullet_body("wss://ws-api-spot.kucoin.com/")),
    connect(1, 10.1, "wss://ws-api-spot.kucoin.com/?token=2neAiuYvAU61ZDXANAGAsiL4&connectId=7"),
    recv(1, 10.15, kc.welcome()),
    send(1, 10.2, SUB),
    recv(1, 10.3, kc.ack("1")),
    recv(1, 10.4, kc.level2("BTC-USDT", 14, 15, bids=[("87000", "9", 14)], asks=[("87010", "1", 15)])),
    recv(1, 10.45, kc.level2("ETH-USDT", 7, 7, bids=[("3000", "2", 7)])),
    recv(1, 10.5, kc.level2("BTC-USDT", 16, 18, asks=[("87010", "3", 16), ("87012", "0", 18)],
                            bids=[("0", "0", 17)])),
    # A keyed recorder: the full book (v3), asked with its own parameters.
    http(1, 10.6, f"{API}/api/v3/market/orderbook/level2?symbol=BTC-USDT",
         kc.book_body(16, [("87000", "1")], [("87010", "2"), ("87012", "4"), ("87013", "1")])),
    http(1, 10.65, f"{API}/api/v1/market/orderbook/level2_100?symbol=ETH-USDT",
         kc.book_body(6, [("2999", "1")], [("3001", "1")])),
    recv(1, 10.7, kc.level2("BTC-USDT", 19, 19, bids=[("87001", "0.5", 19)])),
    recv(1, 10.8, kc.level2("ETH-USDT", 9, 9, bids=[("3000", "5", 9)])),  # 8 lost
]  # fmt: skip


def test_header_name_maps_to_kucoin() -> None:
    assert venue_of_exchange("KUCOIN") is Venue.KUCOIN


def test_capture_of_another_recorder_rebuilds_the_books(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "kucoin.jsonl", OTHER_TOOL, exchange="KUCOIN")
    report = replay_files([path]).report()
    assert sorted(k for k in report if ":" in k) == ["kucoin:BTC-USDT", "kucoin:ETH-USDT"]
    btc, eth = report["kucoin:BTC-USDT"], report["kucoin:ETH-USDT"]
    # Sequence 16 is in the snapshot; 17 is price 0 (no level); 18 deletes; 19 adds a bid.
    assert (btc["bid"], btc["bid_size"], btc["ask"], btc["ask_size"]) == (
        87001.0,
        0.5,
        87010.0,
        2.0,
    )
    assert (btc["bid_levels"], btc["ask_levels"], btc["state"]) == (2, 2, "live")
    # ETH: a gap after its snapshot; no newer snapshot in the file, so it stays rebuilding.
    assert (eth["state"], eth["resyncs"]) == ("syncing", 1)
    assert report["errors"] == {"gap": 1}


def test_a_lost_simulated_message_is_a_gap_and_the_book_recovers() -> None:
    model = MarketModel(calm(Venue.KUCOIN, quiet_prob=0.0), 5, START)
    link = Link(model, Venue.KUCOIN, 100)
    run(model, [link], 5)
    btc = Symbol("BTC", "USDC")
    model.force_gap(Venue.KUCOIN, btc)
    run(model, [link], 2)
    assert link.proto.stats.errors["gap"] == 1
    run(model, [link], 3)
    book = link.proto.books[btc]
    assert book.state is BookState.LIVE
    truth = model.book(Venue.KUCOIN, btc)
    assert truth is not None
    assert book.bids.levels(5) == truth.levels_float(True, 5)
    assert book.asks.levels(5) == truth.levels_float(False, 5)
