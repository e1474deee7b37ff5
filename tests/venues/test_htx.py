"""HTX protocol: gzip frames, mbp pushes chained on a req snapshot, whole step0 books of
captures, ping/pong, REST polls, trades and the symbol list."""

from __future__ import annotations

import json

import pytest

from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.bitget import BitgetProtocol
from goquant_bot.venues.htx import HtxProtocol, instruments_request, parse_instruments
from goquant_bot.venues.registry import venue_of_exchange
from tests.fakes import htx_frames as hx

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
T0 = 1_700_000_000.0


def make() -> HtxProtocol:
    proto = HtxProtocol(SymbolMap([("btcusdt", BTC), ("ethusdt", ETH)]))
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def test_subscribes_one_topic_a_request_in_lower_case() -> None:
    proto = HtxProtocol(SymbolMap())
    assert proto.ws_url() == "wss://api.huobi.pro/feed"
    proto.subscribe([BTC], T0)
    proto.subscribe_trades([BTC], T0)
    proto.on_open(T0)
    frames = [json.loads(f) for f in proto.drain().frames]
    # The snapshot is asked for right after the sub: pushes arriving first are buffered.
    assert [(f.get("sub") or f.get("req"), f["id"]) for f in frames] == [
        ("market.btcusdt.mbp.150", "1"), ("market.btcusdt.mbp.150", "2"),
        ("market.btcusdt.trade.detail", "3"),
    ]  # fmt: skip
    assert [next(iter(f)) for f in frames] == ["sub", "req", "sub"]
    proto.unsubscribe([BTC], T0)
    (frame,) = proto.drain().frames
    assert json.loads(frame)["unsub"] == "market.btcusdt.mbp.150"
    assert HtxProtocol.accepts_address("wss://api.huobi.pro/feed")
    assert HtxProtocol.accepts_address("wss://api-aws.huobi.pro/ws")
    assert not HtxProtocol.accepts_address("wss://api.huobi.pro/ws/v2")
    assert venue_of_exchange("HUOBI") is Venue.HTX


def test_gzip_frames_decode_and_bad_ones_are_counted() -> None:
    proto = make()
    text = hx.depth("btcusdt", [(100.0, 1.0)], [(101.0, 2.0)])
    assert proto.decode_binary(hx.gz(text)) == text
    assert proto.decode_binary(b"\x1f\x8b not gzip") is None
    assert proto.decode_binary(hx.gz("x")[:-4]) is None  # cut short
    assert proto.stats.errors["bad_gzip"] == 2


def test_a_step0_push_of_a_capture_replaces_the_whole_book_at_snapshot_tier() -> None:
    proto = make()
    assert proto.books[BTC].integrity is Integrity.VERIFIED
    proto.on_frame(hx.depth("btcusdt", [(100.0, 1.0), (99.5, 2.0)], [(101.0, 2.0)]), T0)
    proto.on_frame(
        hx.depth("btcusdt", [(100.2, 0.5)], [(100.9, 1.5), (102.0, 3.0)], ts=hx.TS + 100), T0
    )
    book = proto.books[BTC]
    assert (book.bids.levels(), book.asks.levels()) == (
        [(100.2, 0.5)],
        [(100.9, 1.5), (102.0, 3.0)],
    )
    assert (book.state, book.updates, book.venue_ts) == (BookState.LIVE, 2, (hx.TS + 100) / 1000)
    assert book.integrity is Integrity.SNAPSHOT  # whole books: nothing to chain
    # A push older than the last one arrived late: the newer book stays.
    proto.on_frame(hx.depth("btcusdt", [(90.0, 1.0)], [(91.0, 1.0)], ts=hx.TS + 50), T0)
    assert book.bids.best() == (100.2, 0.5)
    assert proto.stats.skipped["out_of_order"] == 1


def test_the_servers_ping_is_answered_with_its_number() -> None:
    proto = make()
    proto.on_frame(hx.ping(1492420473027), T0)
    assert [json.loads(f) for f in proto.drain().frames] == [{"pong": 1492420473027}]
    proto.probe(T0)
    (probe,) = proto.drain().frames
    assert json.loads(probe)["req"] == "market.btcusdt.mbp.150"
    # Its answer finds the book in step (or starts it when it was waiting for one).
    proto.on_frame(hx.mbp_snapshot("btcusdt", 10, [(100.0, 1.0)], [(101.0, 1.0)]), T0)
    proto.on_frame(hx.mbp_snapshot("btcusdt", 12, [(90.0, 1.0)], [(91.0, 1.0)]), T0)
    assert proto.books[BTC].bids.best() == (100.0, 1.0)
    assert proto.stats.skipped["snapshot_unneeded"] == 1


