"""What alert delivery needs from a transport, and the failures it must tell apart."""

from __future__ import annotations

from typing import Protocol

from goquant_bot.errors import GoQuantError, TransientError
from goquant_bot.messages import Keyboard

_FORMAT_ERRORS = ("parse entities", "can't parse", "unsupported start tag", "entity")


class AlertTransport(Protocol):
    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        """Send an HTML message; return its message id."""

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard = ()
    ) -> None:
        """Replace the text of a message sent earlier."""


class DeliveryError(GoQuantError):
    """A message could not be delivered; the subclass says what to do about it."""


class ChatBlocked(DeliveryError):
    """The user blocked the bot or it was removed from the group: stop sending, keep data."""


class ChatMigrated(DeliveryError):
    """The group became a supergroup with a new id: move the chat's data there."""

    def __init__(self, message: str, new_chat_id: int) -> None:
        super().__init__(message)
        self.new_chat_id = new_chat_id


class FloodWait(TransientError):
    """Telegram asked to wait ``retry_after_s`` before sending again (HTTP 429)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BadMessage(DeliveryError):
    """Telegram refused the request (HTTP 400): never retried as it is."""

    @property
    def markup_refused(self) -> bool:
        """Telegram refused the HTML (``can't parse entities``): worth one plain-text try."""
        text = str(self).lower()
        return any(marker in text for marker in _FORMAT_ERRORS)


class MessageNotModified(BadMessage):
    """An edit with identical content: not an error."""


class MessageGone(BadMessage):
    """The message to edit no longer exists (deleted): send a new one instead."""


class DeliveryTimeout(TransientError):
    """No answer in time: the message may have been delivered; do not resend blindly."""


class DeliveryNetworkError(TransientError):
    """The request did not reach Telegram: safe to retry with backoff."""
