"""Gate protocol: spot.obu full books and chained updates, order_book_update on REST snapshots."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.gateio import GateioProtocol, instruments_request, parse_instruments
from tests.fakes import gateio_frames as gt

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
T0 = 1_700_000_000.0


def make(depth: int = 200, *, track_all: bool = False) -> GateioProtocol:
    names = SymbolMap([("BTC_USDT", BTC), ("ETH_USDT", ETH)])
    proto = GateioProtocol(names, depth=depth, track_all=track_all)
    if not track_all:
        proto.subscribe([BTC, ETH], T0)
        proto.on_open(T0)
        proto.drain()
    return proto


def levels(proto: GateioProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def sent(proto: GateioProtocol) -> list[dict]:
    return [json.loads(f) for f in proto.drain().frames]


def test_subscribe_unsubscribe_trades_and_ping_frames() -> None:
    proto = GateioProtocol(SymbolMap([("BTC_USDT", BTC)]))
    assert proto.ws_url() == "wss://api.gateio.ws/ws/v4/"
    assert proto.integrity is Integrity.VERIFIED
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.subscribe_trades([BTC], T0)
    proto.unsubscribe([ETH], T0)
    proto.probe(T0 + 3)
    assert sent(proto) == [
        {"time": 1_700_000_000, "channel": "spot.obu", "event": "subscribe",
         "payload": ["ob.BTC_USDT.400", "ob.ETH_USDT.400"]},
        {"time": 1_700_000_000, "channel": "spot.trades", "event": "subscribe",
         "payload": ["BTC_USDT"]},
        {"time": 1_700_000_000, "channel": "spot.obu", "event": "unsubscribe",
         "payload": ["ob.ETH_USDT.400"]},
        {"time": 1_700_000_003, "channel": "spot.ping"},
    ]  # fmt: skip
    small = GateioProtocol(SymbolMap([("BTC_USDT", BTC)]), depth=50)
    small.subscribe([BTC], T0)
    small.on_open(T0)
    assert sent(small)[0]["payload"] == ["ob.BTC_USDT.50"]


def test_addresses() -> None:
    assert GateioProtocol.accepts_address("wss://api.gateio.ws/ws/v4/")
    assert GateioProtocol.accepts_address("wss://ws.gate.io/v4/ws/spot")
    assert not GateioProtocol.accepts_address("wss://fx-ws.gateio.ws/v4/ws/usdt")
    assert not GateioProtocol.accepts_address("wss://api.gateio.ws/ws/v3/")


def test_full_book_then_chained_updates_and_a_new_full_book_replaces_everything() -> None:
    proto = make()
    proto.on_frame(gt.obu_update("BTC_USDT", 5, 6, bids=[("99", "1")]), T0)
    assert proto.books[BTC].state is BookState.SYNCING  # nothing before the full book
    assert proto.stats.skipped["update_before_full"] == 1
    full = gt.obu_full("BTC_USDT", 10, [("100", "1"), ("99", "2")], [("101", "3")])
    proto.on_frame(full, T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert book.venue_ts == (gt.T_MS + 10) / 1000
    proto.on_frame(
        gt.obu_update("BTC_USDT", 11, 13, [("99", "0"), ("98", "4")], [("102", "1")]), T0
    )
    assert levels(proto) == ([(100.0, 1.0), (98.0, 4.0)], [(101.0, 3.0), (102.0, 1.0)])
    proto.on_frame(gt.obu_full("BTC_USDT", 50, [("97", "1")], [("103", "2")]), T0)
    assert levels(proto) == ([(97.0, 1.0)], [(103.0, 2.0)])
    proto.on_frame(gt.obu_update("BTC_USDT", 51, 51, asks=[("103", "5")]), T0)
    assert levels(proto) == ([(97.0, 1.0)], [(103.0, 5.0)])
    assert book.resyncs == 0
    assert sent(proto) == []


def test_a_gap_resubscribes_that_book_only() -> None:
    proto = make()
    proto.on_frame(gt.obu_full("BTC_USDT", 10, [("100", "1")], [("101", "3")]), T0)
    proto.on_frame(gt.obu_full("ETH_USDT", 7, [("20", "1")], [("21", "3")]), T0)
    proto.on_frame(gt.obu_update("BTC_USDT", 12, 13, bids=[("100", "2")]), T0)  # 11 lost
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert btc.state is BookState.SYNCING
    assert btc.bids.levels() == []
    assert btc.resyncs == 1
    assert eth.state is BookState.LIVE
    assert proto.stats.errors == Counter({"gap": 1})
    assert [(f["event"], f["payload"]) for f in sent(proto)] == [
        ("unsubscribe", ["ob.BTC_USDT.400"]),
        ("subscribe", ["ob.BTC_USDT.400"]),
    ]
    proto.on_frame(gt.obu_update("BTC_USDT", 14, 14, bids=[("100", "3")]), T0)  # still waiting
    assert btc.state is BookState.SYNCING
    proto.on_frame(gt.obu_full("BTC_USDT", 20, [("100", "4")], [("101", "1")]), T0)
    assert btc.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 4.0)], [(101.0, 1.0)])


def test_crossed_and_bad_levels_resync_and_bad_frames_are_counted() -> None:
    proto = make()
    proto.on_frame(gt.obu_full("BTC_USDT", 10, [("100", "1")], [("101", "3")]), T0)
    proto.on_frame(gt.obu_update("BTC_USDT", 11, 11, bids=[("102", "1")]), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    proto.on_frame(gt.obu_full("ETH_USDT", 1, [("20", "x")], [("21", "1")]), T0)
    assert proto.books[ETH].state is BookState.SYNCING
    proto.on_frame("not json", T0)
    proto.on_frame('{"channel":"spot.obu","result":{"s":"ob.BTC_USDT.400","u":"1"}}', T0)
    proto.on_frame('{"channel":"spot.obu","result":{"s":"BTC_USDT","u":1,"b":[],"a":[]}}', T0)
    proto.on_frame(gt.obu_full("DOGE_USDT", 1, [("1", "1")], [("2", "1")]), T0)
    proto.on_frame(gt.sub_error("spot.obu", ["ob.NOPE_USDT.400"]), T0)
    proto.on_frame(gt.subscribed("spot.obu", ["ob.BTC_USDT.400"]), T0)
    proto.on_frame(gt.pong(), T0)
    assert proto.stats.errors == Counter(
        {"crossed": 1, "bad_level": 1, "invalid_json": 1, "bad_field": 1, "bad_stream": 1,
         "request_error": 1}
    )  # fmt: skip
    assert proto.stats.skipped == Counter({"unknown_symbol": 1})


def test_order_book_update_follows_the_rest_snapshot_recipe() -> None:
    proto = make(track_all=True)
    proto.on_frame(gt.book_update("BTC_USDT", 101, 103, bids=[("100", "9")]), T0)
    (request,) = proto.drain().requests
    assert request.url == "https://api.gateio.ws/api/v4/spot/order_book"
    assert request.params == (("currency_pair", "BTC_USDT"), ("limit", "200"), ("with_id", "true"))
    assert request.purpose == "snapshot"
    proto.on_frame(gt.book_update("BTC_USDT", 104, 106, asks=[("101", "0"), ("102", "1")]), T0)
    proto.on_frame(gt.book_update("BTC_USDT", 107, 107, bids=[("100.5", "0.5")]), T0)
    # Snapshot id 104: the first diff is older, the second brackets 105, the third follows.
    body = gt.book_body(104, [("100", "8")], [("101", "2"), ("103", "2")])
    proto.on_rest(request, 200, body, T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.5, 0.5), (100.0, 8.0)], [(102.0, 1.0), (103.0, 2.0)])
    proto.on_frame(gt.book_update("BTC_USDT", 108, 109, bids=[("100", "0")]), T0)
    assert levels(proto)[0] == [(100.5, 0.5)]
    proto.on_frame(gt.book_update("BTC_USDT", 111, 112, bids=[("100", "1")]), T0)  # 110 lost
    assert book.state is BookState.SYNCING
    assert proto.stats.errors["gap"] == 1
    (again,) = proto.drain().requests  # the diff that showed the gap starts a new buffer
    proto.on_rest(again, 200, gt.book_body(100, [("1", "1")], [("2", "1")]), T0)
    assert proto.stats.skipped["snapshot_stale"] == 1  # older than that diff: fetched again
    (third,) = proto.drain().requests
    proto.on_rest(third, 200, gt.book_body(111, [("99", "1")], [("102", "1")]), T0)
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 1.0), (99.0, 1.0)], [(102.0, 1.0)])


def test_snapshot_failures_back_off_and_bad_bodies_are_counted() -> None:
    proto = make(track_all=True)
    proto.on_frame(gt.book_update("BTC_USDT", 5, 6, bids=[("100", "1")]), T0)
    (request,) = proto.drain().requests
    proto.on_rest(request, 500, "", T0)
    proto.on_timer(T0 + 0.5)
    assert proto.drain().requests == ()  # backing off for a second
    proto.on_timer(T0 + 1.5)
    (request,) = proto.drain().requests
    proto.on_rest(request, 200, '{"current":1,"asks":[],"bids":[]}', T0 + 2)  # no with_id
    assert proto.stats.errors == Counter({"snapshot_failed": 1, "snapshot_invalid": 1})


def test_poll_keeps_a_book_while_the_stream_is_down() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request is not None
    assert request.purpose == "poll"
    proto.on_rest(request, 200, gt.book_body(9, [("100", "1")], [("101", "1")]), T0)
    book = proto.books[BTC]
    assert book.state is BookState.POLLED
    assert book.venue_ts == (gt.T_MS + 3) / 1000


def test_trades_are_read_with_the_taker_side() -> None:
    proto = make()
    proto.on_frame(gt.trade("BTC_USDT", "100.5", "0.25", "sell"), T0)
    assert proto.drain().trades == ()  # not asked for
    proto.subscribe_trades([BTC], T0)
    proto.drain()
    proto.on_frame(gt.trade("BTC_USDT", "100.5", "0.25", "sell"), T0)
    proto.on_frame(gt.trade("BTC_USDT", "100.5", "0.25", "sideways"), T0)
    (trade,) = proto.drain().trades
    assert (trade.price, trade.size, trade.side) == (100.5, 0.25, TakerSide.SELL)
    assert trade.venue_ts == pytest.approx((gt.T_MS + 0.4578) / 1000)
    assert trade.trade_id == "309143071"
    assert proto.stats.errors["bad_trade"] == 1


def test_currency_pairs_tradable_only_with_tick_and_lot() -> None:
    request = instruments_request()
    assert request == RestRequest(
        Venue.GATEIO, "https://api.gateio.ws/api/v4/spot/currency_pairs", (), 1, "instruments"
    )
    body = gt.pairs_body(
        ("BTC_USDT", "BTC", "USDT", 1, 6, "tradable"),
        ("ETH_USDT", "ETH", "USDT", 2, 4, "tradable"),
        ("OLD_USDT", "OLD", "USDT", 4, 2, "untradable"),
        ("X-Y_USDT", "X-Y", "USDT", 4, 2, "tradable"),
    )
    instruments = {i.native: i for i in parse_instruments(body)}
    assert sorted(instruments) == ["BTC_USDT", "ETH_USDT"]
    assert instruments["BTC_USDT"].symbol == BTC
    assert instruments["BTC_USDT"].tick_size == pytest.approx(0.1)
    assert instruments["BTC_USDT"].lot_size == pytest.approx(1e-6)
    with pytest.raises(VenueProtocolError):
        parse_instruments('{"label":"SERVER_ERROR"}')
    with pytest.raises(VenueProtocolError):
        parse_instruments('[{"base":"BTC"}]')
