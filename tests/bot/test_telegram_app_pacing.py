"""The real app in Telegram mode: command replies and the admins' notice share one pacer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goquant_bot.app import build
from goquant_bot.settings import Settings
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_api import USER_ID, BotApi, TelegramLimits
from tests.helpers import BOT_TOKEN, wait_until

VENUES_OFF = {
    venue: {"enabled": False, "taker_fee_pct": 0.1}
    for venue in ("binance", "okx", "bybit", "deribit")
}


async def test_the_damaged_state_notice_and_a_reply_to_the_admin_are_paced_together(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "state.json").write_text("{not json")
    api = BotApi()
    limits = TelegramLimits(api, per_s=25)
    api.script = limits
    async with BotApiServer(api) as server:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            app={"mode": "telegram", "data_dir": data_dir, "shutdown_timeout_s": 3.0},
            logging={"file": None},
            telegram={
                "bot_token": BOT_TOKEN,
                "api_base_url": server.base_url,
                "admin_ids": [USER_ID],
            },
            venues=VENUES_OFF,
            observability={"enabled": False},
        )
        app = build(settings)
        task = asyncio.create_task(app.run())
        api.queue(api.message("/start"))  # the admin writes while the notice goes out
        await wait_until(lambda: len(api.texts(USER_ID)) == 2, within=10.0)
        app.request_stop()
        assert await asyncio.wait_for(task, 10.0) == 0

    sends = api.calls_to("sendMessage")
    assert limits.floods == 0
    assert [call.status for call in sends] == [200, 200]
    texts = [call.params["text"] for call in sends]
    assert any("state file" in text for text in texts)
    assert any("Hello, Ada" in text for text in texts)
    assert sends[1].at - sends[0].at >= 1.0
