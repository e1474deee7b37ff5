"""Identifiers: venues, normalised symbols (BASE-QUOTE), instrument keys and metadata."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Venue(StrEnum):
    BINANCE = "binance"
    OKX = "okx"
    BYBIT = "bybit"
    DERIBIT = "deribit"
    COINBASE = "coinbase"
    KRAKEN = "kraken"
    BITFINEX = "bitfinex"
    BITSTAMP = "bitstamp"
    GEMINI = "gemini"
    GATEIO = "gateio"
    KUCOIN = "kucoin"
    # Native: bitget, cryptocom, htx, mexc; the others only through GoMarket (or ccxt).
    BITGET = "bitget"
    BITMEX = "bitmex"
    BITSO = "bitso"
    BLOFIN = "blofin"
    COINBASE_INTL = "coinbase_intl"
    CRYPTOCOM = "cryptocom"
    HTX = "htx"
    HYPERLIQUID = "hyperliquid"
    MEXC = "mexc"
    # Read through ccxt's WebSocket module only (no native protocol, no GoMarket feed).
    UPBIT = "upbit"
    LBANK = "lbank"
    PHEMEX = "phemex"
    WHITEBIT = "whitebit"


# Asset aliases: the same asset under another ticker on some venues (Kraken's XBT, XDG).
ASSET_ALIASES = {"XBT": "BTC", "XDG": "DOGE"}
_ASSET_RE = re.compile(r"^[A-Z0-9]{1,20}$")
_SEPARATORS = re.compile(r"[-/_: ]")


def normalise_asset(asset: str) -> str:
    """Upper-case an asset ticker and resolve aliases (XBT -> BTC)."""
    upper = asset.strip().upper()
    return ASSET_ALIASES.get(upper, upper)


@dataclass(frozen=True, slots=True, order=True)
class Symbol:
    """A spot pair, BASE-QUOTE. USDT, USD and USDC are different quote assets."""

    base: str
    quote: str

    def __str__(self) -> str:
        return f"{self.base}-{self.quote}"

    @classmethod
    def parse(cls, text: str) -> Symbol:
        """Parse 'BTC-USDT', 'btc/usdt', 'XBT_USDT'; raise ValueError otherwise."""
        return _parse_symbol(text)


# A pure function's memo (the same few hundred symbols are parsed again and again, e.g.
# 100,000 monitors at start-up); invalid texts raise and are not cached.
@lru_cache(maxsize=8192)
def _parse_symbol(text: str) -> Symbol:
    parts = [p for p in _SEPARATORS.split(text.strip()) if p]
    if len(parts) != 2:
        msg = f"{text!r} is not a pair: write it as BASE-QUOTE, e.g. BTC-USDT"
        raise ValueError(msg)
    base, quote = (normalise_asset(p) for p in parts)
    for asset in (base, quote):
        if not _ASSET_RE.match(asset):
            msg = f"{asset!r} is not a valid asset ticker"
            raise ValueError(msg)
    if base == quote:
        msg = f"{text!r}: base and quote are the same asset"
        raise ValueError(msg)
    return Symbol(base, quote)


@dataclass(frozen=True, slots=True, order=True)
class InstrumentKey:
    """One listing: a symbol on a venue."""

    venue: Venue
    symbol: Symbol

    def __str__(self) -> str:
        return f"{self.venue.value}:{self.symbol}"


@dataclass(frozen=True, slots=True)
class Instrument:
    """Venue metadata for one spot listing."""

    venue: Venue
    symbol: Symbol
    native: str  # the venue's own name: BTCUSDT, BTC-USDT, BTC_USDC
    trading: bool = True
    tick_size: float | None = None
    lot_size: float | None = None
    # Liquidity that is another venue's book (Deribit spot routed to Coinbase): never count
    # it twice in a consolidated view.
    routed_to: str | None = None

    @property
    def key(self) -> InstrumentKey:
        return InstrumentKey(self.venue, self.symbol)


@dataclass(frozen=True, slots=True)
class NativeMatch:
    """What a venue-style spelling (``BTCUSDT``, ``xbtusd``) can mean among the listings.

    ``exact``: listed symbols it spells exactly (a venue's own name, or BASE+QUOTE run
    together); it resolves when there is exactly one. ``near``: listed symbols it starts
    (``BTCUSD`` -> BTC-USDT, BTC-USDC), offered as candidates but never chosen silently,
    since USD, USDT and USDC are different quotes.
    """

    exact: tuple[Symbol, ...] = ()
    near: tuple[Symbol, ...] = ()


def match_native(text: str, instruments: Iterable[Instrument]) -> NativeMatch:
    """Read a symbol written without a separator, as venues spell them; pure and total."""
    key = _SEPARATORS.sub("", text.strip()).upper()
    if not key or len(key) > 40 or not _ASSET_RE.match(key[:20]):
        return NativeMatch()
    by_base: dict[str, set[Symbol]] = {}
    exact: set[Symbol] = set()
    for instrument in instruments:
        by_base.setdefault(instrument.symbol.base, set()).add(instrument.symbol)
        if _SEPARATORS.sub("", instrument.native).upper() == key:
            exact.add(instrument.symbol)
    near: set[Symbol] = set()
    for cut in range(1, len(key) + 1):  # the whole key: a bare base (BTC) has candidates
        base, rest = normalise_asset(key[:cut]), key[cut:]
        for symbol in by_base.get(base, ()):
            if symbol.quote == normalise_asset(rest):
                exact.add(symbol)
            elif symbol.quote.startswith(rest):
                near.add(symbol)
    return NativeMatch(tuple(sorted(exact)), tuple(sorted(near - exact)))
