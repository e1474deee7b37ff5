"""The Telegram adapter (commands in, replies out) and the alert transport, on python-telegram-bot."""

from goquant_bot.bot.telegram.adapter import AdapterConfig, TelegramAdapter
from goquant_bot.bot.telegram.build import (
    ChatOrderedProcessor,
    build_application,
    build_bot,
    build_telegram,
    build_transport,
)
from goquant_bot.bot.telegram.transport import TelegramTransport, delivery_error

__all__ = [
    "AdapterConfig",
    "ChatOrderedProcessor",
    "TelegramAdapter",
    "TelegramTransport",
    "build_application",
    "build_bot",
    "build_telegram",
    "build_transport",
    "delivery_error",
]
