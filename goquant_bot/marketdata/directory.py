"""Symbol directory: each venue's trading spot instruments, normalised, cached on disk."""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from goquant_bot.domain.instruments import Instrument, Symbol, Venue, match_native
from goquant_bot.errors import RejectedInput, VenueProtocolError, VenueUnavailable
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.records import Recorder, RestRequest
from goquant_bot.venues.transport import HttpGet

log = get_logger(__name__)
CACHE_VERSION = 1


class UnknownSymbol(RejectedInput):
    """A symbol no enabled venue lists; ``suggestions`` holds close matches."""

    def __init__(self, text: str, suggestions: list[str]) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"Unknown symbol {text!r}.{hint}")
        self.suggestions = suggestions


class AmbiguousSymbol(UnknownSymbol):
    """A spelling several listed symbols fit (``BTCUSD``); ``suggestions`` are the candidates."""

    ambiguous = True


class SymbolDirectory:
    """Instruments per venue; one SymbolMap per venue shared with that venue's protocols."""

    def __init__(self, cache_dir: Path, ttl_s: float) -> None:
        self.cache_dir = cache_dir
        self.ttl_s = ttl_s
        self._instruments: dict[Venue, dict[Symbol, Instrument]] = {}
        self.maps: dict[Venue, SymbolMap] = {}
        # When the list in use was fetched from the venue (a cache keeps that time).
        self.fetched: dict[Venue, float] = {}
        # Venues with no list at all, and since when their endpoint could not be read.
        self.missing_since: dict[Venue, float] = {}

    def map_for(self, venue: Venue) -> SymbolMap:
        return self.maps.setdefault(venue, SymbolMap())

    def set_instruments(self, venue: Venue, instruments: Iterable[Instrument]) -> None:
        listed = {i.symbol: i for i in instruments if i.trading}
        self._instruments[venue] = listed
        self.missing_since.pop(venue, None)
        symbol_map = self.map_for(venue)
        for instrument in listed.values():
            symbol_map.add(instrument.native, instrument.symbol, instrument)

    def has_list(self, venue: Venue) -> bool:
        return venue in self._instruments

    def unreachable(self) -> dict[Venue, float]:
        """Venues whose symbol list is missing, with the time it was first asked for."""
        return dict(self.missing_since)

    def instruments(self, venue: Venue) -> list[Instrument]:
        return sorted(self._instruments.get(venue, {}).values(), key=lambda i: str(i.symbol))

    def instrument(self, venue: Venue, symbol: Symbol) -> Instrument | None:
        return self._instruments.get(venue, {}).get(symbol)

    def venues_listing(self, symbol: Symbol) -> list[Venue]:
        return [v for v, listed in self._instruments.items() if symbol in listed]

    def all_symbols(self) -> list[Symbol]:
        return sorted({s for listed in self._instruments.values() for s in listed})

    def resolve(self, text: str) -> Symbol:
        """Parse and check a user's symbol; raise UnknownSymbol with suggestions."""
        try:
            symbol = Symbol.parse(text)
        except ValueError:
            symbol = None
        if symbol is not None and self.venues_listing(symbol):
            return symbol
        if symbol is None:
            symbol = self._resolve_native(text)
            if symbol is not None:
                return symbol
        names = [str(s) for s in self.all_symbols()]
        probe = str(symbol) if symbol else text.upper()
        suggestions = difflib.get_close_matches(probe, names, n=5, cutoff=0.6)
        if symbol is not None:
            same_base = [
                n for n in names if n.startswith(f"{symbol.base}-") and n not in suggestions
            ]
            suggestions += same_base[: 5 - len(suggestions)]
        raise UnknownSymbol(text, suggestions)

    def _resolve_native(self, text: str) -> Symbol | None:
        """A venue-style spelling (BTCUSDT, xbtusd); AmbiguousSymbol when it has candidates."""
        listed = (i for by_symbol in self._instruments.values() for i in by_symbol.values())
        found = match_native(text, listed)
        if len(found.exact) == 1:
            return found.exact[0]
        candidates = [str(s) for s in (*found.exact, *found.near)]
        if candidates:
            raise AmbiguousSymbol(text, candidates[:8])
        return None

    # -- disk cache -----------------------------------------------------------------------

    def _cache_path(self, venue: Venue) -> Path:
        return self.cache_dir / f"instruments-{venue.value}.json"

    def load_cache(self, venue: Venue, now: float, *, allow_expired: bool) -> bool:
        """Load the cached list; False when missing, corrupt, or expired (unless allowed)."""
        path = self._cache_path(venue)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or raw.get("version") != CACHE_VERSION:
                log.warning("instruments_cache_ignored", venue=venue.value, path=str(path))
                return False
            fetched = float(raw["fetched"])
            instruments = [_instrument_from_dict(d) for d in raw["instruments"]]
        except FileNotFoundError:
            return False
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("instruments_cache_unreadable", venue=venue.value, error=repr(exc))
            return False
        if not allow_expired and now - fetched > self.ttl_s:
            return False
        self.set_instruments(venue, instruments)
        self.fetched[venue] = fetched
        log.info(
            "instruments_cache_loaded",
            venue=venue.value,
            count=len(instruments),
            age_s=round(now - fetched),
        )
        return True

    def save_cache(self, venue: Venue, now: float) -> None:
        payload = {
            "version": CACHE_VERSION,
            "fetched": now,
            "instruments": [_instrument_to_dict(i) for i in self.instruments(venue)],
        }
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self._cache_path(venue)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            raise

    def apply_response(
        self,
        venue: Venue,
        status: int,
        body: str,
        parse: Callable[[str], list[Instrument]],
        now: float,
    ) -> bool:
        """Use a fresh instruments response; False (and the cache is kept) when unusable."""
        if status != 200:
            log.warning("instruments_fetch_failed", venue=venue.value, status=status)
            return False
        try:
            instruments = parse(body)
        except VenueProtocolError as exc:
            log.warning("instruments_unparseable", venue=venue.value, error=str(exc))
            return False
        self.set_instruments(venue, instruments)
        self.fetched[venue] = now
        try:
            self.save_cache(venue, now)
        except OSError as exc:
            log.warning("instruments_cache_write_failed", venue=venue.value, error=repr(exc))
        log.info("instruments_loaded", venue=venue.value, count=len(instruments))
        return True


