"""Crypto.com Exchange v1 protocol: subscriptions, the u/pu chain, depth, heartbeats, trades
and the instrument list."""

from __future__ import annotations

import json

import pytest

from goquant_bot.domain.book import BookState, Integrity, expire_stale
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.cryptocom import CryptocomProtocol, instruments_request, parse_instruments
from goquant_bot.venues.registry import venue_of_exchange
from tests.fakes import cryptocom_frames as cc

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
BIDS = [("100.0", "1"), ("99.5", "2")]
ASKS = [("100.5", "1"), ("101", "3")]


def make() -> CryptocomProtocol:
    proto = CryptocomProtocol(SymbolMap([("BTC_USDT", BTC), ("ETH_USDT", ETH)]))
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.on_timer(T0 + 1)
    proto.drain()
    return proto


def levels(proto: CryptocomProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def test_subscribes_after_the_first_second_with_deltas_asked_for() -> None:
    proto = CryptocomProtocol(SymbolMap([("BTC_USDT", BTC)]))
    assert proto.ws_url() == "wss://stream.crypto.com/exchange/v1/market"
    proto.subscribe([BTC], T0)
    proto.subscribe_trades([BTC], T0)
    proto.on_open(T0)
    proto.on_timer(T0 + 0.5)
    assert proto.drain().frames == ()  # the venue's rate limit is tight in the first second
    proto.on_timer(T0 + 1.0)
    frames = [json.loads(f) for f in proto.drain().frames]
    assert [(f["method"], f["params"]) for f in frames] == [
        ("subscribe", {"channels": ["book.BTC_USDT.50"], "book_subscription_type": "SNAPSHOT_AND_UPDATE", "book_update_frequency": 10}),
        ("subscribe", {"channels": ["trade.BTC_USDT"]}),
    ]  # fmt: skip
    assert frames[0]["id"] != frames[1]["id"]
    assert frames[0]["nonce"] == int(T0 * 1000)
    proto.unsubscribe([BTC], T0 + 2)
    (frame,) = proto.drain().frames
    assert json.loads(frame)["params"] == {"channels": ["book.BTC_USDT.50"]}


def test_accepts_the_market_endpoint_and_its_capture_names() -> None:
    assert CryptocomProtocol.accepts_address("wss://stream.crypto.com/exchange/v1/market")
    assert not CryptocomProtocol.accepts_address("wss://stream.crypto.com/exchange/v1/user")
    assert venue_of_exchange("CRYPTOCOM") is Venue.CRYPTOCOM
    assert venue_of_exchange("CRYPTO.COM") is Venue.CRYPTOCOM


def test_snapshot_then_chained_deltas() -> None:
    proto = make()
    proto.on_frame(cc.snapshot("BTC_USDT", BIDS, ASKS, u=500), T0)
    proto.on_frame(cc.update("BTC_USDT", [("100.2", "4"), ("100.0", "0")], [], u=507, pu=500), T0)
    proto.on_frame(cc.update("BTC_USDT", [], [("100.5", "0"), ("100.7", "2")], u=510, pu=507), T0)
    proto.on_frame(cc.update("BTC_USDT", [], [], u=511, pu=510), T0)  # a quiet book's heartbeat
    assert levels(proto) == ([(100.2, 4.0), (99.5, 2.0)], [(100.7, 2.0), (101.0, 3.0)])
    book = proto.books[BTC]
    assert (book.state, book.updates, book.resyncs, book.venue_ts) == (
        BookState.LIVE, 4, 0, cc.TS / 1000,
    )  # fmt: skip
    assert not proto.stats.errors


def test_a_break_in_the_chain_resubscribes_that_book_only() -> None:
    proto = make()
    proto.on_frame(cc.snapshot("BTC_USDT", BIDS, ASKS, u=500), T0)
    proto.on_frame(cc.snapshot("ETH_USDT", BIDS, ASKS, u=9), T0)
    proto.drain()
    proto.on_frame(cc.update("BTC_USDT", [("100.2", "4")], [], u=520, pu=510), T0 + 2)
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs, len(btc.bids)) == (BookState.SYNCING, 1, 0)
    assert (eth.state, eth.resyncs) == (BookState.LIVE, 0)
    assert proto.stats.errors["seq_gap"] == 1
    frames = [json.loads(f) for f in proto.drain().frames]
    assert [(f["method"], f["params"]["channels"]) for f in frames] == [
        ("unsubscribe", ["book.BTC_USDT.50"]), ("subscribe", ["book.BTC_USDT.50"]),
    ]  # fmt: skip
    # Deltas still in flight wait for the new snapshot; it restarts the chain.
    proto.on_frame(cc.update("BTC_USDT", [("99", "1")], [], u=521, pu=520), T0 + 2)
    assert proto.stats.skipped["update_before_snapshot"] == 1
    proto.on_frame(cc.snapshot("BTC_USDT", [("100.1", "1")], ASKS, u=530), T0 + 2)
    proto.on_frame(cc.update("BTC_USDT", [("100.1", "5")], [], u=531, pu=530), T0 + 2)
    assert (btc.state, btc.bids.best()) == (BookState.LIVE, (100.1, 5.0))


