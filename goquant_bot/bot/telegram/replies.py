"""Sending a command's replies on Telegram: new messages, edits, documents, callback answers.

Every request but the callback answer goes through the alerts' pacer (``DirectRequests``):
replies count against Telegram's limits like alerts, and go before them. A reply that cannot
be sent is logged and skipped; it never fails the update's handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram import error as tg
from telegram.constants import ParseMode

from goquant_bot.alerts.direct import DirectRequests
from goquant_bot.alerts.transport import FloodWait
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
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Target:
    """Where replies go: the chat, the forum topic, and the message a group reply quotes."""

    chat_id: int
    thread_id: int | None = None
    quote: int | None = None


class ReplySender:
    """Sends ``Reply`` objects with one bot, each request paced by ``requests``."""

    def __init__(self, bot: Bot, requests: DirectRequests) -> None:
        self._bot = bot
        self._requests = requests

    async def answer(self, query_id: str, answer: CallbackAnswer) -> None:
        """Not paced: Telegram does not count callback answers, and the button spins until."""
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
        for index, reply in enumerate(replies):
            try:
                await self._send_reply(target, reply, pressed)
            except FloodWait as exc:
                # Telegram's waits passed the bound: the rest would come even later.
                rest = len(replies) - index - 1
                self._requests.drop("flood_wait", rest)
                log.warning(
                    "reply_dropped", chat_id=target.chat_id, error=str(exc), dropped=rest + 1
                )
                return
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
                await self._paced(
                    target,
                    lambda: self._bot.edit_message_text(
                        reply.text,
                        chat_id=target.chat_id,
                        message_id=pressed.message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=keyboard_markup(reply.buttons),
                        link_preview_options=NO_PREVIEW,
                    ),
                    new_message=False,
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
            await self._paced(target, lambda: send(reply.text, ParseMode.HTML))
        except tg.BadRequest as exc:
            if "can't parse entities" not in exc.message.lower():
                raise
            # A formatting bug must not cost the user the answer: send it as plain text.
            log.error("reply_html_invalid", chat_id=target.chat_id, error=exc.message)
            await self._paced(target, lambda: send(html_to_text(reply.text), None))

    async def _send_document(self, target: Target, reply: Reply, name: str, content: bytes) -> None:
        caption: str | None = reply.text or None
        if caption is not None and len(html_to_text(caption)) > CAPTION_MAX:
            await self._send_text(target, Reply(reply.text, reply.buttons))
            caption = None
        await self._paced(
            target,
            lambda: self._bot.send_document(
                target.chat_id,
                InputFile(content, filename=name),
                caption=caption,
                parse_mode=ParseMode.HTML if caption else None,
                reply_markup=keyboard_markup(reply.buttons) if caption else None,
                message_thread_id=target.thread_id,
            ),
        )

    async def _paced(
        self, target: Target, call: Callable[[], Awaitable[T]], *, new_message: bool = True
    ) -> T:
        """Run one request in its paced slot; a flood wait is waited out and the request tried
        again (``FloodWait`` once the waits pass the bound)."""

        async def attempt() -> T:
            try:
                return await call()
            except tg.RetryAfter as exc:
                raise FloodWait(str(exc), retry_after_seconds(exc)) from exc

        return await self._requests.request(target.chat_id, attempt, new_message=new_message)
