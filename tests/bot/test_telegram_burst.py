"""A burst of commands from many chats, through the real stack and the shared pacer, against a
fake Bot API that answers 429 to any request past 25/s overall or 1/s in a chat.

Real time: 30 chats each send /start and /monitor_arb twice within 1.5 s, alone and while 60
other chats get an alert; the polling loop, the real command router, the replies' pacer and
alert delivery all run as in production.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

import pytest

from goquant_bot.alerts.delivery import Delivery
from goquant_bot.bot.telegram import (
    AdapterConfig,
    TelegramAdapter,
    TelegramTransport,
    build_application,
    build_bot,
)
from goquant_bot.bot.types import CallbackAnswer, Caller, Commands, Reply
from tests.alerts.scripted import Prefs, opened, render
from tests.bot.harness import Bot as RouterHarness
from tests.fakes.telegram_api import USER_ID, BotApi, Call, FakeBotRequest, TelegramLimits
from tests.helpers import BOT_TOKEN, wait_until

CHATS = [USER_ID + n for n in range(30)]
COMMANDS = ("/start", "/monitor_arb", "/monitor_arb")
BURST_S = 1.5
MESSAGES = ("sendMessage", "editMessageText", "sendDocument")


class Counting:
    """The real command layer, counting the replies each chat is owed."""

    def __init__(self, inner: Commands) -> None:
        self.inner = inner
        self.owed: dict[int, int] = defaultdict(int)
        self.handled = 0

    def handle(self, caller: Caller, text: str) -> list[Reply]:
        replies = list(self.inner.handle(caller, text))
        self.owed[caller.chat_id] += len(replies)
        self.handled += 1
        return replies

    def press(self, caller: Caller, data: str) -> tuple[CallbackAnswer, list[Reply]]:
        return self.inner.press(caller, data)

    def menu(self) -> list[tuple[str, str]]:
        return self.inner.menu()


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    start, peak = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


@pytest.mark.parametrize("alert_chats", [0, 60])
async def test_30_chats_x_3_commands_in_1_5_s_zero_429s_every_reply_delivered(
    tmp_path: Path, alert_chats: int
) -> None:
    """With ``alert_chats``, as many other chats get an alert when the burst begins."""
    api = BotApi()
    limits = TelegramLimits(api, per_s=25)
    api.script = limits
    commands = Counting(RouterHarness(tmp_path).router)
    async with build_bot(BOT_TOKEN, request=FakeBotRequest(api)) as bot:
        delivery = Delivery(TelegramTransport(bot), prefs=Prefs(), render=render)
        app = build_application(
            BOT_TOKEN, request=FakeBotRequest(api), get_updates_request=FakeBotRequest(api)
        )
        adapter = TelegramAdapter(
            app, commands, AdapterConfig(poll_timeout_s=1), requests=delivery.direct
        )
        serving = asyncio.create_task(delivery.run())
        polling = asyncio.create_task(adapter.run())
        await wait_until(lambda: bool(api.calls_to("getUpdates")))
        loop = asyncio.get_running_loop()
        began = time.time()
        alerted = [-(10**12) - n for n in range(alert_chats)]  # groups: 20 a minute
        delivery.publish([opened(chat, began) for chat in alerted])
        updates = [api.message(text, user_id=chat) for text in COMMANDS for chat in CHATS]
        for index, update in enumerate(updates):
            loop.call_later(index * BURST_S / len(updates), api.queue, update)

        def all_delivered() -> bool:
            sent = sum(1 for call in api.calls if call.method in MESSAGES and call.ok)
            owed = sum(commands.owed.values()) + len(alerted)
            return commands.handled == len(updates) and sent == owed

        await wait_until(all_delivered, within=30.0)
        for task in (polling, serving):
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    messages: list[Call] = [call for call in api.calls if call.method in MESSAGES]
    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in messages:
        per_chat[int(call.chat_id)].append(call.at)
    replies = [call.at for call in messages if call.chat_id in CHATS]
    alerts = [call.at for call in messages if call.chat_id in alerted]
    figures = {
        "requests": len(messages),
        "alerts": len(alerts),
        "429s": limits.floods,
        "peak_per_s": busiest_second([call.at for call in messages]),
        "peak_per_chat_per_s": max(busiest_second(times) for times in per_chat.values()),
        "last_reply_after_s": round(max(replies) - began, 2),
        "last_alert_after_s": round(max(alerts) - began, 2) if alerts else None,
    }
    print(f"burst figures: {figures}")
    assert limits.floods == 0
    assert [call for call in messages if not call.ok] == []
    assert {chat: len(api.texts(chat)) for chat in CHATS} == {
        chat: commands.owed[chat] for chat in CHATS
    }
    assert min(commands.owed[chat] for chat in CHATS) >= len(COMMANDS)
    assert figures["peak_per_s"] <= 25
    assert figures["peak_per_chat_per_s"] == 1
