"""Sending a command's replies on Telegram: new messages, edits, documents, callback answers.

A reply that cannot be sent is logged and skipped; it never fails the update's handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram import error as tg
from telegram.constants import ParseMode

from goquant_bot.bot.console.render import html_to_text
from goquant_bot.bot.telegram.markup import (
    CALLBACK_TEXT_MAX,
    CAPTION_MAX,
    NO_PREVIEW,
    keyboard_markup,
)
from goquant_bot.bot.telegram.transport import retry_after_seconds
from goquant_bot.bot.types import CallbackAnswer, Reply
from goquant_bot.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """Where replies go: the chat, the forum topic, and the message a group reply quotes."""

    chat_id: int
    thread_id: int | None = None
    quote: int | None = None


class ReplySender:
    """Sends ``Reply`` objects with one bot; a short flood wait is waited out once."""

    def __init__(
        self,
        bot: Bot,
        *,
        max_flood_wait_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self._max_flood_wait_s = max_flood_wait_s
        self._sleep = sleep

    async def answer(self, query_id: str, answer: CallbackAnswer) -> None:
        try:
            await self._bot.answer_callback_query(
                query_id,
                text=answer.text[:CALLBACK_TEXT_MAX] or None,
                show_alert=answer.alert,
            )
        except tg.TelegramError as exc:
            # Typically "query is too old": the press sat in the queue while we were down.
            log.info("callback_answer_failed", error=str(exc))

    async def deliver(self, target: Target, replies: list[Reply], pressed: Message | None) -> None:
        """Send ``replies`` in order; ``edit`` replies replace ``pressed`` when there is one."""
        for reply in replies:
            try:
                await self._send_reply(target, reply, pressed)
            except tg.Forbidden as exc:
                log.info("reply_refused", chat_id=target.chat_id, error=str(exc))
                return
            except tg.TelegramError as exc:
                log.warning(
                    "reply_failed", chat_id=target.chat_id, error=str(exc), kind=type(exc).__name__
                )

    async def _send_reply(self, target: Target, reply: Reply, pressed: Message | None) -> None:
        if reply.document is not None:
            await self._send_document(target, reply, *reply.document)
            return
        if reply.edit and pressed is not None:
            try:
                await self._with_flood_retry(
                    lambda: self._bot.edit_message_text(
                        reply.text,
                        chat_id=target.chat_id,
                        message_id=pressed.message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=keyboard_markup(reply.buttons),
                        link_preview_options=NO_PREVIEW,
                    )
                )
                return
            except tg.BadRequest as exc:
                if "message is not modified" in exc.message.lower():
                    return
                # Deleted, too old, or not ours any more: show the reply as a new message.
                log.info("reply_edit_failed", chat_id=target.chat_id, error=exc.message)
        await self._send_text(target, reply)

    async def _send_text(self, target: Target, reply: Reply) -> None:
        markup = keyboard_markup(reply.buttons)
        quote = (
            ReplyParameters(target.quote, allow_sending_without_reply=True)
            if target.quote is not None
            else None
        )

        def send(text: str, parse_mode: str | None) -> Awaitable[Message]:
            return self._bot.send_message(
                target.chat_id,
                text,
                parse_mode=parse_mode,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
                message_thread_id=target.thread_id,
                reply_parameters=quote,
            )

        try:
            await self._with_flood_retry(lambda: send(reply.text, ParseMode.HTML))
        except tg.BadRequest as exc:
            if "can't parse entities" not in exc.message.lower():
                raise
            # A formatting bug must not cost the user the answer: send it as plain text.
            log.error("reply_html_invalid", chat_id=target.chat_id, error=exc.message)
            await self._with_flood_retry(lambda: send(html_to_text(reply.text), None))

    async def _send_document(self, target: Target, reply: Reply, name: str, content: bytes) -> None:
        caption: str | None = reply.text or None
        if caption is not None and len(html_to_text(caption)) > CAPTION_MAX:
            await self._send_text(target, Reply(reply.text, reply.buttons))
            caption = None
        await self._with_flood_retry(
            lambda: self._bot.send_document(
                target.chat_id,
                InputFile(content, filename=name),
                caption=caption,
                parse_mode=ParseMode.HTML if caption else None,
                reply_markup=keyboard_markup(reply.buttons) if caption else None,
                message_thread_id=target.thread_id,
            )
        )

    async def _with_flood_retry(self, call: Callable[[], Awaitable[object]]) -> None:
        """Run ``call``; after a short flood wait, run it once more (longer waits raise)."""
        try:
            await call()
        except tg.RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if wait > self._max_flood_wait_s:
                raise
            log.info("reply_flood_wait", wait_s=wait)
            await self._sleep(wait)
            await call()