def test_the_book_is_cut_to_the_venues_50_levels() -> None:
    proto = make()
    bids = [(str(1000 - i), "1") for i in range(50)]
    proto.on_frame(cc.snapshot("BTC_USDT", bids, [("1001", "1")], u=1), T0)
    proto.on_frame(cc.update("BTC_USDT", [("999.5", "2")], [], u=2, pu=1), T0)
    book = proto.books[BTC]
    assert len(book.bids) == 50
    assert book.bids.levels()[-1] == (952.0, 1.0)  # 951 fell out of the venue's view


def test_heartbeats_are_answered_with_their_id() -> None:
    proto = make()
    proto.on_frame(cc.heartbeat(1587523073344), T0)
    (frame,) = proto.drain().frames
    assert json.loads(frame) == {"id": 1587523073344, "method": "public/respond-heartbeat"}
    proto.probe(T0 + 5)
    (probe,) = proto.drain().frames
    assert json.loads(probe)["method"] == "unsubscribe"


def test_bad_frames_and_errors_are_counted_and_leave_the_books_alone() -> None:
    proto = make()
    proto.on_frame(cc.snapshot("BTC_USDT", BIDS, ASKS, u=500), T0)
    proto.on_frame("{oops", T0)
    proto.on_frame("[1]", T0)
    proto.on_frame(cc.ack(3, code=40003), T0)
    proto.on_frame(cc.ack(4), T0)
    no_pu = json.loads(cc.update("BTC_USDT", [("99", "1")], [], u=501, pu=500))
    del no_pu["result"]["data"][0]["pu"]
    proto.on_frame(json.dumps(no_pu), T0)
    proto.on_frame(cc.update("BTC_USDT", [("x", "1")], [], u=501, pu=500), T0)
    proto.on_frame(cc.snapshot("BTC_USDT", BIDS, ASKS, u=1).replace('"book"', '"ticker"'), T0)
    assert dict(proto.stats.errors) == {
        "bad_json": 1, "bad_shape": 1, "venue_error:40003": 1, "bad_book": 2,
    }  # fmt: skip
    assert proto.stats.skipped["channel:ticker"] == 1
    assert levels(proto) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    proto.on_frame(cc.update("BTC_USDT", [("99", "Infinity")], [], u=501, pu=500), T0)
    assert proto.books[BTC].resyncs == 1


def test_trades_carry_the_takers_side() -> None:
    proto = make()
    proto.subscribe_trades([BTC], T0)
    proto.drain()
    proto.on_frame(cc.trades("BTC_USDT", [("100.5", "0.2", "BUY"), ("100.4", "1", "SELL")]), T0)
    proto.on_frame(cc.trades("BTC_USDT", [("100.4", "1", "HOLD")]), T0)
    proto.on_frame(cc.trades("ETH_USDT", [("20", "1", "BUY")]), T0)  # not asked for
    trades = proto.drain().trades
    assert [(t.price, t.size, t.side, t.venue_ts) for t in trades] == [
        (100.5, 0.2, TakerSide.BUY, cc.TS / 1000), (100.4, 1.0, TakerSide.SELL, (cc.TS + 1) / 1000),
    ]  # fmt: skip
    assert proto.stats.errors["bad_trade"] == 1


