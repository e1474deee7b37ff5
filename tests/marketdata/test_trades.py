"""The hub's trade streams: ref-counted like books, the last trade per key, the tape."""

from __future__ import annotations

import pytest

from goquant_bot.domain.instruments import InstrumentKey, Venue
from goquant_bot.domain.trades import TakerSide, Trade
from goquant_bot.marketdata.trades import TradeTape
from tests.fakes import binance_frames as bn
from tests.marketdata.test_hub import BTC, ETH, Clock, _hub

KEY = InstrumentKey(Venue.BINANCE, BTC)


def _trade(price: float, venue_ts: float | None, recv_ts: float, key: InstrumentKey = KEY) -> Trade:
    return Trade(key, price, 1.0, TakerSide.BUY, venue_ts, recv_ts)


def test_many_trade_acquires_cost_one_stream_and_the_last_release_stops_it_after_grace() -> None:
    clock = Clock()
    hub = _hub(clock, grace=30.0)
    for _ in range(3):
        hub.acquire_trades(KEY)
    feed = hub.feeds[Venue.BINANCE]
    (conn,) = feed.connections
    assert conn.proto.trade_symbols == {BTC}
    assert not conn.proto.books  # trades only: no book subscribed
    assert hub.trade_refcount(KEY) == 3
    assert hub.trading() == [KEY]
    hub.release_trades(KEY)
    hub.release_trades(KEY)
    hub.check(clock.now + 100)
    assert hub.trading() == [KEY]  # one holder left
    hub.release_trades(KEY)
    hub.release_trades(KEY)  # one too many: ignored
    hub.check(clock.now + 29)
    assert hub.trading() == [KEY]  # within grace
    hub.acquire_trades(KEY)  # back within grace: nothing to resubscribe
    clock.now += 10
    hub.release_trades(KEY)  # the grace starts again from this release
    hub.check(clock.now + 29)
    assert hub.trading() == [KEY]
    hub.check(clock.now + 31)
    assert hub.trading() == []
    assert feed.connections == []


def test_trades_and_book_of_a_symbol_share_a_connection_and_release_separately() -> None:
    clock = Clock()
    hub = _hub(clock, grace=0.0)
    hub.acquire(KEY)
    hub.acquire_trades(KEY)
    (conn,) = hub.feeds[Venue.BINANCE].connections
    assert (set(conn.proto.books), conn.proto.trade_symbols) == ({BTC}, {BTC})
    hub.release_trades(KEY)
    hub.check(clock.now + 1)
    assert hub.book(KEY) is not None
    assert conn.proto.trade_symbols == set()
    assert hub.feeds[Venue.BINANCE].connections == [conn]


def test_unknown_venue_is_refused() -> None:
    hub = _hub(Clock())
    with pytest.raises(KeyError, match="okx"):
        hub.acquire_trades(InstrumentKey(Venue.OKX, BTC))


def test_feeds_hand_trades_to_the_hub_which_keeps_the_latest_per_key() -> None:
    clock = Clock()
    hub = _hub(clock)
    hub.acquire_trades(KEY)
    (conn,) = hub.feeds[Venue.BINANCE].connections
    conn.proto.on_frame(bn.trade("BTCUSDT", "100.5", "2", "sell", 1_000_000), clock.now)
    conn.take()
    last = hub.last_trade(KEY)
    assert last is not None
    assert (last.price, last.size, last.side, last.venue_ts) == (100.5, 2.0, TakerSide.SELL, 1000.0)
    assert hub.last_trade(InstrumentKey(Venue.BINANCE, ETH)) is None


def test_the_last_trade_is_the_latest_in_time_even_when_older_ones_arrive_after() -> None:
    tape = TradeTape()
    tape.record([_trade(101.0, 20.0, 30.0)])
    tape.record([_trade(100.0, 10.0, 31.0)])  # a snapshot of older trades, received later
    last = tape.last(KEY)
    assert last is not None
    assert last.price == 101.0


def test_readers_follow_the_tape_with_a_cursor_and_learn_what_they_missed() -> None:
    tape = TradeTape(length=3)
    start = tape.cursor
    tape.record([_trade(float(p), p, p) for p in (1, 2)])
    batch = tape.since(start)
    assert ([t.price for t in batch.trades], batch.missed) == ([1.0, 2.0], 0)
    assert tape.since(batch.cursor).trades == ()
    tape.record([_trade(float(p), p, p) for p in (3, 4, 5, 6)])
    late = tape.since(batch.cursor)
    assert [t.price for t in late.trades] == [4.0, 5.0, 6.0]
    assert late.missed == 1  # trade 3 left the bounded tape before this reader came back
    assert late.cursor == 6


def test_listeners_get_every_trade_until_they_stop() -> None:
    hub = _hub(Clock())
    seen: list[float] = []
    stop = hub.listen_trades(lambda trade: seen.append(trade.price))
    hub.record_trades([_trade(1.0, 1.0, 1.0), _trade(2.0, 2.0, 2.0, InstrumentKey(Venue.OKX, ETH))])
    stop()
    hub.record_trades([_trade(3.0, 3.0, 3.0)])
    assert seen == [1.0, 2.0]
    assert [t.price for t in hub.trades_since(0).trades] == [1.0, 2.0, 3.0]


def test_a_failing_listener_neither_stops_the_tape_nor_the_other_listeners() -> None:
    tape = TradeTape()
    seen: list[float] = []

    def broken(trade: Trade) -> None:
        raise RuntimeError("consumer bug")

    tape.listen(broken)
    tape.listen(lambda trade: seen.append(trade.price))
    tape.record([_trade(1.0, 1.0, 1.0), _trade(2.0, 2.0, 2.0)])
    assert seen == [1.0, 2.0]
    last = tape.last(KEY)
    assert last is not None
    assert last.price == 2.0


def test_age_uses_the_venue_time_and_never_goes_negative() -> None:
    trade = _trade(1.0, 100.0, 105.0)
    assert trade.age(110.0) == 10.0
    assert trade.age(90.0) == 0.0
    assert _trade(1.0, None, 105.0).age(110.0) == 5.0