def _instrument_to_dict(instrument: Instrument) -> dict[str, Any]:
    data = asdict(instrument)
    data["venue"] = instrument.venue.value
    data["symbol"] = str(instrument.symbol)
    return data


def _instrument_from_dict(data: dict[str, Any]) -> Instrument:
    return Instrument(
        venue=Venue(data["venue"]),
        symbol=Symbol.parse(data["symbol"]),
        native=str(data["native"]),
        trading=bool(data["trading"]),
        tick_size=None if data.get("tick_size") is None else float(data["tick_size"]),
        lot_size=None if data.get("lot_size") is None else float(data["lot_size"]),
        routed_to=data.get("routed_to"),
    )


async def fetch_venue(
    directory: SymbolDirectory,
    venue: Venue,
    request: RestRequest,
    parse: Callable[[str], list[Instrument]],
    http: HttpGet,
    now: float,
    timeout_s: float = 10.0,
    recorder: Recorder | None = None,
) -> bool:
    """Ask the venue's endpoint; True when its answer is now the venue's list."""
    try:
        resp = await http(request.url, request.params, timeout_s)
    except VenueUnavailable as exc:
        log.warning("instruments_fetch_failed", venue=venue.value, error=str(exc))
        return False
    if recorder is not None:
        query = f"?{urlencode(request.params)}" if request.params else ""
        recorder.http(0, request.url + query, resp.body, now, resp.status)
    return directory.apply_response(venue, resp.status, resp.body, parse, now)
