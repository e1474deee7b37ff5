"""Gemini, Bitstamp and Bitfinex through the whole program (simulated): commands, /status,
/readyz and the metrics see them as they see the other venues."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from pathlib import Path

import aiohttp

from goquant_bot.app import build, open_captures, record_market_data
from goquant_bot.bot.types import Caller
from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.replay import replay_files
from goquant_bot.venues.sim.model import DEFAULT_VENUES, SimConfig
from goquant_bot.venues.sim.simulator import SimulatedVenues
from tests.helpers import wait_until

NEW = (Venue.GEMINI, Venue.BITSTAMP, Venue.BITFINEX)
BTC_USD = Symbol("BTC", "USD")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_new_venues_in_commands_status_readiness_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,
        app={
            "demo": True,
            "mode": "headless",
            "data_dir": str(tmp_path / "data"),
            "shutdown_timeout_s": 3,
        },  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        observability={"port": port},  # type: ignore[arg-type]
        marketdata={"watch": ["BTC-USD"]},  # type: ignore[arg-type]
    )
    app = build(settings)
    assert app.market is not None
    assert app.chat is not None
    hub = app.market.hub
    runner = asyncio.ensure_future(app.run())
    keys = [InstrumentKey(venue, BTC_USD) for venue in NEW]

    def all_live() -> bool:
        return all((b := hub.book(k)) is not None and b.state is BookState.LIVE for k in keys)

    try:
        await wait_until(all_live, within=15)
        caller = Caller(user_id=7, chat_id=7)
        (reply,) = app.chat.router.handle(caller, "/monitor_arb BTC-USD gemini bitstamp 0.3")
        assert "gemini" in reply.text.lower()
        assert "bitstamp" in reply.text.lower()
        assert "⚠️" not in reply.text
        (status,) = app.chat.router.handle(caller, "/status")
        for venue in NEW:
            assert venue.value in status.text.lower()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                body = await resp.json()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                metrics = await resp.text()
        for venue in NEW:
            assert body["venues"][venue.value]["BTC-USD"]["state"] == "live"
            assert f'goquant_books{{state="live",venue="{venue.value}"}}' in metrics
            assert f'goquant_frames_total{{venue="{venue.value}"}}' in metrics
    finally:
        app.request_stop()
        assert await asyncio.wait_for(runner, 10) == 0


async def test_record_then_replay_rebuilds_the_new_venues_books(tmp_path: Path) -> None:
    config = replace(SimConfig().calm(), venues=tuple(v for v in DEFAULT_VENUES if v.venue in NEW))
    sim = SimulatedVenues(config, seed=4, pace_s=0.02)
    settings = Settings(
        _env_file=None,
        app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
    )
    writers = open_captures(tmp_path / "cap", list(NEW), {"symbols": ["BTC-USD"]}, compress=True)
    await record_market_data(
        settings, writers, [BTC_USD], 2.0, connector=sim.connector, http=sim.http_get
    )
    paths = [tmp_path / "cap" / f"{venue.value}.jsonl.zst" for venue in NEW]
    report = replay_files(paths).report()
    assert {key for key in report if ":" in key} == {f"{v.value}:BTC-USD" for v in NEW}
    for venue in NEW:
        entry = report[f"{venue.value}:BTC-USD"]
        assert entry["state"] == "live", (venue, entry)
        assert entry["bid"] < entry["ask"]
        assert entry["bid_levels"] >= 25
        assert entry["updates"] >= 2
    assert report["errors"] == {}
