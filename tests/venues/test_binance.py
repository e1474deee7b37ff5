"""Binance spot protocol: subscriptions, the snapshot + diff sync recipe, integrity, garbage."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.binance import BinanceProtocol
from goquant_bot.venues.binance_rest import instruments_request, parse_instruments, snapshot_limit
from tests.fakes import binance_frames as bn

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
T0 = 1_700_000_000.0


def make(depth: int = 100, symbols: tuple[Symbol, ...] = (BTC, ETH)) -> BinanceProtocol:
    proto = BinanceProtocol(SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]), depth=depth)
    proto.subscribe(list(symbols), T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def take_requests(proto: BinanceProtocol) -> list[RestRequest]:
    out = list(proto.drain().requests)
    return out


def sync(proto: BinanceProtocol, native: str = "BTCUSDT", symbol: Symbol = BTC) -> None:
    """Bring a book LIVE: one diff, then a snapshot that contains it (last update id 1000)."""
    proto.on_frame(bn.depth_update(native, 1000, 1000, [], []), T0)
    (request,) = [r for r in take_requests(proto) if r.symbol == symbol]
    body = bn.snapshot_body(1000, [["100.0", "1"], ["99.0", "2"]], [["101.0", "1"], ["102.0", "2"]])
    proto.on_rest(request, 200, body, T0)
    assert proto.books[symbol].state is BookState.LIVE


def levels(proto: BinanceProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def test_ws_url_and_subscribe_frames() -> None:
    proto = BinanceProtocol(SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]))
    assert proto.ws_url() == "wss://stream.binance.com:9443/stream"
    proto.subscribe([BTC], T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    proto.subscribe([ETH], T0)
    proto.unsubscribe([BTC], T0)
    assert [json.loads(f) for f in proto.drain().frames] == [
        {"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1},
        {"method": "SUBSCRIBE", "params": ["ethusdt@depth@100ms"], "id": 2},
        {"method": "UNSUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 3},
    ]


def test_subscribe_is_split_by_the_per_request_limit() -> None:
    symbols = [Symbol(f"A{i}", "USDT") for i in range(120)]
    proto = BinanceProtocol(SymbolMap((f"A{i}USDT", s) for i, s in enumerate(symbols)))
    proto.subscribe(symbols, T0)
    proto.on_open(T0)
    frames = [json.loads(f) for f in proto.drain().frames]
    assert [len(f["params"]) for f in frames] == [50, 50, 20]
    assert [f["id"] for f in frames] == [1, 2, 3]
    assert frames[2]["params"][-1] == "a119usdt@depth@100ms"


@pytest.mark.parametrize(
    ("depth", "limit", "weight"),
    [(20, 100, 5), (100, 100, 5), (200, 500, 25), (1000, 1000, 50), (3000, 5000, 250)],
)
def test_first_diff_requests_the_smallest_sufficient_snapshot(
    depth: int, limit: int, weight: int
) -> None:
    assert snapshot_limit(depth) == (limit, weight)
    proto = make(depth=depth)
    proto.on_frame(bn.depth_update("BTCUSDT", 10, 12, [["100.0", "1"]], []), T0)
    assert take_requests(proto) == [
        RestRequest(
            venue=Venue.BINANCE,
            url="https://api.binance.com/api/v3/depth",
            params=(("symbol", "BTCUSDT"), ("limit", str(limit))),
            weight=weight,
            purpose="snapshot",
            symbol=BTC,
        )
    ]
    # Further diffs are buffered while the snapshot is in flight: no second request.
    proto.on_frame(bn.depth_update("BTCUSDT", 13, 14, [], []), T0 + 0.1)
    assert proto.drain().requests == ()
    assert proto.books[BTC].state is BookState.SYNCING


def test_snapshot_drops_stale_diffs_and_applies_the_rest() -> None:
    proto = make()
    proto.on_frame(bn.depth_update("BTCUSDT", 100, 102, [["99.0", "5"]], []), T0)
    (request,) = take_requests(proto)
    proto.on_frame(bn.depth_update("BTCUSDT", 103, 105, [["100.0", "3"]], [["101.0", "0"]]), T0)
    proto.on_frame(
        bn.depth_update("BTCUSDT", 106, 106, [["98.5", "7"]], [["103.0", "1"]], E=1672515783000),
        T0 + 0.2,
    )
    body = bn.snapshot_body(
        103,
        [["100.0", "1"], ["99.0", "2"], ["98.0", "3"]],
        [["101.0", "1"], ["102.0", "2"]],
    )
    proto.on_rest(request, 200, body, T0 + 0.3)
    bids, asks = levels(proto)
    # 100-102 is inside the snapshot (99.0 stays 2, not 5); 103-105 brackets 104; 106 follows.
    assert bids == [(100.0, 3.0), (99.0, 2.0), (98.5, 7.0), (98.0, 3.0)]
    assert asks == [(102.0, 2.0), (103.0, 1.0)]
    l1 = proto.books[BTC].l1()
    assert (l1.bid, l1.bid_size, l1.ask, l1.ask_size) == (100.0, 3.0, 102.0, 2.0)
    assert l1.state is BookState.LIVE
    assert l1.venue_ts == pytest.approx(1672515783.0)
    assert l1.recv_ts == T0 + 0.3
    assert BTC in proto.drain().changed
    # Live: the next diff must start right after u=106.
    proto.on_frame(bn.depth_update("BTCUSDT", 107, 108, [["100.0", "0"]], []), T0 + 0.4)
    assert proto.books[BTC].bids.best() == (99.0, 2.0)
    assert proto.books[BTC].resyncs == 0


def test_snapshot_older_than_first_buffered_diff_is_requested_again() -> None:
    proto = make()
    proto.on_frame(bn.depth_update("BTCUSDT", 200, 205, [["100.0", "1"]], []), T0)
    (request,) = take_requests(proto)
    # 199 < U=200: the documented rule is strict, so even an adjacent snapshot is refetched.
    proto.on_rest(request, 200, bn.snapshot_body(199, [["99.0", "1"]], [["101.0", "1"]]), T0 + 1)
    assert proto.books[BTC].state is BookState.SYNCING
    assert len(proto.books[BTC].bids) == 0
    assert take_requests(proto) == [request]  # fetched again at once
    proto.on_rest(request, 200, bn.snapshot_body(204, [["99.0", "1"]], [["101.0", "1"]]), T0 + 2)
    assert proto.books[BTC].state is BookState.LIVE
    assert levels(proto) == ([(100.0, 1.0), (99.0, 1.0)], [(101.0, 1.0)])


def test_first_remaining_diff_must_bracket_the_snapshot() -> None:
    proto = make()
    proto.on_frame(bn.depth_update("BTCUSDT", 200, 205, [], []), T0)
    (request,) = take_requests(proto)
    proto.on_frame(bn.depth_update("BTCUSDT", 210, 215, [["100.0", "1"]], []), T0)  # 206-209 lost
    proto.on_rest(request, 200, bn.snapshot_body(206, [["99.0", "1"]], [["101.0", "1"]]), T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert (len(book.bids), len(book.asks)) == (0, 0)
    assert proto.stats.errors["snapshot_gap"] == 1
    assert book.resyncs == 1
    proto.on_frame(bn.depth_update("BTCUSDT", 216, 216, [], []), T0 + 2)
    assert [r.purpose for r in take_requests(proto)] == ["snapshot"]


def test_snapshot_newer_than_every_buffered_diff_waits_for_a_bracketing_diff() -> None:
    proto = make()
    proto.on_frame(bn.depth_update("BTCUSDT", 200, 205, [["50.0", "9"]], []), T0)
    (request,) = take_requests(proto)
    proto.on_rest(request, 200, bn.snapshot_body(300, [["99.0", "1"]], [["101.0", "1"]]), T0 + 1)
    assert proto.books[BTC].state is BookState.LIVE
    assert levels(proto) == ([(99.0, 1.0)], [(101.0, 1.0)])
    proto.on_frame(bn.depth_update("BTCUSDT", 290, 300, [["98.0", "1"]], []), T0 + 2)
    assert proto.stats.skipped["stale_diff"] == 1  # already inside the snapshot
    proto.on_frame(bn.depth_update("BTCUSDT", 295, 303, [["98.0", "2"]], []), T0 + 3)
    proto.on_frame(bn.depth_update("BTCUSDT", 304, 304, [["97.0", "2"]], []), T0 + 4)
    assert levels(proto)[0] == [(99.0, 1.0), (98.0, 2.0), (97.0, 2.0)]
    assert proto.books[BTC].resyncs == 0


def test_gap_resyncs_that_book_only() -> None:
    proto = make()
    sync(proto, "BTCUSDT", BTC)
    sync(proto, "ETHUSDT", ETH)
    btc_before = levels(proto, BTC)
    proto.drain()
    proto.on_frame(bn.depth_update("ETHUSDT", 1005, 1006, [["100.5", "1"]], []), T0 + 1)  # gap
    eth = proto.books[ETH]
    assert eth.state is BookState.SYNCING
    assert (len(eth.bids), len(eth.asks)) == (0, 0)
    assert eth.resyncs == 1
    assert proto.stats.errors["gap"] == 1
    produced = proto.drain()
    assert produced.frames == ()  # Binance: no resubscribe, only a new snapshot
    (request,) = produced.requests
    assert (request.purpose, request.symbol) == ("snapshot", ETH)
    assert produced.changed == {ETH}
    # The other book on the same connection stays LIVE and untouched.
    assert proto.books[BTC].state is BookState.LIVE
    assert proto.books[BTC].resyncs == 0
    assert levels(proto, BTC) == btc_before
    proto.on_frame(bn.depth_update("BTCUSDT", 1001, 1001, [["100.0", "4"]], []), T0 + 1)
    assert proto.books[BTC].bids.best() == (100.0, 4.0)
    # The diff that showed the gap starts the new buffer: a snapshot at 1005 completes it.
    body = bn.snapshot_body(1005, [["100.0", "1"]], [["101.0", "1"]])
    proto.on_rest(request, 200, body, T0 + 2)
    assert eth.state is BookState.LIVE
    assert eth.bids.levels() == [(100.5, 1.0), (100.0, 1.0)]


def test_crossed_book_resyncs() -> None:
    proto = make()
    sync(proto)
    proto.on_frame(bn.depth_update("BTCUSDT", 1001, 1001, [["101.5", "1"]], []), T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert proto.stats.errors["crossed"] == 1
    assert (len(book.bids), len(book.asks)) == (0, 0)


GOOD = bn.depth_data("BTCUSDT", 1001, 1001, [["100.0", "5"]], [])


def _tampered(**changes: object) -> str:
    data = dict(GOOD)
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return bn.stream_frame(data)


@pytest.mark.parametrize(
    "text",
    [
        _tampered(b=[["abc", "1"]]),
        _tampered(a=[["101.0"]]),
        _tampered(b=[["NaN", "1"]]),
        _tampered(a=[["101.0", "Infinity"]]),
        _tampered(b=[["99.0", "nan"]]),
    ],
)
def test_unparseable_level_rebuilds_the_book(text: str) -> None:
    proto = make()
    sync(proto)
    proto.on_frame(text, T0 + 1)
    assert proto.stats.errors == {"bad_level": 1}
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert levels(proto) == ([], [])


def test_unparseable_level_is_never_buffered() -> None:
    proto = make()
    proto.on_frame(_tampered(b=[["abc", "1"]]), T0)
    assert proto.stats.errors == {"bad_level": 1}
    assert take_requests(proto) == []  # nothing buffered, no snapshot asked for


@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        bn.depth_update("BTCUSDT", 1001, 1001, [["100.0", "5"]], [])[:-7],  # truncated
        "[1, 2]",
        '{"stream":"btcusdt@depth@100ms","data":[1]}',
        _tampered(b="100.0"),
        _tampered(u=None),
        _tampered(U="1001"),
        _tampered(E=None),
    ],
    ids=[
        "text",
        "truncated",
        "array",
        "data-not-object",
        "levels-not-list",
        "missing-u",
        "U-string",
        "missing-E",
    ],
)
def test_garbage_is_counted_and_leaves_the_book_unchanged(text: str) -> None:
    proto = make()
    sync(proto)
    before = levels(proto)
    proto.on_frame(text, T0 + 1)
    assert sum(proto.stats.errors.values()) == 1
    assert levels(proto) == before
    assert proto.books[BTC].state is BookState.LIVE


def test_replies_and_other_streams() -> None:
    proto = make()
    proto.on_frame(bn.subscribe_ack(1), T0)
    assert sum(proto.stats.errors.values()) == 0
    proto.on_frame(bn.error_reply(2, 2, "Invalid request: unknown stream"), T0)
    proto.on_frame('{"code": 3, "msg": "Invalid JSON", "id": 3}', T0)
    assert proto.stats.errors["request_error"] == 2
    proto.on_frame(bn.book_ticker("BTCUSDT", 400900217, "25.35", "31.21", "25.36", "40.66"), T0)
    proto.on_frame(bn.depth_update("DOGEUSDT", 1, 1, [], []), T0)  # never subscribed
    assert sum(proto.stats.skipped.values()) == 2
    assert proto.drain().requests == ()


def test_failed_snapshot_is_not_applied_and_retried_with_backoff() -> None:
    proto = make()
    proto.on_frame(bn.depth_update("BTCUSDT", 100, 101, [["100.0", "1"]], []), T0)
    (request,) = take_requests(proto)
    proto.on_rest(request, 503, "<html>busy</html>", T0)
    assert proto.stats.errors["snapshot_failed"] == 1
    assert proto.books[BTC].state is BookState.SYNCING
    proto.on_frame(bn.depth_update("BTCUSDT", 102, 102, [], []), T0 + 0.5)
    proto.on_timer(T0 + 0.9)
    assert proto.drain().requests == ()  # back-off: 1 s
    proto.on_timer(T0 + 1.0)
    assert take_requests(proto) == [request]
    proto.on_rest(request, 200, '{"lastUpdateId": 101, "bids": [["1.0"', T0 + 1.1)  # cut body
    assert proto.stats.errors["snapshot_invalid"] == 1
    proto.on_timer(T0 + 2.5)
    assert proto.drain().requests == ()  # back-off doubled: 2 s
    proto.on_frame(bn.depth_update("BTCUSDT", 103, 103, [], []), T0 + 3.1)
    assert take_requests(proto) == [request]  # a later frame may re-emit it too
    proto.on_rest(request, 0, "", T0 + 3.2)  # transport failure
    assert proto.stats.errors["snapshot_failed"] == 2
    proto.on_timer(T0 + 7.2)
    (again,) = take_requests(proto)
    body = bn.snapshot_body(101, [["100.0", "2"]], [["101.0", "1"]])
    proto.on_rest(again, 200, body, T0 + 7.3)
    assert proto.books[BTC].state is BookState.LIVE
    assert levels(proto) == ([(100.0, 2.0)], [(101.0, 1.0)])


def test_unanswered_snapshot_request_is_sent_again_after_a_timeout() -> None:
    proto = make()
    proto.on_frame(bn.depth_update("BTCUSDT", 100, 101, [], []), T0)
    assert len(take_requests(proto)) == 1
    proto.on_timer(T0 + 5)
    assert proto.drain().requests == ()
    proto.on_timer(T0 + 15)
    assert len(take_requests(proto)) == 1


def test_buffer_is_bounded_and_keeps_the_newest_diffs() -> None:
    proto = make()
    for i in range(1, 2501):
        proto.on_frame(bn.depth_update("BTCUSDT", i, i, [], []), T0)
    (request,) = take_requests(proto)
    # Diffs 1-500 were dropped: a snapshot at 400 now predates the buffer.
    proto.on_rest(request, 200, bn.snapshot_body(400, [["99.0", "1"]], []), T0 + 1)
    assert proto.books[BTC].state is BookState.SYNCING
    assert take_requests(proto) == [request]
    proto.on_rest(request, 200, bn.snapshot_body(2400, [["99.0", "1"]], []), T0 + 2)
    assert proto.books[BTC].state is BookState.LIVE


def test_snapshot_after_disconnect_is_not_applied() -> None:
    proto = make()
    proto.on_frame(bn.depth_update("BTCUSDT", 100, 101, [], []), T0)
    (request,) = take_requests(proto)
    proto.on_close(T0 + 1)
    proto.on_rest(request, 200, bn.snapshot_body(101, [["99.0", "1"]], []), T0 + 2)
    assert proto.books[BTC].state is BookState.SYNCING
    assert len(proto.books[BTC].bids) == 0


def test_far_levels_are_trimmed_beyond_depth_plus_margin() -> None:
    proto = make(depth=10)
    sync(proto)
    u = 1000
    for i in range(60):
        u += 1
        bid, ask = f"{90.0 - i * 0.5:.1f}", f"{110.0 + i * 0.5:.1f}"
        proto.on_frame(bn.depth_update("BTCUSDT", u, u, [[bid, "1"]], [[ask, "1"]]), T0 + 1)
    book = proto.books[BTC]
    assert 10 <= len(book.bids) <= 30
    assert 10 <= len(book.asks) <= 30
    assert book.bids.levels(2) == [(100.0, 1.0), (99.0, 2.0)]
    assert book.asks.levels(2) == [(101.0, 1.0), (102.0, 2.0)]


def test_poll_keeps_the_book_while_the_stream_is_down() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request == RestRequest(
        venue=Venue.BINANCE,
        url="https://api.binance.com/api/v3/depth",
        params=(("symbol", "BTCUSDT"), ("limit", "100")),
        weight=5,
        purpose="poll",
        symbol=BTC,
    )
    body = bn.snapshot_body(5, [["100.0", "1"]], [["101.0", "2"]])
    proto.on_rest(request, 200, body, T0 + 5)
    book = proto.books[BTC]
    assert book.state is BookState.POLLED
    assert book.recv_ts == T0 + 5
    assert levels(proto) == ([(100.0, 1.0)], [(101.0, 2.0)])
    assert BTC in proto.drain().changed
    proto.on_rest(request, 500, "", T0 + 6)
    assert proto.stats.errors["poll_failed"] == 1
    assert book.state is BookState.POLLED
    # Once the stream is LIVE a late poll answer must not overwrite it.
    sync(proto)
    proto.on_rest(request, 200, bn.snapshot_body(5, [["90.0", "1"]], [["91.0", "1"]]), T0 + 7)
    assert book.state is BookState.LIVE
    assert book.bids.best() == (100.0, 1.0)


def test_track_all_builds_books_for_unsubscribed_symbols() -> None:
    proto = BinanceProtocol(SymbolMap(), track_all=True)
    proto.on_frame(bn.depth_update("SOLUSDC", 7, 8, [["150.0", "1"]], []), T0)
    sol = Symbol("SOL", "USDC")
    (request,) = take_requests(proto)
    assert request.params[0] == ("symbol", "SOLUSDC")
    proto.on_rest(request, 200, bn.snapshot_body(7, [], [["151.0", "1"]]), T0 + 1)
    assert proto.books[sol].state is BookState.LIVE
    assert proto.books[sol].l1().bid == 150.0


@pytest.mark.parametrize(
    ("addr", "ok"),
    [
        ("wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms", True),
        ("wss://stream.binance.com:443/ws", True),
        ("wss://data-stream.binance.vision/stream", True),
        ("stream.binance.com:9443/stream", True),
        ("wss://fstream.binance.com/stream", False),
        ("wss://dstream.binance.com/stream", False),
        ("wss://stream.bybit.com/v5/public/spot", False),
        ("wss://stream.binance.us:9443/stream", False),
    ],
)
def test_accepts_address(addr: str, ok: bool) -> None:
    assert BinanceProtocol.accepts_address(addr) is ok


def test_instruments_request_and_parse() -> None:
    assert instruments_request("http://127.0.0.1:8080") == RestRequest(
        venue=Venue.BINANCE,
        url="http://127.0.0.1:8080/api/v3/exchangeInfo",
        params=(),
        weight=20,
        purpose="instruments",
    )
    body = bn.exchange_info_body(
        [
            bn.symbol_entry("BTCUSDT", "BTC", "USDT"),
            bn.symbol_entry("ETHBTC", "ETH", "BTC", tick_size="0.00001000", step_size="0.0001"),
            bn.symbol_entry("LUNAUSDT", "LUNA", "USDT", status="BREAK"),
            bn.symbol_entry("币安人生USDT", "币安人生", "USDT"),  # no ASCII ticker: skipped
        ]
    )
    instruments = parse_instruments(body)
    assert [(i.native, str(i.symbol)) for i in instruments] == [
        ("BTCUSDT", "BTC-USDT"),
        ("ETHBTC", "ETH-BTC"),
    ]
    assert (instruments[0].tick_size, instruments[0].lot_size) == (0.01, 0.00001)
    assert (instruments[1].tick_size, instruments[1].lot_size) == (0.00001, 0.0001)
    assert all(i.venue is Venue.BINANCE and i.trading for i in instruments)


@pytest.mark.parametrize(
    "body",
    [
        "<html>502 Bad Gateway</html>",
        '{"code": -1003, "msg": "Too many requests"}',
        '{"symbols": {"BTCUSDT": {}}}',
        '{"symbols": [{"symbol": "BTCUSDT", "status": "TRADING"}]}',
    ],
)
def test_parse_instruments_rejects_garbage(body: str) -> None:
    with pytest.raises(VenueProtocolError, match="Binance exchangeInfo"):
        parse_instruments(body)


# Bids and asks on disjoint price grids, so no sequence can cross the book.
_bid = st.integers(1, 40).map(lambda i: f"{i}.5")
_ask = st.integers(41, 80).map(lambda i: f"{i}.5")
_size = st.sampled_from(["0", "0.5", "1", "2.25", "10"])
_side = st.lists(st.tuples(_bid, _size), max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    snapshot=st.tuples(
        st.lists(st.tuples(_bid, _size.filter(float)), max_size=10, unique_by=lambda lv: lv[0]),
        st.lists(st.tuples(_ask, _size.filter(float)), max_size=10, unique_by=lambda lv: lv[0]),
    ),
    diffs=st.lists(st.tuples(_side, st.lists(st.tuples(_ask, _size), max_size=6)), max_size=30),
)
def test_diffs_match_a_brute_force_model(snapshot: tuple, diffs: list) -> None:
    proto = make(depth=1000)
    proto.on_frame(bn.depth_update("BTCUSDT", 1, 1, [], []), T0)
    (request,) = take_requests(proto)
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for model, side in ((bids, snapshot[0]), (asks, snapshot[1])):
        for price, size in side:
            model[float(price)] = float(size)
    proto.on_rest(request, 200, bn.snapshot_body(1, snapshot[0], snapshot[1]), T0)
    for u, (bid_levels, ask_levels) in enumerate(diffs, start=2):
        proto.on_frame(bn.depth_update("BTCUSDT", u, u, bid_levels, ask_levels), T0)
        for model, side in ((bids, bid_levels), (asks, ask_levels)):
            for price, size in side:
                model[float(price)] = float(size)
    book = proto.books[BTC]
    assert book.bids.levels() == sorted(((p, s) for p, s in bids.items() if s), reverse=True)
    assert book.asks.levels() == sorted((p, s) for p, s in asks.items() if s)
    assert book.resyncs == 0
