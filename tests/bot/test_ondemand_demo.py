"""On-demand books through the real protocols: /get_cbbo on a symbol the demo does not watch."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goquant_bot.app import build
from goquant_bot.bot.ondemand import FollowUp
from goquant_bot.bot.types import Caller
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.settings import Settings
from tests.helpers import wait_until

SOL = Symbol("SOL", "USDT")


async def test_get_cbbo_subscribes_a_simulated_symbol_and_answers_once_live(
    tmp_path: Path,
) -> None:
    settings = Settings(
        _env_file=None,
        app={"demo": True, "mode": "headless", "data_dir": str(tmp_path), "shutdown_timeout_s": 3},  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        observability={"enabled": False},  # type: ignore[arg-type]
        marketdata={"unsubscribe_grace_s": 0.0},  # type: ignore[arg-type]
    )
    app = build(settings)
    assert app.market is not None
    assert app.chat is not None
    hub, router = app.market.hub, app.chat.router
    runner = asyncio.ensure_future(app.run())
    try:
        await wait_until(lambda: app.market is not None and app.market.ready.is_set(), within=10)
        assert InstrumentKey(Venue.BINANCE, SOL) not in hub.subscribed()
        reply = router.handle(Caller(7, 7), "/get_cbbo SOLUSDT")
        assert "⏳ <b>SOL-USDT</b> is not streamed yet: subscribing" in reply[0].text
        answers: list[FollowUp] = []
        await wait_until(lambda: bool(answers.extend(router.due_answers()) or answers), within=10)
        ((chat_id, table),) = answers
        assert chat_id == 7
        assert "📊 <b>SOL-USDT</b> consolidated book" in table[0].text
        assert "not counted" not in table[0].text  # every venue listing it is live
        await wait_until(lambda: InstrumentKey(Venue.BINANCE, SOL) not in hub.subscribed())
    finally:
        app.request_stop()
        assert await asyncio.wait_for(runner, 10) == 0
