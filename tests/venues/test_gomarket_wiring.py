"""GoMarket wired in: the source choice, books through a local gateway, its budget, its key."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from goquant_bot.app.market import build_market_data, read_venues, venue_sources
from goquant_bot.config_report import secret_values
from goquant_bot.domain.book import BookState
from goquant_bot.domain.cbbo import consolidate
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.errors import ConfigError
from goquant_bot.logging import configure_logging, get_logger
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.settings import Settings, load_settings
from goquant_bot.settings_sections import LogSettings
from goquant_bot.venues import gomarket_format as fmt
from goquant_bot.venues.gomarket import l1_request
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from tests.fakes.gomarket_server import FakeBook, FakeGoMarket
from tests.helpers import wait_until

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
KEY = "gm-secret-key-0123456789"
BIDS = [(100.0, 1.0), (99.5, 2.0)]
ASKS = [(100.5, 1.5), (101.0, 3.0)]


# -- wiring ---------------------------------------------------------------------------------


def gm_settings(
    url: str,
    *,
    native_binance: bool = True,
    data_dir: Any = "data",
    marketdata: dict[str, Any] | None = None,
    **gomarket: Any,
) -> Settings:
    base = Settings(_env_file=None).venues
    wanted = {Venue.BITMEX, Venue.BINANCE}
    venues = {
        v.value: getattr(base, v.value).model_dump() | {"enabled": v in wanted} for v in Venue
    }
    venues["binance"]["source"] = "native" if native_binance else "gomarket"
    return Settings(
        _env_file=None,
        app={"data_dir": str(data_dir)},
        logging={"file": None},
        venues=venues,
        gomarket={"enabled": True, "base_url": url, "api_key": KEY} | gomarket,
        marketdata={"book_max_age_s": 0.5, "watchdog_silence_s": 2.0, "poll_interval_s": 0.1}
        | (marketdata or {}),
    )


def test_a_venue_is_read_one_way_and_gomarket_only_venues_need_gomarket_on() -> None:
    on = gm_settings("http://gm")
    assert venue_sources(on) == {Venue.BINANCE: "native", Venue.BITMEX: "gomarket"}
    assert venue_sources(gm_settings("http://gm", native_binance=False)) == {
        Venue.BINANCE: "gomarket",
        Venue.BITMEX: "gomarket",
    }
    off = gm_settings("http://gm", enabled=False)
    assert read_venues(off) == (Venue.BINANCE,)
    defaults = Settings(_env_file=None)
    assert defaults.gomarket.enabled is False
    assert Venue.HYPERLIQUID not in read_venues(defaults)


@asynccontextmanager
async def running(settings: Settings, watch: list[Symbol]) -> AsyncIterator[MarketDataService]:
    """The market-data side of ``settings`` on the real network (GoMarket's own sessions)."""
    plain = AiohttpGet()
    service, specs = build_market_data(
        settings, websocket_connect, plain, watch=watch, real_network=True
    )
    tasks = [asyncio.ensure_future(spec.run()) for spec in specs]
    try:
        yield service
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await plain.close()


def fake(*exchanges: str) -> FakeGoMarket:
    return FakeGoMarket(
        symbols={ex: ["BTC-USDT", "ETH-USDT"] for ex in exchanges},
        books={
            (ex, s): FakeBook(list(BIDS), list(ASKS))
            for ex in exchanges
            for s in ("BTC-USDT", "ETH-USDT")
        },
    )


async def test_books_stream_through_gomarket_and_a_stalled_or_crossed_book_is_excluded(
    tmp_path: Any,
) -> None:
    async with fake("bitmex", "binance") as gm:
        settings = gm_settings(gm.url, native_binance=False, data_dir=tmp_path)
        async with running(settings, [BTC, ETH]) as service:
            hub = service.hub
            keys = [InstrumentKey(v, s) for v in (Venue.BITMEX, Venue.BINANCE) for s in (BTC, ETH)]

            def live(key: InstrumentKey) -> bool:
                book = hub.book(key)
                return book is not None and book.state is BookState.LIVE

            await wait_until(lambda: all(live(k) for k in keys), within=10)
            btc = hub.book(InstrumentKey(Venue.BITMEX, BTC))
            assert btc is not None
            assert (btc.bids.best_price(), btc.asks.best_price()) == (100.0, 100.5)
            assert sorted(gm.streams_seen) == [
                "binance/BTC-USDT",
                "binance/ETH-USDT",
                "bitmex/BTC-USDT",
                "bitmex/ETH-USDT",
            ]
            assert set(gm.api_keys) == {KEY}  # the key went as a header, REST and WebSocket

            gm.stall("bitmex", "BTC-USDT")
            gm.books[("binance", "ETH-USDT")].crossed = True

            def excluded() -> bool:
                hub.check(time.time())
                return not live(keys[0]) and not live(keys[3])

            await wait_until(excluded, within=10)
            cbbo = consolidate(hub.books_for(BTC), time.time())
            assert cbbo.bid_venues == (Venue.BINANCE,)
            eth = consolidate(hub.books_for(ETH), time.time())
            assert eth.bid_venues == (Venue.BITMEX,)
            assert not eth.crossed
            assert live(keys[1])
            assert live(keys[2])


async def test_streams_beyond_the_connection_budget_are_kept_from_rest_polls(
    tmp_path: Any,
) -> None:
    async with fake("bitmex") as gm:
        settings = gm_settings(
            gm.url,
            ws_connections=1,
            data_dir=tmp_path,
            marketdata={"poll_after_failures": 1, "reconnect_initial_s": 0.05},
        )
        async with running(settings, [BTC, ETH]) as service:
            hub = service.hub

            def states() -> set[BookState | None]:
                books = [hub.book(InstrumentKey(Venue.BITMEX, s)) for s in (BTC, ETH)]
                return {b.state if b else None for b in books}

            await wait_until(lambda: states() == {BookState.LIVE, BookState.POLLED}, within=10)
            assert gm.streams_open == 1
            polled = [p for p, _ in gm.rest_calls if p.startswith("/api/l2-orderbook/bitmex/")]
            assert polled


@pytest.mark.usefixtures("restore_logging")
async def test_the_api_key_never_reaches_a_log_line(tmp_path: Any) -> None:
    stream = io.StringIO()
    async with fake("bitmex") as gm:
        settings = gm_settings(gm.url, data_dir=tmp_path, backoff_initial_s=0.05)
        configure_logging(
            LogSettings(file=None, level="DEBUG"), secret_values(settings), stream=stream
        )
        gm.throttle = 1  # a rate-limit warning names the request
        async with running(settings, [BTC]) as service:
            key = InstrumentKey(Venue.BITMEX, BTC)
            await wait_until(
                lambda: (b := service.hub.book(key)) is not None and b.state is BookState.LIVE,
                within=10,
            )
        get_logger(__name__).warning("careless_line", header=f"X-API-Key: {KEY}")
    logged = stream.getvalue()
    assert "gomarket_rate_limited" in logged
    assert "X-API-Key: ***" in logged  # even a line that names it shows it redacted
    assert "gomarket_venues" in logged
    assert "ws_connected" in logged
    assert KEY not in logged
    assert KEY in gm.api_keys


def test_the_key_is_a_secret_the_redactor_knows() -> None:
    settings = gm_settings("http://gm")
    assert KEY in secret_values(settings)
    assert KEY not in repr(settings.gomarket)


async def test_the_l1_answer_is_one_level_a_side() -> None:
    async with fake("bitmex") as gm:
        request = l1_request(Venue.BITMEX, "BTC-USDT", gm.url, BTC)
        http = AiohttpGet()
        resp = await http(request.url, request.params, 5.0)
        await http.close()
        l1 = fmt.parse_book(resp.body)
        assert (l1.bids, l1.asks) == ([(100.0, 1.0)], [(100.5, 1.5)])


async def test_a_venue_set_to_gomarket_while_it_is_off_is_not_read_and_says_so(
    tmp_path: Any,
) -> None:
    settings = gm_settings("http://gm", native_binance=False, enabled=False, data_dir=tmp_path)
    plain = AiohttpGet()
    with capture_logs() as logs:
        service, _ = build_market_data(settings, websocket_connect, plain, watch=[])
    assert Venue.BINANCE not in service.hub.feeds
    assert Venue.BITMEX not in service.hub.feeds
    told = [(e["event"], e.get("venue")) for e in logs if e["log_level"] == "warning"]
    assert told == [("venue_not_read", "binance")]


def load_toml(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "my.toml"
    path.write_text(text)
    return load_settings(path)


def test_gomarket_settings_refuse_bad_values_and_read_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"gomarket\.base_url"):
        load_toml(tmp_path, '[gomarket]\nbase_url = "ftp://gm"\n')
    with pytest.raises(ConfigError, match=r"venues\.okx\.source"):
        load_toml(tmp_path, '[venues.okx]\nsource = "carrier pigeon"\n')
    monkeypatch.setenv("GOQUANT_GOMARKET__API_KEY", KEY)
    settings = load_settings(None)
    assert settings.gomarket.api_key is not None
    assert settings.gomarket.api_key.get_secret_value() == KEY
    assert settings.gomarket.ws_base == "wss://gomarket-api.goquant.io"
