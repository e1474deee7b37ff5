"""Bitfinex v2 protocol: conf flags, channels, sequence numbers, checksums, instruments."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.bitfinex import BitfinexProtocol, book_length
from goquant_bot.venues.bitfinex_rest import (
    bitfinex_checksum,
    instruments_request,
    js_number,
    parse_instruments,
)
from tests.fakes import bitfinex_frames as bf

BTC = Symbol("BTC", "USD")
ETH = Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
BTC_LEVELS = [("100.5", "2", "1.5"), ("100", "1", "0.25"), ("101", "1", "-2"), ("102", "3", "-0.1")]


def make(depth: int = 200) -> BitfinexProtocol:
    proto = BitfinexProtocol(SymbolMap([("tBTCUSD", BTC), ("tETHUST", ETH)]), depth=depth)
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.on_frame(bf.conf_ok(), T0)
    proto.on_frame(bf.subscribed(11, "tBTCUSD"), T0)
    proto.on_frame(bf.subscribed(12, "tETHUST"), T0)
    proto.drain()
    return proto


def sent(proto: BitfinexProtocol) -> list[dict]:
    out = [json.loads(f) for f in proto.drain().frames]
    return out


ETH_LEVELS = [("20", "1", "5"), ("21", "1", "-6")]


def live(proto: BitfinexProtocol, seq: int = 1) -> None:
    proto.on_frame(bf.snapshot(11, BTC_LEVELS, seq), T0)
    proto.on_frame(bf.checksum_frame(11, bf.book_checksum(BTC_LEVELS), seq + 1), T0)
    proto.on_frame(bf.snapshot(12, ETH_LEVELS, seq + 2), T0)
    proto.on_frame(bf.checksum_frame(12, bf.book_checksum(ETH_LEVELS), seq + 3), T0)
    proto.on_frame(bf.heartbeat(12, seq + 4), T0)  # the next message carries seq + 5


def levels(proto: BitfinexProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def test_conf_then_one_subscribe_per_book_and_unsubscribe_by_channel() -> None:
    proto = BitfinexProtocol(SymbolMap([("tBTCUSD", BTC), ("tETHUST", ETH)]), depth=50)
    assert proto.ws_url() == "wss://api-pub.bitfinex.com/ws/2"
    proto.subscribe([BTC, ETH], T0)
    assert proto.drain().frames == ()
    proto.on_open(T0)
    assert sent(proto) == [
        {"event": "conf", "flags": 65536 | 131072},
        {"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": "P0", "freq": "F0", "len": "100"},
        {"event": "subscribe", "channel": "book", "symbol": "tETHUST", "prec": "P0", "freq": "F0", "len": "100"},
    ]  # fmt: skip
    proto.on_frame(bf.subscribed(11, "tBTCUSD"), T0)
    proto.unsubscribe([BTC], T0)
    # ETH's subscription is unanswered: it is cancelled as soon as its channel id is known.
    proto.unsubscribe([ETH], T0)
    assert sent(proto) == [{"event": "unsubscribe", "chanId": 11}]
    proto.on_frame(bf.subscribed(12, "tETHUST"), T0)
    assert sent(proto) == [{"event": "unsubscribe", "chanId": 12}]
    assert (book_length(10), book_length(25), book_length(200), book_length(999)) == (
        25,
        25,
        250,
        250,
    )


def test_native_names_follow_the_venue_convention() -> None:
    proto = BitfinexProtocol(SymbolMap())
    assert proto.native_name(Symbol("ETH", "BTC")) == "tETHBTC"
    assert proto.native_name(Symbol("DOGE", "USD")) == "tDOGE:USD"
    assert not proto.is_spot_name("fUSD")
    assert not proto.is_spot_name("tBTCF0:USTF0")
    assert not proto.is_spot_name("tTESTBTC:TESTUSD")
    assert proto.is_spot_name("tBTCUST")


def test_snapshot_updates_and_a_matching_checksum_keep_the_book_live() -> None:
    proto = make()
    live(proto)
    btc = proto.books[BTC]
    assert btc.state is BookState.LIVE
    assert levels(proto) == ([(100.5, 1.5), (100.0, 0.25)], [(101.0, 2.0), (102.0, 0.1)])
    proto.drain()
    proto.on_frame(bf.update(11, ("100.5", "0", "1"), 6), T0 + 1)  # delete a bid
    proto.on_frame(bf.update(11, ("101.5", "2", "-3"), 7), T0 + 1)  # new ask
    proto.on_frame(bf.update(11, ("102", "0", "-1"), 8), T0 + 1)  # delete an ask
    # A batch is only published once its checksum says the book is whole and right.
    assert (proto.drain().changed, btc.updates) == (set(), 1)
    after = [("100", "1", "0.25"), ("101", "1", "-2"), ("101.5", "2", "-3")]
    proto.on_frame(bf.checksum_frame(11, bf.book_checksum(after), 9), T0 + 1)
    assert (proto.drain().changed, btc.updates) == ({BTC}, 2)
    # A heartbeat while a change waits for its checksum does not vouch for the book.
    proto.on_frame(bf.update(11, ("100", "2", "0.5"), 10), T0 + 2)
    proto.on_frame(bf.heartbeat(11, 11), T0 + 3)
    assert (btc.updates, btc.recv_ts) == (2, T0 + 1)
    assert levels(proto) == ([(100.0, 0.5)], [(101.0, 2.0), (101.5, 3.0)])
    assert (btc.state, btc.resyncs, btc.recv_ts) == (BookState.LIVE, 0, T0 + 1)
    assert not proto.stats.errors
    assert proto.drain().frames == ()


def test_checksum_mismatch_resyncs_that_book_only_on_a_new_channel() -> None:
    proto = make()
    live(proto)
    proto.on_frame(bf.update(11, ("100.4", "1", "1"), 6), T0)
    proto.on_frame(bf.checksum_frame(11, bf.book_checksum(BTC_LEVELS), 7), T0)  # stale
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs, len(btc.bids)) == (BookState.SYNCING, 1, 0)
    assert (eth.state, eth.resyncs) == (BookState.LIVE, 0)
    assert sent(proto) == [
        {"event": "unsubscribe", "chanId": 11},
        {"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": "P0", "freq": "F0", "len": "250"},
    ]  # fmt: skip
    # The old channel's last messages are ignored; the new one starts from its snapshot.
    proto.on_frame(bf.update(11, ("99", "1", "1"), 8), T0)
    proto.on_frame(bf.subscribed(13, "tBTCUSD"), T0)
    fresh = [("98", "1", "1"), ("99", "1", "-1")]
    proto.on_frame(bf.snapshot(13, fresh, 9), T0)
    assert btc.state is BookState.SYNCING  # until its checksum
    proto.on_frame(bf.checksum_frame(13, bf.book_checksum(fresh), 10), T0)
    assert (btc.state, levels(proto)) == (BookState.LIVE, ([(98.0, 1.0)], [(99.0, 1.0)]))
    assert proto.stats.errors == Counter({"checksum": 1})
    assert proto.stats.skipped["unknown_channel"] == 1


def test_a_sequence_gap_rebuilds_every_book_of_the_connection() -> None:
    proto = make()
    live(proto)
    proto.on_frame(bf.heartbeat(12, 6), T0)
    proto.on_frame(bf.update(11, ("100.4", "1", "1"), 8), T0)  # 7 was lost
    assert {s: b.state for s, b in proto.books.items()} == {
        BTC: BookState.SYNCING,
        ETH: BookState.SYNCING,
    }
    assert [f["event"] for f in sent(proto)] == ["unsubscribe", "subscribe"] * 2
    assert proto.stats.errors == Counter({"seq_gap": 2})
    # The chain goes on from the gap's number.
    proto.on_frame(bf.subscribed(21, "tBTCUSD"), T0)
    proto.on_frame(bf.snapshot(21, BTC_LEVELS, 9), T0)
    proto.on_frame(bf.checksum_frame(21, bf.book_checksum(BTC_LEVELS), 10), T0)
    assert proto.books[BTC].state is BookState.LIVE


def test_crossed_book_and_bad_level_resync() -> None:
    proto = make()
    live(proto)
    proto.on_frame(bf.update(11, ("101.5", "1", "1"), 6), T0)  # a bid above the best ask
    crossed = [*BTC_LEVELS, ("101.5", "1", "1")]
    proto.on_frame(bf.checksum_frame(11, bf.book_checksum(crossed), 7), T0)
    assert (proto.books[BTC].state, proto.books[BTC].resyncs) == (BookState.SYNCING, 1)
    proto.on_frame(bf.update(12, ("20", "0", "5"), 8), T0)  # count 0 needs amount +-1
    assert (proto.books[ETH].state, proto.books[ETH].resyncs) == (BookState.SYNCING, 1)
    assert proto.stats.errors == Counter({"crossed": 1, "bad_level": 1})


def test_heartbeat_refreshes_a_quiet_book_and_garbage_is_counted() -> None:
    proto = make()
    live(proto)
    proto.on_frame(bf.heartbeat(11, 6), T0 + 14)
    assert proto.books[BTC].recv_ts == T0 + 14
    proto.on_frame("not json", T0)
    proto.on_frame('{"event":"pong","cid":1}', T0)
    proto.on_frame("[11]", T0)
    assert proto.stats.errors == Counter({"bad_json": 1, "bad_shape": 1})
    assert proto.books[BTC].state is BookState.LIVE


def test_maintenance_pauses_books_and_its_end_resubscribes() -> None:
    proto = make()
    live(proto)
    proto.on_frame(bf.info(20060), T0)
    assert all(b.state is BookState.SYNCING for b in proto.books.values())
    proto.on_frame(bf.info(20061), T0)
    assert [f["event"] for f in sent(proto)] == ["unsubscribe", "subscribe"] * 2


def test_probe_and_poll_request() -> None:
    proto = make()
    proto.probe(T0)
    assert sent(proto) == [{"event": "ping", "cid": 1}]
    request = proto.poll_request(BTC)
    assert request is not None
    assert request.url == "https://api-pub.bitfinex.com/v2/book/tBTCUSD/P0"
    proto.on_rest(request, 200, "[[100,1,2],[101,2,-3]]", T0)
    assert proto.books[BTC].state is BookState.POLLED
    assert levels(proto) == ([(100.0, 2.0)], [(101.0, 3.0)])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100.0, "100"),
        (0.5, "0.5"),
        (-2.0, "-2"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (-1.5e-8, "-1.5e-8"),
        (1e21, "1e+21"),
        (1.2345e20, "123450000000000000000"),
        (7254.7, "7254.7"),
        (0.0, "0"),
    ],
)
def test_js_number_renders_like_javascript(value: float, text: str) -> None:
    assert js_number(value) == text


def _js_text(d: Decimal) -> str:
    """Brute-force JavaScript rendering of a positive decimal with few digits."""
    d = d.normalize()
    return format(d, "f") if d >= Decimal("1e-6") else format(d, "e")


decimals = st.builds(
    lambda m, s: Decimal(m).scaleb(-s), st.integers(1, 9_999_999), st.integers(0, 10)
)
# Ask offsets above the best bid: few digits, so that bid + offset stays exact as a double.
offsets = st.builds(lambda m, s: Decimal(m).scaleb(-s), st.integers(0, 99_999), st.integers(0, 4))


@settings(max_examples=60, deadline=None)
@given(
    bids=st.dictionaries(decimals, decimals, max_size=30),
    asks=st.dictionaries(offsets, decimals, max_size=30),
)
def test_checksum_equals_brute_force_over_the_wire_tokens(
    bids: dict[Decimal, Decimal], asks: dict[Decimal, Decimal]
) -> None:
    lift = int(max(bids, default=Decimal(0))) + 1  # asks above every bid: never crossed
    wire = [(_js_text(p), "1", _js_text(a)) for p, a in bids.items()]
    wire += [(_js_text(p + lift), "1", "-" + _js_text(a)) for p, a in asks.items()]
    expected = bf.book_checksum(wire)
    book_bids = sorted(((float(p), float(a)) for p, _, a in wire if a[0] != "-"), reverse=True)
    book_asks = sorted((float(p), -float(a)) for p, _, a in wire if a[0] == "-")
    assert bitfinex_checksum(book_bids[:25], book_asks[:25]) == expected
    proto = make()
    proto.on_frame(bf.snapshot(11, wire, 1), T0)
    proto.on_frame(bf.checksum_frame(11, expected, 2), T0)
    assert proto.books[BTC].resyncs == 0
    proto.on_frame(bf.checksum_frame(11, expected ^ 1, 3), T0)
    assert proto.books[BTC].resyncs == 1


def test_instruments_map_ust_and_skip_derivatives_and_test_pairs() -> None:
    request = instruments_request()
    assert request.url == "https://api-pub.bitfinex.com/v2/conf/pub:list:pair:exchange"
    assert request.venue is Venue.BITFINEX
    body = bf.pairs_body(["BTCUSD", "ETHUST", "DOGE:USD", "TESTBTC:TESTUSD", "BTCF0:USTF0", "X"])
    got = {(str(i.symbol), i.native, i.lot_size) for i in parse_instruments(body)}
    assert got == {
        ("BTC-USD", "tBTCUSD", 1e-8),
        ("ETH-USDT", "tETHUST", 1e-8),
        ("DOGE-USD", "tDOGE:USD", 1e-8),
    }
    for bad in ("{}", "[1]", "[[1]]", "nope"):
        with pytest.raises(VenueProtocolError):
            parse_instruments(bad)


def test_replay_mode_builds_books_from_subscribed_events_without_sequence_numbers() -> None:
    proto = BitfinexProtocol(SymbolMap(), track_all=True)
    proto.on_frame(bf.subscribed(5, "tETHUST"), T0)
    proto.on_frame(bf.subscribed(6, "tBTCF0:USTF0"), T0)
    proto.on_frame(bf.snapshot(5, [("20", "1", "5"), ("21", "1", "-6")], None), T0)
    proto.on_frame(bf.update(5, ("20.5", "1", "1"), None), T0)
    proto.on_frame(bf.snapshot(6, [("20", "1", "5")], None), T0)
    assert list(proto.books) == [ETH]
    assert levels(proto, ETH) == ([(20.5, 1.0), (20.0, 5.0)], [(21.0, 6.0)])
    assert proto.stats.skipped["not_spot"] == 1


def test_without_checksums_a_cross_in_the_middle_of_a_batch_waits_for_the_rest() -> None:
    proto = BitfinexProtocol(SymbolMap([("tBTCUSD", BTC)]))
    proto.subscribe([BTC], T0)
    proto.on_open(T0)
    proto.on_frame(bf.subscribed(11, "tBTCUSD"), T0)
    proto.on_frame(bf.snapshot(11, BTC_LEVELS, None), T0)
    btc = proto.books[BTC]
    assert btc.state is BookState.LIVE
    proto.drain()
    proto.on_frame(bf.update(11, ("101.5", "1", "3"), None), T0 + 1)  # the bid moves first
    assert (proto.drain().changed, btc.resyncs, btc.state) == (set(), 0, BookState.LIVE)
    proto.on_frame(bf.update(11, ("101", "0", "-1"), None), T0 + 1)  # then the ask it took
    assert (proto.drain().changed, btc.state, btc.l1().bid) == ({BTC}, BookState.LIVE, 101.5)
    proto.on_frame(bf.update(11, ("102", "1", "1"), None), T0 + 2)  # crossed again
    proto.on_frame(bf.heartbeat(11, None), T0 + 3)  # still crossed when the batch is over
    assert (btc.state, btc.resyncs) == (BookState.SYNCING, 1)
