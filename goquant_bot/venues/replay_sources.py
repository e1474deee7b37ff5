"""Where a replayed file's data comes from: its header, and the GoMarket streams in it.

A header's ``exchange`` names a venue (our id, or another recorder's name such as ``HUOBI``)
whose protocol is asked first about the file's connection addresses; ``GOMARKET`` says the
data came through the GoMarket gateway, for the venue named beside it (``"venue": "okx"``).
A GoMarket stream address names its exchange and symbol, so each such connection gets that
venue's GoMarket protocol holding that one book; the GoMarket symbol lists in the files
teach each venue's GoMarket names (kept apart from the venue's own names).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.venues import gomarket
from goquant_bot.venues import gomarket_format as fmt
from goquant_bot.venues.base import RestRequest, SymbolMap, VenueProtocol
from goquant_bot.venues.capture import CaptureHeader
from goquant_bot.venues.registry import venue_of_exchange

log = get_logger(__name__)

GOMARKET_MAX_LAG_S = 10.0  # the default of ``[gomarket] max_message_lag_s``


@dataclass(frozen=True, slots=True)
class HeaderSource:
    """What a file's header says: the venue it names, and whether through GoMarket."""

    venue: Venue | None = None
    gomarket: bool = False


def header_source(header: CaptureHeader | None, name: str = "") -> HeaderSource:
    """Read a header; a GoMarket header naming a venue we do not know is refused."""
    exchange = header.exchange if header is not None else None
    if header is None or not exchange:
        return HeaderSource()
    if exchange.strip().upper() != fmt.CAPTURE_EXCHANGE:
        venue = venue_of_exchange(exchange)
        if venue is None:
            log.info("replay_unknown_exchange", exchange=exchange)
        return HeaderSource(venue)
    if header.venue is None:
        return HeaderSource(gomarket=True)  # the stream addresses name their exchange
    venue = venue_of_exchange(header.venue)
    if venue is None:
        known = ", ".join(v.value for v in Venue)
        where = f"{name}: " if name else ""
        msg = (
            f"{where}the header says the data came through GoMarket for venue "
            f"{header.venue!r}, which is not a venue we know ({known})"
        )
        raise RejectedInput(msg)
    return HeaderSource(venue, gomarket=True)


def _venue(exchange: str) -> Venue | None:
    """Our venue of a GoMarket exchange id (GoMarket's ids are ours)."""
    try:
        return Venue(exchange)
    except ValueError:
        return None


class GoMarketStreams:
    """GoMarket's side of a replay: its symbol lists and one protocol per stream address."""

    def __init__(self, depth: int, max_lag_s: float = GOMARKET_MAX_LAG_S) -> None:
        self.depth = depth
        self.max_lag_s = max_lag_s
        self._maps: dict[Venue, SymbolMap] = {}
        self._latest: dict[tuple[Venue, Symbol], VenueProtocol] = {}  # the last for a book

    def listing_venue(self, url: str) -> Venue | None:
        """The venue whose GoMarket symbol list ``url`` asks for, else None."""
        exchange = fmt.listing_exchange(unquote(urlsplit(url).path))
        return None if exchange is None else _venue(exchange)

    def learn(self, venue: Venue, body: str) -> None:
        """A captured GoMarket symbol list (VenueProtocolError when it cannot be read)."""
        symbols = self._map(venue)
        for instrument in gomarket.parse_instruments(venue, body):
            symbols.add(instrument.native, instrument.symbol, instrument)

    def protocol(self, addr: str, now: float) -> VenueProtocol | None:
        """A protocol holding the one book a GoMarket stream address names, else None."""
        stream = gomarket.stream_of(addr)
        found = None if stream is None else self._book(*stream)
        if found is None:
            return None
        proto = self._start(*found, now)
        proto.on_open(now)
        proto.drain()  # the empty book it starts with is reported once a message fills it
        return proto

    def poll(
        self, url: str, status: int, body: str, now: float
    ) -> tuple[VenueProtocol, bool] | None:
        """A captured L2 poll answer (a book kept from REST while its stream was refused),
        given to the protocol of that book; (protocol, whether it is new), or None when
        ``url`` is not a GoMarket L2 book."""
        target = fmt.l2_target(unquote(urlsplit(url).path))
        found = None if target is None else self._book(*target)
        if found is None:
            return None
        venue, symbol = found
        proto = self._latest.get(found)
        new = proto is None
        if proto is None:
            proto = self._start(venue, symbol, now)
        request = RestRequest(venue, url, (), 1, "poll", symbol)
        proto.on_rest(request, status, body, now)
        return proto, new

    def _book(self, exchange: str, native: str) -> tuple[Venue, Symbol] | None:
        venue = _venue(exchange)
        if venue is None:
            return None
        symbols = self._map(venue)
        symbol = symbols.symbol(native) or fmt.symbol_of(native)
        if symbol is None:
            log.info("replay_gomarket_unknown_symbol", venue=venue.value, native=native)
            return None
        symbols.add(native, symbol, symbols.instrument(symbol))
        return venue, symbol

    def _start(self, venue: Venue, symbol: Symbol, now: float) -> VenueProtocol:
        cls = gomarket.protocol_for(venue, self.max_lag_s)
        proto = cls(self._map(venue), depth=self.depth, track_all=True)
        proto.subscribe([symbol], now)
        self._latest[(venue, symbol)] = proto
        return proto

    def _map(self, venue: Venue) -> SymbolMap:
        found = self._maps.get(venue)
        if found is None:
            found = self._maps[venue] = SymbolMap()
        return found
