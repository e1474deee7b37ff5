"""The Telegram adapter driving the real python-telegram-bot Application against the fake Bot API.

The command layer is a scripted stand-in (``ScriptedCommands``): these tests are about what the
adapter does with Telegram updates and with the replies, not about the commands themselves.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update

from goquant_bot.alerts.direct import DirectRequests
from goquant_bot.alerts.pacing import Pacer
from goquant_bot.bot.telegram import AdapterConfig, TelegramAdapter, build_application
from goquant_bot.bot.telegram.adapter import APOLOGY, APOLOGY_SHORT, addressed_text
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, ChatType, Reply
from goquant_bot.errors import ConfigError, TransientError
from tests.fakes.telegram_api import (
    BOT_USERNAME,
    USER_ID,
    BotApi,
    Failure,
    FakeBotRequest,
    bad_request,
    blocked,
    flood,
    network_down,
)
from tests.helpers import BOT_TOKEN, wait_until

NOW = 1_750_000_000.0
GROUP = -1001234567890


class ScriptedCommands:
    """Stand-in for the command layer: canned replies, every call recorded."""

    def __init__(self) -> None:
        self.handled: list[tuple[Caller, str]] = []
        self.pressed: list[tuple[Caller, str]] = []
        self.replies: dict[str, list[Any]] = {}
        self.presses: dict[str, tuple[CallbackAnswer, list[Reply]]] = {}
        self.failing: set[str] = set()
        self.entries = [("start", "Start and show the menu"), ("help", "Every command")]

    def handle(self, caller: Caller, text: str) -> list[Reply]:
        self.handled.append((caller, text))
        if text in self.failing:
            raise RuntimeError("command layer bug")
        return self.replies.get(text, [Reply(f"you said <i>{html.escape(text)}</i>")])

    def press(self, caller: Caller, data: str) -> tuple[CallbackAnswer, list[Reply]]:
        self.pressed.append((caller, data))
        if data in self.failing:
            raise RuntimeError("command layer bug")
        return self.presses.get(data, (CallbackAnswer(), []))

    def menu(self) -> list[tuple[str, str]]:
        return self.entries


class Waits:
    """Simulated time for the pacer: a timed wait jumps the bot's clock to its end."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.waits: list[float] = []

    async def __call__(self, event: asyncio.Event, delay: float) -> None:
        if delay == float("inf"):
            await event.wait()
            return
        self.waits.append(delay)
        self.bot.now += max(delay, 0.0)


