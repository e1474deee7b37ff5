"""Venue-style spellings of symbols: what resolves, what is offered as candidates."""

from __future__ import annotations

import pytest

from goquant_bot.domain.instruments import Instrument, NativeMatch, Symbol, Venue, match_native

BTC_USDT, BTC_USD, BTC_USDC = Symbol("BTC", "USDT"), Symbol("BTC", "USD"), Symbol("BTC", "USDC")
ETH_BTC, ETH_USDT = Symbol("ETH", "BTC"), Symbol("ETH", "USDT")
LISTED = [
    Instrument(Venue.BINANCE, BTC_USDT, "BTCUSDT"),
    Instrument(Venue.BINANCE, ETH_BTC, "ETHBTC"),
    Instrument(Venue.BINANCE, ETH_USDT, "ETHUSDT"),
    Instrument(Venue.OKX, BTC_USDT, "BTC-USDT"),
    Instrument(Venue.OKX, BTC_USD, "BTC-USD"),
    Instrument(Venue.DERIBIT, BTC_USDC, "BTC_USDC"),
]


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("BTCUSDT", BTC_USDT),
        ("btcusdt", BTC_USDT),
        (" BtcUsdt ", BTC_USDT),
        ("XBTUSD", BTC_USD),
        ("xbtusdt", BTC_USDT),
        ("ETHBTC", ETH_BTC),
        ("ETHXBT", ETH_BTC),
        ("BTC_USDC", BTC_USDC),
    ],
)
def test_unambiguous_spellings_resolve(text: str, symbol: Symbol) -> None:
    assert match_native(text, LISTED).exact == (symbol,)


def test_a_prefix_gives_candidates_never_a_choice() -> None:
    without_usd = [i for i in LISTED if i.symbol != BTC_USD]
    assert match_native("XBTUSD", without_usd) == NativeMatch((), (BTC_USDC, BTC_USDT))
    assert match_native("btc", LISTED) == NativeMatch((), (BTC_USD, BTC_USDC, BTC_USDT))
    assert match_native("ETHUS", LISTED) == NativeMatch((), (ETH_USDT,))


@pytest.mark.parametrize("text", ["", "  ", "DOGEUSDT", "USDT", "<b>", "X" * 500, "BTC USDT EUR"])
def test_unknown_spellings_match_nothing(text: str) -> None:
    assert match_native(text, LISTED) == NativeMatch()
