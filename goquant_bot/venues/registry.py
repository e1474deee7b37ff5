"""Which protocol speaks for which venue, and how to fetch and read each venue's instruments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from goquant_bot.domain.instruments import Instrument, Venue
from goquant_bot.venues import (
    binance,
    binance_rest,
    bitfinex,
    bitget,
    bitstamp,
    bybit,
    coinbase,
    cryptocom,
    deribit,
    gateio,
    gemini,
    gemini_rest,
    htx,
    kraken,
    kucoin,
    kucoin_rest,
    mexc,
    mexc_rest,
    okx,
    okx_rest,
)
from goquant_bot.venues.base import RestRequest, VenueProtocol


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """Everything venue-specific the driver, the recorder and the replayer need."""

    venue: Venue
    protocol: type[VenueProtocol]
    instruments_request: Callable[[str | None], RestRequest]
    parse_instruments: Callable[[str], list[Instrument]]
    # More REST paths (prefixes) whose answers ``parse_instruments`` reads: per-symbol details.
    instrument_paths: tuple[str, ...] = ()


VENUES: Mapping[Venue, VenueSpec] = MappingProxyType(
    {
        Venue.BINANCE: VenueSpec(
            Venue.BINANCE,
            binance.BinanceProtocol,
            binance_rest.instruments_request,
            binance_rest.parse_instruments,
        ),
        Venue.OKX: VenueSpec(
            Venue.OKX, okx.OkxProtocol, okx_rest.instruments_request, okx_rest.parse_instruments
        ),
        Venue.BYBIT: VenueSpec(
            Venue.BYBIT, bybit.BybitProtocol, bybit.instruments_request, bybit.parse_instruments
        ),
        Venue.DERIBIT: VenueSpec(
            Venue.DERIBIT,
            deribit.DeribitProtocol,
            deribit.instruments_request,
            deribit.parse_instruments,
        ),
        Venue.COINBASE: VenueSpec(
            Venue.COINBASE,
            coinbase.CoinbaseProtocol,
            coinbase.instruments_request,
            coinbase.parse_instruments,
        ),
        Venue.KRAKEN: VenueSpec(
            Venue.KRAKEN,
            kraken.KrakenProtocol,
            kraken.instruments_request,
            kraken.parse_instruments,
        ),
        Venue.BITFINEX: VenueSpec(
            Venue.BITFINEX,
            bitfinex.BitfinexProtocol,
            bitfinex.instruments_request,
            bitfinex.parse_instruments,
        ),
        Venue.BITSTAMP: VenueSpec(
            Venue.BITSTAMP,
            bitstamp.BitstampProtocol,
            bitstamp.instruments_request,
            bitstamp.parse_instruments,
        ),
        Venue.GEMINI: VenueSpec(
            Venue.GEMINI,
            gemini.GeminiProtocol,
            gemini.instruments_request,
            gemini.parse_instruments,
            instrument_paths=(gemini_rest.DETAILS_PATH,),
        ),
        Venue.GATEIO: VenueSpec(
            Venue.GATEIO,
            gateio.GateioProtocol,
            gateio.instruments_request,
            gateio.parse_instruments,
        ),
        Venue.KUCOIN: VenueSpec(
            Venue.KUCOIN,
            kucoin.KucoinProtocol,
            kucoin.instruments_request,
            kucoin.parse_instruments,
            instrument_paths=(kucoin_rest.SYMBOLS_V1_PATH,),
        ),
        Venue.BITGET: VenueSpec(
            Venue.BITGET,
            bitget.BitgetProtocol,
            bitget.instruments_request,
            bitget.parse_instruments,
        ),
        Venue.CRYPTOCOM: VenueSpec(
            Venue.CRYPTOCOM,
            cryptocom.CryptocomProtocol,
            cryptocom.instruments_request,
            cryptocom.parse_instruments,
        ),
        Venue.HTX: VenueSpec(
            Venue.HTX, htx.HtxProtocol, htx.instruments_request, htx.parse_instruments
        ),
        Venue.MEXC: VenueSpec(
            Venue.MEXC,
            mexc.MexcProtocol,
            mexc_rest.instruments_request,
            mexc_rest.parse_instruments,
        ),
    }
)

PROTOCOLS: Mapping[Venue, type[VenueProtocol]] = MappingProxyType(
    {venue: spec.protocol for venue, spec in VENUES.items()}
)


# Exchange names in capture headers (ours and other recorders') that are not our venue ids.
EXCHANGE_ALIASES: Mapping[str, Venue] = MappingProxyType(
    {
        "OKEX": Venue.OKX,
        "GATE": Venue.GATEIO,
        "GATE.IO": Venue.GATEIO,
        "CRYPTO.COM": Venue.CRYPTOCOM,
        "CRYPTO_COM": Venue.CRYPTOCOM,
        "HUOBI": Venue.HTX,
        "MXC": Venue.MEXC,
    }
)


def venue_of_exchange(exchange: str | None) -> Venue | None:
    """The venue a capture header's ``exchange`` names (``BITFINEX`` -> bitfinex), if any."""
    if not exchange:
        return None
    name = exchange.strip().upper()
    try:
        return EXCHANGE_ALIASES.get(name) or Venue(name.lower())
    except ValueError:
        return None


def spec_for_address(addr: str) -> VenueSpec | None:
    """The venue whose protocol accepts a captured connection address (spot market data)."""
    for spec in VENUES.values():
        if spec.protocol.accepts_address(addr):
            return spec
    return None


def protocol_for_address(addr: str) -> type[VenueProtocol] | None:
    spec = spec_for_address(addr)
    return None if spec is None else spec.protocol