class Bot:
    """The adapter under test with its fake Telegram, its scripted commands and its clock."""

    def __init__(self, config: AdapterConfig | None = None) -> None:
        self.api = BotApi(clock=lambda: self.now)
        self.now = NOW
        self.commands = ScriptedCommands()
        self.sleeps = Waits(self)
        self.requests = DirectRequests(Pacer(), clock=lambda: self.now, wait=self.sleeps)
        self.app = build_application(
            BOT_TOKEN,
            request=FakeBotRequest(self.api),
            get_updates_request=FakeBotRequest(self.api),
        )
        self.adapter = TelegramAdapter(
            self.app, self.commands, config, requests=self.requests, clock=lambda: self.now
        )

    async def feed(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def say(self, text: str, **kwargs: Any) -> None:
        await self.feed(self.api.message(text, **kwargs))

    async def press(self, data: str, message_id: int, **kwargs: Any) -> str:
        update = self.api.callback(data, message_id=message_id, **kwargs)
        await self.feed(update)
        return str(update["callback_query"]["id"])


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when it builds a RetryAfter unless opted in to timedelta durations.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    bot = Bot()
    async with bot.app:
        yield bot


async def test_command_gets_html_reply_with_inline_keyboard(bot: Bot) -> None:
    bot.commands.replies["/start"] = [
        Reply(
            "Hello <b>Ada</b>, pick a venue",
            buttons=((Button("Binance", "v:binance"), Button("OKX", "v:okx")),),
        )
    ]
    await bot.say("/start")

    caller, text = bot.commands.handled[0]
    assert text == "/start"
    assert caller == Caller(USER_ID, USER_ID, ChatType.PRIVATE, "Ada", "ada")
    (send,) = bot.api.calls_to("sendMessage")
    assert send.params["chat_id"] == USER_ID
    assert send.params["text"] == "Hello <b>Ada</b>, pick a venue"
    assert send.params["parse_mode"] == "HTML"
    assert send.params["link_preview_options"] == {"is_disabled": True}
    assert "reply_parameters" not in send.params  # private chats: no quoting
    assert bot.api.last(USER_ID).buttons() == [[("Binance", "v:binance"), ("OKX", "v:okx")]]


async def test_free_text_goes_to_the_command_layer_as_is(bot: Bot) -> None:
    await bot.say("  BTC-USDT  ")
    assert bot.commands.handled[0][1] == "  BTC-USDT  "
    assert bot.api.texts(USER_ID) == ["you said <i>  BTC-USDT  </i>"]


async def test_group_command_for_this_bot_is_handled_and_quoted(bot: Bot) -> None:
    await bot.say(f"/status@{BOT_USERNAME.upper()} now", chat_id=GROUP)

    caller, text = bot.commands.handled[0]
    assert text == f"/status@{BOT_USERNAME.upper()} now"  # the router sees it was addressed
    assert caller.chat_type is ChatType.SUPERGROUP
    assert caller.is_group
    assert caller.chat_id == GROUP
    (send,) = bot.api.calls_to("sendMessage")
    assert send.params["chat_id"] == GROUP
    assert send.params["reply_parameters"]["allow_sending_without_reply"] is True


async def test_group_command_for_another_bot_is_ignored(bot: Bot) -> None:
    await bot.say("/status@other_bot", chat_id=GROUP)
    assert bot.commands.handled == []
    assert bot.api.calls_to("sendMessage") == []


def test_only_commands_for_another_bot_are_dropped() -> None:
    assert addressed_text("/help@GoQuant_Test_Bot", BOT_USERNAME) == "/help@GoQuant_Test_Bot"
    assert addressed_text("/a@goquant_test_bot x\ny", BOT_USERNAME) == "/a@goquant_test_bot x\ny"
    assert addressed_text("/help@someone_else", BOT_USERNAME) is None
    assert addressed_text("mail me at a@b.c", BOT_USERNAME) == "mail me at a@b.c"


async def test_forum_topic_replies_stay_in_the_topic(bot: Bot) -> None:
    await bot.say("/help", chat_id=GROUP, thread_id=77)
    (send,) = bot.api.calls_to("sendMessage")
    assert send.params["message_thread_id"] == 77


async def test_button_press_is_answered_and_edits_the_pressed_message(bot: Bot) -> None:
    bot.commands.replies["/menu"] = [
        Reply("Monitors", buttons=((Button("Stop BTC", "m:1:stop"),),))
    ]
    await bot.say("/menu")
    menu = bot.api.last(USER_ID)
    bot.commands.presses["m:1:stop"] = (
        CallbackAnswer("Stopped"),
        [Reply("Monitor <code>1</code> stopped", edit=True)],
    )

    query_id = await bot.press("m:1:stop", menu.message_id)

    caller, data = bot.commands.pressed[0]
    assert (caller.user_id, caller.chat_id, data) == (USER_ID, USER_ID, "m:1:stop")
    assert bot.api.answered[query_id]["text"] == "Stopped"
    assert bot.api.answered[query_id].get("show_alert") is False
    (edit,) = bot.api.calls_to("editMessageText")
    assert edit.params["message_id"] == menu.message_id
    assert edit.params["parse_mode"] == "HTML"
    assert menu.text == "Monitor <code>1</code> stopped"
    assert menu.buttons() == []  # an edit without buttons removes the keyboard
    assert len(bot.api.sent(USER_ID)) == 1  # edited in place, nothing new sent


async def test_refused_press_is_answered_with_an_alert(bot: Bot) -> None:
    await bot.say("/menu")
    bot.commands.presses["m:99:stop"] = (CallbackAnswer("Not your monitor", alert=True), [])
    query_id = await bot.press("m:99:stop", bot.api.last().message_id)
    assert bot.api.answered[query_id] == {
        "callback_query_id": query_id,
        "text": "Not your monitor",
        "show_alert": True,
    }
    assert bot.api.calls_to("editMessageText") == []


async def test_press_is_answered_even_when_the_command_layer_fails(bot: Bot) -> None:
    await bot.say("/menu")
    bot.commands.failing.add("m:1:stop")
    query_id = await bot.press("m:1:stop", bot.api.last().message_id)
    assert bot.api.answered[query_id]["text"] == APOLOGY_SHORT


async def test_press_with_a_non_reply_result_is_still_answered(bot: Bot) -> None:
    await bot.say("/menu")
    bot.commands.presses["x"] = "not an answer"  # type: ignore[assignment]
    query_id = await bot.press("x", bot.api.last().message_id)
    assert bot.api.answered[query_id]["text"] == APOLOGY_SHORT


async def test_edit_with_identical_content_is_not_an_error(bot: Bot) -> None:
    bot.commands.replies["/menu"] = [Reply("Same", buttons=((Button("Go", "go"),),))]
    await bot.say("/menu")
    menu = bot.api.last()
    bot.commands.presses["go"] = (
        CallbackAnswer(),
        [Reply("Same", buttons=((Button("Go", "go"),),), edit=True)],
    )
    await bot.press("go", menu.message_id)
    (edit,) = bot.api.calls_to("editMessageText")
    assert edit.status == 400
    assert len(bot.api.sent()) == 1  # no fallback message for "not modified"


async def test_edit_of_a_message_that_is_gone_sends_a_new_one(bot: Bot) -> None:
    bot.commands.presses["go"] = (CallbackAnswer(), [Reply("Fresh view", edit=True)])
    await bot.press("go", message_id=4242)  # a message the fake never sent (deleted)
    (edit,) = bot.api.calls_to("editMessageText")
    assert edit.failure is not None
    assert "message to edit not found" in edit.failure.description
    assert bot.api.texts(USER_ID) == ["Fresh view"]


async def test_document_reply_uses_send_document(bot: Bot) -> None:
    csv = b"symbol,edge_pct\nBTC-USDT,0.42\n"
    bot.commands.replies["/arb_stats csv"] = [
        Reply("Your <b>export</b>", document=("arb_stats.csv", csv))
    ]
    await bot.say("/arb_stats csv")
    (doc,) = bot.api.calls_to("sendDocument")
    assert doc.files["document"] == ("arb_stats.csv", csv)
    assert doc.params["caption"] == "Your <b>export</b>"
    assert doc.params["parse_mode"] == "HTML"
    assert bot.api.calls_to("sendMessage") == []


async def test_document_with_a_text_too_long_for_a_caption(bot: Bot) -> None:
    text = "row\n" * 400  # 1600 characters: over the 1024 caption limit
    bot.commands.replies["/export"] = [Reply(text, document=("x.csv", b"a,b\n"))]
    await bot.say("/export")
    assert bot.api.texts(USER_ID) == [text, ""]
    (doc,) = bot.api.calls_to("sendDocument")
    assert "caption" not in doc.params


async def test_stale_message_is_not_executed_and_the_user_is_told_once(bot: Bot) -> None:
    sent_at = NOW - 300
    await bot.say("/monitor_arb BTC-USDT binance okx 0.3", date=sent_at)
    await bot.say("/status", date=sent_at + 1)

    assert bot.commands.handled == []
    (notice,) = bot.api.texts(USER_ID)
    assert "restarting" in notice
    assert "<code>/monitor_arb</code>" in notice

    await bot.say("/status", date=NOW - 5)  # fresh: executed
    assert [text for _, text in bot.commands.handled] == ["/status"]


async def test_stale_free_text_is_not_quoted(bot: Bot) -> None:
    await bot.say("<script>0.3", date=NOW - 121)
    (notice,) = bot.api.texts(USER_ID)
    assert "your message" in notice
    assert "script" not in notice


async def test_after_a_restart_only_our_commands_get_a_notice_in_a_group(bot: Bot) -> None:
    late = NOW - 300
    await bot.say("see you all at noon", chat_id=GROUP, date=late)
    await bot.say("/price BTC", chat_id=GROUP, date=late)  # not ours: another bot's
    assert bot.api.texts(GROUP) == []
    await bot.say(f"/price@{BOT_USERNAME} BTC", chat_id=GROUP, date=late)
    (notice,) = bot.api.texts(GROUP)
    assert "<code>/price</code>" in notice
    bot.now += 121  # the next burst gets its own notice
    await bot.say("/help now", chat_id=GROUP, date=bot.now - 300)
    assert len(bot.api.texts(GROUP)) == 2
    assert "<code>/help</code>" in bot.api.texts(GROUP)[1]
    assert bot.commands.handled == []


async def test_command_layer_error_gets_an_apology_and_the_next_update_works(bot: Bot) -> None:
    bot.commands.failing.add("/boom")
    await bot.say("/boom")
    await bot.say("/help")
    assert bot.api.texts(USER_ID) == [APOLOGY, "you said <i>/help</i>"]


async def test_an_error_escaping_the_handler_is_caught_and_apologised_for(bot: Bot) -> None:
    bot.commands.replies["/odd"] = [Reply("first"), "not a reply"]
    await bot.say("/odd")
    await bot.say("/help")
    assert bot.api.texts(USER_ID) == ["first", APOLOGY, "you said <i>/help</i>"]


async def test_invalid_html_is_sent_again_as_plain_text(bot: Bot) -> None:
    bot.commands.replies["/bad"] = [Reply("edge <b>0.4 % & rising")]
    await bot.say("/bad")
    first, second = bot.api.calls_to("sendMessage")
    assert first.status == 400
    assert "can't parse entities" in first.failure.description  # type: ignore[union-attr]
    assert "parse_mode" not in second.params
    assert bot.api.texts(USER_ID) == ["edge 0.4 % & rising"]


async def test_replies_to_one_chat_are_a_second_apart(bot: Bot) -> None:
    bot.commands.replies["/two"] = [Reply("one"), Reply("two")]
    await bot.say("/two")
    await bot.say("/help")
    sends = bot.api.calls_to("sendMessage")
    assert [call.at - NOW for call in sends] == [0.0, 1.0, 2.0]
    assert bot.api.texts(USER_ID) == ["one", "two", "you said <i>/help</i>"]


async def test_a_button_is_answered_at_once_while_its_edit_waits_for_the_chat(bot: Bot) -> None:
    await bot.say("/menu")  # the chat's next request may start a second from now
    bot.commands.presses["go"] = (CallbackAnswer("Done"), [Reply("Edited", edit=True)])
    await bot.press("go", bot.api.last().message_id)
    answer = bot.api.calls_to("answerCallbackQuery")[0]
    (edit,) = bot.api.calls_to("editMessageText")
    assert answer.at == NOW  # not counted, not paced
    assert edit.at == NOW + 1.0
    assert bot.api.calls.index(answer) < bot.api.calls.index(edit)


async def test_a_flood_wait_is_waited_out_and_the_reply_sent_once(bot: Bot) -> None:
    bot.api.fail(flood(3), method="sendMessage", chat_id=USER_ID)
    await bot.say("/help")
    assert bot.sleeps.waits == [3.0]
    first, again = bot.api.calls_to("sendMessage")
    assert first.status == 429
    assert again.at - first.at == 3.0  # after the wait Telegram asked for, never sooner
    assert bot.api.texts(USER_ID) == ["you said <i>/help</i>"]
    assert bot.requests.dropped["flood_wait"] == 0


async def test_a_flood_wait_past_the_bound_drops_the_reply_and_counts_it(bot: Bot) -> None:
    bot.api.fail(flood(90), method="sendMessage")  # the bound: 60 s of flood waits
    await bot.say("/help")
    assert bot.sleeps.waits == []
    assert bot.api.texts() == []
    assert bot.requests.dropped["flood_wait"] == 1
    await bot.say("/help")  # handling goes on; the chat stays paused as Telegram asked
    (_, sent) = bot.api.calls_to("sendMessage")
    assert sent.at == NOW + 90.0
    assert bot.api.texts() == ["you said <i>/help</i>"]


async def test_flood_waits_adding_up_past_the_bound_drop_the_rest_of_the_replies(bot: Bot) -> None:
    bot.commands.replies["/two"] = [Reply("one"), Reply("two")]
    bot.api.fail(flood(40), method="sendMessage", times=2)
    await bot.say("/two")
    assert bot.sleeps.waits == [40.0]  # the second wait (80 s in all) is past the bound
    assert len(bot.api.calls_to("sendMessage")) == 2
    assert bot.api.texts() == []
    assert bot.requests.dropped["flood_wait"] == 2  # "two" was not even tried


async def test_a_blocked_chat_stops_the_replies_quietly(bot: Bot) -> None:
    bot.commands.replies["/two"] = [Reply("one"), Reply("two")]
    bot.api.fail(blocked(), chat_id=USER_ID, times=None)
    await bot.say("/two")
    assert len(bot.api.calls_to("sendMessage")) == 1  # the second reply is not attempted


async def test_other_bad_requests_are_logged_and_the_rest_is_sent(bot: Bot) -> None:
    bot.commands.replies["/two"] = [Reply("one"), Reply("two")]
    bot.api.fail(bad_request("chat write forbidden"), method="sendMessage")
    await bot.say("/two")
    assert bot.api.texts() == ["two"]


# --- lifecycle: the real polling loop over the request-level fake ----------------------------


async def _until_cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_run_registers_the_menu_polls_and_confirms_updates_on_stop() -> None:
    bot = Bot(AdapterConfig(poll_timeout_s=1))
    bot.commands.entries = [("start", "Start"), ("Bad-Name", "skipped"), ("help", " Help ")]
    task = asyncio.create_task(bot.adapter.run())
    await wait_until(lambda: bool(bot.api.calls_to("getUpdates")))
    update = bot.api.message("/start")
    bot.api.queue(update)
    await wait_until(lambda: bool(bot.api.texts(USER_ID)))
    await _until_cancelled(task)

    assert bot.api.commands == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    poll = bot.api.calls_to("getUpdates")[0]
    assert poll.params["allowed_updates"] == ["message", "callback_query"]
    assert poll.params["timeout"] == 1
    assert [c.method for c in bot.api.calls[:3]] == ["getMe", "setMyCommands", "deleteWebhook"]
    assert bot.api.calls_to("deleteWebhook")[0].params.get("drop_pending_updates") in (None, False)
    # Stopping confirmed the handled update: a restart will not replay it.
    assert bot.api.confirmed_offset == update["update_id"] + 1
    assert not bot.app.running


async def test_run_can_start_again_after_a_stop() -> None:
    bot = Bot(AdapterConfig(poll_timeout_s=1))
    for count, text in enumerate(("/one", "/two"), start=1):
        task = asyncio.create_task(bot.adapter.run())
        bot.api.queue(bot.api.message(text))
        await wait_until(lambda n=count: len(bot.commands.handled) == n)
        await _until_cancelled(task)
    assert [t for _, t in bot.commands.handled] == ["/one", "/two"]


async def test_rejected_token_is_a_configuration_error() -> None:
    bot = Bot()
    bot.api.fail(Failure(401, "Unauthorized"), method="getMe")
    with pytest.raises(ConfigError, match="bot token") as info:
        await bot.adapter.run()
    assert BOT_TOKEN not in str(info.value)


async def test_unreachable_telegram_at_start_is_transient() -> None:
    bot = Bot()
    bot.api.fail(network_down(), method="getMe")
    with pytest.raises(TransientError):
        await bot.adapter.run()


async def test_unreachable_telegram_when_polling_starts_is_transient() -> None:
    bot = Bot()
    bot.api.fail(network_down(), method="deleteWebhook")
    with pytest.raises(TransientError):
        await bot.adapter.run()
    assert not bot.app.running
    assert bot.app.updater is not None
    assert not bot.app.updater.running


async def test_one_chat_in_order_while_other_chats_go_on() -> None:
    bot = Bot(AdapterConfig(poll_timeout_s=1))
    slow_chat, other_chat = USER_ID, 2002
    held = bot.api.gate(method="sendMessage", chat_id=slow_chat)
    task = asyncio.create_task(bot.adapter.run())
    bot.api.queue(bot.api.message("/first", user_id=slow_chat))
    bot.api.queue(bot.api.message("/second", user_id=slow_chat))
    bot.api.queue(bot.api.message("/other", user_id=other_chat))

    await wait_until(lambda: bool(bot.api.texts(other_chat)))
    # The slow chat's first reply is held: its second message waits, the other chat did not.
    assert [t for _, t in bot.commands.handled] == ["/first", "/other"]

    held.set()
    await wait_until(lambda: len(bot.api.texts(slow_chat)) == 2)
    await _until_cancelled(task)
    assert bot.api.texts(slow_chat) == ["you said <i>/first</i>", "you said <i>/second</i>"]
