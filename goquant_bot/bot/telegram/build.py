"""Building the python-telegram-bot objects: the polling application and the delivery bot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor
from telegram.request import BaseRequest

from goquant_bot.alerts.direct import DirectRequests
from goquant_bot.bot.telegram.adapter import AdapterConfig, TelegramAdapter
from goquant_bot.bot.telegram.transport import TelegramTransport
from goquant_bot.bot.types import Commands
from goquant_bot.errors import ConfigError
from goquant_bot.settings_sections import TelegramSettings

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# Updates handled at once (different chats); one chat's updates always run in order.
DEFAULT_CONCURRENT_UPDATES = 16
_UNLIMITED = 1 << 30  # PTB's own semaphore (see ChatOrderedProcessor)

TelegramApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class _ChatQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Processes updates of different chats concurrently and those of one chat in order.

    A guided set-up flow must see a user's messages and button presses in the order they were
    sent, while one slow chat must not hold up everybody else's replies.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        # PTB takes its own semaphore before calling do_process_update: updates queued behind one
        # chat's lock would hold every slot and stall the other chats. Its limit is therefore set
        # out of reach and ours is taken after the chat lock.
        super().__init__(_UNLIMITED)
        if max_concurrent_updates < 1:
            msg = "max_concurrent_updates must be a positive integer"
            raise ValueError(msg)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._chats: dict[int, _ChatQueue] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        queue = self._chats.get(chat.id)
        if queue is None:
            queue = self._chats[chat.id] = _ChatQueue()
        queue.users += 1
        try:
            async with queue.lock, self._slots:
                await coroutine
        finally:
            queue.users -= 1
            if queue.users == 0:
                del self._chats[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def build_application(
    token: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    concurrent_updates: int = DEFAULT_CONCURRENT_UPDATES,
) -> TelegramApp:
    """The application that polls for commands; ``request`` objects replace HTTP in tests."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .job_queue(None)
        .concurrent_updates(ChatOrderedProcessor(concurrent_updates))
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    return builder.build()


def build_bot(
    token: str, *, base_url: str = DEFAULT_BASE_URL, request: BaseRequest | None = None
) -> Bot:
    """The bot alert delivery sends with (its own connection pool and lifetime)."""
    # It never polls: the same request object serves as its (unused) getUpdates one.
    return Bot(token, base_url=base_url, request=request, get_updates_request=request)


def build_telegram(
    settings: TelegramSettings,
    commands: Commands,
    config: AdapterConfig | None = None,
    *,
    requests: DirectRequests,
) -> TelegramAdapter:
    """The command adapter (supervise at Stage.INTAKE); its replies are paced by ``requests``
    (alert delivery's, so that replies and alerts share one pacer)."""
    application = build_application(_token(settings), base_url=settings.api_base_url)
    return TelegramAdapter(application, commands, config, requests=requests)


def build_transport(settings: TelegramSettings) -> TelegramTransport:
    """The alert transport (supervise at Stage.TRANSPORT), with a bot of its own."""
    return TelegramTransport(build_bot(_token(settings), base_url=settings.api_base_url))


def _token(settings: TelegramSettings) -> str:
    if settings.bot_token is None:
        msg = "telegram.bot_token is not set"
        raise ConfigError(msg)
    return settings.bot_token.get_secret_value()
