"""Public trades on every venue: real-shaped frames parsed, streams opened and closed on demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import InstrumentKey, Symbol
from goquant_bot.domain.trades import TakerSide, Trade
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.binance import BinanceProtocol
from goquant_bot.venues.bitfinex import BitfinexProtocol
from goquant_bot.venues.bitstamp import BitstampProtocol
from goquant_bot.venues.bybit import BybitProtocol
from goquant_bot.venues.coinbase import CoinbaseProtocol
from goquant_bot.venues.deribit import DeribitProtocol
from goquant_bot.venues.gemini import GeminiProtocol
from goquant_bot.venues.kraken import KrakenProtocol
from goquant_bot.venues.okx import OkxProtocol
from tests.fakes import binance_frames as bn
from tests.fakes import bitfinex_frames as bf
from tests.fakes import bitstamp_frames as bs
from tests.fakes import bybit_frames as bb
from tests.fakes import coinbase_frames as cb
from tests.fakes import deribit_frames as dr
from tests.fakes import gemini_frames as gm
from tests.fakes import kraken_frames as kr
from tests.fakes import okx_frames as ok

T0 = 1_700_000_100.0
MS = 1_700_000_000_123  # the trade's venue time
ISO = "2023-11-14T22:13:20.123000Z"  # the same instant
# (n, side) -> frame: n numbers frames on venues that count every message of a connection.
Frame = Callable[[int, str], str]


@dataclass(frozen=True)
class Case:
    cls: type[VenueProtocol]
    native: str
    symbol: Symbol
    frame: Frame
    channel: str  # text every subscribe / unsubscribe frame of the trade stream carries
    prepare: Callable[[VenueProtocol], None] = lambda proto: None

    def make(self) -> VenueProtocol:
        return self.cls(SymbolMap([(self.native, self.symbol)]))


def _bitfinex_ready(proto: VenueProtocol) -> None:
    proto.on_frame(bf.trades_subscribed(7, "tBTCUSD"), T0)


CASES = {
    "binance": Case(
        BinanceProtocol, "BTCUSDT", Symbol("BTC", "USDT"),
        lambda n, side: bn.trade("BTCUSDT", "42000.5", "0.25", side, MS), "btcusdt@trade",
    ),
    "okx": Case(
        OkxProtocol, "BTC-USDT", Symbol("BTC", "USDT"),
        lambda n, side: ok.trade("BTC-USDT", "42000.5", "0.25", side, MS), '"channel":"trades"',
    ),
    "bybit": Case(
        BybitProtocol, "BTCUSDT", Symbol("BTC", "USDT"),
        lambda n, side: bb.trade("BTCUSDT", "42000.5", "0.25", side, MS), "publicTrade.BTCUSDT",
    ),
    "deribit": Case(
        DeribitProtocol, "BTC_USDC", Symbol("BTC", "USDC"),
        lambda n, side: dr.trade("BTC_USDC", 42000.5, 0.25, side, MS), "trades.BTC_USDC.100ms",
    ),
    "coinbase": Case(
        CoinbaseProtocol, "BTC-USD", Symbol("BTC", "USD"),
        # The wire names the maker's side: a taker buy rests on a sell order.
        lambda n, side: cb.trades_frame(n, "BTC-USD", "42000.5", "0.25",
                                        "sell" if side == "buy" else "buy", ISO),
        "market_trades",
    ),
    "kraken": Case(
        KrakenProtocol, "BTC/USD", Symbol("BTC", "USD"),
        lambda n, side: kr.trade("BTC/USD", "42000.5", "0.25", side, ISO), '"channel":"trade"',
    ),
    "bitfinex": Case(
        BitfinexProtocol, "tBTCUSD", Symbol("BTC", "USD"),
        lambda n, side: bf.trade_executed(7, 401597393, MS, "0.25" if side == "buy" else "-0.25",
                                          "42000.5", None),
        '"trades"', _bitfinex_ready,
    ),
    "bitstamp": Case(
        BitstampProtocol, "btcusd", Symbol("BTC", "USD"),
        lambda n, side: bs.trade("btcusd", "42000.5", "0.25", side, MS * 1000),
        "live_trades_btcusd",
    ),
    "gemini": Case(
        GeminiProtocol, "BTCUSD", Symbol("BTC", "USD"),
        lambda n, side: gm.trade_at("BTCUSD", "42000.5", "0.25", side, MS), '"l2"',
    ),
}  # fmt: skip
VENUES = pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())


def _trade(case: Case, side: TakerSide, recv: float) -> Trade:
    key = InstrumentKey(case.cls.venue, case.symbol)
    return Trade(key, 42000.5, 0.25, side, MS / 1000, recv)


def _without_ids(trades: tuple[Trade, ...]) -> list[Trade]:
    return [Trade(t.key, t.price, t.size, t.side, t.venue_ts, t.recv_ts) for t in trades]


@VENUES
def test_a_trade_frame_is_read_with_its_taker_side_and_times(case: Case) -> None:
    proto = case.make()
    proto.subscribe_trades([case.symbol], T0)
    proto.on_open(T0)
    proto.drain()
    case.prepare(proto)
    proto.on_frame(case.frame(1, "buy"), T0 + 1)
    proto.on_frame(case.frame(2, "sell"), T0 + 2)
    trades = proto.drain().trades
    assert _without_ids(trades) == [
        _trade(case, TakerSide.BUY, T0 + 1),
        _trade(case, TakerSide.SELL, T0 + 2),
    ]
    assert all(t.trade_id for t in trades)
    assert trades[0].venue_ts == pytest.approx(1_700_000_000.123)
    assert not proto.stats.errors


@VENUES
def test_trades_stream_when_asked_and_stop_after_release(case: Case) -> None:
    proto = case.make()
    proto.subscribe_trades([case.symbol], T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    opened = [f for f in proto.drain().frames if case.channel in f]
    assert len(opened) == 1
    assert "unsub" not in opened[0].lower()
    assert not proto.books  # trades alone: no book is subscribed
    case.prepare(proto)
    proto.on_frame(case.frame(1, "buy"), T0 + 1)
    assert len(proto.drain().trades) == 1
    proto.unsubscribe_trades([case.symbol], T0 + 2)
    closed = [f for f in proto.drain().frames if case.channel in f or "chanId" in f]
    assert len(closed) == 1
    assert "unsub" in closed[0].lower()
    proto.on_frame(case.frame(2, "buy"), T0 + 3)  # already in flight: dropped
    assert proto.drain().trades == ()
    assert not proto.trade_symbols


@VENUES
def test_a_bad_trade_is_counted_and_never_touches_the_book(case: Case) -> None:
    proto = case.make()
    proto.subscribe([case.symbol], T0)
    proto.subscribe_trades([case.symbol], T0)
    proto.on_open(T0)
    case.prepare(proto)
    book = proto.books[case.symbol]
    proto.on_frame(case.frame(1, "buy").replace("42000.5", "-1"), T0 + 1)
    assert proto.stats.errors["bad_trade"] == 1
    assert (book.resyncs, book.state) == (0, BookState.SYNCING)
    assert proto.drain().trades == ()
    proto.on_frame(case.frame(2, "sell"), T0 + 2)  # the stream goes on
    assert [t.side for t in proto.drain().trades] == [TakerSide.SELL]


def test_trades_of_symbols_not_asked_for_are_skipped() -> None:
    proto = CASES["okx"].make()
    proto.on_frame(ok.trade("BTC-USDT", "1", "1", "buy", MS), T0)
    assert proto.drain().trades == ()
    assert proto.stats.skipped["trade_unsubscribed"] == 1


def test_replay_mode_reads_every_trade() -> None:
    proto = OkxProtocol(SymbolMap(), track_all=True)
    proto.on_frame(ok.trade("ETH-USDT", "2000", "1", "sell", MS), T0)
    (trade,) = proto.drain().trades
    assert (str(trade.key), trade.side) == ("okx:ETH-USDT", TakerSide.SELL)


def test_gemini_reads_the_recent_trades_of_the_first_message() -> None:
    proto = CASES["gemini"].make()
    proto.subscribe_trades([Symbol("BTC", "USD")], T0)
    proto.on_open(T0)
    proto.on_frame(gm.initial("BTCUSD", [("buy", "100", "1"), ("sell", "101", "1")]), T0 + 1)
    (trade,) = proto.drain().trades
    assert (trade.price, trade.size, trade.side) == (100.0, 0.1, TakerSide.BUY)


def test_gemini_keeps_the_stream_of_a_released_book_while_its_trades_are_read() -> None:
    btc = Symbol("BTC", "USD")
    proto = CASES["gemini"].make()
    proto.subscribe([btc], T0)
    proto.subscribe_trades([btc], T0)
    proto.on_open(T0)
    assert [f for f in proto.drain().frames if '"l2"' in f] == [
        '{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}'
    ]
    proto.unsubscribe([btc], T0 + 1)
    assert proto.drain().frames == ()  # trades still wanted: the l2 stream stays
    proto.subscribe([btc], T0 + 2)  # the book again: restarted, so its first message is the book
    kinds = [f.split('"')[3] for f in proto.drain().frames if '"l2"' in f]
    assert kinds == ["unsubscribe", "subscribe"]
    proto.on_frame(gm.update("BTCUSD", [("buy", "100", "1")]), T0 + 3)  # from before the restart
    assert proto.books[btc].state is BookState.SYNCING


def test_bitfinex_trade_channels_count_against_the_connection_limit() -> None:
    proto = CASES["bitfinex"].make()
    proto.subscribe([Symbol("BTC", "USD")], T0)
    proto.subscribe_trades([Symbol("BTC", "USD")], T0)
    assert proto.load() == 2
    proto.on_open(T0)
    proto.on_frame(bf.trades_subscribed(7, "tBTCUSD"), T0)
    proto.on_frame(
        "[7,[[401597393,1700000000123,0.25,42000.5],[401597392,1700000000100,-0.5,42000]]]", T0
    )
    assert [(t.size, t.side) for t in proto.drain().trades] == [
        (0.25, TakerSide.BUY),
        (0.5, TakerSide.SELL),
    ]
    proto.on_frame('[7,"tu",[401597393,1700000000123,0.25,42000.5]]', T0)  # a repeat of "te"
    assert proto.drain().trades == ()


def test_gemini_probes_a_connection_that_only_reads_trades() -> None:
    proto = CASES["gemini"].make()
    proto.subscribe_trades([Symbol("BTC", "USD")], T0)
    proto.on_open(T0)
    proto.drain()
    proto.probe(T0 + 3)
    assert [f.split('"')[3] for f in proto.drain().frames] == ["subscribe", "unsubscribe"]
