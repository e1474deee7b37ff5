"""End to end: the real polling loop and HTTP client against a local Bot API server (base_url)."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

import pytest

from goquant_bot.alerts.direct import DirectRequests
from goquant_bot.alerts.pacing import Pacer
from goquant_bot.alerts.transport import FloodWait
from goquant_bot.bot.telegram import (
    AdapterConfig,
    TelegramAdapter,
    TelegramTransport,
    build_application,
    build_bot,
)
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, Reply
from tests.alerts.scripted import Clock
from tests.bot.harness import Bot as RouterHarness
from tests.fakes.bot_api_server import BotApiServer
from tests.fakes.telegram_api import USER_ID, BotApi, flood
from tests.helpers import BOT_TOKEN, wait_until


class GreetingCommands:
    """Stand-in for the command layer: /start greets with one button, the button edits."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle(self, caller: Caller, text: str) -> list[Reply]:
        self.seen.append(text)
        name = html.escape(caller.first_name)
        return [Reply(f"Hello <b>{name}</b>", buttons=((Button("Status", "menu:status"),),))]

    def press(self, caller: Caller, data: str) -> tuple[CallbackAnswer, list[Reply]]:
        self.seen.append(data)
        return CallbackAnswer("ok"), [Reply("All venues <i>live</i>", edit=True)]

    def menu(self) -> list[tuple[str, str]]:
        return [("start", "Start")]


def simulated_pacing() -> DirectRequests:
    """Replies paced on a clock of their own that jumps over the waits (the test stays fast)."""
    clock = Clock(0.0)
    return DirectRequests(Pacer(), clock=clock, wait=clock.wait)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_polled_updates_are_answered_over_http() -> None:
    commands = GreetingCommands()
    async with BotApiServer() as server:
        api = server.api
        app = build_application(BOT_TOKEN, base_url=server.base_url)
        adapter = TelegramAdapter(
            app, commands, AdapterConfig(poll_timeout_s=1), requests=simulated_pacing()
        )
        task = asyncio.create_task(adapter.run())
        try:
            start = api.message("/start", first_name="Ada & Bo")
            api.queue(start)
            await wait_until(lambda: bool(api.texts(USER_ID)))
            greeting = api.last(USER_ID)
            api.queue(api.callback("menu:status", message_id=greeting.message_id))
            await wait_until(lambda: greeting.edits == 1)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    assert commands.seen == ["/start", "menu:status"]
    assert greeting.text == "All venues <i>live</i>"
    send = api.calls_to("sendMessage")[0]
    assert send.params["text"] == "Hello <b>Ada &amp; Bo</b>"
    assert send.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Status", "callback_data": "menu:status"}]]
    }
    (answer,) = api.answered.values()
    assert answer["text"] == "ok"
    assert api.commands == [{"command": "start", "description": "Start"}]
    poll = api.calls_to("getUpdates")[0]
    assert poll.params["allowed_updates"] == ["message", "callback_query"]
    # Both updates were confirmed on the way out: a restart does not replay them.
    assert api.confirmed_offset == start["update_id"] + 2


async def test_transport_errors_arrive_over_http() -> None:
    async with BotApiServer() as server:
        transport = TelegramTransport(build_bot(BOT_TOKEN, base_url=server.base_url))
        task = asyncio.create_task(transport.run())
        try:
            message_id = await transport.send(USER_ID, "edge <b>0.41 %</b>", silent=True)
            server.api.fail(flood(9), method="editMessageText")
            with pytest.raises(FloodWait) as info:
                await transport.edit(USER_ID, message_id, "edge <b>0.45 %</b>")
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    assert info.value.retry_after_s == 9.0
    assert server.api.calls_to("sendMessage")[0].params["disable_notification"] is True
    assert server.api.messages[message_id].text == "edge <b>0.41 %</b>"


async def test_the_real_command_router_over_http(tmp_path: Path) -> None:
    """The command layer's menu, replies and keyboards pass everything Telegram checks."""
    router = RouterHarness(tmp_path)
    async with BotApiServer(BotApi(clock=lambda: router.now)) as server:
        api = server.api
        app = build_application(BOT_TOKEN, base_url=server.base_url)
        adapter = TelegramAdapter(
            app,
            router.router,
            AdapterConfig(poll_timeout_s=1),
            requests=simulated_pacing(),
            clock=lambda: router.now,
        )
        task = asyncio.create_task(adapter.run())
        try:
            api.queue(api.message("/start"))
            api.queue(api.message("/monitor_arb"))
            await wait_until(lambda: len(api.texts(USER_ID)) >= 2)
            picker = api.last(USER_ID)
            asset = picker.buttons()[0][0][1]
            api.queue(api.callback(asset, message_id=picker.message_id))
            await wait_until(lambda: picker.edits == 1)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    assert [c for c in api.calls if not c.ok] == []  # nothing Telegram would refuse
    assert "monitor_arb" in [entry["command"] for entry in api.commands]
    assert "step 2" in picker.text
    assert len(api.answered) == 1
