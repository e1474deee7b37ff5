"""What a chat message carries besides its text: inline buttons (shared by the bot and alerts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button; ``data`` is at most 64 bytes (Telegram's callback_data limit)."""

    text: str
    data: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.data.encode()) <= 64:
            msg = f"callback data must be 1-64 bytes: {self.data!r}"
            raise ValueError(msg)


Keyboard = tuple[tuple[Button, ...], ...]
