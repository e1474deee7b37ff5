"""What the command layer speaks, whatever the transport (Telegram or the terminal)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

# Buttons live below both the bot and alert delivery; re-exported for the command layer.
from goquant_bot.messages import Button as Button
from goquant_bot.messages import Keyboard as Keyboard


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a command, from which chat."""

    user_id: int
    chat_id: int
    chat_type: ChatType = ChatType.PRIVATE
    first_name: str = ""
    username: str | None = None

    @property
    def is_group(self) -> bool:
        return self.chat_type in (ChatType.GROUP, ChatType.SUPERGROUP)


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to show: HTML text (every dynamic value escaped) and optional buttons.

    ``edit``: replace the message the button was pressed on instead of sending a new one.
    ``document``: a file to send (name, content), e.g. a CSV export.
    """

    text: str
    buttons: Keyboard = ()
    edit: bool = False
    document: tuple[str, bytes] | None = None


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The answer to a button press (every press is answered, even a refused one)."""

    text: str = ""
    alert: bool = False


class Commands(Protocol):
    """The transport-agnostic command layer the adapters drive (synchronous)."""

    def handle(self, caller: Caller, text: str) -> list[Reply]:
        """A command line (``/monitor_arb BTC-USDT binance okx 0.3``) or free text (flow input)."""

    def press(self, caller: Caller, data: str) -> tuple[CallbackAnswer, list[Reply]]:
        """A button press with its callback data (checked against the caller)."""

    def menu(self) -> list[tuple[str, str]]:
        """(command, description) pairs for the transport's command menu (setMyCommands)."""
