"""Bitget v2 protocol: subscriptions, snapshot then updates, the top-25 checksum, trades,
keep-alive and the symbol list."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState, Integrity, expire_stale
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.bitget import BitgetProtocol, instruments_request, parse_instruments
from tests.fakes import bitget_frames as bg

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
BIDS = [("100.0", "1"), ("99.5", "2")]
ASKS = [("100.5", "1"), ("101", "3")]


def make() -> BitgetProtocol:
    proto = BitgetProtocol(SymbolMap([("BTCUSDT", BTC), ("ETHUSDT", ETH)]))
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def levels(proto: BitgetProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def test_subscribes_books_and_trades_of_spot_pairs() -> None:
    proto = BitgetProtocol(SymbolMap([("BTCUSDT", BTC)]))
    assert proto.ws_url() == "wss://ws.bitget.com/v2/ws/public"
    proto.subscribe([BTC], T0)
    proto.subscribe_trades([BTC], T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    frames = [json.loads(f) for f in proto.drain().frames]
    assert frames == [
        {
            "op": "subscribe",
            "args": [{"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}],
        },
        {
            "op": "subscribe",
            "args": [{"instType": "SPOT", "channel": "trade", "instId": "BTCUSDT"}],
        },
    ]
    proto.unsubscribe([BTC], T0)
    (frame,) = proto.drain().frames
    assert json.loads(frame)["op"] == "unsubscribe"


def test_accepts_the_public_endpoint_only() -> None:
    assert BitgetProtocol.accepts_address("wss://ws.bitget.com/v2/ws/public")
    assert not BitgetProtocol.accepts_address("wss://ws.bitget.com/v2/ws/private")
    assert not BitgetProtocol.accepts_address("wss://ws.okx.com:8443/ws/v5/public")


def test_snapshot_then_updates_build_the_book() -> None:
    proto = make()
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", BIDS, ASKS), T0)
    assert proto.books[BTC].state is BookState.LIVE
    after = ([("100.2", "4"), ("99.5", "2")], [("101", "5")])
    update = bg.books_frame(
        "update", "BTCUSDT", [("100.2", "4"), ("100.0", "0")], [("100.5", "0"), ("101", "5")],
        book=after,
    )  # fmt: skip
    proto.on_frame(update, T0 + 1)
    assert levels(proto) == ([(100.2, 4.0), (99.5, 2.0)], [(101.0, 5.0)])
    book = proto.books[BTC]
    assert (book.state, book.updates, book.resyncs, book.venue_ts) == (
        BookState.LIVE, 2, 0, bg.TS / 1000,
    )  # fmt: skip
    assert proto.drain().changed == {BTC}
    assert not proto.stats.errors


def test_a_checksum_mismatch_resubscribes_that_book_only() -> None:
    proto = make()
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", BIDS, ASKS), T0)
    proto.on_frame(bg.books_frame("snapshot", "ETHUSDT", BIDS, ASKS), T0)
    proto.drain()
    # The message before this one was lost: the venue's book has a bid the client never saw.
    venue_book = ([("100.0", "1"), ("99.7", "1"), ("99.5", "2")], [("100.5", "2"), ("101", "3")])
    proto.on_frame(bg.books_frame("update", "BTCUSDT", [], [("100.5", "2")], book=venue_book), T0)
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs, len(btc.bids)) == (BookState.SYNCING, 1, 0)
    assert (eth.state, eth.resyncs) == (BookState.LIVE, 0)
    assert proto.stats.errors["checksum"] == 1
    frames = [json.loads(f) for f in proto.drain().frames]
    assert [(f["op"], f["args"][0]["instId"]) for f in frames] == [
        ("unsubscribe", "BTCUSDT"), ("subscribe", "BTCUSDT"),
    ]  # fmt: skip
    # Updates still in flight for the old subscription wait for the new snapshot.
    proto.on_frame(bg.books_frame("update", "BTCUSDT", [("99", "1")], [], checksum=0), T0)
    assert btc.state is BookState.SYNCING
    assert proto.stats.skipped["update_before_snapshot"] == 1
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", *venue_book), T0 + 1)
    assert (btc.state, btc.bids.best()) == (BookState.LIVE, (100.0, 1.0))


def test_the_checksum_hashes_the_venues_own_strings_and_takes_it_signed_or_not() -> None:
    proto = make()
    bids, asks = [("100.10", "1.500")], [("100.20", "0.0100")]
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", bids, asks), T0)
    assert proto.books[BTC].state is BookState.LIVE
    # The same book hashed from float renderings ("100.1", "1.5") is not the venue's checksum.
    rendered = bg.checksum_of([("100.1", "1.5")], [("100.2", "0.01")])
    proto.on_frame(bg.books_frame("snapshot", "ETHUSDT", bids, asks, checksum=rendered), T0)
    assert proto.books[ETH].resyncs == 1
    # A checksum at or above 2**31 is accepted whether printed signed or unsigned.
    size = next(
        str(n)
        for n in range(1, 500)
        if bg.checksum_of(bids, [("100.20", str(n))], signed=False) >= 2**31
    )
    unsigned = bg.checksum_of(bids, [("100.20", size)], signed=False)
    signed = bg.checksum_of(bids, [("100.20", size)])
    assert signed < 0 < unsigned
    for checksum in (signed, unsigned):
        proto.on_frame(
            bg.books_frame("update", "BTCUSDT", [], [("100.20", size)], checksum=checksum), T0
        )
    assert (proto.books[BTC].resyncs, proto.books[BTC].updates) == (0, 3)


def test_only_the_best_25_levels_are_hashed() -> None:
    proto = make()
    bids = [(f"{100 - i}", "1") for i in range(30)]
    asks = [(f"{101 + i}", "1") for i in range(30)]
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", bids, asks), T0)
    # A change at level 28 leaves the checksum as it was; removing the best bid brings the
    # 26th into the window.
    changed = [(p, "5" if p == "72" else s) for p, s in bids]
    assert bg.checksum_of(changed, asks) == bg.checksum_of(bids, asks)
    proto.on_frame(bg.books_frame("update", "BTCUSDT", [("72", "5")], [], book=(changed, asks)), T0)
    after = (changed[1:], asks)
    proto.on_frame(bg.books_frame("update", "BTCUSDT", [("100", "0")], [], book=after), T0)
    book = proto.books[BTC]
    assert (book.state, book.resyncs, book.bids.best()) == (BookState.LIVE, 0, (99.0, 1.0))


def test_bad_frames_are_counted_and_leave_the_books_alone() -> None:
    proto = make()
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", BIDS, ASKS), T0)
    proto.on_frame("pong", T0)
    proto.on_frame("{not json", T0)
    proto.on_frame('{"action":"update","arg":{"channel":"books"},"data":[]}', T0)
    no_checksum = json.loads(bg.books_frame("update", "BTCUSDT", [("99", "1")], []))
    del no_checksum["data"][0]["checksum"]
    proto.on_frame(json.dumps(no_checksum), T0)
    proto.on_frame(bg.books_frame("update", "BTCUSDT", [("abc", "1")], []), T0)
    proto.on_frame(bg.books_frame("partial", "BTCUSDT", [], []), T0)
    proto.on_frame(bg.error_event(), T0)
    proto.on_frame(bg.subscribe_ack("BTCUSDT"), T0)
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", BIDS, ASKS, inst_type="USDT-FUTURES"), T0)
    assert dict(proto.stats.errors) == {
        "bad_json": 1, "bad_shape": 1, "bad_books": 2, "bad_action": 1, "venue_error:30001": 1,
    }  # fmt: skip
    assert proto.stats.skipped["not_spot"] == 1
    assert levels(proto) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    assert proto.books[BTC].resyncs == 0
    proto.on_frame(bg.books_frame("update", "BTCUSDT", [("99", "NaN")], [], checksum=0), T0)
    assert (proto.books[BTC].resyncs, proto.stats.errors["non_finite"]) == (1, 1)


def test_pings_every_25_seconds_even_while_data_flows() -> None:
    proto = make()
    for second in range(0, 60, 5):
        proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", BIDS, ASKS), T0 + second)
        proto.on_timer(T0 + second)
    proto.on_timer(T0 + 60)
    assert proto.drain().frames == ("ping", "ping")


def test_trades_of_the_first_push_and_later_ones_are_read() -> None:
    proto = make()
    proto.subscribe_trades([BTC], T0)
    proto.drain()
    proto.on_frame(bg.trade_frame("BTCUSDT", [("100.5", "0.2", "buy")], action="snapshot"), T0)
    proto.on_frame(bg.trade_frame("BTCUSDT", [("100.4", "1", "sell"), ("1", "0", "buy")]), T0)
    proto.on_frame(bg.trade_frame("ETHUSDT", [("20", "1", "buy")]), T0)  # not asked for
    trades = proto.drain().trades
    assert [(t.price, t.size, t.side, t.trade_id) for t in trades] == [
        (100.5, 0.2, TakerSide.BUY, "1000"), (100.4, 1.0, TakerSide.SELL, "1000"),
    ]  # fmt: skip
    assert trades[0].venue_ts == bg.TS / 1000
    assert proto.stats.errors["bad_trade"] == 1
    assert proto.stats.skipped["trade_unsubscribed"] == 1


def test_symbols_online_only_with_ticks_from_precisions() -> None:
    request = instruments_request(None)
    assert request.url == "https://api.bitget.com/api/v2/spot/public/symbols"
    body = bg.symbols_body(
        bg.symbol("BTCUSDT", "BTC", "USDT", price_dp="2", qty_dp="6"),
        bg.symbol("ETHUSDC", "ETH", "USDC", price_dp="0", qty_dp="4"),
        bg.symbol("OLDUSDT", "OLD", "USDT", status="offline"),
        bg.symbol("HALTUSDT", "HALT", "USDT", status="halt"),
    )
    parsed = {
        str(i.symbol): (i.venue, i.native, i.tick_size, i.lot_size) for i in parse_instruments(body)
    }
    assert parsed == {
        "BTC-USDT": (Venue.BITGET, "BTCUSDT", 0.01, 0.000001),
        "ETH-USDC": (Venue.BITGET, "ETHUSDC", 1.0, 0.0001),
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<html>", "not JSON"),
        ('{"code":"40034","msg":"Parameter does not exist","data":null}', "40034"),
        (bg.symbols_body({"symbol": "BTCUSDT", "status": "online"}), "entry 0 is malformed"),
        (bg.symbols_body(bg.symbol("BTCUSDT", "BTC", "USDT", price_dp="-1")), "entry 0"),
    ],
)
def test_a_bad_symbol_list_is_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(VenueProtocolError, match=reason):
        parse_instruments(body)


# -- the checksum against a brute-force rendering of the whole book ---------------------------

PRICES = st.integers(min_value=1, max_value=60)
SIZES = st.sampled_from(["0", "1", "0.5", "2.50", "10", "0.0300"])
SIDE_OPS = st.lists(st.tuples(PRICES, SIZES), max_size=8)


def _render(side: dict[int, str], bids: bool) -> list[tuple[str, str]]:
    """Brute force: the whole side sorted best first, each price as the venue wrote it."""
    prices = sorted(side, reverse=bids)
    return [(str(Decimal(p) / 10 + (0 if bids else 10)), side[p]) for p in prices]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(SIDE_OPS, SIDE_OPS), min_size=1, max_size=12))
def test_random_updates_never_resync_and_match_a_brute_force_book(ops: list) -> None:
    proto = make()
    bids: dict[int, str] = {5: "1"}
    asks: dict[int, str] = {5: "1"}
    proto.on_frame(
        bg.books_frame("snapshot", "BTCUSDT", _render(bids, True), _render(asks, False)), T0
    )
    for bid_ops, ask_ops in ops:
        for side, side_ops in ((bids, bid_ops), (asks, ask_ops)):
            for price, size in side_ops:
                if Decimal(size) == 0:
                    side.pop(price, None)
                else:
                    side[price] = size
        wire_bids = [(str(Decimal(p) / 10), s) for p, s in bid_ops]
        wire_asks = [(str(Decimal(p) / 10 + 10), s) for p, s in ask_ops]
        after = (_render(bids, True), _render(asks, False))
        proto.on_frame(bg.books_frame("update", "BTCUSDT", wire_bids, wire_asks, book=after), T0)
        assert proto.books[BTC].resyncs == 0
        assert levels(proto) == (
            [(float(p), float(s)) for p, s in after[0]],
            [(float(p), float(s)) for p, s in after[1]],
        )


def test_a_poll_keeps_the_book_while_the_stream_is_down() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request == RestRequest(
        venue=Venue.BITGET,
        url="https://api.bitget.com/api/v2/spot/market/orderbook",
        params=(("symbol", "BTCUSDT"), ("type", "step0"), ("limit", "150")),
        weight=1,
        purpose="poll",
        symbol=BTC,
    )
    assert request is not None
    proto.on_rest(request, 200, bg.orderbook_body(BIDS, ASKS), T0 + 5)
    book = proto.books[BTC]
    assert (book.state, book.trust, book.recv_ts) == (BookState.POLLED, Integrity.SNAPSHOT, T0 + 5)
    assert book.venue_ts == bg.TS / 1000
    assert levels(proto) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    error = '{"code":"40034","msg":"Parameter symbol does not exist","data":null}'
    nan = bg.orderbook_body([("NaN", "1")], ASKS)
    for body in (error, nan, "<html>", '{"code":"00000","data":{"bids":[]}}'):
        proto.on_rest(request, 200, body, T0 + 6)
    proto.on_rest(request, 429, '{"code":"429","msg":"Too Many Requests"}', T0 + 7)
    assert (proto.stats.errors["poll_invalid"], proto.stats.errors["poll_failed"]) == (4, 1)
    assert levels(proto)[0][0] == (100.0, 1.0)
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", [("90", "1")], [("91", "1")]), T0 + 8)
    proto.on_rest(request, 200, bg.orderbook_body(BIDS, ASKS), T0 + 9)  # late: the stream is back
    assert proto.stats.skipped["poll_while_live"] == 1
    assert levels(proto) == ([(90.0, 1.0)], [(91.0, 1.0)])


def test_updates_never_apply_to_a_polled_book() -> None:
    proto = make()
    proto.on_frame(bg.books_frame("snapshot", "BTCUSDT", BIDS, ASKS), T0)
    book = proto.books[BTC]
    assert expire_stale([book], T0 + 60, 30.0) == [book]  # the stream went quiet
    request = proto.poll_request(BTC)
    assert request is not None
    proto.on_rest(request, 200, bg.orderbook_body([("99", "1")], [("102", "1")]), T0 + 61)
    after = ([("100.2", "4"), ("100.0", "1"), ("99.5", "2")], ASKS)
    proto.on_frame(bg.books_frame("update", "BTCUSDT", [("100.2", "4")], [], book=after), T0 + 62)
    assert proto.stats.skipped["update_before_snapshot"] == 1
    assert (book.state, levels(proto)) == (BookState.POLLED, ([(99.0, 1.0)], [(102.0, 1.0)]))


def test_a_poll_stamped_with_digits_int_cannot_read_has_no_venue_time() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request is not None
    body = bg.orderbook_body(BIDS, ASKS).replace(f'"ts":"{bg.TS}"', '"ts":"²"')
    proto.on_rest(request, 200, body, T0 + 5)  # "²".isdigit() is true, int("²") raises
    book = proto.books[BTC]
    assert (book.state, book.venue_ts) == (BookState.POLLED, None)
