"""Bitstamp protocol: diffs buffered around REST snapshots, ordered by microtimestamp."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.bitstamp import BitstampProtocol, instruments_request, parse_instruments
from tests.fakes import bitstamp_frames as bs

BTC = Symbol("BTC", "USD")
ETH = Symbol("ETH", "EUR")
T0 = 1_700_000_000.0
T = bs.T_US


def make() -> BitstampProtocol:
    proto = BitstampProtocol(SymbolMap([("btcusd", BTC), ("etheur", ETH)]), depth=50)
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def requests(proto: BitstampProtocol) -> list[RestRequest]:
    out = list(proto.drain().requests)
    return out


def levels(proto: BitstampProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def live(proto: BitstampProtocol) -> None:
    proto.on_frame(bs.diff("btcusd", T + 10, bids=[("100", "1")]), T0)
    (request,) = requests(proto)
    body = bs.book_body(T + 10, [("100", "1"), ("99", "2")], [("101", "3")])
    proto.on_rest(request, 200, body, T0)


def test_subscribe_frames_and_heartbeat_probe() -> None:
    proto = BitstampProtocol(SymbolMap([("btcusd", BTC)]))
    assert proto.ws_url() == "wss://ws.bitstamp.net"
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.unsubscribe([BTC], T0)
    proto.probe(T0)
    assert [json.loads(f) for f in proto.drain().frames] == [
        {"event": "bts:subscribe", "data": {"channel": "diff_order_book_btcusd"}},
        {"event": "bts:subscribe", "data": {"channel": "diff_order_book_etheur"}},
        {"event": "bts:unsubscribe", "data": {"channel": "diff_order_book_btcusd"}},
        {"event": "bts:heartbeat"},
    ]
    assert BitstampProtocol.accepts_address("wss://ws.bitstamp.net")
    assert BitstampProtocol.accepts_address("wss://ws.bitstamp.net/")
    assert not BitstampProtocol.accepts_address("wss://ws.bitstamp.net/perp")


def test_snapshot_drops_older_diffs_and_applies_the_rest_in_order() -> None:
    proto = make()
    proto.on_frame(bs.diff("btcusd", T + 1, bids=[("100", "9")]), T0)
    (request,) = requests(proto)
    assert request.url == "https://www.bitstamp.net/api/v2/order_book/btcusd/"
    assert request.purpose == "snapshot"
    proto.on_frame(bs.diff("btcusd", T + 5, asks=[("101", "0"), ("102", "1")]), T0)
    proto.on_frame(bs.diff("btcusd", T + 9, bids=[("100.5", "0.5")]), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert requests(proto) == []  # one request in flight
    # Taken at T+5: contains the first two diffs (the first one is dropped, the T+5 one is
    # applied again harmlessly), not the third.
    body = bs.book_body(T + 5, [("100", "8")], [("102", "1"), ("103", "2")])
    proto.on_rest(request, 200, body, T0 + 1)
    btc = proto.books[BTC]
    assert btc.state is BookState.LIVE
    assert levels(proto) == ([(100.5, 0.5), (100.0, 8.0)], [(102.0, 1.0), (103.0, 2.0)])
    assert btc.venue_ts == pytest.approx((T + 9) / 1e6)
    proto.on_frame(bs.diff("btcusd", T + 12, bids=[("100.5", "0")]), T0 + 2)
    assert levels(proto)[0] == [(100.0, 8.0)]
    assert (btc.updates, btc.resyncs) == (3, 0)


def test_a_snapshot_older_than_the_first_diff_is_fetched_again() -> None:
    proto = make()
    proto.on_frame(bs.diff("btcusd", T + 10, bids=[("100", "1")]), T0)
    (request,) = requests(proto)
    proto.on_rest(request, 200, bs.book_body(T + 9, [("100", "2")], [("101", "1")]), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.skipped["snapshot_stale"] == 1
    (again,) = requests(proto)
    proto.on_rest(again, 200, bs.book_body(T + 10, [("100", "1")], [("101", "1")]), T0)
    assert proto.books[BTC].state is BookState.LIVE


def test_a_diff_out_of_order_resyncs_that_book_only() -> None:
    proto = make()
    live(proto)
    proto.on_frame(bs.diff("etheur", T + 1, bids=[("20", "1")]), T0)
    (eth_request,) = requests(proto)
    proto.on_rest(eth_request, 200, bs.book_body(T + 1, [("20", "1")], [("21", "1")]), T0)
    proto.on_frame(bs.diff("btcusd", T + 20, bids=[("100", "2")]), T0)
    proto.on_frame(bs.diff("btcusd", T + 15, bids=[("99", "0")]), T0)  # older: out of order
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs, len(btc.bids)) == (BookState.SYNCING, 1, 0)
    assert (eth.state, eth.resyncs) == (BookState.LIVE, 0)
    assert proto.drain().frames == ()  # no resubscription: the next diff asks for a new snapshot
    proto.on_frame(bs.diff("btcusd", T + 30, bids=[("100", "3")]), T0)
    (request,) = requests(proto)
    proto.on_rest(request, 200, bs.book_body(T + 30, [("100", "3")], [("101", "1")]), T0)
    assert (btc.state, levels(proto)) == (BookState.LIVE, ([(100.0, 3.0)], [(101.0, 1.0)]))
    assert proto.stats.errors == Counter({"out_of_order": 1})


def test_crossed_book_and_bad_level_resync() -> None:
    proto = make()
    live(proto)
    proto.on_frame(bs.diff("btcusd", T + 20, bids=[("101.5", "1")]), T0)
    assert (proto.books[BTC].state, proto.books[BTC].resyncs) == (BookState.SYNCING, 1)
    live(proto)
    proto.on_frame(bs.diff("btcusd", T + 30, bids=[("abc", "1")]), T0)
    assert proto.books[BTC].resyncs == 2
    assert proto.stats.errors == Counter({"crossed": 1, "bad_level": 1})


def test_events_garbage_and_failed_snapshots() -> None:
    proto = make()
    proto.on_frame(bs.subscribed("btcusd"), T0)
    proto.on_frame('{"event":"bts:heartbeat","channel":"","data":{"status":"success"}}', T0)
    proto.on_frame('{"event":"bts:request_reconnect","channel":"","data":""}', T0)
    proto.on_frame('{"event":"bts:error","channel":"","data":{"message":"Bad"}}', T0)
    proto.on_frame("nope", T0)
    proto.on_frame('{"event":"data","channel":"diff_order_book_btcusd","data":{}}', T0)
    proto.on_frame(bs.diff("btcusd-perp", T, bids=[("1", "1")]), T0)
    assert proto.stats.errors == Counter({"venue_error": 1, "bad_json": 1, "bad_diff": 1})
    assert proto.stats.skipped["not_spot"] == 1
    proto.on_frame(bs.diff("btcusd", T, bids=[("100", "1")]), T0)
    (request,) = requests(proto)
    proto.on_rest(request, 500, "", T0)
    assert proto.books[BTC].state is BookState.SYNCING
    proto.on_timer(T0 + 0.5)
    assert requests(proto) == []  # backing off
    proto.on_timer(T0 + 1.5)
    assert [r.purpose for r in requests(proto)] == ["snapshot"]


def test_poll_keeps_a_book_while_the_stream_is_down() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request is not None
    proto.on_rest(request, 200, bs.book_body(T, [("100", "1")], [("101", "2")]), T0)
    assert proto.books[BTC].state is BookState.POLLED
    assert proto.books[BTC].venue_ts == pytest.approx(T / 1e6)


def test_instruments_from_trading_pairs_info() -> None:
    request = instruments_request()
    assert request.url == "https://www.bitstamp.net/api/v2/trading-pairs-info/"
    assert request.venue is Venue.BITSTAMP
    body = bs.pairs_body(
        ("BTC/USD", "btcusd", 8, 0, "Enabled"),
        ("USDT/EUR", "usdteur", 5, 5, "Enabled"),
        ("XRP/GBP", "xrpgbp", 8, 5, "Disabled"),
    )
    got = [(str(i.symbol), i.native, i.tick_size, i.lot_size) for i in parse_instruments(body)]
    assert got == [("BTC-USD", "btcusd", 1.0, 1e-8), ("USDT-EUR", "usdteur", 1e-5, 1e-5)]
    for bad in ("{}", "[{}]", "x"):
        with pytest.raises(VenueProtocolError):
            parse_instruments(bad)
