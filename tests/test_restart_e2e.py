"""A restart is invisible to the user: the real app, run twice on one data directory.

Telegram is the fake Bot API behind HTTP (the real polling loop and client); Bybit and OKX
are local WebSocket and REST servers. Between the runs the opportunity stays open in the
books and the user sends two commands, one long ago and one just now. After the restart
OKX is slow to send its book, as a venue often is.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from goquant_bot.app import App, build
from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor
from goquant_bot.settings import Settings
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_api import USER_ID, BotApi, Call
from tests.fakes.venue_pair import VenuePair
from tests.helpers import BOT_TOKEN, wait_until

BTC = Symbol("BTC", "USDT")
# (bid, ask) per venue. Buying on Bybit at 60,000 and selling on OKX at 60,600 nets ~0.8 %
# after both 0.1 % fees; quiet, the books agree and the edge is negative.
QUIET = {"bybit": ("59990.0", "60010.0"), "okx": ("59990.0", "60010.0")}
OPEN = {"bybit": ("59980.0", "60000.0"), "okx": ("60600.0", "60620.0")}
STILL_OPEN = {"bybit": ("59980.0", "60000.0"), "okx": ("60720.0", "60740.0")}
STALE_AFTER_S = 60.0
STARTUP_S = 10.0
LIVE_VIEW = "consolidated book · live"


def _settings(data_dir: Path, bot_api: str, venues: VenuePair) -> Settings:
    sections: dict[str, object] = {
        "app": {"mode": "telegram", "data_dir": data_dir, "shutdown_timeout_s": 5.0},
        "logging": {"file": None},
        "telegram": {"bot_token": BOT_TOKEN, "api_base_url": bot_api},
        "venues": venues.settings(),
        # The scripted books are quiet for seconds at a time: none may go stale, reconnect or
        # be refused as too far apart in time from the other venue's meanwhile.
        "marketdata": {"book_depth": 50, "watchdog_silence_s": 120.0, "book_max_age_s": 120.0},
        "arbitrage": {"max_skew_s": 120.0},
        "bot": {"stale_after_s": STALE_AFTER_S, "edit_interval_s": 1.0, "view_throttle_s": 1.0},
        "observability": {"port": 0},
    }
    return Settings(_env_file=None, **sections)  # type: ignore[arg-type]


async def _stop(app: App, task: asyncio.Task[int]) -> int:
    """What SIGTERM does (its handler calls request_stop); the exit code."""
    app.request_stop()
    return await asyncio.wait_for(task, 15.0)


def _sends(calls: list[Call], marker: str = "") -> list[Call]:
    return [c for c in calls if c.method == "sendMessage" and c.ok and marker in c.params["text"]]


def _edits(calls: list[Call], message_id: int, marker: str = "") -> list[Call]:
    return [
        c
        for c in calls
        if c.method == "editMessageText"
        and c.ok
        and c.params["message_id"] == message_id
        and marker in c.params["text"]
    ]


def _texts(calls: list[Call], marker: str) -> list[str]:
    return [c.params["text"] for c in _sends(calls, marker)]


def _book_state(app: App, venue: Venue) -> BookState | None:
    assert app.market is not None
    books = app.market.hub.books_for(BTC, [venue])
    return books[0].state if books else None


def _books_live(app: App) -> bool:
    return all(_book_state(app, v) is BookState.LIVE for v in (Venue.BYBIT, Venue.OKX))


async def test_restart_is_invisible_to_the_user(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    api = BotApi()
    async with BotApiServer(api) as bot_api, VenuePair(QUIET["bybit"], QUIET["okx"]) as venues:
        settings = _settings(data_dir, bot_api.base_url, venues)

        # -- first run: set up, get one alert and the live view ----------------------------
        app = build(settings)
        task = asyncio.create_task(app.run())
        try:
            api.queue(api.message("/start"))
            await wait_until(lambda: bool(_sends(api.calls, "Hello, Ada")), STARTUP_S)
            api.queue(api.message("/monitor_arb BTC-USDT bybit okx 0.3"))
            api.queue(api.message("/view_market BTC-USDT bybit okx"))
            await wait_until(lambda: bool(_sends(api.calls, LIVE_VIEW)), STARTUP_S)
            assert app.registry is not None
            monitors = list(app.registry.monitors.values())
            (arb,) = [m for m in monitors if isinstance(m, ArbMonitor)]
            (view,) = [m for m in monitors if isinstance(m, MarketViewMonitor)]
            assert (arb.venues, arb.min_edge_pct) == ((Venue.BYBIT, Venue.OKX), 0.3)
            await wait_until(lambda: venues.subscribed() and _books_live(app), STARTUP_S)

            await venues.quote(bybit=OPEN["bybit"], okx=OPEN["okx"])
            await wait_until(lambda: bool(_sends(api.calls, "Arbitrage open")))
            (alert_call,) = _sends(api.calls, "Arbitrage open")
            (view_call,) = _sends(api.calls, LIVE_VIEW)
            alert_id, view_id = alert_call.result["message_id"], view_call.result["message_id"]
            assert alert_call.params["chat_id"] == view_call.params["chat_id"] == USER_ID
            assert "Buy on <b>bybit</b>✓ at 60,000.00" in alert_call.params["text"]
            assert f"<code>{arb.id}</code>" in alert_call.params["text"]
            # The view follows the books in place: the best bid is OKX's now.
            await wait_until(lambda: bool(_edits(api.calls, view_id, "Best bid <b>60,600.0</b>")))
        finally:
            assert await _stop(app, task) == 0

        state = json.loads((data_dir / "state.json").read_text(encoding="utf-8"))
        (saved,) = state["opportunities"][arb.id]
        assert (saved["symbol"], saved["buy"], saved["sell"]) == ("BTC-USDT", "bybit", "okx")
        assert {e["message_id"] for e in state["delivery"]["message_ids"]} == {alert_id, view_id}
        first_run = len(api.calls)

        # -- while the bot is down ---------------------------------------------------------
        await venues.quote(bybit=STILL_OPEN["bybit"], okx=STILL_OPEN["okx"])
        api.queue(api.message("/status_market", date=time.time() - 10 * STALE_AFTER_S))
        api.queue(api.message("/status_arb"))
        venues.okx.hold()

        # -- second run: everything carries on ---------------------------------------------
        app = build(settings)
        task = asyncio.create_task(app.run())
        try:
            await wait_until(lambda: bool(_sends(api.calls, "Arbitrage monitors")), STARTUP_S)
            (late,) = _texts(api.calls, "I was restarting")
            assert "<code>/status_market</code>" in late
            assert not _sends(api.calls, "Market views")  # the stale command was not run
            (listing,) = _texts(api.calls, "Arbitrage monitors")
            assert f"<code>{arb.id}</code>" in listing
            assert app.registry is not None
            assert set(app.registry.monitors) == {arb.id, view.id}

            # Bybit streams, OKX is still syncing: whatever delivery has to say about that
            # moment goes out before OKX's book arrives.
            assert app.chat is not None
            assert app.signals is not None
            delivery, engine = app.chat.delivery, app.signals.arbitrage
            await wait_until(
                lambda: (
                    _book_state(app, Venue.BYBIT) is BookState.LIVE
                    and engine.evaluations > 0
                    and not delivery.pending
                ),
                STARTUP_S,
            )
            assert _book_state(app, Venue.OKX) is BookState.SYNCING
            venues.okx.release()
            await wait_until(lambda: _books_live(app), STARTUP_S)
            await wait_until(lambda: bool(engine.open_opportunities(arb.id)))
            (opp,) = engine.open_opportunities(arb.id)
            assert opp.sell_price == pytest.approx(60720.0)
            await wait_until(
                lambda: bool(_edits(api.calls[first_run:], view_id, "Best bid <b>60,720.0</b>")),
                STARTUP_S,
            )
            api.queue(api.message("/status_arb"))
            await wait_until(lambda: len(_sends(api.calls, "Arbitrage monitors")) == 2)
            assert "🟢 bybit → okx" in _texts(api.calls, "Arbitrage monitors")[1]

            # The opportunity closes: delivery edits the alert that announced it.
            closing = len(api.calls)
            await venues.quote(bybit=QUIET["bybit"], okx=QUIET["okx"])
            await wait_until(
                lambda: any(
                    "Arbitrage closed" in c.params.get("text", "") for c in api.calls[closing:]
                ),
                STARTUP_S,
            )
        finally:
            assert await _stop(app, task) == 0

    second_run = api.calls[first_run:]
    assert _sends(api.calls, "Arbitrage open") == [alert_call], "a second 'open' alert was sent"
    # Nothing but the answers to the user's commands went out as new messages.
    assert [c.params["text"] for c in _sends(second_run)] == [
        late,
        listing,
        _texts(api.calls, "Arbitrage monitors")[1],
    ]
    (close_edit,) = _edits(api.calls[closing:], alert_id, "Arbitrage closed")
    assert "Why: the edge fell below the threshold" in close_edit.params["text"]
    assert api.messages[alert_id].text == close_edit.params["text"]
    assert _edits(second_run, view_id)
    assert len(_sends(api.calls, "Hello, Ada")) == 1  # the first run's updates were confirmed
    # The opportunity lasted across the restart: one opening, one close, in the history too.
    assert opp.opened_at == saved["opened_at"]
    history = (data_dir / "opportunities.jsonl").read_text(encoding="utf-8").splitlines()
    (closed,) = [json.loads(line) for line in history]
    assert closed["opened_at"] == pytest.approx(saved["opened_at"], abs=1e-3)
    # Nothing Telegram would refuse (an edit to identical text is harmless: delivery skips it).
    refused = [c.failure for c in api.calls if not c.ok]
    assert [f for f in refused if f is None or "not modified" not in f.description] == []
