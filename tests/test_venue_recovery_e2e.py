"""A venue whose REST is down at start recovers without a restart: the real app, twice.

The first run saves an arbitrage monitor on Bybit and OKX and a market view on every venue.
The second starts with no instruments cache and OKX's REST answering 503: commands say OKX
is unreachable, the admin is told (after the crash of the run before, and once OKX has been
down long enough), and when OKX answers again its symbols are listed, the saved monitor
starts by itself, the view widens to OKX, and the admin hears that it is back.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from goquant_bot.app import App, build
from goquant_bot.domain.instruments import Venue
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from goquant_bot.settings import Settings
from goquant_bot.storage.instance_lock import PreviousRun
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_api import USER_ID, BotApi
from tests.fakes.venue_pair import VenuePair
from tests.helpers import BOT_TOKEN, wait_until

QUOTE = ("59990.0", "60010.0")
WITHIN = 10.0


def _settings(data_dir: Path, bot_api: str, venues: VenuePair) -> Settings:
    sections: dict[str, object] = {
        "app": {"mode": "telegram", "data_dir": data_dir, "shutdown_timeout_s": 5.0},
        "logging": {"file": None},
        "telegram": {"bot_token": BOT_TOKEN, "api_base_url": bot_api, "admin_ids": [USER_ID]},
        "venues": venues.settings(),
        "marketdata": {
            "book_depth": 50,
            "watchdog_silence_s": 120.0,
            "book_max_age_s": 120.0,
            "reconnect_initial_s": 0.05,
            "reconnect_max_s": 0.2,
            "venue_down_notice_s": 0.5,
        },
        "observability": {"enabled": False},
    }
    return Settings(_env_file=None, **sections)  # type: ignore[arg-type]


def _texts(api: BotApi, marker: str) -> list[str]:
    return [t for t in api.texts(USER_ID) if marker in t]


async def _ask(api: BotApi, command: str, marker: str) -> str:
    before = len(_texts(api, marker))
    api.queue(api.message(command))
    await wait_until(lambda: len(_texts(api, marker)) > before, WITHIN)
    return _texts(api, marker)[-1]


async def _stop(app: App, task: asyncio.Task[int]) -> None:
    app.request_stop()
    assert await asyncio.wait_for(task, 15.0) == 0


async def test_venue_down_at_start_recovers_without_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    api = BotApi()
    async with BotApiServer(api) as bot_api, VenuePair(QUOTE, QUOTE) as venues:
        settings = _settings(data_dir, bot_api.base_url, venues)
        app = build(settings)
        task = asyncio.create_task(app.run())
        try:
            await _ask(api, "/start", "Hello")
            await _ask(api, "/monitor_arb BTC-USDT bybit okx 0.3", "Arbitrage monitor")
            await _ask(api, "/view_market BTC-USDT", "consolidated book")
            assert app.registry is not None
            (arb,) = [m for m in app.registry.monitors.values() if isinstance(m, ArbMonitor)]
            (view,) = [
                m for m in app.registry.monitors.values() if isinstance(m, MarketViewMonitor)
            ]
        finally:
            await _stop(app, task)

        # -- a new start: no cache, OKX's REST down ----------------------------------------
        shutil.rmtree(data_dir / "instruments")
        venues.okx.rest.refusing = True
        crashed = PreviousRun(pid=4242, started=time.time() - 600, state="running")
        app = build(settings, previous_run=crashed)
        task = asyncio.create_task(app.run())
        try:
            assert app.market is not None
            assert app.registry is not None
            registry = app.registry
            await wait_until(app.market.ready.is_set, WITHIN)
            await wait_until(lambda: view.id in registry.monitors, WITHIN)
            assert arb.id not in registry.monitors  # OKX is needed: waiting, not dropped
            assert registry.venues_of(view.id) == {Venue.BYBIT}

            listing = await _ask(api, "/list_symbols okx BTC", "unreachable")
            assert "okx is unreachable, retrying since " in listing
            assert " UTC" in listing
            assert "Try another filter" not in listing
            status = await _ask(api, "/status", "Status")
            assert "okx is unreachable, retrying since" in status
            refused = await _ask(api, "/monitor_arb ETH-USDT bybit okx 0.3", "okx is unreachable")
            assert "not listed" not in refused
            await wait_until(lambda: bool(_texts(api, "restarted after a crash")), WITHIN)
            (crash,) = _texts(api, "restarted after a crash")
            assert "pid 4242" in crash
            await wait_until(lambda: bool(_texts(api, "okx is down")), WITHIN)

            venues.okx.rest.refusing = False
            await wait_until(lambda: arb.id in registry.monitors, WITHIN)
            assert registry.venues_of(arb.id) == {Venue.BYBIT, Venue.OKX}
            await wait_until(
                lambda: registry.venues_of(view.id) == {Venue.BYBIT, Venue.OKX}, WITHIN
            )
            listing = await _ask(api, "/list_symbols okx BTC", "symbols</b> on okx")
            assert "BTC-USDT" in listing
            await wait_until(lambda: bool(_texts(api, "okx is back")), WITHIN)
            (down,) = _texts(api, "okx is down")
            assert "symbol list cannot be loaded" in down
        finally:
            await _stop(app, task)
    assert len(_texts(api, "okx is down")) == 1
    assert len(_texts(api, "okx is back")) == 1
