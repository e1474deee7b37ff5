"""Alert delivery over the Bot API: an ``AlertTransport`` on a ``telegram.Bot``.

Every library error is translated here into the delivery error that says what the outbox owes
(wait, stop sending to the chat, move the chat, drop the message, retry or not).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import warnings

import httpx
from telegram import Bot
from telegram import error as tg
from telegram.constants import ParseMode
from telegram.warnings import PTBDeprecationWarning

from goquant_bot.alerts.transport import (
    BadMessage,
    ChatBlocked,
    ChatMigrated,
    DeliveryNetworkError,
    DeliveryTimeout,
    FloodWait,
    MessageGone,
    MessageNotModified,
)
from goquant_bot.bot.telegram.markup import NO_PREVIEW, keyboard_markup
from goquant_bot.bot.types import Keyboard
from goquant_bot.errors import ConfigError, GoQuantError
from goquant_bot.logging import get_logger

log = get_logger(__name__)

# 400 descriptions (lower case) that mean "this message cannot be edited any more": the outbox
# sends a new message instead.
_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
# 400 descriptions that mean the chat itself is unreachable for good, like a 403.
_CHAT_GONE = ("chat not found", "peer_id_invalid", "bot was kicked", "have no rights to send")
# Timeouts before the request left (no connection, or none free in the pool): nothing reached
# Telegram, so a resend cannot duplicate anything.
_NOT_SENT = (httpx.ConnectTimeout, httpx.PoolTimeout)
_NOT_SENT_TEXT = re.compile(r"\bnot\W{0,2}sent\b", re.IGNORECASE)  # PTB: "was *not* sent"


class TelegramTransport:
    """Sends and edits HTML alert messages; raises the ``alerts.transport`` errors.

    Use a ``Bot`` of its own (``build_bot``), not the polling application's: the application
    closes its bot when polling stops, and delivery still flushes after that.
    """

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        try:
            message = await self._bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                disable_notification=silent,
                reply_markup=keyboard_markup(buttons),
                link_preview_options=NO_PREVIEW,
            )
        except tg.TelegramError as exc:
            raise delivery_error(exc, chat_id) from exc
        return message.message_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard = ()
    ) -> None:
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard_markup(buttons),
                link_preview_options=NO_PREVIEW,
            )
        except tg.TelegramError as exc:
            raise delivery_error(exc, chat_id) from exc

    async def run(self) -> None:
        """Hold the bot's HTTP connections open until cancelled (supervise it last: TRANSPORT)."""
        try:
            try:
                await self._bot.initialize()
            except tg.InvalidToken:
                msg = (
                    "Telegram refused the bot token (telegram.bot_token): check it with @BotFather"
                )
                raise ConfigError(msg) from None
            except tg.TelegramError as exc:
                # getMe only checks the token; sending works without it, so keep going.
                log.warning("telegram_bot_check_failed", error=str(exc))
            await asyncio.Future()
        finally:
            await self._bot.shutdown()


def delivery_error(exc: tg.TelegramError, chat_id: int) -> GoQuantError:
    """The delivery error for a library error (order matters: BadRequest and TimedOut are
    NetworkErrors)."""
    reason = f"chat {chat_id}: {exc.message}"
    if isinstance(exc, tg.RetryAfter):
        return FloodWait(reason, retry_after_seconds(exc))
    if isinstance(exc, tg.ChatMigrated):
        return ChatMigrated(reason, exc.new_chat_id)
    if isinstance(exc, tg.Forbidden):
        return ChatBlocked(reason)
    if isinstance(exc, tg.InvalidToken):
        # Nothing can be delivered any more: a configuration problem, not a delivery one.
        return ConfigError("Telegram refused the bot token (telegram.bot_token)")
    if isinstance(exc, tg.BadRequest):
        description = exc.message.lower()
        if "message is not modified" in description:
            return MessageNotModified(reason)
        if any(part in description for part in _GONE):
            return MessageGone(reason)
        if any(part in description for part in _CHAT_GONE):
            return ChatBlocked(reason)
        return BadMessage(reason)
    if isinstance(exc, tg.TimedOut):
        if never_sent(exc):
            return DeliveryNetworkError(reason)
        return DeliveryTimeout(reason)
    # NetworkError, and the rest (an unreadable answer from a proxy, a 5xx): worth a retry.
    return DeliveryNetworkError(reason)


def never_sent(exc: tg.TimedOut) -> bool:
    """The timeout hit before the request was sent (connect or pool timeout): safe to retry."""
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, _NOT_SENT) or bool(_NOT_SENT_TEXT.search(exc.message))


def retry_after_seconds(exc: tg.RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (an int before PTB's timedelta switch)."""
    with warnings.catch_warnings():
        # PTB 22.2+ warns on reading it unless PTB_TIMEDELTA is set; both forms are handled.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)
