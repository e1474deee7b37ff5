from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from goquant_bot.app import build
from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor
from goquant_bot.observability.wiring import build_health
from goquant_bot.settings import Settings
from goquant_bot.settings_sections import ObservabilitySettings
from tests.engine.test_service import Setup
from tests.helpers import wait_until

BTC = Symbol("BTC", "USDT")


async def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.registry.add_arbitrage(
        ArbMonitor(
            id="m1", owner=5, symbols=(BTC,), venues=(Venue.BINANCE, Venue.OKX), min_edge_pct=0.2
        )
    )
    server = build_health(
        ObservabilitySettings(port=0),
        tmp_path,
        s.hub,
        s.service,
        s.registry,
        transport_ok=lambda: True,
        unreachable=lambda: {Venue.BINANCE: 1_700_000_000.0},
    )
    task = asyncio.ensure_future(server.run())
    try:
        await wait_until(lambda: server.bound_port not in (None, 0))
        base = f"http://127.0.0.1:{server.bound_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
                assert await resp.json() == {"status": "alive"}
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 503  # no venue live yet
                body = await resp.json()
                assert body["checks"] == {
                    "venue_live": False,
                    "state_writable": True,
                    "telegram": True,
                }
                assert body["venues"]["okx"]["BTC-USDT"]["state"] == "syncing"
                assert body["unreachable"] == {
                    "binance": {"since": "2023-11-14T22:13:20+00:00", "retrying": True}
                }
            book = s.hub.book(InstrumentKey(Venue.OKX, BTC))
            assert book is not None
            book.state, book.recv_ts = BookState.LIVE, 99.0
            s.service.process({BTC}, 100.0)
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/metrics") as resp:
                text = await resp.text()
        assert 'goquant_books{state="live",venue="okx"} 1.0' in text
        assert 'goquant_monitors{kind="arbitrage"} 1.0' in text
        assert "goquant_engine_evaluation_seconds_bucket" in text
        assert 'goquant_book_age_seconds{symbol="BTC-USDT",venue="okx"}' in text
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.parametrize(("demo", "data"), [(True, "simulated"), (False, "live")])
async def test_readyz_in_headless_mode_claims_no_telegram_and_names_the_data(
    tmp_path: Path, demo: bool, data: str
) -> None:
    settings = Settings(
        _env_file=None,
        app={"mode": "headless", "demo": demo, "data_dir": tmp_path / "data"},  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        observability={"port": 0},  # type: ignore[arg-type]
        # No venue enabled outside the demo: nothing reaches the network.
        venues={  # type: ignore[arg-type]
            v.value: {"enabled": demo, "taker_fee_pct": 0.1} for v in Venue
        },
    )
    app = build(settings)
    task = asyncio.ensure_future(app.run())
    try:
        health = app.health
        assert health is not None
        await wait_until(lambda: health.bound_port not in (None, 0), 10)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{health.bound_port}/readyz") as resp,
        ):
            body = await resp.json()
        assert set(body["checks"]) == {"venue_live", "state_writable"}
        assert body["data"] == data
        assert body["unreachable"] == {}
    finally:
        app.request_stop()
        assert await asyncio.wait_for(task, 10) == 0
