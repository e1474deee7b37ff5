"""Telegram HTML to plain text, and keyboards as numbered choices, for the terminal."""

from __future__ import annotations

from html.parser import HTMLParser

from goquant_bot.bot.types import Keyboard


class _TextExtractor(HTMLParser):
    """Keeps the text of Telegram's HTML subset; a link shows its address after its label."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self._links.append((href, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:])
            if href and href != label:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(text: str) -> str:
    """Plain text of an HTML message: tags dropped, entities decoded, links spelled out."""
    if "<" not in text and "&" not in text:
        return text
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def choice_lines(buttons: Keyboard, labels: list[str]) -> list[str]:
    """One line per keyboard row: ``[label] text`` for each button, ``labels`` in order."""
    lines: list[str] = []
    index = 0
    for row in buttons:
        cells = []
        for button in row:
            cells.append(f"[{labels[index]}] {button.text}")
            index += 1
        lines.append("   ".join(cells))
    return lines
