"""The terminal adapter: the same commands for a local user, alerts printed as they fire."""

from goquant_bot.bot.console.adapter import (
    ConsoleAdapter,
    ConsoleScreen,
    ConsoleTransport,
    local_caller,
)
from goquant_bot.bot.console.render import html_to_text

__all__ = ["ConsoleAdapter", "ConsoleScreen", "ConsoleTransport", "html_to_text", "local_caller"]
