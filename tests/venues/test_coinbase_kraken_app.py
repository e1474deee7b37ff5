"""Coinbase and Kraken through the whole program (demo venues): commands, /status, /readyz, metrics."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

from goquant_bot.app import build
from goquant_bot.bot.types import Caller
from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.settings import Settings
from tests.helpers import wait_until

BTC_USD = Symbol("BTC", "USD")
ALICE = Caller(user_id=11, chat_id=11, first_name="Alice")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_the_new_venues_serve_commands_health_and_metrics(tmp_path: Path) -> None:
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
        marketdata={"watch": ["BTC-USD"]},  # type: ignore[arg-type]
        observability={"port": port},  # type: ignore[arg-type]
    )
    app = build(settings)
    assert app.market is not None
    hub = app.market.hub
    runner = asyncio.ensure_future(app.run())
    keys = [InstrumentKey(Venue.COINBASE, BTC_USD), InstrumentKey(Venue.KRAKEN, BTC_USD)]

    def live() -> bool:
        books = [hub.book(key) for key in keys]
        return all(b is not None and b.state is BookState.LIVE for b in books)

    try:
        await wait_until(live, within=10)
        router = app.chat.router
        # Before any monitor names them, the venues section lists both.
        status = "\n".join(r.text for r in router.handle(ALICE, "/status"))
        assert "coinbase" in status
        assert "kraken" in status
        created = router.handle(ALICE, "/monitor_arb BTC-USD coinbase kraken 0.3")
        assert "created" in created[0].text
        assert "BTC-USD on coinbase, kraken" in created[0].text
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{port}"
            async with http.get(f"{base}/readyz") as resp:
                body = await resp.json()
            async with http.get(f"{base}/metrics") as resp:
                metrics = await resp.text()
        assert body["venues"]["coinbase"]["BTC-USD"]["state"] == "live"
        assert body["venues"]["kraken"]["BTC-USD"]["state"] == "live"
        assert 'goquant_books{state="live",venue="coinbase"}' in metrics
        assert 'goquant_books{state="live",venue="kraken"}' in metrics
    finally:
        app.request_stop()
        assert await asyncio.wait_for(runner, 10) == 0
