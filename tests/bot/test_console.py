"""The console adapter with scripted stdin (a real pipe) and captured output."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from goquant_bot.alerts.transport import MessageGone, MessageNotModified
from goquant_bot.bot.console import ConsoleAdapter, html_to_text, local_caller
from goquant_bot.bot.console.adapter import APOLOGY, BANNER
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, ChatType, Commands, Reply
from tests.bot.harness import Bot as RouterHarness
from tests.helpers import wait_until

VENUES = ((Button("Binance", "v:binance"), Button("OKX", "v:okx")), (Button("Done", "v:done"),))


class MenuCommands:
    """Stand-in for the command layer: /start shows a venue picker; presses are recorded."""

    def __init__(self) -> None:
        self.handled: list[tuple[Caller, str]] = []
        self.pressed: list[str] = []

    def handle(self, caller: Caller, text: str) -> list[Reply]:
        self.handled.append((caller, text))
        if text == "/start":
            return [Reply("<b>Pick</b> venues &amp; press Done", buttons=VENUES)]
        if text == "/boom":
            raise RuntimeError("command layer bug")
        if text == "/export":
            return [Reply("Export", document=("arb.csv", b"symbol,edge\nBTC-USDT,0.4\n"))]
        return [Reply(f"text: {text}")]

    def press(self, caller: Caller, data: str) -> tuple[CallbackAnswer, list[Reply]]:
        self.pressed.append(data)
        return CallbackAnswer(f"picked {data}"), [Reply(f"now {data}")]

    def menu(self) -> list[tuple[str, str]]:
        return []


@pytest.fixture
def stdin() -> Iterator[tuple[TextIO, TextIO]]:
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "r", encoding="utf-8")
    writer = os.fdopen(write_fd, "w", encoding="utf-8")
    yield reader, writer
    if not writer.closed:
        writer.close()
    reader.close()


async def run_session(
    pipe: tuple[TextIO, TextIO], commands: Commands, lines: list[str]
) -> tuple[str, list[str]]:
    """Type ``lines`` and close the input; the session's output and the EOF callbacks."""
    reader, writer = pipe
    out = io.StringIO()
    eof: list[str] = []
    console = ConsoleAdapter(commands, stdin=reader, stdout=out, on_eof=lambda: eof.append("eof"))
    writer.write("".join(line + "\n" for line in lines))
    writer.close()
    await asyncio.wait_for(console.run(), timeout=10)
    return out.getvalue(), eof


async def test_session_shows_html_as_text_and_numbered_choices(
    stdin: tuple[TextIO, TextIO],
) -> None:
    commands = MenuCommands()
    out, eof = await run_session(stdin, commands, ["2", "", "BTC-USDT"])

    assert out.startswith(BANNER)
    assert "Pick venues & press Done" in out
    assert "[1] Binance   [2] OKX\n[3] Done" in out
    assert "> 2\n(picked v:okx)\nnow v:okx" in out
    assert "text: BTC-USDT" in out
    assert commands.pressed == ["v:okx"]
    assert [text for _, text in commands.handled] == ["/start", "BTC-USDT"]
    assert commands.handled[0][0].chat_type is ChatType.PRIVATE
    assert eof == ["eof"]


async def test_a_number_without_a_matching_choice_is_text(stdin: tuple[TextIO, TextIO]) -> None:
    commands = MenuCommands()
    # After the press, the reply has no buttons: "1" is now plain input (e.g. a threshold).
    await run_session(stdin, commands, ["1", "1", "7"])
    assert commands.pressed == ["v:binance"]
    assert [text for _, text in commands.handled] == ["/start", "1", "7"]


async def test_command_layer_error_prints_an_apology(stdin: tuple[TextIO, TextIO]) -> None:
    out, _ = await run_session(stdin, MenuCommands(), ["/boom", "/help"])
    assert f"> /boom\n{APOLOGY}\n> /help\ntext: /help" in out


async def test_document_is_previewed(stdin: tuple[TextIO, TextIO]) -> None:
    out, _ = await run_session(stdin, MenuCommands(), ["/export"])
    assert "[file arb.csv, 25 bytes]\nsymbol,edge\nBTC-USDT,0.4" in out


async def test_alerts_print_while_waiting_for_input_and_keep_their_own_choices(
    stdin: tuple[TextIO, TextIO],
) -> None:
    reader, writer = stdin
    out = io.StringIO()
    commands = MenuCommands()
    console = ConsoleAdapter(commands, stdin=reader, stdout=out)
    session = asyncio.create_task(console.run())
    await wait_until(lambda: "[3] Done" in out.getvalue())

    # Nothing typed yet: the loop is free, so an alert is delivered and printed meanwhile.
    alert = await console.transport.send(
        console.caller.chat_id, "<b>BTC-USDT</b> 0.42 %", buttons=((Button("Mute", "a:mute"),),)
    )
    assert alert == 1
    assert "--- alert #1 ---\nBTC-USDT 0.42 %\n[1a] Mute" in out.getvalue()

    writer.write("1a\n3\n")  # the alert's button, then the picker's, still numbered as shown
    writer.close()
    await asyncio.wait_for(session, timeout=10)
    assert commands.pressed == ["a:mute", "v:done"]


async def test_console_transport_ids_edits_and_refusals() -> None:
    out = io.StringIO()
    console = ConsoleAdapter(MenuCommands(), stdin=io.StringIO(), stdout=out)
    transport = console.transport
    first = await transport.send(0, "open 0.41 %", silent=True)
    second = await transport.send(777, "group alert")
    await transport.edit(0, first, "closed after 42 s")

    assert (first, second) == (1, 2)
    text = out.getvalue()
    assert "--- alert #1 (silent) ---\nopen 0.41 %" in text
    assert "--- alert #2 to chat 777 ---\ngroup alert" in text
    assert "--- alert #1 (updated) ---\nclosed after 42 s" in text
    with pytest.raises(MessageNotModified):
        await transport.edit(0, first, "closed after 42 s")
    with pytest.raises(MessageGone):
        await transport.edit(0, 99, "x")


def test_html_to_text() -> None:
    assert html_to_text("plain") == "plain"
    assert html_to_text("<b>BTC</b> &lt;&gt; <i>ETH</i> &amp; co") == "BTC <> ETH & co"
    assert html_to_text('<a href="https://x.io/a">chart</a>') == "chart (https://x.io/a)"
    assert html_to_text('<a href="https://x.io">https://x.io</a>') == "https://x.io"
    assert html_to_text("<pre>a  b\n c</pre>") == "a  b\n c"
    assert html_to_text('<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span>') == "s t"


def test_local_caller_is_user_zero_in_a_private_chat() -> None:
    caller = local_caller("Ada")
    assert caller == Caller(0, 0, ChatType.PRIVATE, "Ada")
    assert local_caller().first_name


async def test_a_session_with_the_real_command_router(
    stdin: tuple[TextIO, TextIO], tmp_path: Path
) -> None:
    router = RouterHarness(tmp_path).router
    out, _ = await run_session(stdin, router, ["/monitor_arb", "1"])
    assert "<b>" not in out
    assert "&lt;" not in out
    assert "step 1 of 4" in out
    assert "[1] BTC-USDT" in out
    assert "step 2 of 4" in out  # "1" pressed the first asset button
