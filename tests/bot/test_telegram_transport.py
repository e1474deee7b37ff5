"""TelegramTransport over the fake Bot API: what it sends, and each error kind translated."""

from __future__ import annotations

import asyncio
import warnings

import httpx
import pytest
from telegram.error import RetryAfter, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from goquant_bot.alerts.transport import (
    BadMessage,
    ChatBlocked,
    ChatMigrated,
    DeliveryError,
    DeliveryNetworkError,
    DeliveryTimeout,
    FloodWait,
    MessageGone,
    MessageNotModified,
)
from goquant_bot.bot.telegram import TelegramTransport, build_bot
from goquant_bot.bot.telegram.transport import delivery_error, retry_after_seconds
from goquant_bot.bot.types import Button
from goquant_bot.errors import ConfigError, TransientError
from tests.fakes.telegram_api import (
    BotApi,
    Failure,
    FakeBotRequest,
    bad_request,
    blocked,
    flood,
    migrated,
    network_down,
    timed_out,
)
from tests.helpers import BOT_TOKEN, wait_until

CHAT = 4242
GROUP = -4242


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def api() -> BotApi:
    return BotApi()


@pytest.fixture
def transport(api: BotApi) -> TelegramTransport:
    return TelegramTransport(build_bot(BOT_TOKEN, request=FakeBotRequest(api)))


async def test_send_returns_the_message_id_and_sends_html(
    api: BotApi, transport: TelegramTransport
) -> None:
    buttons = ((Button("Mute", "a:7:mute"), Button("Snooze 1h", "a:7:sn60")),)
    first = await transport.send(CHAT, "<b>BTC-USDT</b> edge 0.41 %", buttons=buttons)
    second = await transport.send(CHAT, "quiet", silent=True)

    assert second == first + 1
    loud, quiet = api.calls_to("sendMessage")
    assert loud.params["parse_mode"] == "HTML"
    assert loud.params["disable_notification"] is False
    assert loud.params["link_preview_options"] == {"is_disabled": True}
    assert api.messages[first].buttons() == [[("Mute", "a:7:mute"), ("Snooze 1h", "a:7:sn60")]]
    assert quiet.params["disable_notification"] is True
    assert "reply_markup" not in quiet.params


async def test_edit_replaces_text_and_keyboard(api: BotApi, transport: TelegramTransport) -> None:
    message_id = await transport.send(CHAT, "open: 0.41 %", buttons=((Button("Mute", "m"),),))
    await transport.edit(CHAT, message_id, "closed after 42 s, peak 0.41 %")
    assert api.messages[message_id].text == "closed after 42 s, peak 0.41 %"
    assert api.messages[message_id].buttons() == []
    assert api.calls_to("editMessageText")[0].params["parse_mode"] == "HTML"


