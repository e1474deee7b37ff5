"""Bybit v5 spot protocol: subscriptions, snapshots and deltas, the u chain, keep-alive, garbage."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.bybit import (
    BybitProtocol,
    instruments_request,
    parse_instruments,
    topic_depth,
)
from tests.fakes import bybit_frames as bb

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
BTC_BOOK = ([["100.0", "1"], ["99.0", "2"]], [["101.0", "1"], ["102.0", "2"]])


def make(depth: int = 50, symbols: tuple[Symbol, ...] = (BTC, ETH)) -> BybitProtocol:
    proto = BybitProtocol(SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]), depth=depth)
    proto.subscribe(list(symbols), T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def snapshot(proto: BybitProtocol, native: str = "BTCUSDT", u: int = 100) -> None:
    proto.on_frame(bb.orderbook_frame("snapshot", native, u, *BTC_BOOK), T0)


def levels(proto: BybitProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def sent(proto: BybitProtocol) -> list[dict]:
    frames = [json.loads(f) for f in proto.drain().frames]
    return frames


def test_ws_url_and_subscribe_frames() -> None:
    proto = BybitProtocol(SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]))
    assert proto.ws_url() == "wss://stream.bybit.com/v5/public/spot"
    proto.subscribe([BTC, ETH], T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    proto.unsubscribe([ETH], T0)
    assert sent(proto) == [
        {
            "req_id": "1",
            "op": "subscribe",
            "args": ["orderbook.200.BTCUSDT", "orderbook.200.ETHUSDT"],
        },
        {"req_id": "2", "op": "unsubscribe", "args": ["orderbook.200.ETHUSDT"]},
    ]


@pytest.mark.parametrize(
    ("depth", "topic"), [(1, 50), (50, 50), (51, 200), (200, 200), (201, 1000)]
)
def test_topic_depth_follows_the_configured_depth(depth: int, topic: int) -> None:
    assert topic_depth(depth) == topic
    proto = make(depth=depth, symbols=())
    proto.subscribe([BTC], T0)
    assert sent(proto)[0]["args"] == [f"orderbook.{topic}.BTCUSDT"]


def test_subscribe_is_split_by_ten_args() -> None:
    symbols = [Symbol(f"A{i}", "USDT") for i in range(25)]
    proto = BybitProtocol(SymbolMap((f"A{i}USDT", s) for i, s in enumerate(symbols)), depth=50)
    proto.subscribe(symbols, T0)
    proto.on_open(T0)
    frames = sent(proto)
    assert [len(f["args"]) for f in frames] == [10, 10, 5]
    assert [f["req_id"] for f in frames] == ["1", "2", "3"]
    assert frames[2]["args"][-1] == "orderbook.50.A24USDT"


def test_snapshot_and_deltas_build_the_book() -> None:
    proto = make()
    snapshot(proto)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert BTC in proto.drain().changed
    proto.on_frame(
        bb.orderbook_frame(
            "delta", "BTCUSDT", 101, [["100.0", "0"], ["99.5", "4"]], [["101.0", "3"]]
        ),
        T0 + 1,
    )
    proto.on_frame(
        bb.orderbook_frame(
            "delta",
            "BTCUSDT",
            102,
            [["98.0", "1"]],
            [["102.0", "0"], ["101.5", "2"]],
            ts=1671179924500,
        ),
        T0 + 2,
    )
    assert levels(proto) == (
        [(99.5, 4.0), (99.0, 2.0), (98.0, 1.0)],
        [(101.0, 3.0), (101.5, 2.0)],
    )
    l1 = book.l1()
    assert (l1.bid, l1.bid_size, l1.ask, l1.ask_size) == (99.5, 4.0, 101.0, 3.0)
    assert l1.venue_ts == pytest.approx(1671179924.5)
    assert l1.recv_ts == T0 + 2
    assert book.resyncs == 0


def test_gap_resubscribes_that_book_only() -> None:
    proto = make()
    snapshot(proto, "BTCUSDT", 100)
    snapshot(proto, "ETHUSDT", 500)
    btc_before = levels(proto, BTC)
    proto.drain()
    proto.on_frame(bb.orderbook_frame("delta", "ETHUSDT", 502, [["99.5", "1"]], []), T0 + 1)
    eth = proto.books[ETH]
    assert eth.state is BookState.SYNCING
    assert (len(eth.bids), len(eth.asks)) == (0, 0)
    assert proto.stats.errors["gap"] == 1
    produced = proto.drain()
    assert [json.loads(f) for f in produced.frames] == [
        {"req_id": "2", "op": "unsubscribe", "args": ["orderbook.50.ETHUSDT"]},
        {"req_id": "3", "op": "subscribe", "args": ["orderbook.50.ETHUSDT"]},
    ]
    assert produced.changed == {ETH}
    assert proto.books[BTC].state is BookState.LIVE
    assert proto.books[BTC].resyncs == 0
    assert levels(proto, BTC) == btc_before
    # Deltas of the old subscription are ignored until the new snapshot arrives.
    proto.on_frame(bb.orderbook_frame("delta", "ETHUSDT", 503, [["99.5", "1"]], []), T0 + 1)
    assert proto.stats.skipped["delta_before_snapshot"] == 1
    assert len(eth.bids) == 0
    proto.on_frame(bb.orderbook_frame("snapshot", "ETHUSDT", 900, *BTC_BOOK), T0 + 2)
    assert eth.state is BookState.LIVE


def test_snapshot_with_u_1_after_a_venue_restart_resets_the_book() -> None:
    proto = make()
    snapshot(proto, "BTCUSDT", 100)
    proto.on_frame(bb.orderbook_frame("delta", "BTCUSDT", 101, [["97.0", "1"]], []), T0)
    proto.on_frame(
        bb.orderbook_frame("snapshot", "BTCUSDT", 1, [["200.0", "1"]], [["201.0", "5"]]), T0 + 1
    )
    assert levels(proto) == ([(200.0, 1.0)], [(201.0, 5.0)])
    proto.on_frame(bb.orderbook_frame("delta", "BTCUSDT", 2, [["199.0", "2"]], []), T0 + 2)
    assert levels(proto)[0] == [(200.0, 1.0), (199.0, 2.0)]
    assert proto.books[BTC].resyncs == 0
    assert proto.drain().frames == ()


def test_delta_before_any_snapshot_is_ignored() -> None:
    proto = make()
    proto.on_frame(bb.orderbook_frame("delta", "BTCUSDT", 7, [["100.0", "1"]], []), T0)
    assert proto.stats.skipped["delta_before_snapshot"] == 1
    assert proto.books[BTC].state is BookState.SYNCING
    assert len(proto.books[BTC].bids) == 0


def test_crossed_book_resubscribes() -> None:
    proto = make()
    snapshot(proto)
    proto.on_frame(bb.orderbook_frame("delta", "BTCUSDT", 101, [["101.0", "1"]], []), T0 + 1)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["crossed"] == 1
    assert [f["op"] for f in sent(proto)] == ["unsubscribe", "subscribe"]


GOOD = bb.orderbook_message("delta", "BTCUSDT", 101, [["100.0", "5"]], [])


def _tampered(**changes: object) -> str:
    message = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        target = message if key in ("type", "ts", "data") else message["data"]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return bb.dump(message)


@pytest.mark.parametrize(
    "text",
    [
        "pong?",
        bb.orderbook_frame("delta", "BTCUSDT", 101, [["100.0", "5"]], [])[:-9],
        '"orderbook"',
        '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":[]}',
        _tampered(u="101"),
        _tampered(u=None),
        _tampered(s=None),
        _tampered(ts=None),
        _tampered(type="refresh"),
    ],
    ids=[
        "text",
        "truncated",
        "string",
        "data-list",
        "u-string",
        "missing-u",
        "missing-s",
        "missing-ts",
        "unknown-type",
    ],
)
def test_garbage_is_counted_and_leaves_the_book_unchanged(text: str) -> None:
    proto = make()
    snapshot(proto)
    before = levels(proto)
    proto.on_frame(text, T0 + 1)
    assert sum(proto.stats.errors.values()) == 1
    assert levels(proto) == before
    assert proto.books[BTC].state is BookState.LIVE
    assert proto.drain().frames == ()


@pytest.mark.parametrize(
    "text", [_tampered(b=[["abc", "1"]]), _tampered(a=[["101.0", None]]), _tampered(b=[["1"]])]
)
def test_unparseable_level_rebuilds_the_book(text: str) -> None:
    proto = make()
    snapshot(proto)
    proto.drain()
    proto.on_frame(text, T0 + 1)
    assert proto.stats.errors == {"bad_level": 1}
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert len(book.bids) == len(book.asks) == 0
    assert [json.loads(f)["op"] for f in proto.drain().frames] == ["unsubscribe", "subscribe"]


def test_ping_every_20_seconds_while_connected() -> None:
    proto = BybitProtocol(SymbolMap())
    proto.on_timer(T0 + 100)
    assert proto.drain().frames == ()  # not connected
    proto.on_open(T0)
    proto.on_timer(T0 + 19.9)
    assert proto.drain().frames == ()
    proto.on_timer(T0 + 20)
    assert sent(proto) == [{"req_id": "1", "op": "ping"}]
    proto.on_timer(T0 + 30)
    assert proto.drain().frames == ()
    proto.on_timer(T0 + 40.5)
    assert sent(proto) == [{"req_id": "2", "op": "ping"}]
    proto.on_frame(bb.pong("2"), T0 + 40.6)
    proto.on_frame('{"op":"pong","args":["1700000040600"],"conn_id":"c1","req_id":"2"}', T0 + 41)
    assert proto.last_pong == T0 + 41
    proto.on_close(T0 + 50)
    proto.on_timer(T0 + 70)
    assert proto.drain().frames == ()
    assert sum(proto.stats.errors.values()) == 0


def test_acks_and_failed_subscribe() -> None:
    proto = make()
    proto.on_frame(bb.op_ack("1", "subscribe"), T0)
    proto.on_frame(bb.op_ack("2", "unsubscribe"), T0)
    assert sum(proto.stats.errors.values()) == 0
    proto.on_frame(
        bb.op_ack("3", "subscribe", success=False, ret_msg="Invalid symbol :[orderbook.50.FOO]"), T0
    )
    assert proto.stats.errors["subscribe_failed"] == 1
    proto.on_frame('{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":{}}', T0)
    proto.on_frame(bb.orderbook_frame("snapshot", "DOGEUSDT", 1, [], []), T0)  # not subscribed
    assert sum(proto.stats.skipped.values()) == 2


def test_poll_keeps_the_book_while_the_stream_is_down() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request == RestRequest(
        venue=Venue.BYBIT,
        url="https://api.bybit.com/v5/market/orderbook",
        params=(("category", "spot"), ("symbol", "BTCUSDT"), ("limit", "200")),
        weight=1,
        purpose="poll",
        symbol=BTC,
    )
    assert request is not None
    body = bb.orderbook_body("BTCUSDT", 5, [["100.0", "1"]], [["101.0", "2"]], ts=1716863719031)
    proto.on_rest(request, 200, body, T0 + 5)
    book = proto.books[BTC]
    assert book.state is BookState.POLLED
    assert book.recv_ts == T0 + 5
    assert book.venue_ts == pytest.approx(1716863719.031)
    assert levels(proto) == ([(100.0, 1.0)], [(101.0, 2.0)])
    proto.on_rest(request, 200, '{"retCode":10001,"retMsg":"params error","result":{}}', T0 + 6)
    proto.on_rest(request, 502, "bad gateway", T0 + 7)
    assert proto.stats.errors["poll_invalid"] == 1
    assert proto.stats.errors["poll_failed"] == 1
    assert levels(proto) == ([(100.0, 1.0)], [(101.0, 2.0)])
    snapshot(proto)  # the stream is back: a late poll must not overwrite it
    proto.on_rest(request, 200, bb.orderbook_body("BTCUSDT", 6, [["90.0", "1"]], []), T0 + 8)
    assert book.state is BookState.LIVE
    assert book.bids.best() == (100.0, 1.0)


def test_track_all_builds_books_for_unsubscribed_symbols() -> None:
    proto = BybitProtocol(SymbolMap(), track_all=True)
    proto.on_frame(bb.orderbook_frame("snapshot", "SOLUSDC", 1, [["150.0", "1"]], []), T0)
    proto.on_frame(bb.orderbook_frame("delta", "SOLUSDC", 2, [["150.5", "2"]], []), T0)
    book = proto.books[Symbol("SOL", "USDC")]
    assert book.state is BookState.LIVE
    assert book.bids.levels() == [(150.5, 2.0), (150.0, 1.0)]


@pytest.mark.parametrize(
    ("addr", "ok"),
    [
        ("wss://stream.bybit.com/v5/public/spot", True),
        ("wss://stream.bybit.com:443/v5/public/spot/", True),
        ("wss://stream.bybit.com/v5/public/linear", False),
        ("wss://stream.bybit.com/v5/public/inverse", False),
        ("wss://stream.bybit.com/v5/public/option", False),
        ("wss://stream.binance.com:9443/stream", False),
    ],
)
def test_accepts_address(addr: str, ok: bool) -> None:
    assert BybitProtocol.accepts_address(addr) is ok


def test_instruments_request_and_parse() -> None:
    assert instruments_request() == RestRequest(
        venue=Venue.BYBIT,
        url="https://api.bybit.com/v5/market/instruments-info",
        params=(("category", "spot"),),
        weight=1,
        purpose="instruments",
    )
    body = bb.instruments_body(
        [
            bb.instrument_entry(
                "BTCUSDT", "BTC", "USDT", tick_size="0.1", base_precision="0.000001"
            ),
            bb.instrument_entry("XBTUSDC", "XBT", "USDC"),
            bb.instrument_entry("NEWUSDT", "NEW", "USDT", status="PreLaunch"),
            bb.instrument_entry("OLDUSDT", "OLD", "USDT", status="Closed"),
        ]
    )
    instruments = parse_instruments(body)
    assert [(i.native, str(i.symbol)) for i in instruments] == [
        ("BTCUSDT", "BTC-USDT"),
        ("XBTUSDC", "BTC-USDC"),
    ]
    assert (instruments[0].tick_size, instruments[0].lot_size) == (0.1, 0.000001)
    assert all(i.venue is Venue.BYBIT for i in instruments)


@pytest.mark.parametrize(
    "body",
    [
        "",
        '{"retCode":10006,"retMsg":"Too many visits!","result":{"list":[]}}',
        '{"retCode":0,"result":{"list":{"symbol":"BTCUSDT"}}}',
        '{"retCode":0,"result":{"list":[{"symbol":"BTCUSDT","status":"Trading"}]}}',
        '{"retCode":0,"result":{"list":[{"symbol":"BTCUSDT","baseCoin":"BTC","quoteCoin":"USDT",'
        '"status":"Trading","priceFilter":{"tickSize":"x"}}]}}',
    ],
)
def test_parse_instruments_rejects_garbage(body: str) -> None:
    with pytest.raises(VenueProtocolError, match="Bybit instruments-info"):
        parse_instruments(body)


_bid = st.integers(1, 40).map(lambda i: f"{i}.25")
_ask = st.integers(41, 80).map(lambda i: f"{i}.25")
_size = st.sampled_from(["0", "0.001", "1", "3.5", "12"])


@settings(max_examples=60, deadline=None)
@given(
    snapshot_levels=st.tuples(
        st.lists(st.tuples(_bid, _size.filter(float)), max_size=10, unique_by=lambda lv: lv[0]),
        st.lists(st.tuples(_ask, _size.filter(float)), max_size=10, unique_by=lambda lv: lv[0]),
    ),
    deltas=st.lists(
        st.tuples(
            st.lists(st.tuples(_bid, _size), max_size=6),
            st.lists(st.tuples(_ask, _size), max_size=6),
        ),
        max_size=30,
    ),
)
def test_deltas_match_a_brute_force_model(snapshot_levels: tuple, deltas: list) -> None:
    proto = make()
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for model, side in zip((bids, asks), snapshot_levels, strict=True):
        model.update((float(p), float(s)) for p, s in side)
    proto.on_frame(bb.orderbook_frame("snapshot", "BTCUSDT", 1, *snapshot_levels), T0)
    for u, (bid_levels, ask_levels) in enumerate(deltas, start=2):
        proto.on_frame(bb.orderbook_frame("delta", "BTCUSDT", u, bid_levels, ask_levels), T0)
        for model, side in ((bids, bid_levels), (asks, ask_levels)):
            model.update((float(p), float(s)) for p, s in side)
    book = proto.books[BTC]
    assert book.bids.levels() == sorted(((p, s) for p, s in bids.items() if s), reverse=True)
    assert book.asks.levels() == sorted((p, s) for p, s in asks.items() if s)
    assert book.resyncs == 0
