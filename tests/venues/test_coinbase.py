"""Coinbase Advanced Trade protocol: subscriptions, snapshot and updates, sequence gaps, REST."""

from __future__ import annotations

import json

import pytest

from goquant_bot.domain.book import BookState, expire_stale
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.coinbase import CoinbaseProtocol
from goquant_bot.venues.coinbase_rest import parse_instruments, parse_iso_time
from tests.fakes import coinbase_frames as cb

BTC = Symbol("BTC", "USD")
ETH = Symbol("ETH", "USD")
T0 = 1_700_000_000.0
BIDS = [("100.00", "1"), ("99.50", "2")]
ASKS = [("100.50", "1"), ("101.00", "3")]


def make() -> CoinbaseProtocol:
    proto = CoinbaseProtocol(SymbolMap([("BTC-USD", BTC), ("ETH-USD", ETH)]))
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def levels(proto: CoinbaseProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def sent(proto: CoinbaseProtocol) -> list[dict]:
    out = [json.loads(f) for f in proto.drain().frames]
    return out


def test_open_subscribes_heartbeats_then_level2_in_batches() -> None:
    symbols = [Symbol(f"A{i}", "USD") for i in range(12)]
    proto = CoinbaseProtocol(SymbolMap())
    assert proto.ws_url() == "wss://advanced-trade-ws.coinbase.com"
    proto.subscribe(symbols, T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    frames = sent(proto)
    assert frames[0] == {"type": "subscribe", "channel": "heartbeats"}
    assert [f["channel"] for f in frames[1:]] == ["level2", "level2"]
    assert [len(f["product_ids"]) for f in frames[1:]] == [10, 2]
    assert frames[2]["product_ids"][-1] == "A11-USD"
    proto.unsubscribe([symbols[0]], T0)
    assert sent(proto) == [{"type": "unsubscribe", "product_ids": ["A0-USD"], "channel": "level2"}]


def test_snapshot_then_updates_build_the_book() -> None:
    proto = make()
    proto.on_frame(cb.subscriptions_frame(0, ["BTC-USD", "ETH-USD"]), T0)
    proto.on_frame(cb.l2_frame(1, "snapshot", "BTC-USD", BIDS, ASKS), T0)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    assert book.venue_ts == pytest.approx(cb.TS)
    assert proto.drain().changed == {BTC}
    update = cb.l2_frame(
        2,
        "update",
        "BTC-USD",
        [("100.00", "0"), ("99.80", "4")],
        [("100.20", "0.5"), ("101.00", "0")],
        timestamp="2023-02-09T20:32:51.5Z",
    )
    proto.on_frame(update, T0 + 1)
    assert levels(proto) == ([(99.8, 4.0), (99.5, 2.0)], [(100.2, 0.5), (100.5, 1.0)])
    assert (book.venue_ts, book.recv_ts, book.updates) == (1675974771.5, T0 + 1, 2)
    proto.on_frame(cb.heartbeat_frame(3), T0 + 2)
    assert proto.last_heartbeat == T0 + 2
    assert not proto.stats.errors
    assert proto.drain().frames == ()


def test_updates_before_the_snapshot_are_skipped() -> None:
    proto = make()
    proto.on_frame(cb.l2_frame(1, "update", "BTC-USD", [("99", "1")]), T0)
    book = proto.books[BTC]
    assert (book.state, len(book.bids)) == (BookState.SYNCING, 0)
    assert proto.stats.skipped["update_before_snapshot"] == 1
    assert not proto.stats.errors


def test_a_sequence_gap_resubscribes_every_book_of_the_connection() -> None:
    proto = make()
    proto.on_frame(cb.l2_frame(1, "snapshot", "BTC-USD", BIDS, ASKS), T0)
    proto.on_frame(cb.l2_frame(2, "snapshot", "ETH-USD", [("20", "1")], [("21", "1")]), T0)
    proto.on_frame(cb.l2_frame(4, "update", "BTC-USD", [("99", "1")]), T0 + 1)  # 3 was lost
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, eth.state) == (BookState.SYNCING, BookState.SYNCING)
    assert (btc.resyncs, eth.resyncs) == (1, 1)
    assert levels(proto) == ([], [])
    assert proto.stats.errors["seq_gap"] == 1
    assert sent(proto) == [
        {"type": "unsubscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "level2"},
        {"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "level2"},
    ]
    # The count goes on from the frame that showed the gap; new snapshots bring the books back.
    proto.on_frame(cb.l2_frame(5, "update", "ETH-USD", [("20", "2")]), T0 + 2)
    proto.on_frame(cb.l2_frame(6, "snapshot", "ETH-USD", [("20", "3")], [("21", "1")]), T0 + 2)
    assert eth.state is BookState.LIVE
    assert eth.bids.levels() == [(20.0, 3.0)]
    assert proto.stats.errors["seq_gap"] == 1


def test_a_heartbeat_counts_in_the_sequence_too() -> None:
    proto = make()
    proto.on_frame(cb.l2_frame(7, "snapshot", "BTC-USD", BIDS, ASKS), T0)
    proto.on_frame(cb.heartbeat_frame(8), T0 + 1)
    proto.on_frame(cb.l2_frame(9, "update", "BTC-USD", [("99", "1")]), T0 + 2)
    assert proto.books[BTC].state is BookState.LIVE
    proto.on_frame(cb.heartbeat_frame(11), T0 + 3)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["seq_gap"] == 1


def test_an_in_sequence_heartbeat_keeps_quiet_books_current() -> None:
    proto = make()
    proto.on_frame(cb.l2_frame(1, "snapshot", "BTC-USD", BIDS, ASKS), T0)
    book = proto.books[BTC]
    assert expire_stale([book], T0 + 11, 10.0) == [book]  # what the hub does to a quiet book
    proto.drain()
    proto.on_frame(cb.heartbeat_frame(2), T0 + 12)
    assert (book.state, book.recv_ts, book.updates) == (BookState.LIVE, T0 + 12, 1)
    assert proto.drain().changed == {BTC}
    assert proto.books[ETH].recv_ts is None  # never synced: nothing to confirm
    # After a lost message nothing is confirmed: the books are rebuilt instead.
    proto.on_frame(cb.heartbeat_frame(4), T0 + 13)
    assert (book.state, book.recv_ts) == (BookState.SYNCING, T0 + 12)


def test_a_crossed_book_resubscribes_that_book_only() -> None:
    proto = make()
    proto.on_frame(cb.l2_frame(1, "snapshot", "BTC-USD", BIDS, ASKS), T0)
    proto.on_frame(cb.l2_frame(2, "snapshot", "ETH-USD", [("20", "1")], [("21", "1")]), T0)
    proto.on_frame(cb.l2_frame(3, "update", "BTC-USD", [("100.60", "1")]), T0 + 1)
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs) == (BookState.SYNCING, 1)
    assert (eth.state, eth.resyncs) == (BookState.LIVE, 0)
    assert proto.stats.errors["crossed"] == 1
    assert sent(proto) == [
        {"type": "unsubscribe", "product_ids": ["BTC-USD"], "channel": "level2"},
        {"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"},
    ]


def test_bad_input_is_counted_and_never_corrupts_a_book() -> None:
    proto = make()
    proto.on_frame(cb.l2_frame(1, "snapshot", "BTC-USD", BIDS, ASKS), T0)
    proto.on_frame("{not json", T0)
    proto.on_frame("[1,2]", T0)
    proto.on_frame(cb.error_frame("rate limit exceeded"), T0)
    assert proto.books[BTC].state is BookState.LIVE
    proto.on_frame(cb.l2_frame(2, "update", "BTC-USD", [("abc", "1")]), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["invalid_json"] == 1
    assert proto.stats.errors["not_an_object"] == 1
    assert proto.stats.errors["venue_error"] == 1
    assert proto.stats.errors["bad_level"] == 1
    proto.on_frame(cb.l2_frame(3, "snapshot", "ETH-USD", [("1", "x")]), T0)
    assert proto.books[ETH].state is BookState.SYNCING
    assert proto.stats.errors["bad_level"] == 2


def test_other_channels_and_unknown_products_are_skipped() -> None:
    proto = make()
    ticker = json.dumps({"channel": "ticker", "sequence_num": 1, "events": []})
    proto.on_frame(ticker, T0)
    proto.on_frame(cb.l2_frame(2, "snapshot", "SOL-USD", BIDS, ASKS), T0)
    assert proto.stats.skipped["channel:ticker"] == 1
    assert proto.stats.skipped["unsubscribed"] == 1
    assert set(proto.books) == {BTC, ETH}


def test_replay_mode_builds_spot_books_only() -> None:
    proto = CoinbaseProtocol(SymbolMap(), track_all=True)
    proto.on_frame(cb.l2_frame(1, "snapshot", "SOL-USD", BIDS, ASKS), T0)
    proto.on_frame(cb.l2_frame(2, "snapshot", "BIT-27DEC24-CDE", BIDS, ASKS), T0)
    assert list(proto.books) == [Symbol("SOL", "USD")]


def test_poll_uses_the_public_product_book() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request is not None
    assert request.url == "https://api.coinbase.com/api/v3/brokerage/market/product_book"
    assert request.params == (("product_id", "BTC-USD"), ("limit", "200"))
    body = cb.product_book_body("BTC-USD", [("99.5", "2")], [("100.5", "1")])
    proto.on_rest(request, 200, body, T0 + 5)
    book = proto.books[BTC]
    assert book.state is BookState.POLLED
    assert levels(proto) == ([(99.5, 2.0)], [(100.5, 1.0)])
    assert book.venue_ts == pytest.approx(cb.TS)
    proto.on_rest(request, 200, "{}", T0 + 6)
    proto.on_rest(request, 503, "", T0 + 6)
    assert proto.stats.errors["poll_invalid"] == 1
    assert proto.stats.errors["poll_failed"] == 1
    assert book.state is BookState.POLLED


def test_addresses() -> None:
    assert CoinbaseProtocol.accepts_address("wss://advanced-trade-ws.coinbase.com")
    assert CoinbaseProtocol.accepts_address("wss://advanced-trade-ws.coinbase.com/")
    assert not CoinbaseProtocol.accepts_address("wss://advanced-trade-ws-user.coinbase.com")
    assert not CoinbaseProtocol.accepts_address("wss://ws-feed.exchange.coinbase.com")


def test_instruments_keep_online_spot_products_with_their_sizes() -> None:
    body = cb.products_body(
        [
            cb.product("BTC-USD", tick="0.01", lot="0.00000001"),
            cb.product("BTC-USDC", alias="BTC-USD"),  # the USD book under another name
            cb.product("ETH-USDT", tick="0.01", lot="0.0001"),
            cb.product("OLD-USD", status="delisted"),
            cb.product("HALT-USD", trading_disabled=True),
            cb.product("BIT-27DEC24-CDE", product_type="FUTURE"),
        ]
    )
    instruments = parse_instruments(body)
    assert [(str(i.symbol), i.native, i.tick_size, i.lot_size) for i in instruments] == [
        ("BTC-USD", "BTC-USD", 0.01, 1e-8),
        ("ETH-USDT", "ETH-USDT", 0.01, 0.0001),
    ]
    assert {i.venue for i in instruments} == {Venue.COINBASE}
    with pytest.raises(VenueProtocolError):
        parse_instruments('{"error":"unauthorized"}')
    with pytest.raises(VenueProtocolError):
        parse_instruments(cb.products_body([{"product_id": "BTC-USD", "status": "online"}]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-02-09T20:32:50.714964855Z", 1675974770.714964855),
        ("2023-02-09T20:32:50Z", 1675974770.0),
        ("2023-02-09T20:32:50.5+00:00", 1675974770.5),
    ],
)
def test_iso_times(text: str, expected: float) -> None:
    assert parse_iso_time(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "yesterday", "2023-02-09", "2023/02/09T20:32:50Z"])
def test_bad_iso_times_are_refused(text: str) -> None:
    with pytest.raises(VenueProtocolError):
        parse_iso_time(text)
