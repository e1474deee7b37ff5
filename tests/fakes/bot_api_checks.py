"""Telegram's refusals, as the fake Bot API gives them: error bodies, timeouts, bad HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span", "tg-emoji",
}  # fmt: skip
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=(?:\"[^\"]*\"|'[^']*'))?)*)\s*>"
)
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


# --- failures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """What the fake answers instead of success: an error body, a timeout, or no connection."""

    status: int = 0
    description: str = ""
    parameters: dict[str, int] | None = None
    timeout: bool = False
    # For a timeout: the request took effect (the message was sent) before the client gave up.
    delivered: bool = False
    network: bool = False

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def flood(retry_after: int = 5) -> Failure:
    return Failure(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def blocked(description: str = "Forbidden: bot was blocked by the user") -> Failure:
    return Failure(403, description)


def bad_request(description: str) -> Failure:
    if not description.startswith("Bad Request"):
        description = f"Bad Request: {description}"
    return Failure(400, description)


def migrated(new_chat_id: int) -> Failure:
    return Failure(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


def timed_out(*, delivered: bool = False) -> Failure:
    return Failure(timeout=True, delivered=delivered)


def network_down() -> Failure:
    return Failure(network=True)


class FakeTimeout(Exception):
    """The client would time out waiting for this answer."""


class FakeNetworkDown(Exception):
    """The client would not reach the server at all."""


def html_error(text: str) -> str | None:
    """Telegram's refusal of an HTML text (``can't parse entities: ...``), or None if valid."""
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            tag = _TAG.match(text, i)
            if tag is None:
                return f"Bad Request: can't parse entities: Unexpected character at byte offset {i}"
            closing, name, attrs = tag.group(1), tag.group(2).lower(), tag.group(3)
            if closing:
                if not stack or stack[-1] != name:
                    return (
                        "Bad Request: can't parse entities: Can't find end tag corresponding "
                        f'to start tag "{stack[-1] if stack else name}"'
                    )
                stack.pop()
            else:
                if name not in _ALLOWED_TAGS:
                    return (
                        f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" '
                        f"at byte offset {i}"
                    )
                if name == "a" and "href" not in attrs:
                    return "Bad Request: can't parse entities: a tag without href"
                stack.append(name)
            i = tag.end()
        elif char == "&":
            entity = _ENTITY.match(text, i)
            if entity is None:
                return (
                    f"Bad Request: can't parse entities: Unsupported HTML entity at byte offset {i}"
                )
            i = entity.end()
        else:
            i += 1
    if stack:
        return (
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1]}"'
        )
    return None


def visible_length(text: str) -> int:
    """Characters left after entity parsing (what Telegram's length limits count)."""
    return len(_ENTITY.sub("x", _TAG.sub("", text)))
