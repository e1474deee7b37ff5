"""The command layer on Telegram: python-telegram-bot driven by hand inside our event loop.

Lifecycle (never ``run_polling``, which owns the loop and its signals): initialize (getMe),
set the command menu, start the application, start polling; stop in reverse order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from telegram import BotCommand, Chat, Message, Update, User
from telegram import error as tg
from telegram.ext import Application, CallbackContext, CallbackQueryHandler, MessageHandler, filters

from goquant_bot.alerts.direct import DirectRequests
from goquant_bot.bot.telegram.replies import ReplySender, Target
from goquant_bot.bot.types import CallbackAnswer, Caller, ChatType, Commands, Reply
from goquant_bot.errors import ConfigError, TransientError
from goquant_bot.logging import get_logger

log = get_logger(__name__)

TelegramApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
Context: TypeAlias = CallbackContext[Any, Any, Any, Any]

ALLOWED_UPDATES = ("message", "callback_query")
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
APOLOGY_SHORT = "Sorry, something went wrong. Please try again."
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_MENTION = re.compile(r"(/\w+)@(\w+)(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class AdapterConfig:
    """How the Telegram adapter polls and what it does with late updates."""

    # A message older than this was sent while we were down: not executed, the user is told.
    stale_after_s: float = 120.0
    # Long-poll duration of one getUpdates call.
    poll_timeout_s: float = 25.0


class TelegramAdapter:
    """Turns messages and button presses into ``Commands`` calls and sends back the replies.

    ``requests`` paces every reply: pass alert delivery's (``Delivery.direct``), so that
    replies and alerts share one pacer.
    """

    def __init__(
        self,
        application: TelegramApp,
        commands: Commands,
        config: AdapterConfig | None = None,
        *,
        requests: DirectRequests,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = application
        self._commands = commands
        self._config = config or AdapterConfig()
        self._clock = clock
        self._replies = ReplySender(application.bot, requests)
        self._restart_notices: dict[int, float] = {}
        application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_message)
        )
        application.add_handler(CallbackQueryHandler(self._on_callback))
        application.add_error_handler(self._on_error)

    @property
    def application(self) -> TelegramApp:
        return self._app

    async def run(self) -> None:
        """Poll and answer until cancelled; every resource is released on the way out."""
        try:
            try:
                await self._app.initialize()
            except BaseException:
                # A failed getMe leaves the HTTP pools open, and shutdown() skips them then.
                await self._app.bot.shutdown()
                raise
            try:
                await self._start()
                await asyncio.Future()
            finally:
                await self._stop()
        except tg.InvalidToken:
            msg = "Telegram refused the bot token (telegram.bot_token): check it with @BotFather"
            raise ConfigError(msg) from None
        except tg.TelegramError as exc:
            msg = f"Telegram Bot API unreachable: {type(exc).__name__}: {exc}"
            raise TransientError(msg) from exc

    async def _start(self) -> None:
        await self.set_menu()
        await self._app.start()
        updater = self._app.updater
        if updater is None:
            msg = "the application was built without an updater"
            raise ConfigError(msg)
        await updater.start_polling(
            timeout=dt.timedelta(seconds=self._config.poll_timeout_s),
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=False,
            error_callback=self._on_polling_error,
        )
        log.info("telegram_polling", bot=self._app.bot.username)

    async def set_menu(self) -> None:
        """Register the command menu (``setMyCommands``); a failure only costs the menu."""
        try:
            menu = self._commands.menu()
        except Exception:
            log.exception("telegram_menu_failed")
            return
        commands = []
        for name, description in menu:
            command = name.removeprefix("/")
            if not _COMMAND_NAME.fullmatch(command) or not description.strip():
                log.warning("telegram_menu_entry_skipped", command=name)
                continue
            commands.append(BotCommand(command, description.strip()[:256]))
        try:
            await self._app.bot.set_my_commands(commands)
        except tg.TelegramError as exc:
            log.warning("telegram_menu_failed", error=str(exc))

    async def _stop(self) -> None:
        updater = self._app.updater
        try:
            if updater is not None and updater.running:
                # Also confirms the updates fetched so far, so a restart does not replay them.
                await updater.stop()
        except Exception:
            log.exception("telegram_stop_failed", step="updater")
        try:
            if self._app.running:
                await self._app.stop()
        except Exception:
            log.exception("telegram_stop_failed", step="application")
        try:
            await self._app.shutdown()
        except Exception:
            log.exception("telegram_stop_failed", step="shutdown")
        log.info("telegram_stopped")

    # --- handlers -------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.text is None or message.from_user is None:
            return
        text = addressed_text(message.text, self._app.bot.username)
        if text is None:
            return  # a command for another bot in the same group
        caller = caller_of(message.from_user, message.chat)
        target = Target(
            message.chat_id,
            thread_id=message.message_thread_id if message.is_topic_message else None,
            quote=message.message_id if caller.is_group else None,
        )
        age = self._clock() - message.date.timestamp()
        if age > self._config.stale_after_s:
            log.info("update_stale", chat_id=caller.chat_id, age_s=round(age, 1))
            if self._worth_a_notice(caller, text):
                await self._tell_restarted(target, text)
            return
        try:
            replies = list(self._commands.handle(caller, text))
        except Exception:
            log.exception(
                "command_failed",
                chat_id=caller.chat_id,
                user_id=caller.user_id,
                command=_head(text),
            )
            replies = [Reply(APOLOGY)]
        await self._replies.deliver(target, replies, pressed=None)

    async def _on_callback(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message
        answer = CallbackAnswer()
        replies: list[Reply] = []
        try:
            if message is not None and query.data:
                caller = caller_of(query.from_user, message.chat)
                try:
                    answer, replies = self._commands.press(caller, query.data)
                    replies = list(replies)
                except Exception:
                    log.exception("button_failed", chat_id=caller.chat_id, user_id=caller.user_id)
                    answer, replies = CallbackAnswer(APOLOGY_SHORT), []
        finally:
            # Always answered, even when pressing failed: otherwise the button spins for a while.
            await self._replies.answer(query.id, answer)
        if message is not None and replies:
            pressed = message if isinstance(message, Message) else None
            thread = pressed.message_thread_id if pressed and pressed.is_topic_message else None
            await self._replies.deliver(Target(message.chat.id, thread_id=thread), replies, pressed)

    async def _on_error(self, update: object, context: Context) -> None:
        """Last resort for an error escaping a handler: log it, answer, apologise."""
        log.error("telegram_handler_error", exc_info=context.error)
        if not isinstance(update, Update):
            return
        try:
            if update.callback_query is not None:
                await self._replies.answer(update.callback_query.id, CallbackAnswer(APOLOGY_SHORT))
            if update.effective_chat is not None:
                target = Target(update.effective_chat.id)
                await self._replies.deliver(target, [Reply(APOLOGY)], pressed=None)
        except Exception as exc:
            log.warning("telegram_apology_failed", error=str(exc))

    def _on_polling_error(self, exc: tg.TelegramError) -> None:
        # Called by PTB's retry loop, which backs off by itself (up to 30 s).
        if isinstance(exc, tg.Conflict):
            log.error("telegram_conflict", reason="another instance polls with this bot token")
        else:
            log.warning("telegram_polling_error", error=str(exc), kind=type(exc).__name__)

    # --- sending ----------------------------------------------------------------------------

    def _worth_a_notice(self, caller: Caller, text: str) -> bool:
        """In a group only one of our commands gets a restart notice, not talk between members."""
        if not caller.is_group:
            return True
        head = _head(text)
        if not head.startswith("/"):
            return False
        name, at, _ = head[1:].partition("@")
        if at:
            return True  # addressed to this bot (other bots' commands were dropped already)
        try:
            names = {command.removeprefix("/").lower() for command, _ in self._commands.menu()}
        except Exception:
            log.exception("telegram_menu_failed")
            return False
        return name.lower() in names

    async def _tell_restarted(self, target: Target, text: str) -> None:
        """One notice per chat per burst of late messages (not one per message)."""
        now = self._clock()
        window = self._config.stale_after_s
        last = self._restart_notices.get(target.chat_id)
        if last is not None and now - last < window:
            return
        for chat_id in [c for c, t in self._restart_notices.items() if now - t >= window]:
            del self._restart_notices[chat_id]
        self._restart_notices[target.chat_id] = now
        head = _head(text).partition("@")[0]
        what = f"<code>{html.escape(head)}</code>" if head.startswith("/") else "your message"
        notice = (
            f"I was restarting when you sent {what}, so I did not act on it. Please send it again."
        )
        await self._replies.deliver(target, [Reply(notice)], pressed=None)


def caller_of(user: User, chat: Chat) -> Caller:
    """Our ``Caller`` for a Telegram user in a chat."""
    try:
        chat_type = ChatType(chat.type)
    except ValueError:
        chat_type = ChatType.PRIVATE if chat.id > 0 else ChatType.GROUP
    return Caller(
        user_id=user.id,
        chat_id=chat.id,
        chat_type=chat_type,
        first_name=user.first_name or "",
        username=user.username,
    )


def addressed_text(text: str, bot_username: str | None) -> str | None:
    """The text as sent, or None when the command names another bot.

    ``/cmd@ThisBot`` keeps its mention: the command layer answers an unknown command in a group
    only when it was addressed to it by name.
    """
    match = _MENTION.match(text)
    if match is None or bot_username is None:
        return text
    if match.group(2).lower() != bot_username.lower():
        return None
    return text


def _head(text: str) -> str:
    """The first word of a message (the command), short enough to log or quote."""
    words = text.split(maxsplit=1)
    return words[0][:64] if words else ""
