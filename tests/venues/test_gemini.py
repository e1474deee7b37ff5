"""Gemini v2 protocol: l2 initial book and changes, crossed books, perpetuals refused."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.gemini import GeminiProtocol, instruments_request, parse_instruments
from tests.fakes import gemini_frames as gm

BTC = Symbol("BTC", "USD")
ETH = Symbol("ETH", "GUSD")
T0 = 1_700_000_000.0
BOOK = [("buy", "100", "1"), ("buy", "99", "2"), ("sell", "101", "3")]


def make() -> GeminiProtocol:
    proto = GeminiProtocol(SymbolMap([("BTCUSD", BTC), ("ETHGUSD", ETH)]), depth=50)
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def sent(proto: GeminiProtocol) -> list[dict]:
    out = [json.loads(f) for f in proto.drain().frames]
    return out


def levels(proto: GeminiProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def test_subscribe_asks_for_details_and_unsubscribe() -> None:
    proto = GeminiProtocol(SymbolMap([("BTCUSD", BTC)]))
    assert proto.ws_url() == "wss://api.gemini.com/v2/marketdata"
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.unsubscribe([ETH], T0)
    produced = proto.drain()
    assert [json.loads(f) for f in produced.frames] == [
        {"type": "subscribe", "subscriptions": [{"name": "l2", "symbols": ["BTCUSD", "ETHGUSD"]}]},
        {"type": "unsubscribe", "subscriptions": [{"name": "l2", "symbols": ["ETHGUSD"]}]},
    ]
    assert [(r.url, r.purpose) for r in produced.requests] == [
        ("https://api.gemini.com/v1/symbols/details/btcusd", "details"),
        ("https://api.gemini.com/v1/symbols/details/ethgusd", "details"),
    ]
    assert GeminiProtocol.accepts_address("wss://api.gemini.com/v2/marketdata/")
    assert not GeminiProtocol.accepts_address("wss://api.sandbox.gemini.com/v2/marketdata")


def test_initial_book_then_changes() -> None:
    proto = make()
    proto.on_frame(gm.initial("BTCUSD", BOOK), T0)
    btc = proto.books[BTC]
    assert btc.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 1.0), (99.0, 2.0)], [(101.0, 3.0)])
    proto.on_frame(gm.update("BTCUSD", [("buy", "100", "0"), ("sell", "100.5", "1")]), T0 + 1)
    proto.on_frame(gm.trade("BTCUSD"), T0 + 1)
    assert levels(proto) == ([(99.0, 2.0)], [(100.5, 1.0), (101.0, 3.0)])
    assert (btc.updates, btc.recv_ts, btc.resyncs) == (2, T0 + 1, 0)
    assert proto.stats.skipped["trade_unsubscribed"] == 1  # its trades were not asked for


def test_a_crossed_book_resubscribes_that_symbol_and_waits_for_a_real_initial_book() -> None:
    proto = make()
    proto.on_frame(gm.initial("BTCUSD", BOOK), T0)
    proto.on_frame(gm.initial("ETHGUSD", [("buy", "20", "1"), ("sell", "21", "1")]), T0)
    proto.on_frame(gm.update("BTCUSD", [("buy", "101.5", "1")]), T0)
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs, eth.state) == (BookState.SYNCING, 1, BookState.LIVE)
    assert sent(proto) == [
        {"type": "unsubscribe", "subscriptions": [{"name": "l2", "symbols": ["BTCUSD"]}]},
        {"type": "subscribe", "subscriptions": [{"name": "l2", "symbols": ["BTCUSD"]}]},
    ]
    # A change of the old subscription still in flight is not taken for the new book.
    proto.on_frame(gm.update("BTCUSD", [("buy", "50", "1")]), T0)
    assert (btc.state, len(btc.bids)) == (BookState.SYNCING, 0)
    proto.on_frame(gm.initial("BTCUSD", [("buy", "98", "1"), ("sell", "99", "1")]), T0)
    assert (btc.state, levels(proto)) == (BookState.LIVE, ([(98.0, 1.0)], [(99.0, 1.0)]))
    assert proto.stats.errors == Counter({"crossed": 1})
    assert proto.stats.skipped["before_initial"] == 1


def test_bad_levels_garbage_and_perpetuals() -> None:
    proto = make()
    proto.on_frame(gm.initial("BTCUSD", BOOK), T0)
    proto.on_frame(gm.update("BTCUSD", [("hold", "1", "1")]), T0)
    assert proto.books[BTC].resyncs == 1
    proto.on_frame("{", T0)
    proto.on_frame('{"type":"l2_updates","symbol":"BTCUSD"}', T0)
    proto.on_frame(gm.initial("BTCGUSDPERP", BOOK), T0)
    proto.on_frame('{"type":"heartbeat","timestamp":1}', T0)
    assert proto.stats.errors == Counter({"bad_level": 1, "bad_json": 1, "bad_l2": 1})
    assert proto.stats.skipped["not_spot"] == 1
    assert set(proto.books) == {BTC, ETH}


def test_details_refuse_a_market_that_is_not_spot() -> None:
    proto = GeminiProtocol(SymbolMap([("BTCUSD", BTC)]))
    proto.subscribe([BTC], T0)
    proto.on_open(T0)
    (request,) = proto.drain().requests
    proto.on_rest(request, 200, gm.details("BTCUSD", "BTC", "USD", product="swap"), T0)
    proto.on_frame(gm.initial("BTCUSD", BOOK), T0)
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["not_spot"] == 1
    fresh = GeminiProtocol(SymbolMap([("BTCUSD", BTC)]))
    fresh.subscribe([BTC], T0)
    fresh.on_rest(request, 200, gm.details("BTCUSD", "BTC", "USD"), T0)
    assert fresh.details[BTC].tick_size == 0.01


def test_probe_and_poll() -> None:
    proto = make()
    proto.probe(T0)
    assert [f["type"] for f in sent(proto)] == ["subscribe", "unsubscribe"]
    proto.on_frame('{"type":"candles_1m_updates","symbol":"BTCUSD","changes":[]}', T0)
    request = proto.poll_request(BTC)
    assert request is not None
    assert request.url == "https://api.gemini.com/v1/book/btcusd"
    proto.on_rest(request, 200, gm.book_body([("100", "1")], [("101", "2")]), T0)
    assert proto.books[BTC].state is BookState.POLLED
    assert levels(proto) == ([(100.0, 1.0)], [(101.0, 2.0)])


def test_instruments_from_symbols_and_details() -> None:
    request = instruments_request()
    assert (request.url, request.venue) == ("https://api.gemini.com/v1/symbols", Venue.GEMINI)
    names = parse_instruments('["btcusd","ethgusd","ethbtc","btcgusdperp","solusdt"]')
    assert [(str(i.symbol), i.native) for i in names] == [
        ("BTC-USD", "BTCUSD"),
        ("ETH-GUSD", "ETHGUSD"),
        ("ETH-BTC", "ETHBTC"),
        ("SOL-USDT", "SOLUSDT"),
    ]
    (detail,) = parse_instruments(gm.details("BTCUSD", "BTC", "USD"))
    assert (detail.tick_size, detail.lot_size, detail.trading) == (0.01, 1e-8, True)
    assert parse_instruments(gm.details("BTCGUSDPERP", "BTC", "GUSD", product="swap")) == []
    for bad in ("{}", "[1]", "x"):
        with pytest.raises(VenueProtocolError):
            parse_instruments(bad)