def test_bad_frames_are_counted_and_leave_the_books_alone() -> None:
    proto = make()
    proto.on_frame(hx.depth("btcusdt", [(100.0, 1.0)], [(101.0, 2.0)]), T0)
    proto.on_frame(hx.subbed("market.btcusdt.depth.step0"), T0)
    proto.on_frame(hx.error("market.nope.depth.step0"), T0)
    proto.on_frame("nope", T0)
    proto.on_frame(
        '{"ch":"market.btcusdt.depth.step0","tick":{"bids":[[1,"a"]],"asks":[],"ts":5}}', T0
    )
    proto.on_frame('{"ch":"market.btcusdt.depth.step0","tick":{"bids":[],"asks":[]}}', T0)
    proto.on_frame('{"ch":"market.btcusdt.kline.1min","tick":{"open":1}}', T0)
    proto.on_frame('{"ch":"market.btcusdt.depth.step0"}', T0)
    assert dict(proto.stats.errors) == {
        "venue_error:bad-request": 1, "bad_json": 1, "bad_depth": 2, "bad_shape": 1,
    }  # fmt: skip
    assert proto.stats.skipped["channel:kline.1min"] == 1
    book = proto.books[BTC]
    assert (book.bids.best(), book.resyncs) == ((100.0, 1.0), 0)
    crossed = hx.depth("btcusdt", [(102.0, 1.0)], [(101.0, 2.0)], ts=hx.TS + 1)
    proto.on_frame(crossed, T0)
    assert (book.state, book.resyncs, proto.stats.errors["crossed"]) == (BookState.SYNCING, 1, 1)


def test_trades_carry_the_takers_direction() -> None:
    proto = make()
    proto.subscribe_trades([BTC], T0)
    proto.drain()
    proto.on_frame(hx.trades("btcusdt", [(52648.62, 0.006754, "buy"), (52648.0, 1.0, "sell")]), T0)
    proto.on_frame(hx.trades("btcusdt", [(52648.0, 0.0, "sell")]), T0)
    trades = proto.drain().trades
    assert [(t.price, t.size, t.side, t.venue_ts, t.trade_id) for t in trades] == [
        (52648.62, 0.006754, TakerSide.BUY, hx.TS / 1000, "102523573486"),
        (52648.0, 1.0, TakerSide.SELL, (hx.TS + 1) / 1000, "102523573487"),
    ]
    assert proto.stats.errors["bad_trade"] == 1


def test_symbols_online_only_in_our_upper_case() -> None:
    assert instruments_request(None).url == "https://api.huobi.pro/v1/common/symbols"
    body = hx.symbols_body(
        hx.symbol("btcusdt", "btc", "usdt", price_dp=2, amount_dp=6),
        hx.symbol("ethbtc", "eth", "btc", price_dp=6, amount_dp=4),
        hx.symbol("oldusdt", "old", "usdt", state="offline"),
    )
    parsed = {
        str(i.symbol): (i.venue, i.native, i.tick_size, i.lot_size) for i in parse_instruments(body)
    }
    assert parsed == {
        "BTC-USDT": (Venue.HTX, "btcusdt", 0.01, 0.000001),
        "ETH-BTC": (Venue.HTX, "ethbtc", 0.000001, 0.0001),
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<", "not JSON"),
        ('{"status":"error","err-code":"invalid-parameter","err-msg":"x"}', "invalid-parameter"),
        (hx.symbols_body({"symbol": "btcusdt", "state": "online"}), "entry 0"),
        (hx.symbols_body(hx.symbol("btcusdt", "btc", "usdt", price_dp="2")), "entry 0"),
    ],
)
def test_a_bad_symbol_list_is_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(VenueProtocolError, match=reason):
        parse_instruments(body)


def test_venues_that_do_not_compress_read_a_binary_frame_as_utf8() -> None:
    proto = BitgetProtocol(SymbolMap())
    assert proto.decode_binary(b'{"event":"subscribe"}') == '{"event":"subscribe"}'
    assert proto.decode_binary(b"\xff\xfe") is None
    assert proto.stats.errors["bad_binary"] == 1