async def test_flood_wait_carries_telegrams_wait(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(flood(7), method="sendMessage")
    with pytest.raises(FloodWait) as info:
        await transport.send(CHAT, "x")
    assert info.value.retry_after_s == 7.0
    assert isinstance(info.value, TransientError)


async def test_blocked_chat(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(blocked(), chat_id=CHAT)
    with pytest.raises(ChatBlocked, match="blocked by the user"):
        await transport.send(CHAT, "x")


async def test_kicked_from_a_group(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(blocked("Forbidden: bot was kicked from the supergroup chat"), chat_id=GROUP)
    with pytest.raises(ChatBlocked):
        await transport.send(GROUP, "x")


async def test_migrated_group_names_its_new_id(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(migrated(-1009876543210), chat_id=GROUP)
    with pytest.raises(ChatMigrated) as info:
        await transport.send(GROUP, "x")
    assert info.value.new_chat_id == -1009876543210


async def test_identical_edit_is_not_modified(api: BotApi, transport: TelegramTransport) -> None:
    message_id = await transport.send(CHAT, "edge 0.41 %")
    with pytest.raises(MessageNotModified):
        await transport.edit(CHAT, message_id, "edge 0.41 %")


async def test_edit_of_a_deleted_message_is_gone(transport: TelegramTransport) -> None:
    with pytest.raises(MessageGone):
        await transport.edit(CHAT, 999, "edge 0.41 %")


async def test_too_old_to_edit_is_gone_too(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(bad_request("message can't be edited"), method="editMessageText")
    message_id = await transport.send(CHAT, "a")
    with pytest.raises(MessageGone):
        await transport.edit(CHAT, message_id, "b")


async def test_html_telegram_refuses_is_a_bad_message(transport: TelegramTransport) -> None:
    with pytest.raises(BadMessage, match=r"(?i)can't parse entities") as info:
        await transport.send(CHAT, "edge <b>0.4")
    assert not isinstance(info.value, MessageNotModified | MessageGone)
    assert not isinstance(info.value, TransientError)  # a 400 is never retried as it is


async def test_unknown_chat_is_blocked_for_good(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(bad_request("chat not found"))
    with pytest.raises(ChatBlocked):
        await transport.send(CHAT, "x")


async def test_timeout_is_not_a_network_error(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(timed_out(delivered=True))
    with pytest.raises(DeliveryTimeout) as info:
        await transport.send(CHAT, "x")
    assert not isinstance(info.value, DeliveryNetworkError)
    # The message did arrive: a blind resend would duplicate it.
    assert api.texts(CHAT) == ["x"]


def failing_http(error: type[httpx.TimeoutException]) -> TelegramTransport:
    """The library's own HTTP layer, over an httpx transport that raises ``error``."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error("timed out", request=request)

    request = HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(handler)})
    return TelegramTransport(build_bot(BOT_TOKEN, request=request))


@pytest.mark.parametrize("error", [httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_timeout_before_the_request_left_is_retried(
    error: type[httpx.TimeoutException],
) -> None:
    # PTB turns both into TimedOut; nothing reached Telegram, so resending duplicates nothing.
    transport = failing_http(error)
    with pytest.raises(DeliveryNetworkError):
        await transport.send(CHAT, "x")
    with pytest.raises(DeliveryNetworkError):
        await transport.edit(CHAT, 7, "x")


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.WriteTimeout])
async def test_a_timeout_after_the_request_left_may_have_been_delivered(
    error: type[httpx.TimeoutException],
) -> None:
    with pytest.raises(DeliveryTimeout):
        await failing_http(error).send(CHAT, "x")


def test_a_timeout_that_says_it_was_not_sent_is_retried() -> None:
    pool = TimedOut("Pool timeout: All connections are occupied. Request was *not* sent.")
    assert isinstance(delivery_error(pool, CHAT), DeliveryNetworkError)
    assert isinstance(delivery_error(TimedOut(), CHAT), DeliveryTimeout)


async def test_no_connection_is_a_network_error(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(network_down())
    with pytest.raises(DeliveryNetworkError):
        await transport.send(CHAT, "x")
    assert api.texts(CHAT) == []


async def test_server_error_is_a_network_error(api: BotApi, transport: TelegramTransport) -> None:
    api.fail(Failure(502, "Bad Gateway"))
    with pytest.raises(DeliveryNetworkError):
        await transport.edit(CHAT, 1, "x")


async def test_revoked_token_is_a_configuration_error(
    api: BotApi, transport: TelegramTransport
) -> None:
    api.fail(Failure(401, "Unauthorized"))
    with pytest.raises(ConfigError) as info:
        await transport.send(CHAT, "x")
    assert not isinstance(info.value, DeliveryError)
    assert BOT_TOKEN not in str(info.value)


async def test_scripted_failures_per_chat_leave_other_chats_alone(
    api: BotApi, transport: TelegramTransport
) -> None:
    api.fail(blocked(), chat_id=CHAT, times=None)
    assert await transport.send(1, "fine") > 0
    for _ in range(2):
        with pytest.raises(ChatBlocked):
            await transport.send(CHAT, "x")
    assert api.texts() == ["fine"]


def test_retry_after_read_without_the_timedelta_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA")
    with pytest.warns(PTBDeprecationWarning):
        exc = RetryAfter(12)  # int durations, as PTB 22 gives them without the opt-in
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert retry_after_seconds(exc) == 12.0


async def test_run_keeps_going_when_the_token_check_fails(api: BotApi) -> None:
    api.fail(network_down(), method="getMe")
    transport = TelegramTransport(build_bot(BOT_TOKEN, request=FakeBotRequest(api)))
    task = asyncio.create_task(transport.run())
    await wait_until(lambda: bool(api.calls_to("getMe")))
    assert await transport.send(CHAT, "still delivering") > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_run_stops_on_a_rejected_token(api: BotApi) -> None:
    api.fail(Failure(401, "Unauthorized"), method="getMe")
    transport = TelegramTransport(build_bot(BOT_TOKEN, request=FakeBotRequest(api)))
    with pytest.raises(ConfigError):
        await transport.run()
