"""KuCoin protocol: token, level2 deltas on REST snapshots, partial-book depth, trades."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.kucoin import KucoinProtocol, instruments_request, parse_instruments
from tests.fakes import kucoin_frames as kc

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
PARTIAL = "https://api.kucoin.com/api/v1/market/orderbook/level2_100"


def make(*, track_all: bool = False) -> KucoinProtocol:
    proto = KucoinProtocol(SymbolMap([("BTC-USDT", BTC), ("ETH-USDT", ETH)]), track_all=track_all)
    if not track_all:
        proto.subscribe([BTC, ETH], T0)
        proto.on_open(T0)
        proto.on_frame(kc.welcome(), T0)
        proto.drain()
    return proto


def levels(proto: KucoinProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def test_token_decides_the_address_and_the_ping_interval() -> None:
    proto = KucoinProtocol(SymbolMap([("BTC-USDT", BTC)]))
    assert proto.integrity is Integrity.VERIFIED
    request = proto.connect_request()
    assert request == RestRequest(
        Venue.KUCOIN, "https://api.kucoin.com/api/v1/bullet-public", (), 1, "connect",
        method="POST",
    )  # fmt: skip
    assert proto.ws_url() == ""  # no token yet: the driver does not connect
    proto.on_rest(request, 500, "", T0)
    assert proto.ws_url() == ""
    assert proto.stats.errors == Counter({"token_failed": 1})
    proto.on_rest(request, 200, '{"code":"400003","msg":"nope"}', T0)
    assert proto.ws_url() == ""
    proto.on_rest(request, 200, kc.bullet_body("wss://ws-api-spot.kucoin.com/", "a=b", 10000), T0)
    assert proto.ws_url() == "wss://ws-api-spot.kucoin.com/?token=a%3Db"
    assert proto.ping_interval_s == 10.0
    assert KucoinProtocol.accepts_address(proto.ws_url())
    assert not KucoinProtocol.accepts_address("wss://ws-api-futures.kucoin.com/?token=x")
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    assert proto.drain().frames == ()  # nothing before the welcome
    proto.on_frame(kc.welcome(), T0)
    proto.subscribe_trades([BTC], T0)
    proto.on_timer(T0 + 9)
    proto.on_timer(T0 + 10)
    frames = [json.loads(f) for f in proto.drain().frames]
    assert frames == [
        {"id": "1", "type": "subscribe", "topic": "/market/level2:BTC-USDT,ETH-USDT",
         "privateChannel": False, "response": True},
        {"id": "2", "type": "subscribe", "topic": "/market/match:BTC-USDT",
         "privateChannel": False, "response": True},
        {"id": "3", "type": "ping"},
    ]  # fmt: skip


def test_a_configured_address_wins_over_the_token_endpoint() -> None:
    proto = KucoinProtocol(SymbolMap([("BTC-USDT", BTC)]), ws_base="ws://127.0.0.1:9000")
    request = proto.connect_request()
    assert request is not None
    proto.on_rest(request, 200, kc.bullet_body("wss://ws-api-spot.kucoin.com/", "t"), T0)
    assert proto.ws_url() == "ws://127.0.0.1:9000/?token=t"


def test_snapshot_alignment_by_change_sequence_and_price_zero_is_not_a_level() -> None:
    proto = make()
    proto.on_frame(kc.welcome(), T0)
    proto.on_frame(
        kc.level2("BTC-USDT", 14, 15, bids=[("100", "9", 14)], asks=[("101", "1", 15)]), T0
    )
    (request,) = proto.drain().requests
    assert request.url == PARTIAL
    assert request.params == (("symbol", "BTC-USDT"),)
    proto.on_frame(
        kc.level2("BTC-USDT", 16, 19, asks=[("101", "3", 16), ("102", "0", 19), ("103", "8", 15)],
                  bids=[("100", "44", 18), ("0", "0", 17)]),
        T0,
    )  # fmt: skip
    # The documented example: snapshot sequence 16; change 16 and older are already in it.
    body = kc.book_body(
        16, [("100", "15"), ("99", "1")], [("101", "32"), ("102", "47"), ("103", "8")]
    )
    proto.on_rest(request, 200, body, T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 44.0), (99.0, 1.0)], [(101.0, 32.0), (103.0, 8.0)])
    proto.on_frame(kc.level2("BTC-USDT", 20, 20, bids=[("99", "0", 20)]), T0)
    assert levels(proto)[0] == [(100.0, 44.0)]
    proto.on_frame(kc.level2("BTC-USDT", 22, 22, bids=[("99", "1", 22)]), T0)  # 21 lost
    assert book.state is BookState.SYNCING
    assert proto.stats.errors == Counter({"gap": 1})
    (again,) = proto.drain().requests
    proto.on_rest(again, 200, kc.book_body(22, [("99", "1")], [("101", "1")]), T0)
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(99.0, 1.0)], [(101.0, 1.0)])


def test_partial_snapshot_keeps_only_known_levels_and_rebuilds_when_they_run_out() -> None:
    proto = make()
    proto.on_frame(kc.level2("BTC-USDT", 1, 1, bids=[("1000", "1", 1)]), T0)
    (request,) = proto.drain().requests
    bids = [(str(1000 - i), "1") for i in range(100)]  # 1000 .. 901: the partial book is full
    asks = [(str(1001 + i), "1") for i in range(100)]  # 1001 .. 1100
    proto.on_rest(request, 200, kc.book_body(1, bids, asks), T0)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    # Below 901 and above 1100 nothing is known: such changes are not kept.
    proto.on_frame(kc.level2("BTC-USDT", 2, 3, bids=[("850", "5", 2)], asks=[("1200", "5", 3)]), T0)
    assert book.bids.size_at(850.0) == 0.0
    assert book.asks.size_at(1200.0) == 0.0
    assert (len(book.bids), len(book.asks)) == (100, 100)
    # The market falls through the bids: 91 deletions leave 9 known levels, fewer than 10.
    gone = [(str(1000 - i), "0", 4) for i in range(91)]
    proto.on_frame(kc.level2("BTC-USDT", 4, 4, bids=gone), T0)
    assert book.state is BookState.SYNCING
    assert proto.stats.errors == Counter({"partial_depth": 1})


def test_replay_reads_a_full_keyed_snapshot_without_a_depth_limit() -> None:
    proto = make(track_all=True)
    proto.on_frame(kc.level2("ETH-USDT", 5, 5, asks=[("1002", "1", 5)]), T0)
    full, partial = proto.drain().requests
    assert full.url == "https://api.kucoin.com/api/v3/market/orderbook/level2"
    assert partial.url == PARTIAL
    bids = [(str(1000 - i), "1") for i in range(150)]
    proto.on_rest(full, 200, kc.book_body(4, bids, [("1001", "1")]), T0)
    proto.on_rest(partial, 200, kc.book_body(4, bids[:100], [("1001", "1")]), T0)
    book = proto.books[ETH]
    assert book.state is BookState.LIVE
    assert proto.stats.skipped["snapshot_unused"] == 1
    proto.on_frame(kc.level2("ETH-USDT", 6, 6, bids=[("800", "2", 6)]), T0)
    assert book.bids.size_at(800.0) == 2.0  # a full book has no unknown region


def test_frames_errors_and_trades() -> None:
    proto = make()
    proto.on_frame(kc.ack("1"), T0)
    proto.on_frame(kc.pong("3"), T0)
    proto.on_frame(kc.error("1", "/market/level2:NOPE-USDT"), T0)
    proto.on_frame("[", T0)
    proto.on_frame('{"type":"message","topic":"/market/level2:BTC-USDT","data":{"symbol":1}}', T0)
    proto.on_frame(kc.match("BTC-USDT", "100.5", "0.25", "buy"), T0)
    assert proto.drain().trades == ()
    proto.subscribe_trades([BTC], T0)
    proto.on_frame(kc.match("BTC-USDT", "100.5", "0.25", "buy", "t1"), T0)
    proto.on_frame(kc.match("BTC-USDT", "-1", "0.25", "buy"), T0)
    (trade,) = proto.drain().trades
    assert (trade.price, trade.size, trade.side, trade.trade_id) == (
        100.5,
        0.25,
        TakerSide.BUY,
        "t1",
    )
    assert trade.venue_ts == pytest.approx(kc.T_MS / 1000)
    assert proto.stats.errors == Counter(
        {"request_error": 1, "invalid_json": 1, "bad_field": 1, "bad_trade": 1}
    )


def test_symbols_trading_only_with_increments() -> None:
    assert instruments_request().url == "https://api.kucoin.com/api/v2/symbols"
    body = kc.symbols_body(
        ("BTC-USDT", "BTC", "USDT", "0.1", "0.00000001", True),
        ("OLD-USDT", "OLD", "USDT", "0.1", "0.1", False),
    )
    (btc,) = parse_instruments(body)
    assert (btc.native, btc.symbol, btc.tick_size, btc.lot_size) == ("BTC-USDT", BTC, 0.1, 1e-8)
    with pytest.raises(VenueProtocolError):
        parse_instruments('{"code":"500000","msg":"busy"}')
    with pytest.raises(VenueProtocolError):
        parse_instruments('{"code":"200000","data":[{"symbol":"X"}]}')
