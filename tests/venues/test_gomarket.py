"""GoMarket: its formats, the per-book protocol and its limits at the I/O seams."""

from __future__ import annotations

import json
from typing import Any

import pytest
from structlog.testing import capture_logs

from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError, VenueUnavailable
from goquant_bot.venues import gomarket_format as fmt
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.gomarket import protocol_for
from goquant_bot.venues.gomarket_net import BackoffHttp, BudgetedConnector
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.transport import WsConnection
from tests.fakes.gomarket_server import FakeGoMarket

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
NOW = 1_800_000_000.0


def book_msg(ts: Any = NOW * 1000, symbol: str = "BTC-USDT", **over: Any) -> str:
    msg = {
        "timestamp": ts,
        "exchange": "bitmex",
        "symbol": symbol,
        "bids": [["100.0", "1.0"], ["99.5", "2.0"]],
        "asks": [["100.5", "1.5"], ["101.0", "3.0"]],
    } | over
    return json.dumps(msg)


def bitmex_proto() -> Any:
    proto = protocol_for(Venue.BITMEX)(SymbolMap([("BTC-USDT", BTC)]), ws_base="ws://gm")
    proto.subscribe([BTC], NOW)
    proto.on_open(NOW)
    return proto


# -- formats --------------------------------------------------------------------------------


def test_symbol_lists_in_every_accepted_shape_give_our_symbols_and_keep_native_names() -> None:
    plain = fmt.parse_symbols(Venue.GATEIO, '["BTC_USDT", "ETH_USDC", "weird", "A-B-C"]')
    assert [(str(i.symbol), i.native) for i in plain] == [
        ("BTC-USDT", "BTC_USDT"),
        ("ETH-USDC", "ETH_USDC"),
    ]
    wrapped = fmt.parse_symbols(
        Venue.HTX, '{"symbols": [{"symbol": "btcusdt", "base": "btc", "quote": "usdt"}]}'
    )
    assert [(str(i.symbol), i.native) for i in wrapped] == [("BTC-USDT", "btcusdt")]
    with pytest.raises(VenueProtocolError, match="not a list"):
        fmt.parse_symbols(Venue.HTX, '{"error": "unknown exchange"}')


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (1_800_000_000, 1_800_000_000.0),
        (1_800_000_000_123, 1_800_000_000.123),
        (1_800_000_000_123_456, 1_800_000_000.123456),
        ("2027-01-15T08:00:00Z", 1_800_000_000.0),
        ("2027-01-15T09:00:00+01:00", 1_800_000_000.0),
        ("2027-01-15T08:00:00", 1_800_000_000.0),  # no zone: UTC
        ("soon", None),
        (-5, None),
        (None, None),
    ],
)
def test_timestamps_in_seconds_milliseconds_microseconds_or_iso_are_read(
    value: object, seconds: float | None
) -> None:
    got = fmt.parse_timestamp(value)
    assert got == (pytest.approx(seconds) if seconds is not None else None)


def test_a_book_with_object_levels_or_wrapped_in_data_is_read_and_garbage_is_named() -> None:
    wrapped = json.dumps(
        {"data": {"timestamp": 5, "bids": [{"price": "1", "quantity": "2"}], "asks": []}}
    )
    book = fmt.parse_book(wrapped)
    assert (book.ts, book.bids, book.asks) == (5.0, [(1.0, 2.0)], [])
    with pytest.raises(VenueProtocolError, match="no bids/asks"):
        fmt.parse_book('{"status": "ok"}')
    with pytest.raises(VenueProtocolError, match="levels"):
        fmt.parse_book('{"bids": [["NaN", "1"]], "asks": []}')


# -- the protocol ---------------------------------------------------------------------------


def test_the_stream_address_is_the_subscription_and_every_message_replaces_the_book() -> None:
    proto = bitmex_proto()
    assert proto.ws_url() == "ws://gm/ws/l2-orderbook/bitmex/BTC-USDT"
    assert proto.drain().frames == ()  # nothing is ever sent
    proto.on_frame(book_msg(), NOW + 0.1)
    book = proto.books[BTC]
    assert (book.state, book.integrity, book.venue_ts) == (BookState.LIVE, Integrity.SNAPSHOT, NOW)
    proto.on_frame(book_msg(NOW * 1000 + 500, bids=[["100.2", "4"]], asks=[["100.3", "1"]]), NOW)
    assert (book.bids.best_price(), book.asks.best_price()) == (100.2, 100.3)
    assert len(book.bids) == 1


def test_a_crossed_book_is_dropped_until_a_sane_one_comes() -> None:
    proto = bitmex_proto()
    proto.on_frame(book_msg(), NOW)
    proto.on_frame(book_msg(NOW * 1000 + 1, bids=[["101", "1"]]), NOW + 0.1)
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert book.bids.best_price() is None
    assert proto.stats.errors["crossed"] == 1
    proto.on_frame(book_msg(NOW * 1000 + 2), NOW + 0.2)
    assert book.state is BookState.LIVE


