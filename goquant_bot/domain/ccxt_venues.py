"""Which venues ccxt's WebSocket module can read, under which ccxt exchange id (pure data)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from goquant_bot.domain.instruments import Venue

# Venues with no native protocol here that ccxt.pro streams (spot markets, public channels).
CCXT_IDS: Mapping[Venue, str] = MappingProxyType(
    {
        Venue.COINBASE_INTL: "coinbaseinternational",
        Venue.HYPERLIQUID: "hyperliquid",
        Venue.UPBIT: "upbit",
        Venue.LBANK: "lbank",
        Venue.PHEMEX: "phemex",
        Venue.WHITEBIT: "whitebit",
    }
)

# Venues read only through ccxt: no native protocol here, and GoMarket does not serve them.
CCXT_ONLY = frozenset({Venue.UPBIT, Venue.LBANK, Venue.PHEMEX, Venue.WHITEBIT})

# Venues a user may try to read through ccxt, and why that cannot work.
CCXT_MISSING: Mapping[Venue, str] = MappingProxyType(
    {
        Venue.BITMEX: "ccxt has no WebSocket module for bitmex",
        Venue.BITSO: "ccxt has no WebSocket module for bitso",
        Venue.BLOFIN: "ccxt lists only blofin's perpetual swaps, no spot market",
    }
)


def ccxt_unavailable(venue: Venue) -> str | None:
    """Why ``venue`` cannot be read through ccxt, or None when it can."""
    if venue in CCXT_IDS:
        return None
    return CCXT_MISSING.get(venue, f"{venue.value} has a native feed, not a ccxt one")
