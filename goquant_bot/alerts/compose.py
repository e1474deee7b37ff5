"""Message text: joining alerts under Telegram's 4096 characters, plain-text fallback, notices."""

from __future__ import annotations

import html
import re

MAX_MESSAGE = 4096
SEPARATOR = "\n\n"
_TAG = re.compile(r"<[^>]*>")
_ELLIPSIS = "\n…"


def text_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); tags counted too, so it errs long."""
    return len(text.encode("utf-16-le")) // 2


def plain_text(text: str) -> str:
    """HTML without its tags, escaped again: what to send when Telegram refused the markup."""
    return html.escape(html.unescape(_TAG.sub("", text)), quote=False)


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """One alert longer than a message: cut at a line boundary (renderers keep them short)."""
    if text_length(text) <= limit:
        return text
    room = limit - len(_ELLIPSIS)
    cut = text[:room]
    while text_length(cut) > room:
        cut = cut[:-16]
    if (newline := cut.rfind("\n")) > room // 2:
        cut = cut[:newline]
    # Without tags, so a cut never leaves an element open.
    return plain_text(cut) + _ELLIPSIS


def pack(texts: list[str], reserved: int = 0) -> int:
    """How many of ``texts`` (in order, at least one) fit in one message beside ``reserved``."""
    used, count = reserved, 0
    for text in texts:
        size = text_length(text) + (len(SEPARATOR) if count or reserved else 0)
        if count and used + size > MAX_MESSAGE:
            break
        used += size
        count += 1
    return count


def join(parts: list[str]) -> str:
    return SEPARATOR.join(p for p in parts if p)


def digest_header(snoozed: int, quiet: int) -> str:
    reasons = []
    if quiet:
        reasons.append(f"{quiet} held during your quiet hours")
    if snoozed:
        reasons.append(f"{snoozed} held while snoozed")
    return "<b>Held alerts</b>: " + ", ".join(reasons)


def cap_notice(cap: int, until_local: str) -> str:
    return (
        f"<b>Hourly limit of {cap} alerts reached.</b> Further alerts until {until_local} "
        "are not sent; /alerts lists them."
    )


def capped_summary(skipped: int) -> str:
    noun = "alert was" if skipped == 1 else "alerts were"
    return f"<i>{skipped} {noun} skipped by your hourly limit (see /alerts).</i>"
