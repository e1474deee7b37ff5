"""ccxt wired in: the source setting and its checks, and a ccxt venue's books through the whole
market-data side, shown with their "?" mark and never counted in the CBBO."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from goquant_bot.app.market import (
    build_market_data,
    read_venues,
    record_sources,
    venue_sources,
)
from goquant_bot.bot.render_tables import cbbo_text, venue_health_lines
from goquant_bot.cli import main
from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.cbbo import consolidate
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.errors import ConfigError
from goquant_bot.settings import Settings, load_settings
from goquant_bot.venues.ccxt_feed import CcxtFeed
from goquant_bot.venues.ccxt_net import CcxtMarketsHttp
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.transport import HttpResponse
from tests.fakes.upbit_server import FakeUpbit, FakeUpbitBook
from tests.helpers import wait_until

BTC_KRW = Symbol("BTC", "KRW")


def settings_with(venues: dict[str, dict[str, Any]], **sections: Any) -> Settings:
    base = Settings(_env_file=None).venues
    every = {v.value: getattr(base, v.value).model_dump() | {"enabled": False} for v in Venue}
    for name, values in venues.items():
        every[name] |= {"enabled": True} | values
    return Settings(_env_file=None, logging={"file": None}, venues=every, **sections)


def test_venues_ccxt_reads_are_chosen_in_their_settings() -> None:
    settings = settings_with(
        {"upbit": {}, "hyperliquid": {"source": "ccxt"}, "bitmex": {}, "binance": {}}
    )
    assert venue_sources(settings) == {
        Venue.BINANCE: "native",
        Venue.HYPERLIQUID: "ccxt",
        Venue.UPBIT: "ccxt",
    }  # bitmex stays on GoMarket, which is off
    defaults = Settings(_env_file=None).venues
    assert {defaults.hyperliquid.source, defaults.coinbase_intl.source} == {"gomarket"}
    assert (defaults.upbit.enabled, defaults.upbit.source) == (False, "ccxt")


@pytest.mark.parametrize(
    ("venue", "reason"),
    [
        ("bitmex", "ccxt has no WebSocket module for bitmex"),
        ("blofin", "ccxt lists only blofin's perpetual swaps, no spot market"),
        ("binance", "binance has a native feed, not a ccxt one"),
    ],
)
def test_a_venue_ccxt_cannot_read_is_refused_with_the_reason(
    tmp_path: Path, venue: str, reason: str
) -> None:
    path = tmp_path / "user.toml"
    path.write_text(f'[venues.{venue}]\nsource = "ccxt"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env_file=None)
    message = str(info.value)
    assert f"venues.{venue}.source (env GOQUANT_VENUES__{venue.upper()}__SOURCE)" in message
    assert reason in message
    assert "ccxt reads coinbase_intl, hyperliquid, upbit" in message


@pytest.mark.parametrize(("venue", "source"), [("upbit", "gomarket"), ("lbank", "native")])
def test_a_venue_read_only_through_ccxt_refuses_another_source(
    tmp_path: Path, venue: str, source: str
) -> None:
    path = tmp_path / "user.toml"
    path.write_text(
        f'[gomarket]\nenabled = true\n[venues.{venue}]\nenabled = true\nsource = "{source}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, env_file=None)
    assert (
        f"venues.{venue}.source (env GOQUANT_VENUES__{venue.upper()}__SOURCE) = '{source}': "
        f"{venue} is read only through ccxt (no native feed, GoMarket does not serve it); "
        "use 'ccxt'"
    ) in str(info.value)


def test_recording_a_venue_read_through_ccxt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "user.toml"
    path.write_text(
        "[gomarket]\nenabled = true\n[venues.upbit]\nenabled = true\n"
        '[venues.hyperliquid]\nsource = "ccxt"\n',
        encoding="utf-8",
    )
    settings = load_settings(path, env_file=None)
    wanted = [Venue.UPBIT, Venue.HYPERLIQUID, Venue.BITMEX, Venue.LBANK]  # LBank: disabled
    assert record_sources(settings, wanted) == (
        {Venue.BITMEX: "gomarket"},
        dict.fromkeys(
            (Venue.UPBIT, Venue.HYPERLIQUID, Venue.LBANK),
            "it is read through ccxt, whose own traffic cannot be recorded",
        ),
    )


def test_an_unknown_source_names_the_ones_allowed(tmp_path: Path) -> None:
    path = tmp_path / "user.toml"
    path.write_text('[venues.upbit]\nsource = "cxxt"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"venues\.upbit\.source") as info:
        load_settings(path, env_file=None)
    assert "'native', 'gomarket' or 'ccxt'" in str(info.value)


@pytest.mark.usefixtures("restore_logging")
def test_a_bad_ccxt_source_stops_start_up_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOQUANT_VENUES__BITSO__SOURCE", "ccxt")
    code = main(["export", "--out", "-"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ccxt has no WebSocket module for bitso" in err
    assert "Traceback" not in err


async def test_a_ccxt_venue_is_listed_streamed_and_shown_unverified(tmp_path: Path) -> None:
    books = {"KRW-BTC": FakeUpbitBook(100_000.0, 100_100.0)}
    async with FakeUpbit(books) as upbit:
        settings = settings_with(
            {"upbit": {"ws_url": upbit.ws_url, "rest_url": upbit.url}},
            app={"data_dir": str(tmp_path)},
        )
        plain = AiohttpGet()
        service, specs = build_market_data(settings, websocket_connect, plain, watch=[BTC_KRW])
        hub = service.hub
        assert isinstance(hub.feeds[Venue.UPBIT], CcxtFeed)
        tasks = [asyncio.ensure_future(spec.run()) for spec in specs]
        try:
            key = InstrumentKey(Venue.UPBIT, BTC_KRW)

            def live() -> bool:
                book = hub.book(key)
                return book is not None and book.state is BookState.LIVE

            await wait_until(live, 10.0)
            assert service.directory.venues_listing(BTC_KRW) == [Venue.UPBIT]
            (health,) = hub.health()
            assert health.integrity is Integrity.UNVERIFIED
            assert health.frames >= 1
            (line,) = venue_health_lines([health])
            assert line.startswith("• <b>upbit</b>?: connected · 1/1 books fresh · unverified")
            cbbo = consolidate(hub.books_for(BTC_KRW), time.time())
            assert cbbo.bid is None
            assert [(q.venue, q.excluded) for q in cbbo.venues] == [(Venue.UPBIT, "unverified")]
            text = cbbo_text(cbbo)
            assert "upbit?    not counted: unverified" in text
            assert "? unverified" in text
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await plain.close()


def test_the_demo_leaves_ccxt_venues_out(tmp_path: Path) -> None:
    settings = settings_with({"upbit": {}, "binance": {}}, app={"data_dir": str(tmp_path)})

    async def no_http(url: str, params: tuple[tuple[str, str], ...], timeout_s: float) -> Any:
        raise AssertionError(url)

    service, _ = build_market_data(settings, websocket_connect, no_http, demo=True)
    assert set(service.hub.feeds) == {Venue.BINANCE}  # the simulator speaks no ccxt
    # Nor do the commands offer it: a monitor on it would never see a book.
    assert read_venues(settings) == (Venue.BINANCE, Venue.UPBIT)
    demo = settings.model_copy(update={"app": settings.app.model_copy(update={"demo": True})})
    assert read_venues(demo) == (Venue.BINANCE,)


async def test_only_ccxt_addresses_are_answered_by_ccxt() -> None:
    asked: list[str] = []

    async def plain(url: str, params: tuple[tuple[str, str], ...], timeout_s: float) -> Any:
        asked.append(url)
        return HttpResponse(200, "[]", {})

    http = CcxtMarketsHttp(plain, [])
    assert (await http("https://api.binance.com/api/v3/exchangeInfo", (), 1.0)).status == 200
    missing = await http("ccxt:upbit/markets", (), 1.0)
    assert (missing.status, missing.body) == (404, "no feed reads upbit through ccxt")
    assert asked == ["https://api.binance.com/api/v3/exchangeInfo"]


def test_every_venue_mapped_to_ccxt_streams_spot_books_in_the_pinned_ccxt() -> None:
    import ccxt.pro

    from goquant_bot.domain.ccxt_venues import CCXT_IDS

    for venue, exchange_id in CCXT_IDS.items():
        assert exchange_id in ccxt.pro.exchanges, venue
        has = getattr(ccxt.pro, exchange_id)().describe()["has"]
        wanted = [has.get(k) for k in ("spot", "watchOrderBook", "fetchOrderBook")]
        assert wanted == [True] * 3, venue


def test_a_ccxt_only_venue_given_without_a_source_is_read_through_ccxt() -> None:
    settings = Settings(_env_file=None, venues={"upbit": {"enabled": True, "taker_fee_pct": 0.25}})  # type: ignore[arg-type]
    assert settings.venues.upbit.source == "ccxt"
    assert venue_sources(settings)[Venue.UPBIT] == "ccxt"
