from __future__ import annotations

import json
from pathlib import Path

import pytest

from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError, VenueUnavailable
from goquant_bot.marketdata.directory import SymbolDirectory, UnknownSymbol
from goquant_bot.marketdata.listings import ListingKeeper
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.base import RestRequest
from goquant_bot.venues.registry import VENUES, VenueSpec
from goquant_bot.venues.transport import HttpResponse

NOW = 1_700_000_000.0
REQUEST = RestRequest(Venue.OKX, "https://example.test/instruments", (), 1, "instruments")


def _inst(venue: Venue, text: str, native: str, trading: bool = True) -> Instrument:
    return Instrument(venue, Symbol.parse(text), native, trading=trading, tick_size=0.1)


def _parse(body: str) -> list[Instrument]:
    """A stand-in for a venue parser: one symbol per line."""
    if body == "garbage":
        raise VenueProtocolError("not an instruments body")
    return [_inst(Venue.OKX, line, line) for line in body.split()]


class FakeHttp:
    def __init__(self, response: HttpResponse | None) -> None:
        self.response = response
        self.calls = 0

    async def __call__(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        self.calls += 1
        if self.response is None:
            raise VenueUnavailable("connection refused")
        return self.response


def _directory(tmp_path: Path) -> SymbolDirectory:
    directory = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    directory.set_instruments(
        Venue.BINANCE,
        [
            _inst(Venue.BINANCE, "BTC-USDT", "BTCUSDT"),
            _inst(Venue.BINANCE, "ETH-USDT", "ETHUSDT"),
            _inst(Venue.BINANCE, "ETH-BTC", "ETHBTC"),
            _inst(Venue.BINANCE, "LUNA-USDT", "LUNAUSDT", trading=False),
        ],
    )
    directory.set_instruments(Venue.DERIBIT, [_inst(Venue.DERIBIT, "BTC-USDC", "BTC_USDC")])
    return directory


def test_only_trading_instruments_are_listed(tmp_path: Path) -> None:
    directory = _directory(tmp_path)
    assert [str(i.symbol) for i in directory.instruments(Venue.BINANCE)] == [
        "BTC-USDT", "ETH-BTC", "ETH-USDT",
    ]  # fmt: skip
    assert directory.map_for(Venue.BINANCE).symbol("BTCUSDT") == Symbol("BTC", "USDT")
    assert directory.map_for(Venue.DERIBIT).native(Symbol("BTC", "USDC")) == "BTC_USDC"


def test_resolve_normalises_and_keeps_quotes_distinct(tmp_path: Path) -> None:
    directory = _directory(tmp_path)
    assert directory.resolve("btc/usdt") == Symbol("BTC", "USDT")
    assert directory.resolve("XBT-USDC") == Symbol("BTC", "USDC")
    assert directory.venues_listing(Symbol("BTC", "USDC")) == [Venue.DERIBIT]
    assert directory.venues_listing(Symbol("BTC", "USDT")) == [Venue.BINANCE]


def test_unknown_symbol_gets_suggestions(tmp_path: Path) -> None:
    directory = _directory(tmp_path)
    with pytest.raises(UnknownSymbol) as info:
        directory.resolve("BTC-USD")
    assert info.value.suggestions[:2] == ["BTC-USDT", "BTC-USDC"]
    assert "Did you mean: BTC-USDT" in str(info.value)
    with pytest.raises(UnknownSymbol) as info:
        directory.resolve("LUNA-USDT")  # listed but not trading
    with pytest.raises(UnknownSymbol) as info:
        directory.resolve("%%%")
    assert info.value.suggestions == []


def test_cache_round_trip_and_ttl(tmp_path: Path) -> None:
    directory = _directory(tmp_path)
    directory.save_cache(Venue.BINANCE, NOW)
    fresh = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    assert fresh.load_cache(Venue.BINANCE, NOW + 3599, allow_expired=False)
    assert fresh.instruments(Venue.BINANCE) == directory.instruments(Venue.BINANCE)
    expired = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    assert not expired.load_cache(Venue.BINANCE, NOW + 3601, allow_expired=False)
    assert expired.load_cache(Venue.BINANCE, NOW + 3601, allow_expired=True)


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"version": 1}', '{"version": 99, "fetched": 1, "instruments": []}', "[]"],
)
def test_corrupt_cache_is_ignored(tmp_path: Path, content: str) -> None:
    path = tmp_path / "instruments" / "instruments-binance.json"
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    directory = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    assert not directory.load_cache(Venue.BINANCE, NOW, allow_expired=True)
    assert directory.instruments(Venue.BINANCE) == []


def _keeper(directory: SymbolDirectory, http: FakeHttp) -> ListingKeeper:
    spec = VenueSpec(Venue.OKX, VENUES[Venue.OKX].protocol, lambda base: REQUEST, _parse)
    return ListingKeeper(
        directory, {Venue.OKX: spec}, {}, http, backoff=Backoff(), clock=lambda: NOW
    )


async def test_first_attempt_fetches_and_caches(tmp_path: Path) -> None:
    directory = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    http = FakeHttp(HttpResponse(200, "BTC-USDT ETH-USDT", {}))
    assert await _keeper(directory, http).attempt(Venue.OKX, first=True)
    assert [str(i.symbol) for i in directory.instruments(Venue.OKX)] == ["BTC-USDT", "ETH-USDT"]
    cached = json.loads((tmp_path / "instruments" / "instruments-okx.json").read_text())
    assert cached["fetched"] == NOW
    # A fresh cache answers the next start without asking the venue.
    again = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    assert await _keeper(again, http).attempt(Venue.OKX, first=True)
    assert again.fetched[Venue.OKX] == NOW
    assert http.calls == 1


@pytest.mark.parametrize(
    "response", [None, HttpResponse(503, "down", {}), HttpResponse(200, "garbage", {})]
)
async def test_first_attempt_falls_back_to_an_expired_cache(
    tmp_path: Path, response: HttpResponse | None
) -> None:
    seed = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    seed.set_instruments(Venue.OKX, [_inst(Venue.OKX, "BTC-USDT", "BTC-USDT")])
    seed.save_cache(Venue.OKX, NOW - 10 * 3600)
    directory = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    # Not fresh: to be retried; but the expired list is used meanwhile.
    assert not await _keeper(directory, FakeHttp(response)).attempt(Venue.OKX, first=True)
    assert [str(i.symbol) for i in directory.instruments(Venue.OKX)] == ["BTC-USDT"]
    assert directory.unreachable() == {}


async def test_first_attempt_without_venue_or_cache_marks_it_unreachable(tmp_path: Path) -> None:
    directory = SymbolDirectory(tmp_path / "instruments", ttl_s=3600)
    keeper = _keeper(directory, FakeHttp(None))
    assert not await keeper.attempt(Venue.OKX, first=True)
    assert directory.instruments(Venue.OKX) == []
    assert directory.unreachable() == {Venue.OKX: NOW}
