"""OKX v5 protocol: subscriptions, seqId chaining and its exceptions, checksum, REST bootstrap."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.okx import OkxProtocol
from goquant_bot.venues.okx_rest import instruments_request, okx_checksum, parse_instruments
from tests.fakes import okx_frames as ok

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
BIDS = [("100.0", "1"), ("99.5", "2")]
ASKS = [("100.5", "1"), ("101", "3")]


def make(depth: int = 200) -> OkxProtocol:
    proto = OkxProtocol(SymbolMap([("BTC-USDT", BTC), ("ETH-USDT", ETH)]), depth=depth)
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def live(
    proto: OkxProtocol, inst_id: str = "BTC-USDT", seq: int = 100, checksum: int | None = None
) -> None:
    proto.on_frame(ok.books_frame("snapshot", inst_id, BIDS, ASKS, seq, -1, checksum), T0)


def levels(proto: OkxProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def take_requests(proto: OkxProtocol) -> list[RestRequest]:
    out = list(proto.drain().requests)
    return out


def test_ws_url_and_subscribe_frames() -> None:
    proto = OkxProtocol(SymbolMap())
    assert proto.ws_url() == "wss://ws.okx.com:8443/ws/v5/public"
    assert OkxProtocol(SymbolMap(), ws_base="ws://127.0.0.1:1/ws/v5/public").ws_url() == (
        "ws://127.0.0.1:1/ws/v5/public"
    )
    proto.subscribe([BTC], T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    proto.subscribe([ETH], T0)
    proto.unsubscribe([BTC], T0)
    frames = proto.drain().frames
    assert [json.loads(f) for f in frames] == [
        {"id": "1", "op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]},
        {"id": "2", "op": "subscribe", "args": [{"channel": "books", "instId": "ETH-USDT"}]},
        {"id": "3", "op": "unsubscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]},
    ]
    assert frames[0] == ok.subscribe_request(["BTC-USDT"], "1")


def test_subscribe_is_split_by_the_per_request_limit() -> None:
    symbols = [Symbol(f"A{i}", "USDT") for i in range(45)]
    proto = OkxProtocol(SymbolMap())
    proto.subscribe(symbols, T0)
    proto.on_open(T0)
    frames = [json.loads(f) for f in proto.drain().frames]
    assert [len(f["args"]) for f in frames] == [20, 20, 5]
    assert frames[2]["args"][-1] == {"channel": "books", "instId": "A44-USDT"}


def test_snapshot_then_updates_build_the_book() -> None:
    proto = make()
    live(proto)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    assert book.venue_ts == 1597026383.085
    assert proto.drain().changed == {BTC}
    update = ok.books_frame(
        "update",
        "BTC-USDT",
        [("100.0", "0"), ("99.8", "4"), ("99.5", "2.5")],
        [("100.2", "0.5"), ("101", "0")],
        101,
        100,
        ts=1597026383185,
    )
    proto.on_frame(update, T0 + 1)
    assert levels(proto) == ([(99.8, 4.0), (99.5, 2.5)], [(100.2, 0.5), (100.5, 1.0)])
    l1 = book.l1()
    assert (l1.bid, l1.bid_size, l1.ask, l1.ask_size) == (99.8, 4.0, 100.2, 0.5)
    assert (l1.venue_ts, l1.recv_ts, l1.state) == (1597026383.185, T0 + 1, BookState.LIVE)
    assert not proto.stats.errors


def test_chain_break_resyncs_that_book_only() -> None:
    proto = make()
    live(proto, "BTC-USDT", 100)
    live(proto, "ETH-USDT", 500)
    eth_before = levels(proto, ETH)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 102, 101), T0 + 1)
    btc = proto.books[BTC]
    assert btc.state is BookState.SYNCING
    assert levels(proto) == ([], [])
    assert btc.resyncs == 1
    assert proto.stats.errors["seq_gap"] == 1
    # make() subscribed both books in request 1.
    assert [json.loads(f) for f in proto.drain().frames] == [
        {"id": "2", "op": "unsubscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]},
        {"id": "3", "op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]},
    ]
    eth = proto.books[ETH]
    assert eth.state is BookState.LIVE
    assert eth.resyncs == 0
    assert levels(proto, ETH) == eth_before
    proto.on_frame(ok.books_frame("update", "ETH-USDT", [("99.9", "7")], [], 501, 500), T0 + 2)
    assert eth.bids.best() == (100.0, 1.0)
    assert eth.bids.size_at(99.9) == 7.0
    # The resubscription's snapshot brings BTC back.
    live(proto, "BTC-USDT", 900)
    assert btc.state is BookState.LIVE
    assert levels(proto)[0] == [(100.0, 1.0), (99.5, 2.0)]


def test_keepalive_refreshes_the_book_without_resync() -> None:
    proto = make()
    live(proto)
    before = levels(proto)
    proto.on_frame(ok.keepalive_frame("BTC-USDT", 100, ts=1597026413085), T0 + 30)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert book.recv_ts == T0 + 30
    assert book.venue_ts == 1597026413.085
    assert levels(proto) == before
    assert book.resyncs == 0
    assert proto.drain().frames == ()
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 101, 100), T0 + 31)
    assert book.bids.size_at(99.0) == 1.0
    # A keep-alive must still chain: one that repeats an older seqId is a gap.
    proto.on_frame(ok.keepalive_frame("BTC-USDT", 100), T0 + 32)
    assert book.state is BookState.SYNCING
    assert proto.stats.errors["seq_gap"] == 1


def test_sequence_reset_after_maintenance_is_accepted() -> None:
    proto = make()
    live(proto, seq=15)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 3, 15), T0 + 1)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("98", "2")], [], 5, 3), T0 + 2)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert book.resyncs == 0
    assert levels(proto)[0] == [(100.0, 1.0), (99.5, 2.0), (99.0, 1.0), (98.0, 2.0)]
    # Chaining still applies after the reset.
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("97", "1")], [], 9, 4), T0 + 3)
    assert proto.stats.errors["seq_gap"] == 1


def test_checksum_matches_the_legacy_okx_examples() -> None:
    bids = [("3366.1", "7"), ("3366", "6")]
    assert okx_checksum(bids, [("3366.8", "9"), ("3368", "8")]) == -1881014294
    assert okx_checksum(bids[:1], [("3366.8", "9"), ("3368", "8"), ("3372", "8")]) == 831078360


def test_nonzero_checksum_is_validated_on_the_original_strings() -> None:
    proto = make()
    # Trailing zeros: only the strings as received reproduce the venue's checksum.
    bids, asks = [("100.10", "1.500"), ("99.50", "2")], [("100.50", "1.0")]
    proto.on_frame(ok.books_frame("snapshot", "BTC-USDT", bids, asks, 10, -1, "auto"), T0)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    after_bids = [("100.20", "0.25"), ("100.10", "1.500"), ("99.50", "2")]
    frame = ok.books_frame(
        "update", "BTC-USDT", [("100.20", "0.25")], [], 11, 10, "auto", book=(after_bids, asks)
    )
    proto.on_frame(frame, T0 + 1)
    assert book.state is BookState.LIVE
    assert book.bids.best() == (100.2, 0.25)
    # Zero means "not sent": nothing to check, the update applies.
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.50", "3")], [], 12, 11, 0), T0 + 2)
    assert book.state is BookState.LIVE
    assert book.bids.size_at(99.5) == 3.0
    assert not proto.stats.errors
    # A wrong non-zero checksum resyncs.
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 13, 12, 12345), T0 + 3)
    assert book.state is BookState.SYNCING
    assert book.resyncs == 1
    assert proto.stats.errors["checksum"] == 1
    assert [json.loads(f)["op"] for f in proto.drain().frames] == ["unsubscribe", "subscribe"]


def test_snapshot_with_a_wrong_checksum_resyncs() -> None:
    proto = make()
    proto.on_frame(ok.books_frame("snapshot", "BTC-USDT", BIDS, ASKS, 10, -1, 987654), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["checksum"] == 1


def test_crossed_book_resyncs() -> None:
    proto = make()
    live(proto)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("100.5", "1")], [], 101, 100), T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert book.resyncs == 1
    assert proto.stats.errors["crossed"] == 1
    assert levels(proto) == ([], [])


def test_updates_without_snapshot_bootstrap_from_a_rest_snapshot() -> None:
    proto = make()
    proto.on_frame(ok.subscribe_ack("BTC-USDT"), T0)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "1")], [], 11, 10, ts=1000), T0)
    (request,) = take_requests(proto)
    assert request.purpose == "snapshot"
    assert request.symbol == BTC
    assert request.url == "https://www.okx.com/api/v5/market/books"
    assert request.params == (("instId", "BTC-USDT"), ("sz", "400"))
    assert proto.books[BTC].state is BookState.SYNCING
    # Buffered while the request is out: no second request.
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "0")], [], 12, 11, ts=1100), T0)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [], [("100.6", "2")], 13, 12, ts=1200), T0)
    assert take_requests(proto) == []
    # The REST book is from between the 1st and 2nd update (no seqId): replay from ts 1100.
    body = ok.rest_books_body([("100.0", "1"), ("99.8", "1")], [("100.5", "1")], ts=1050)
    proto.on_rest(request, 200, body, T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 1.0)], [(100.5, 1.0), (100.6, 2.0)])
    assert book.venue_ts == 1.2
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99", "5")], [], 14, 13), T0 + 2)
    assert book.bids.size_at(99.0) == 5.0
    assert book.resyncs == 0


def test_rest_snapshot_with_seq_id_drops_the_updates_it_contains() -> None:
    proto = make()
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "1")], [], 11, 10), T0)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.7", "1")], [], 12, 11), T0)
    (request,) = take_requests(proto)
    body = ok.rest_books_body([("100.0", "1")], [("100.5", "1")], seq_id=11)
    proto.on_rest(request, 200, body, T0 + 1)
    assert levels(proto) == ([(100.0, 1.0), (99.7, 1.0)], [(100.5, 1.0)])
    assert proto.books[BTC].state is BookState.LIVE


def test_rest_snapshot_newer_than_every_buffered_update_is_not_rolled_back() -> None:
    proto = make()
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "1")], [], 11, 10, ts=1000), T0)
    (request,) = take_requests(proto)
    # 99.8 changed again after the buffered update; the snapshot already has the newer size.
    body = ok.rest_books_body([("100.0", "1"), ("99.8", "7")], [("100.5", "1")], ts=2000)
    proto.on_rest(request, 200, body, T0 + 1)
    assert levels(proto) == ([(100.0, 1.0), (99.8, 7.0)], [(100.5, 1.0)])
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "7")], [], 12, 11), T0 + 2)
    assert proto.books[BTC].state is BookState.LIVE
    assert proto.books[BTC].resyncs == 0


def test_rest_snapshot_older_than_the_buffer_is_requested_again() -> None:
    proto = make()
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "1")], [], 11, 10, ts=1000), T0)
    (request,) = take_requests(proto)
    proto.on_rest(request, 200, ok.rest_books_body(BIDS, ASKS, ts=900), T0 + 1)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.skipped["rest:snapshot_too_old"] == 1
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [], [], 12, 11, ts=1100), T0 + 1)
    assert [r.purpose for r in take_requests(proto)] == ["snapshot"]


def test_gap_among_buffered_updates_keeps_only_the_unbroken_run() -> None:
    proto = make()
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "1")], [], 11, 10, ts=1000), T0)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.7", "1")], [], 15, 14, ts=1400), T0)
    (request,) = take_requests(proto)
    # From before the gap (12..14 are lost): it cannot be patched up to seqId 15.
    proto.on_rest(request, 200, ok.rest_books_body(BIDS, ASKS, ts=1100), T0 + 1)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.skipped["rest:snapshot_too_old"] == 1


def test_failed_rest_snapshot_is_retried_after_a_backoff() -> None:
    proto = make()
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [], [], 11, 10), T0)
    (request,) = take_requests(proto)
    proto.on_rest(request, 500, "", T0)
    assert proto.stats.errors["rest:snapshot"] == 1
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [], [], 12, 11), T0 + 0.5)
    assert take_requests(proto) == []
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [], [], 13, 12), T0 + 1.0)
    (again,) = take_requests(proto)
    proto.on_rest(again, 200, ok.rest_error_body(), T0 + 1.0)
    assert proto.stats.errors["rest:snapshot"] == 2
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [], [], 14, 13), T0 + 2.5)
    assert take_requests(proto) == []  # the second failure doubled the wait to 2 s


def test_in_band_snapshot_wins_over_a_pending_rest_snapshot() -> None:
    proto = make()
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.8", "1")], [], 11, 10), T0)
    (request,) = take_requests(proto)
    live(proto, seq=12)
    proto.on_rest(request, 200, ok.rest_books_body([("1", "1")], [("2", "1")], seq_id=11), T0)
    assert levels(proto) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    assert proto.stats.skipped["rest:snapshot_unneeded"] == 1


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks"',
        "[1, 2, 3]",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":{"asks":[]}}',
        '{"arg":{"channel":"books","instId":7},"action":"update","data":[]}',
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[42]}',
        ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 101, 100).replace("101", '"101"'),
        ok.books_frame("update", "BTC-USDT", [("abc", "1")], [], 101, 100),
        ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 101, 100).replace('"99"', "null"),
        ok.books_frame("update", "BTC-USDT", [], [], 101, 100).replace('"asks":[]', '"asks":"x"'),
        ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 101, 100).replace(
            "update", "partial"
        ),
        ok.books_frame("update", "BTC-USDT", [("99", "1")], [], 101, 100).replace(
            '"ts":"', '"ts":"x'
        ),
        '{"unexpected":true}',
    ],
)
def test_garbage_is_counted_and_leaves_the_book_unchanged(text: str) -> None:
    proto = make()
    live(proto)
    before = levels(proto)
    proto.on_frame(text, T0 + 1)
    assert sum(proto.stats.errors.values()) == 1
    assert levels(proto) == before
    assert proto.books[BTC].state is BookState.LIVE
    assert proto.drain().frames == ()


def test_ping_when_idle_and_pong_is_not_a_bad_frame() -> None:
    proto = make()
    proto.on_timer(T0 + 24)
    assert proto.drain().frames == ()
    proto.on_timer(T0 + 25)
    assert proto.drain().frames == ("ping",)
    proto.on_frame("pong", T0 + 26)
    proto.on_timer(T0 + 50)
    assert proto.drain().frames == ()
    proto.on_timer(T0 + 51)
    assert proto.drain().frames == ("ping",)
    assert not proto.stats.errors
    proto.on_close(T0 + 52)
    proto.on_timer(T0 + 100)
    assert proto.drain().frames == ()


def test_events_acks_are_silent_and_errors_counted() -> None:
    proto = make()
    proto.on_frame(ok.subscribe_ack("BTC-USDT"), T0)
    proto.on_frame(ok.subscribe_ack("BTC-USDT", "unsubscribe"), T0)
    assert not proto.stats.errors
    proto.on_frame(ok.error_event("60012", "Invalid request"), T0)
    proto.on_frame(ok.error_event("60018"), T0)
    assert proto.stats.errors == {"venue_error:60012": 1, "venue_error:60018": 1}


@pytest.mark.parametrize("track_all", [False, True])
def test_non_spot_instruments_are_skipped(track_all: bool) -> None:
    proto = OkxProtocol(SymbolMap(), track_all=track_all)
    for inst_id in ("BTC-USDT-SWAP", "BTC-USD-240329", "BTC-USD-240329-60000-C"):
        proto.on_frame(ok.books_frame("snapshot", inst_id, BIDS, ASKS, 1, -1), T0)
    assert proto.stats.skipped["not_spot"] == 3
    assert proto.books == {}


def test_track_all_builds_books_for_unsubscribed_symbols() -> None:
    proto = OkxProtocol(SymbolMap(), track_all=True)
    proto.on_frame(ok.books_frame("snapshot", "SOL-USDC", BIDS, ASKS, 1, -1), T0)
    sol = Symbol("SOL", "USDC")
    assert proto.books[sol].state is BookState.LIVE
    assert proto.symbols.symbol("SOL-USDC") == sol
    assert OkxProtocol(SymbolMap()).book_for("SOL-USDC") is None
    untracked = make()
    untracked.on_frame(ok.books_frame("snapshot", "SOL-USDC", BIDS, ASKS, 1, -1), T0)
    assert untracked.stats.skipped["unsubscribed"] == 1


def test_other_channels_are_skipped() -> None:
    proto = make()
    frame = '{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT"}]}'
    proto.on_frame(frame, T0)
    assert proto.stats.skipped["channel:tickers"] == 1
    assert not proto.stats.errors


def test_poll_keeps_the_book_while_the_stream_is_down() -> None:
    proto = make(depth=50)
    request = proto.poll_request(BTC)
    assert request is not None
    assert (request.purpose, request.symbol) == ("poll", BTC)
    assert request.url == "https://www.okx.com/api/v5/market/books"
    assert request.params == (("instId", "BTC-USDT"), ("sz", "50"))
    live(proto)
    proto.on_rest(request, 200, ok.rest_books_body([("1", "1")], [("2", "1")]), T0)
    assert proto.stats.skipped["rest:poll_unneeded"] == 1  # LIVE from the stream
    proto.on_close(T0 + 1)
    assert proto.books[BTC].state is BookState.SYNCING
    body = ok.rest_books_body([("99.9", "2")], [("100.1", "3")], ts=1597026400000)
    proto.on_rest(request, 200, body, T0 + 2)
    book = proto.books[BTC]
    assert book.state is BookState.POLLED
    assert levels(proto) == ([(99.9, 2.0)], [(100.1, 3.0)])
    assert (book.recv_ts, book.venue_ts) == (T0 + 2, 1597026400.0)
    proto.on_rest(request, 200, "garbage", T0 + 3)
    assert proto.stats.errors["rest:poll"] == 1
    assert book.state is BookState.POLLED
    # Back online: the stream's snapshot replaces the polled book.
    proto.on_open(T0 + 4)
    live(proto)
    assert book.state is BookState.LIVE


@pytest.mark.parametrize(
    ("addr", "accepted"),
    [
        ("wss://ws.okx.com:8443/ws/v5/public", True),
        ("wss://wspap.okx.com:8443/ws/v5/public/", False),  # demo trading
        ("wss://wsaws.okx.com:8443/ws/v5/public/", True),
        ("ws://127.0.0.1:9000/ws/v5/public", True),
        ("wss://ws.okx.com:8443/ws/v5/business", False),
        ("wss://ws.okx.com:8443/ws/v5/private", False),
        ("wss://stream.bybit.com/v5/public/spot", False),
        ("wss://www.deribit.com/ws/api/v2", False),
    ],
)
def test_accepts_address(addr: str, accepted: bool) -> None:
    assert OkxProtocol.accepts_address(addr) is accepted


def test_instruments_request_and_parse() -> None:
    request = instruments_request()
    assert request.url == "https://www.okx.com/api/v5/public/instruments"
    assert (request.params, request.purpose) == ((("instType", "SPOT"),), "instruments")
    assert instruments_request("http://127.0.0.1:1").url.startswith("http://127.0.0.1:1/api/v5")
    body = ok.instruments_body(
        [
            ok.instrument("BTC-USDT", "BTC", "USDT", tick="0.1", lot="0.00000001"),
            ok.instrument("ETH-USDC", "ETH", "USDC", tick="0.01", lot="0.000001"),
            ok.instrument("OLD-USDT", "OLD", "USDT", state="suspend"),
            ok.instrument("NEW-USDT", "NEW", "USDT", state="preopen"),
            ok.instrument("BTC-USDT-SWAP", "", "", inst_type="SWAP"),
        ]
    )
    instruments = parse_instruments(body)
    assert [(i.venue, i.symbol, i.native) for i in instruments] == [
        (Venue.OKX, BTC, "BTC-USDT"),
        (Venue.OKX, Symbol("ETH", "USDC"), "ETH-USDC"),
    ]
    assert (instruments[0].tick_size, instruments[0].lot_size) == (0.1, 1e-08)
    assert all(i.trading and i.routed_to is None for i in instruments)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>502</html>", "not JSON"),
        ("[]", "JSON object"),
        ('{"code":"50011","msg":"Too Many Requests","data":[]}', "50011"),
        ('{"code":"0","msg":"","data":{}}', "'data' is not a list"),
        ('{"code":"0","msg":"","data":[{"instId":"BTC-USDT","state":"live"}]}', "entry 0"),
        ('{"code":"0","msg":"","data":["BTC-USDT"]}', "entry 0"),
    ],
)
def test_parse_instruments_rejects_garbage(body: str, message: str) -> None:
    with pytest.raises(VenueProtocolError, match=message):
        parse_instruments(body)


PRICES = st.integers(min_value=1, max_value=40)
SIZES = st.sampled_from(["0", "0.5", "1", "2.25", "10"])
SIDE_LEVELS = st.lists(st.tuples(PRICES, SIZES), max_size=8)
# A snapshot lists each price once, never with size 0.
SNAPSHOT_SIDE = st.dictionaries(PRICES, SIZES.filter(lambda s: s != "0"), max_size=12).map(
    lambda d: list(d.items())
)


@settings(max_examples=60, deadline=None)
@given(
    snapshot=st.tuples(SNAPSHOT_SIDE, SNAPSHOT_SIDE),
    updates=st.lists(st.tuples(SIDE_LEVELS, SIDE_LEVELS, st.booleans()), max_size=15),
)
def test_updates_match_a_brute_force_model(snapshot: tuple, updates: list) -> None:
    """Bids live at 1..40 and asks at 101..140 (never crossed); checksums ride along."""
    proto = make()
    model: tuple[dict[str, str], dict[str, str]] = ({}, {})

    def as_pairs(raw: list, offset: int) -> list[tuple[str, str]]:
        return [(f"{p + offset}.5", size) for p, size in raw]

    def apply(side: dict[str, str], pairs: list[tuple[str, str]]) -> None:
        for price, size in pairs:
            if size == "0":
                side.pop(price, None)
            else:
                side[price] = size

    def top() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        bids = sorted(model[0].items(), key=lambda kv: -float(kv[0]))
        asks = sorted(model[1].items(), key=lambda kv: float(kv[0]))
        return bids, asks

    bids, asks = as_pairs(snapshot[0], 0), as_pairs(snapshot[1], 100)
    apply(model[0], bids)
    apply(model[1], asks)
    proto.on_frame(
        ok.books_frame("snapshot", "BTC-USDT", bids, asks, 1, -1, "auto", book=top()), T0
    )
    for seq, (raw_bids, raw_asks, with_checksum) in enumerate(updates, start=2):
        bids, asks = as_pairs(raw_bids, 0), as_pairs(raw_asks, 100)
        apply(model[0], bids)
        apply(model[1], asks)
        checksum: int | Literal["auto"] = "auto" if with_checksum else 0
        frame = ok.books_frame("update", "BTC-USDT", bids, asks, seq, seq - 1, checksum, book=top())
        proto.on_frame(frame, T0 + seq)
    book = proto.books[BTC]
    want_bids, want_asks = top()
    assert book.bids.levels() == [(float(p), float(s)) for p, s in want_bids]
    assert book.asks.levels() == [(float(p), float(s)) for p, s in want_asks]
    assert book.resyncs == 0
    assert not proto.stats.errors


def test_a_late_update_after_resubscribing_never_builds_a_partial_book() -> None:
    proto = make()
    live(proto, seq=100)
    proto.unsubscribe([BTC], T0 + 1)
    proto.subscribe([BTC], T0 + 2)
    # Still in flight from the old subscription: it chains on the old sequence.
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [("99.5", "1")], [], 101, 100), T0 + 3)
    book = proto.books[BTC]
    assert book.state is not BookState.LIVE
    assert len(book.bids) == 0


def _seqless(action: str, bids: ok.Pairs, asks: ok.Pairs, *, book: tuple | None = None) -> str:
    """A ``books`` push as older gateways send it: no seqId/prevSeqId, a CRC32 checksum."""
    msg = ok.books_message(action, "BTC-USDT", bids, asks, 0, 0, "auto", book=book)
    for item in msg["data"]:
        del item["seqId"], item["prevSeqId"]
    return json.dumps(msg)


def test_books_without_sequence_ids_are_checked_by_checksum_alone() -> None:
    proto = make()
    bids, asks = [("100.10", "1.500"), ("99.50", "2")], [("100.50", "1.0")]
    proto.on_frame(_seqless("snapshot", bids, asks), T0)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    after = ([("100.20", "0.25"), ("100.10", "1.500"), ("99.50", "2")], asks)
    proto.on_frame(_seqless("update", [("100.20", "0.25")], [], book=after), T0 + 1)
    assert book.state is BookState.LIVE
    assert book.bids.best() == (100.2, 0.25)
    assert not proto.stats.errors
    assert proto.drain().requests == ()  # no REST bootstrap: the stream is usable as it is
    # An update whose checksum does not match the resulting book resyncs it.
    proto.on_frame(_seqless("update", [("99", "1")], [], book=after), T0 + 2)
    assert book.state is BookState.SYNCING
    assert proto.stats.errors["checksum"] == 1


def test_books_without_sequence_ids_or_checksum_are_refused() -> None:
    proto = make()
    msg = ok.books_message("snapshot", "BTC-USDT", BIDS, ASKS, 0, 0, None)
    del msg["data"][0]["seqId"], msg["data"][0]["prevSeqId"]
    proto.on_frame(json.dumps(msg), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["unverifiable_books"] == 1


def test_seqless_update_before_any_snapshot_is_skipped() -> None:
    proto = make()
    proto.on_frame(_seqless("update", BIDS, ASKS), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.skipped["update_before_snapshot"] == 1


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "nan", "inf"])
@pytest.mark.parametrize("field", ["price", "size"])
def test_non_finite_numbers_are_never_applied_and_resync_the_book(bad: str, field: str) -> None:
    proto = make()
    live(proto)
    level = (bad, "1") if field == "price" else ("99", bad)
    proto.on_frame(ok.books_frame("update", "BTC-USDT", [level], [], 101, 100), T0 + 1)
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert proto.stats.errors["non_finite"] == 1
    assert [json.loads(f)["op"] for f in proto.drain().frames] == ["unsubscribe", "subscribe"]
    # A snapshot with one is refused too.
    proto.on_frame(ok.books_frame("snapshot", "BTC-USDT", [level, *BIDS], ASKS, 200, -1), T0 + 2)
    assert book.state is BookState.SYNCING
    assert len(book.bids) == 0