def test_instruments_keep_tradable_spot_pairs_only() -> None:
    assert instruments_request(None).url == (
        "https://api.crypto.com/exchange/v1/public/get-instruments"
    )
    body = cc.instruments_body(
        cc.instrument("BTC_USDT", "BTC", "USDT", tick="0.01", lot="0.00001"),
        cc.instrument("BTC_USD", "BTC", "USD", tick="0.01", lot="0.0001"),
        cc.instrument("BTCUSD-PERP", "BTC", "USD", inst_type="PERPETUAL_SWAP"),
        cc.instrument("OLD_USDT", "OLD", "USDT", tradable=False),
    )
    parsed = {
        str(i.symbol): (i.venue, i.native, i.tick_size, i.lot_size) for i in parse_instruments(body)
    }
    assert parsed == {
        "BTC-USDT": (Venue.CRYPTOCOM, "BTC_USDT", 0.01, 0.00001),
        "BTC-USD": (Venue.CRYPTOCOM, "BTC_USD", 0.01, 0.0001),
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("nope", "not JSON"),
        ('{"id":1,"code":10001,"message":"SYS_ERROR"}', "10001"),
        (
            cc.instruments_body({"symbol": "BTC_USDT", "inst_type": "CCY_PAIR", "tradable": True}),
            "entry 0",
        ),
        (cc.instruments_body(cc.instrument("BTC_USDT", "BTC", "USDT", tick="0")), "entry 0"),
    ],
)
def test_a_bad_instrument_list_is_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(VenueProtocolError, match=reason):
        parse_instruments(body)


def test_a_poll_keeps_the_book_while_the_stream_is_down() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request == RestRequest(
        venue=Venue.CRYPTOCOM,
        url="https://api.crypto.com/exchange/v1/public/get-book",
        params=(("instrument_name", "BTC_USDT"), ("depth", "50")),
        weight=1,
        purpose="poll",
        symbol=BTC,
    )
    assert request is not None
    proto.on_rest(request, 200, cc.book_body("BTC_USDT", BIDS, ASKS), T0 + 5)
    book = proto.books[BTC]
    assert (book.state, book.trust, book.recv_ts) == (BookState.POLLED, Integrity.SNAPSHOT, T0 + 5)
    assert book.venue_ts == cc.TS / 1000
    assert levels(proto) == ([(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    error = '{"id":-1,"method":"public/get-book","code":40004,"message":"INVALID_REQUEST"}'
    empty = '{"id":-1,"method":"public/get-book","code":0,"result":{"data":[]}}'
    nan = cc.book_body("BTC_USDT", [("Infinity", "1")], ASKS)
    for body in (error, empty, nan, "<html>"):
        proto.on_rest(request, 200, body, T0 + 6)
    proto.on_rest(request, 0, "", T0 + 7)  # the request itself failed
    assert (proto.stats.errors["poll_invalid"], proto.stats.errors["poll_failed"]) == (4, 1)
    assert levels(proto)[0][0] == (100.0, 1.0)
    proto.on_frame(cc.snapshot("BTC_USDT", [("90", "1")], [("91", "1")], u=5), T0 + 8)
    proto.on_rest(request, 200, cc.book_body("BTC_USDT", BIDS, ASKS), T0 + 9)  # late
    assert proto.stats.skipped["poll_while_live"] == 1
    assert levels(proto) == ([(90.0, 1.0)], [(91.0, 1.0)])


def test_deltas_never_apply_to_a_polled_book() -> None:
    proto = make()
    proto.on_frame(cc.snapshot("BTC_USDT", BIDS, ASKS, u=500), T0)
    book = proto.books[BTC]
    assert expire_stale([book], T0 + 60, 30.0) == [book]  # the stream went quiet
    request = proto.poll_request(BTC)
    assert request is not None
    proto.on_rest(request, 200, cc.book_body("BTC_USDT", [("99", "1")], [("102", "1")]), T0 + 61)
    proto.on_frame(cc.update("BTC_USDT", [("100.2", "4")], [], u=501, pu=500), T0 + 62)
    assert proto.stats.skipped["update_before_snapshot"] == 1
    assert (book.state, levels(proto)) == (BookState.POLLED, ([(99.0, 1.0)], [(102.0, 1.0)]))