def test_an_old_or_repeated_stamp_never_refreshes_the_book_so_a_stall_ages_out() -> None:
    proto = bitmex_proto()
    proto.on_frame(book_msg(), NOW)
    book = proto.books[BTC]
    proto.on_frame(book_msg(), NOW + 3)  # the same stamp again: the upstream is stuck
    assert book.recv_ts == NOW
    assert proto.stats.skipped["not_newer"] == 1
    proto.on_frame(book_msg(NOW * 1000 + 100), NOW + 30)  # newer, but 30 s old by our clock
    assert book.recv_ts == NOW
    assert proto.stats.errors["stale_message"] == 1
    proto.on_frame(book_msg((NOW + 60) * 1000), NOW + 30)  # from the future
    assert proto.stats.errors["future_timestamp"] == 1
    proto.on_frame(book_msg(None), NOW + 30)
    assert proto.stats.errors["no_timestamp"] == 1
    assert book.recv_ts == NOW


def test_a_message_for_another_book_or_exchange_is_refused() -> None:
    proto = bitmex_proto()
    proto.on_frame(book_msg(symbol="ETH-USDT"), NOW)
    proto.on_frame(book_msg(exchange="okx"), NOW)
    proto.on_frame("not json", NOW)
    assert proto.stats.errors["wrong_book"] == 2
    assert proto.stats.errors["bad_json"] == 1
    assert proto.books[BTC].state is BookState.SYNCING


def test_one_book_per_connection_and_no_connection_is_opened_for_trades() -> None:
    proto = bitmex_proto()
    assert proto.max_symbols_per_connection == 1
    feed = VenueFeed(
        protocol_for(Venue.BITMEX),
        SymbolMap([("BTC-USDT", BTC)]),
        FeedConfig(),
        connector=websocket_connect,
        http=AiohttpGet(),
        on_change=lambda venue, symbols: None,
    )
    feed.add([BTC])
    feed.add_trades([BTC, ETH])
    assert len(feed.connections) == 1
    assert feed.trade_symbols() == set()


def test_a_run_of_stale_messages_is_told_once_and_counted_each_time() -> None:
    proto = bitmex_proto()
    with capture_logs() as logs:
        for i in range(5):
            proto.on_frame(book_msg((NOW - 60 + i) * 1000), NOW)
        proto.on_frame(book_msg(), NOW)  # fresh again: the next stale run is told again
        proto.on_frame(book_msg((NOW - 30) * 1000), NOW)
    assert proto.stats.errors["stale_message"] == 6
    assert [e["event"] for e in logs].count("gomarket_stale_book") == 2


# -- limits ---------------------------------------------------------------------------------


class _Conn:
    closed = False

    async def send(self, text: str) -> None:
        return None

    async def recv(self) -> str:
        return ""

    async def close(self) -> None:
        self.closed = True


async def test_the_connection_budget_refuses_beyond_its_limit_and_frees_a_slot_on_close() -> None:
    async def connect(url: str) -> WsConnection:
        return _Conn()

    budget = BudgetedConnector(connect, 2)
    first = await budget("a")
    await budget("b")
    with pytest.raises(VenueUnavailable, match="budget of 2 connections"):
        await budget("c")
    await first.close()
    await first.close()  # twice: the slot is given back once
    assert budget.open == 1
    await budget("c")
    assert (budget.open, budget.refused) == (2, 1)


async def test_a_429_pauses_every_request_with_a_doubling_pause_and_a_success_resets_it() -> None:
    async with FakeGoMarket(symbols={"bitmex": ["BTC-USDT"]}) as gm:
        now = [0.0]
        inner = AiohttpGet()
        http = BackoffHttp(inner, initial_s=2.0, max_s=5.0, clock=lambda: now[0])
        url = f"{gm.url}/api/symbols/bitmex/spot"
        gm.throttle = 3
        pauses = []
        for _ in range(3):
            resp = await http(url, (), 5.0)
            assert resp.status == 429
            pauses.append(float(resp.headers["Retry-After"]))
            # Asked again during the pause: answered here, the server is not asked.
            calls = len(gm.rest_calls)
            assert (await http(url, (), 5.0)).status == 429
            assert len(gm.rest_calls) == calls
            now[0] = http.paused_until
        assert pauses == [2.0, 4.0, 5.0]  # doubled, capped at max_s
        ok = await http(url, (), 5.0)
        assert (ok.status, json.loads(ok.body)) == (200, ["BTC-USDT"])
        assert http.in_a_row == 0
        gm.throttle, gm.retry_after = 1, "60"
        resp = await http(url, (), 5.0)
        assert float(resp.headers["Retry-After"]) == 60.0  # the server's longer pause wins
        await inner.close()
