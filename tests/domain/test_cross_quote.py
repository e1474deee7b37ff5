"""The converted edge of legs in different quotes, against hand computations."""

from __future__ import annotations

import pytest

from goquant_bot.domain.arbitrage import Guard, check_pair, conversion_from, quote_pair
from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor

BTC_USD, BTC_USDT = Symbol("BTC", "USD"), Symbol("BTC", "USDT")
USDT_USD, USD_USDT = Symbol("USDT", "USD"), Symbol("USD", "USDT")


def book(venue: Venue, symbol: Symbol, bid: float, ask: float, *, size: float = 1e6,
         state: BookState = BookState.LIVE, ts: float = 100.0) -> OrderBook:  # fmt: skip
    b = OrderBook(InstrumentKey(venue, symbol))
    b.bids.replace([(bid, size)])
    b.asks.replace([(ask, size)])
    b.state, b.recv_ts = state, ts
    return b


def convert(b: OrderBook, pay: str, receive: str, fee: float = 0.0, ts: float = 100.0):  # type: ignore[no-untyped-def]
    return conversion_from(
        b, pay, receive, fee, max_skew_s=5.0, legs_ts=(ts, ts), allow_polled=False
    )


def test_buy_usdt_leg_sell_usd_leg_pays_the_usdt_usd_ask_and_its_fee() -> None:
    # Buy 10 BTC at 100 USDT on Binance (1,000 USDT), sell them at 100.5 USD on Coinbase.
    buy = book(Venue.BINANCE, BTC_USDT, 99.9, 100.0, size=10)
    sell = book(Venue.COINBASE, BTC_USD, 100.5, 100.6, size=10)
    assert check_pair(buy, sell, max_skew_s=5, allow_polled=False) is Guard.QUOTE_MISMATCH
    assert check_pair(buy, sell, max_skew_s=5, allow_polled=False, cross_quote=True) is None
    conv = convert(book(Venue.KRAKEN, USDT_USD, 0.9990, 0.9993), "USDT", "USD", fee=0.2)
    assert conv is not None
    # The USDT paid must be bought with USD: at the ask, plus Kraken's fee.
    assert conv.price == 0.9993
    assert conv.rate == pytest.approx(0.9993 * 1.002)
    assert conv.describe() == "USDT-USD 0.9993 from kraken"
    quote = quote_pair(buy, sell, 1000.0)
    assert quote is not None
    edge, profit = quote.net(0.1, 0.05, conv.rate)
    cost = 1000 * 1.001 * 0.9993 * 1.002  # in USD
    proceeds = 1005 * 0.9995  # in USD
    assert profit == pytest.approx(proceeds - cost)
    assert edge == pytest.approx((proceeds - cost) / cost * 100)


def test_buy_usd_leg_sell_usdt_leg_through_the_inverse_book_sells_at_its_bid() -> None:
    # Buy on Coinbase in USD, sell on Binance for USDT: the USD paid is obtained by selling
    # USDT. Through USDT-USD that is selling its base at the bid: 1 USD costs 1 / bid USDT.
    buy = book(Venue.COINBASE, BTC_USD, 99.9, 100.0, size=10)
    sell = book(Venue.BINANCE, BTC_USDT, 100.6, 100.7, size=10)
    conv = convert(book(Venue.KRAKEN, USDT_USD, 0.9990, 0.9993), "USD", "USDT", fee=0.1)
    assert conv is not None
    assert conv.price == 0.9990
    assert conv.rate == pytest.approx(1 / (0.9990 * 0.999))
    quote = quote_pair(buy, sell, 1000.0)
    assert quote is not None
    edge, profit = quote.net(0.05, 0.1, conv.rate)
    cost = 1000 * 1.0005 / (0.9990 * 0.999)  # in USDT
    proceeds = 1006 * 0.999
    assert profit == pytest.approx(proceeds - cost)
    assert edge == pytest.approx((proceeds - cost) / cost * 100)


def test_a_usd_usdt_book_converts_the_other_way_round() -> None:
    # Buying USD with USDT on a USD-USDT book: its base is bought at the ask.
    conv = convert(book(Venue.COINBASE, USD_USDT, 1.0004, 1.0007), "USD", "USDT")
    assert conv is not None
    assert conv.rate == pytest.approx(1.0007)


@pytest.mark.parametrize(
    "change",
    ["syncing", "stale", "crossed", "unverified", "empty", "old", "other_currencies"],
)
def test_an_unusable_conversion_book_gives_no_rate(change: str) -> None:
    b = book(Venue.KRAKEN, USDT_USD, 0.9990, 0.9993)
    pay, receive = "USDT", "USD"
    if change == "syncing":
        b.state = BookState.SYNCING
    elif change == "stale":
        b.state = BookState.STALE
    elif change == "crossed":
        b.bids.replace([(0.9995, 1e6)])
    elif change == "unverified":
        b.integrity = Integrity.UNVERIFIED
    elif change == "empty":
        b.asks.replace([])
    elif change == "old":
        b.recv_ts = 90.0  # 10 s before the legs, skew allows 5
    else:
        pay, receive = "USDC", "USD"
    assert convert(b, pay, receive) is None


def test_a_monitor_refuses_quotes_it_cannot_compare() -> None:
    base = {"id": "m", "owner": 1, "symbols": (BTC_USD,), "venues": (Venue.COINBASE, Venue.KRAKEN),
            "min_edge_pct": 0.3}  # fmt: skip
    ok = ArbMonitor(**base, quotes=("USD", "USDT"))  # type: ignore[arg-type]
    assert ok.alternatives(BTC_USD) == (BTC_USDT,)
    for quotes in (("USD",), ("USD", "EUR"), ("USDT", "USDC")):
        with pytest.raises(ValueError, match="quote"):
            ArbMonitor(**base, quotes=quotes)  # type: ignore[arg-type]
