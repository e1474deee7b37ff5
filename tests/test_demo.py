"""--demo: the whole market-data path on simulated venues, a trial kept apart from live data."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from goquant_bot.app import DEMO_WATCH, App, build
from goquant_bot.bot.types import Caller
from goquant_bot.domain.book import BookState
from goquant_bot.domain.events import ArbClosed
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.engine.history import HistoryWriter
from goquant_bot.settings import Settings
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.sim import SimConfig, SimulatedVenues
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_api import USER_ID, BotApi
from tests.helpers import BOT_TOKEN, REPO_ROOT, wait_until


def demo_settings(data_dir: Path, **sections: object) -> Settings:
    app = {"demo": True, "mode": "headless", "data_dir": str(data_dir), "shutdown_timeout_s": 3}
    app.update(sections.pop("app", {}))  # type: ignore[arg-type]
    return Settings(
        _env_file=None,
        app=app,  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        observability={"port": 0},  # type: ignore[arg-type]
        **sections,  # type: ignore[arg-type]
    )


async def stop(app: App, runner: asyncio.Future[int]) -> None:
    app.request_stop()
    assert await asyncio.wait_for(runner, 10) == 0


async def test_demo_streams_live_books_from_all_four_venues(tmp_path: Path) -> None:
    app = build(demo_settings(tmp_path / "data"))
    assert app.market is not None
    hub = app.market.hub
    runner = asyncio.ensure_future(app.run())

    # Every venue listing a watched symbol streams it; Deribit lists only the USDC pair.
    expected = {
        f"{venue.value}:{symbol}"
        for venue in VENUES
        for symbol in DEMO_WATCH
        if venue is not Venue.DERIBIT or symbol.quote == "USDC"
    }

    def all_live() -> bool:
        books = [b for feed in hub.feeds.values() for b in feed.books()]
        return len(books) == len(expected) and all(b.state is BookState.LIVE for b in books)

    await wait_until(all_live, within=10)
    assert {str(k) for k in hub.subscribed()} == expected
    for feed in hub.feeds.values():
        for book in feed.books():
            l1 = book.l1()
            assert l1.bid is not None
            assert l1.ask is not None
            assert l1.bid < l1.ask
            assert len(book.bids) >= 50
    await stop(app, runner)
    # Everything the demo wrote is in data/demo/: live mode never sees it.
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["demo"]
    assert (tmp_path / "data" / "demo" / "instruments").is_dir()
    assert (tmp_path / "data" / "demo" / "state.json").is_file()


async def test_a_monitor_made_in_the_demo_is_not_restored_in_live_mode(tmp_path: Path) -> None:
    app = build(demo_settings(tmp_path / "data"))
    assert app.chat is not None
    runner = asyncio.ensure_future(app.run())
    assert app.market is not None
    await app.market.ready.wait()
    caller = Caller(user_id=7, chat_id=7, first_name="Ada")
    app.chat.router.handle(caller, "/start")
    app.chat.router.handle(caller, "/monitor_arb BTC-USDT binance okx 0.3")
    assert app.registry is not None
    assert [m.owner for m in app.registry.monitors.values()].count(7) == 1
    await stop(app, runner)
    demo_state = (tmp_path / "data" / "demo" / "state.json").read_text(encoding="utf-8")
    assert "BTC-USDT" in demo_state
    assert not (tmp_path / "data" / "state.json").exists()


def _closed(ts: float, symbol: str) -> ArbClosed:
    return ArbClosed("m1", 1, Symbol.parse(symbol), Venue.BINANCE, Venue.OKX, ts, ts - 4.0, 0.4,
                     0.1, "below_threshold")  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "symbol"),
    [
        (["export"], "ETH-USDT"),
        (["export", "--demo"], "SOL-USDT"),
        (["--demo", "export"], "SOL-USDT"),
    ],
)
def test_export_reads_the_live_or_the_demo_history(
    tmp_path: Path, argv: list[str], symbol: str
) -> None:
    for folder, written in (("data", "ETH-USDT"), ("data/demo", "SOL-USDT")):
        writer = HistoryWriter(tmp_path / folder / "opportunities.jsonl")
        writer.add([_closed(1_700_000_000.0, written)])
        writer.flush()
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), *argv, "--out", "-"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 1
    assert f",{symbol}," in rows[0]


async def test_demo_with_one_venue_offers_market_views(tmp_path: Path) -> None:
    base = Settings(_env_file=None).venues
    venues = {
        v.value: getattr(base, v.value).model_dump() | {"enabled": v is Venue.BINANCE}
        for v in Venue
    }
    settings = demo_settings(tmp_path / "data", venues=venues)
    app = build(settings)
    assert app.market is not None
    assert app.chat is not None
    assert app.registry is not None
    runner = asyncio.ensure_future(app.run())
    await app.market.ready.wait()
    await wait_until(lambda: "demo-monitors" not in app.supervisor.task_names, within=5)
    assert not runner.done()  # the demo's watch did not crash it
    assert app.registry.monitors == {}  # no arbitrage watch on one venue
    caller = Caller(user_id=7, chat_id=7, first_name="Ada")
    app.chat.router.handle(caller, "/start")
    assert app.chat.router.handle(caller, "/view_market BTC-USDT binance") == []  # live message
    assert [m.symbol for m in app.registry.monitors.values()] == [Symbol("BTC", "USDT")]
    (refusal,) = app.chat.router.handle(caller, "/monitor_arb BTC-USDT all 0.3")
    assert "listed on binance: this needs at least 2" in refusal.text
    await stop(app, runner)


async def test_the_demos_own_monitors_never_send_to_telegram(tmp_path: Path) -> None:
    """A dislocation opens the demo's watch monitor (owner 0) and a user's: only the user's
    alert is sent, and no request ever names a chat that does not exist."""
    api = BotApi()
    async with BotApiServer(api) as server:
        settings = demo_settings(
            tmp_path / "data",
            app={"mode": "telegram"},
            telegram={"bot_token": BOT_TOKEN, "api_base_url": server.base_url},
        )
        simulator = SimulatedVenues(SimConfig().calm())
        app = build(settings, simulator=simulator)
        assert app.market is not None
        assert app.signals is not None
        runner = asyncio.ensure_future(app.run())
        try:
            api.queue(api.message("/monitor_arb BTC-USDT all 0.01"))
            hub, btc = app.market.hub, Symbol("BTC", "USDT")
            await wait_until(
                lambda: (
                    len(books := hub.books_for(btc)) >= 3
                    and all(b.state is BookState.LIVE for b in books)
                    and any(m.owner == USER_ID for m in app.registry.monitors.values())
                ),  # type: ignore[union-attr]
                within=10,
            )
            simulator.model.force_dislocation(Venue.OKX, btc, 1.0, 60.0)
            await wait_until(
                lambda: bool(app.signals.arbitrage.open_opportunities("demo:BTC-USDT"))
            )  # type: ignore[union-attr]
            await wait_until(
                lambda: any("Arbitrage open" in t for t in api.texts(USER_ID)), within=10
            )
        finally:
            await stop(app, runner)
    assert all(c.params.get("chat_id") in (USER_ID, None) for c in api.calls)
