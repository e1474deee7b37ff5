"""MEXC spot protocol: protobuf pushes, MEXC's snapshot + version-chain recipe, trades, answers."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.app.market import venue_sources
from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.settings import Settings
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.mexc import (
    DEALS_CHANNEL,
    DEPTH_CHANNEL,
    MexcProtocol,
    instruments_request,
    parse_instruments,
)
from tests.fakes import mexc_frames as mx

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
SNAP = mx.snapshot(1000, [("100.0", "1"), ("99.0", "2")], [("101.0", "1"), ("102.0", "2")])


def make(*symbols: Symbol) -> MexcProtocol:
    proto = MexcProtocol(SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]), depth=50)
    proto.subscribe(list(symbols or (BTC, ETH)), T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def push(proto: MexcProtocol, frame: bytes, now: float = T0) -> None:
    """As the driver does: the binary frame through decode_binary, then on_frame."""
    text = proto.decode_binary(frame)
    if text is not None:
        proto.on_frame(text, now)


def snapshot_request(proto: MexcProtocol, symbol: Symbol = BTC) -> RestRequest:
    (request,) = [r for r in proto.drain().requests if r.symbol == symbol]
    return request


def sync(proto: MexcProtocol) -> None:
    """BTC live at version 1000 (one buffered diff inside the snapshot)."""
    push(proto, mx.depth("BTCUSDT", 999, 1000, bids=[("100.0", "1")]))
    proto.on_rest(snapshot_request(proto), 200, SNAP, T0)
    assert proto.books[BTC].state is BookState.LIVE


def levels(proto: MexcProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def test_subscribes_depth_and_deals_channels_and_pings() -> None:
    proto = MexcProtocol(SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]))
    assert proto.ws_url() == "wss://wbs-api.mexc.com/ws"
    assert proto.integrity is Integrity.VERIFIED
    assert proto.max_symbols_per_connection == 30  # MEXC's cap per connection
    proto.subscribe([BTC, ETH], T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    proto.subscribe_trades([BTC], T0)
    proto.unsubscribe([ETH], T0)
    proto.on_timer(T0 + 20)
    assert [json.loads(f) for f in proto.drain().frames] == [
        {"method": "SUBSCRIPTION", "id": 1, "params": [
            "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT",
            "spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT"]},
        {"method": "SUBSCRIPTION", "id": 2,
         "params": ["spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"]},
        {"method": "UNSUBSCRIPTION", "id": 3,
         "params": ["spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT"]},
        {"method": "PING"},
    ]  # fmt: skip
    assert MexcProtocol.accepts_address("wss://wbs-api.mexc.com/ws")
    assert not MexcProtocol.accepts_address("wss://contract.mexc.com/edge")


def test_buffered_diffs_line_up_on_the_snapshot_as_mexc_describes() -> None:
    proto = make(BTC)
    push(proto, mx.depth("BTCUSDT", 990, 995, bids=[("98.0", "5")]))  # inside the snapshot
    push(proto, mx.depth("BTCUSDT", 996, 1002, asks=[("101.0", "0")]))  # straddles 1001
    push(proto, mx.depth("BTCUSDT", 1003, 1003, bids=[("100.5", "3")]))
    request = snapshot_request(proto)
    assert request.url == "https://api.mexc.com/api/v3/depth"
    assert request.params == (("symbol", "BTCUSDT"), ("limit", "5000"))
    assert proto.books[BTC].state is BookState.SYNCING
    proto.on_rest(request, 200, SNAP, T0)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.5, 3.0), (100.0, 1.0), (99.0, 2.0)], [(102.0, 2.0)])
    assert book.venue_ts == mx.SEND_TIME / 1000
    push(proto, mx.depth("BTCUSDT", 1004, 1005, bids=[("100.5", "0")], asks=[("101.5", "4")]))
    assert levels(proto) == ([(100.0, 1.0), (99.0, 2.0)], [(101.5, 4.0), (102.0, 2.0)])
    assert not proto.stats.errors


def test_a_snapshot_older_than_the_first_buffered_diff_is_fetched_again() -> None:
    proto = make(BTC)
    push(proto, mx.depth("BTCUSDT", 1001, 1001, bids=[("98.0", "5")]))
    request = snapshot_request(proto)
    proto.on_rest(request, 200, mx.snapshot(1000, [("100", "1")], [("101", "1")]), T0)
    assert proto.books[BTC].state is BookState.LIVE  # 1000 + 1 is the first diff: fine
    proto = make(BTC)
    push(proto, mx.depth("BTCUSDT", 1001, 1001, bids=[("98.0", "5")]))
    proto.on_rest(snapshot_request(proto), 200, mx.snapshot(999, [], []), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.skipped["snapshot_stale"] == 1
    assert snapshot_request(proto).purpose == "snapshot"  # asked again at once


def test_a_first_diff_that_does_not_straddle_the_snapshot_rebuilds() -> None:
    proto = make(BTC)
    push(proto, mx.depth("BTCUSDT", 990, 999))
    push(proto, mx.depth("BTCUSDT", 1002, 1004))  # 1001 was never pushed
    proto.on_rest(snapshot_request(proto), 200, SNAP, T0)
    book = proto.books[BTC]
    assert (book.state, book.resyncs) == (BookState.SYNCING, 1)
    assert proto.stats.errors == Counter({"snapshot_gap": 1})


def test_a_version_gap_on_a_live_book_rebuilds_that_book_only() -> None:
    proto = make()
    sync(proto)
    push(proto, mx.depth("ETHUSDT", 50, 50))
    proto.on_rest(
        snapshot_request(proto, ETH), 200, mx.snapshot(50, [("20", "1")], [("21", "1")]), T0
    )
    push(proto, mx.depth("BTCUSDT", 1001, 1001, bids=[("100.0", "4")]))
    push(proto, mx.depth("BTCUSDT", 1003, 1003, bids=[("99.0", "9")]))  # 1002 is lost
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs, len(btc.bids)) == (BookState.SYNCING, 1, 0)
    assert (eth.state, eth.resyncs) == (BookState.LIVE, 0)
    assert proto.stats.errors == Counter({"gap": 1})
    # Nothing is resubscribed: the diff that showed the gap starts the new buffer.
    produced = proto.drain()
    assert produced.frames == ()
    (request,) = produced.requests
    proto.on_rest(request, 200, mx.snapshot(1002, [("100", "4")], [("101", "1")]), T0)
    assert levels(proto) == ([(100.0, 4.0), (99.0, 9.0)], [(101.0, 1.0)])
    assert btc.state is BookState.LIVE


def test_unreadable_binary_frames_are_counted_and_touch_no_book() -> None:
    proto = make()
    sync(proto)
    good = mx.depth("BTCUSDT", 1001, 1001, bids=[("100.0", "2")])
    for frame in (b"\x0a\xff\x01", good[:-4], b"\xff" * 12):
        assert proto.decode_binary(frame) is None
    assert proto.stats.errors == Counter({"bad_protobuf": 3})
    push(proto, b"")  # decodes to an empty push: no channel, no body
    assert proto.stats.errors["unknown_frame"] == 1
    push(proto, good)
    assert levels(proto)[0][0] == (100.0, 2.0)
    assert proto.books[BTC].resyncs == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "invalid_json"),
        ("[1,2]", "not_an_object"),
        ('{"symbol":"BTCUSDT","publicAggreDepths":{"fromVersion":"x","toVersion":"1001"}}', "bad_field"),
        ('{"symbol":"BTCUSDT","publicAggreDepths":{"fromVersion":"1002","toVersion":"1001"}}', "bad_field"),
        ('{"symbol":"BTCUSDT","publicAggreDepths":{"bids":[1],"fromVersion":"1","toVersion":"2"}}', "bad_field"),
    ],
)  # fmt: skip
def test_bad_text_frames_are_counted(text: str, reason: str) -> None:
    proto = make()
    sync(proto)
    proto.on_frame(text, T0)
    assert proto.stats.errors == Counter({reason: 1})
    assert proto.books[BTC].state is BookState.LIVE


def test_a_bad_level_on_a_live_book_rebuilds_it() -> None:
    proto = make()
    sync(proto)
    push(proto, mx.depth("BTCUSDT", 1001, 1001, bids=[("100.0", "NaN")]))
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors == Counter({"bad_level": 1})


def test_answers_pong_and_refused_subscriptions() -> None:
    proto = make()
    proto.on_frame(mx.pong(), T0)
    proto.on_frame(mx.answer("spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"), T0)
    assert not proto.stats.errors
    refused = "Not Subscribed successfully! [spot@public.aggre.depth.v3.api.pb@100ms@XUSDT]."
    proto.on_frame(mx.answer(refused), T0)
    proto.on_frame(mx.answer("bad", code=400), T0)
    assert proto.stats.errors == Counter({"request_error": 2})
    push(proto, mx.book_ticker("BTCUSDT"))
    assert proto.stats.skipped["channel:public.aggre.bookTicker.v3.api.pb"] == 1
    proto.probe(T0)
    assert proto.drain().frames == ('{"method":"PING"}',)


def test_deals_become_trades_with_the_takers_side_when_asked_for() -> None:
    proto = make()
    rows = [("93220.00", "0.04438243", 2, 1736409765051), ("93221.5", "0.1", 1, 1736409765052)]
    push(proto, mx.deals("BTCUSDT", rows))
    assert proto.drain().trades == ()
    assert proto.stats.skipped["trade_unsubscribed"] == 1
    proto.subscribe_trades([BTC], T0)
    push(proto, mx.deals("BTCUSDT", [*rows, ("1", "1", 3, 1736409765053)]), T0 + 1)
    trades = proto.drain().trades
    assert [(t.price, t.size, t.side, t.venue_ts, t.recv_ts) for t in trades] == [
        (93220.0, 0.04438243, TakerSide.SELL, 1736409765.051, T0 + 1),
        (93221.5, 0.1, TakerSide.BUY, 1736409765.052, T0 + 1),
    ]
    assert proto.stats.errors == Counter({"bad_trade": 1})  # tradeType 3 is no side
    assert proto.books[BTC].state is BookState.SYNCING  # trades never touch a book


def test_polls_fill_a_book_that_is_not_live() -> None:
    proto = make(BTC)
    request = proto.poll_request(BTC)
    assert request is not None
    assert request.params == (("symbol", "BTCUSDT"), ("limit", "100"))
    assert request.purpose == "poll"
    proto.on_rest(request, 200, SNAP, T0)
    assert proto.books[BTC].state is BookState.POLLED
    assert levels(proto) == ([(100.0, 1.0), (99.0, 2.0)], [(101.0, 1.0), (102.0, 2.0)])


def test_online_symbols_with_tick_and_lot() -> None:
    body = mx.symbols_body(
        mx.symbol("BTCUSDT", "BTC", "USDT"),
        mx.symbol("ETHUSDC", "ETH", "USDC", status="ENABLED", price_dp=2, step="0"),
        mx.symbol("OLDUSDT", "OLD", "USDT", status="3"),
        mx.symbol("PAUSEDUSDT", "PAUSED", "USDT", status="2"),
    )
    request = instruments_request()
    assert request.url == "https://api.mexc.com/api/v3/exchangeInfo"
    got = {(str(i.symbol), i.native, i.tick_size, i.lot_size) for i in parse_instruments(body)}
    assert got == {("BTC-USDT", "BTCUSDT", 0.01, 0.000001), ("ETH-USDC", "ETHUSDC", 0.01, 1e-8)}
    assert all(i.venue is Venue.MEXC for i in parse_instruments(body))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("nope", "no 'symbols' list"),
        ('{"symbols": {}}', "not a list"),
        (mx.symbols_body({"symbol": "BTCUSDT", "status": "1"}), "entry 0 is malformed"),
        (mx.symbols_body(mx.symbol("BTCUSDT", "BTC", "USDT", price_dp=-1)), "entry 0"),
    ],
)
def test_a_bad_symbol_list_is_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(VenueProtocolError, match=reason):
        parse_instruments(body)


def test_native_by_default_and_still_readable_through_gomarket() -> None:
    assert venue_sources(Settings(_env_file=None))[Venue.MEXC] == "native"
    switched = Settings(
        _env_file=None,
        gomarket={"enabled": True},  # type: ignore[arg-type]
        venues={"mexc": {"taker_fee_pct": 0.05, "source": "gomarket"}},  # type: ignore[arg-type]
    )
    assert venue_sources(switched)[Venue.MEXC] == "gomarket"


Diff = tuple[int, int, list[tuple[str, str]], list[tuple[str, str]]]  # from, to, bids, asks


@st.composite
def diff_runs(draw: st.DrawFn) -> tuple[list[Diff], int, int, int]:
    """Chained diffs, how many arrive before the snapshot, and the snapshot's version (inside
    or at the edge of one of those); levels on a grid that never crosses."""
    level = st.tuples(st.integers(0, 9), st.sampled_from(["0", "1", "2.5", "7"]))
    diffs: list[Diff] = []
    version = draw(st.integers(1, 10**12))
    for _ in range(draw(st.integers(1, 12))):
        span = draw(st.integers(1, 3))
        bids = [(f"{90 + i}", q) for i, q in draw(st.lists(level, max_size=4))]
        asks = [(f"{101 + i}", q) for i, q in draw(st.lists(level, max_size=4))]
        diffs.append((version, version + span - 1, bids, asks))
        version += span
    early = draw(st.integers(1, len(diffs)))
    first_needed = draw(st.integers(0, early - 1))
    start, end = diffs[first_needed][:2]
    return diffs, early, first_needed, draw(st.integers(start - 1, end))


def brute_force(diffs: list[Diff]) -> tuple[dict[float, float], dict[float, float]]:
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for _, _, b, a in diffs:
        for side, rows in ((bids, b), (asks, a)):
            for price, qty in rows:
                if float(qty):
                    side[float(price)] = float(qty)
                else:
                    side.pop(float(price), None)
    return bids, asks


@settings(max_examples=150, deadline=None)
@given(run=diff_runs())
def test_any_snapshot_inside_the_buffer_gives_the_brute_force_book(
    run: tuple[list[Diff], int, int, int],
) -> None:
    diffs, early, first_needed, snap_version = run
    proto = make(BTC)
    for first, last, bids, asks in diffs[:early]:
        push(proto, mx.depth("BTCUSDT", first, last, bids, asks))
    # The snapshot holds every diff up to its version (one it ends inside is applied again).
    held = first_needed + 1 if snap_version == diffs[first_needed][1] else first_needed
    snap_bids, snap_asks = brute_force(diffs[:held])
    body = mx.snapshot(
        snap_version,
        [(str(p), str(q)) for p, q in snap_bids.items()],
        [(str(p), str(q)) for p, q in snap_asks.items()],
    )
    proto.on_rest(snapshot_request(proto), 200, body, T0)
    for first, last, bids, asks in diffs[early:]:
        push(proto, mx.depth("BTCUSDT", first, last, bids, asks))
    want_bids, want_asks = brute_force(diffs)
    book = proto.books[BTC]
    assert not proto.stats.errors
    assert (book.state, book.resyncs) == (BookState.LIVE, 0)
    assert book.bids.levels() == sorted(want_bids.items(), reverse=True)
    assert book.asks.levels() == sorted(want_asks.items())


def test_a_refused_channel_is_asked_for_again_later_while_it_is_wanted() -> None:
    proto = make()
    proto.subscribe_trades([ETH], T0)
    proto.drain()
    depth, deals = f"{DEPTH_CHANNEL}BTCUSDT", f"{DEALS_CHANNEL}ETHUSDT"
    refused = f"Not Subscribed successfully! [{depth},{deals}]. Reason: Blocked!"

    def subscriptions(now: float) -> list[str]:
        proto.on_timer(now)
        sent = [json.loads(f) for f in proto.drain().frames]
        return [p for f in sent if f.get("method") == "SUBSCRIPTION" for p in f["params"]]

    proto.on_frame(mx.answer(refused), T0)
    assert subscriptions(T0 + 29) == []
    assert sorted(subscriptions(T0 + 30)) == [deals, depth]
    proto.on_frame(mx.answer(refused), T0 + 31)  # refused again: twice the wait
    assert subscriptions(T0 + 90) == []
    assert sorted(subscriptions(T0 + 91)) == [deals, depth]
    proto.on_frame(mx.answer(depth), T0 + 92)  # the depth channel is accepted this time
    proto.unsubscribe_trades([ETH], T0 + 92)  # and the trades are no longer wanted
    proto.drain()
    assert subscriptions(T0 + 10_000) == []
    assert proto.stats.errors["request_error"] == 2
