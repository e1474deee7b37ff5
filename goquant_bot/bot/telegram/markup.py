"""Our transport-agnostic replies in python-telegram-bot's terms."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from goquant_bot.bot.types import Keyboard

# Alerts and replies quote exchange links at most; previews would only clutter the chat.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Bot API limits: answerCallbackQuery text, document captions.
CALLBACK_TEXT_MAX = 200
CAPTION_MAX = 1024


def keyboard_markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """An inline keyboard, or None (which also removes the keyboard of an edited message)."""
    rows = [
        [InlineKeyboardButton(button.text, callback_data=button.data) for button in row]
        for row in buttons
        if row
    ]
    return InlineKeyboardMarkup(rows) if rows else None
