"""The command layer in the terminal: lines in, plain-text replies out, alerts printed as they fire.

Buttons are shown as labelled choices: ``[1]``, ``[2]`` for the last reply's keyboard, and
``[7a]``, ``[7b]`` for the buttons of alert #7 (so an alert printed meanwhile never renumbers
the reply the user is answering). Typing a label presses the button; anything else is a command
or flow input.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TextIO

from goquant_bot.alerts.transport import MessageGone, MessageNotModified
from goquant_bot.bot.console.render import choice_lines, html_to_text
from goquant_bot.bot.types import Caller, ChatType, Commands, Keyboard, Reply
from goquant_bot.logging import get_logger

log = get_logger(__name__)

LOCAL_USER_ID = 0
APOLOGY = "Sorry, something went wrong on my side. Please try again."
BANNER = (
    "GoQuant Bot console. Type /help for the commands; choices appear as [1] or [7a]:"
    " type the label to press one. Ctrl-D quits."
)
# Documents (CSV exports) are printed up to this many lines.
DOCUMENT_PREVIEW_LINES = 40
# Alerts whose buttons stay pressable, and messages the transport can still edit.
ALERT_CHOICES_KEPT = 100
MESSAGES_KEPT = 1000


def local_caller(first_name: str | None = None) -> Caller:
    """The one local user of the console (user id = chat id = 0)."""
    if first_name is None:
        try:
            first_name = getpass.getuser().capitalize()
        except (OSError, KeyError):
            first_name = "Trader"
    return Caller(
        user_id=LOCAL_USER_ID,
        chat_id=LOCAL_USER_ID,
        chat_type=ChatType.PRIVATE,
        first_name=first_name,
    )


def _letters(index: int) -> str:
    return chr(ord("a") + index) if index < 26 else f"z{index - 25}"


class ConsoleScreen:
    """The terminal both the adapter and the alert transport write to, and its choice labels."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._choices: dict[str, str] = {}
        self._alert_choices: OrderedDict[int, dict[str, str]] = OrderedDict()

    def say(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def show_replies(self, replies: list[Reply], *, keep_choices: bool = False) -> None:
        """Print a command's replies; their buttons become choices 1, 2, ... (replacing older).

        ``keep_choices``: the shown choices stay unless these replies bring buttons of their own.
        """
        if not keep_choices or any(reply.buttons for reply in replies):
            self._choices = {}
        for reply in replies:
            labels = [str(len(self._choices) + i + 1) for i in range(_count(reply.buttons))]
            self._choices.update(zip(labels, _datas(reply.buttons), strict=True))
            self._print_message(reply.text, reply.buttons, labels)
            if reply.document is not None:
                self._print_document(*reply.document)

    def show_alert(
        self,
        message_id: int,
        header: str,
        text: str,
        buttons: Keyboard,
    ) -> None:
        """Print an alert; its buttons become choices ``<id>a``, ``<id>b``, ..."""
        labels = [f"{message_id}{_letters(i)}" for i in range(_count(buttons))]
        self._alert_choices[message_id] = dict(zip(labels, _datas(buttons), strict=True))
        self._alert_choices.move_to_end(message_id)
        while len(self._alert_choices) > ALERT_CHOICES_KEPT:
            self._alert_choices.popitem(last=False)
        self.say(f"--- {header} ---")
        self._print_message(text, buttons, labels)

    def choice(self, label: str) -> tuple[str, bool] | None:
        """(callback data, is an alert's button) of a shown choice; None if ``label`` is not one."""
        label = label.lower()
        if label in self._choices:
            return self._choices[label], False
        for choices in self._alert_choices.values():
            if label in choices:
                return choices[label], True
        return None

    def _print_message(self, text: str, buttons: Keyboard, labels: list[str]) -> None:
        lines = [html_to_text(text)] if text else []
        lines += choice_lines(buttons, labels)
        if lines:
            self.say("\n".join(lines))

    def _print_document(self, name: str, content: bytes) -> None:
        self.say(f"[file {name}, {len(content)} bytes]")
        try:
            rows = content.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            return
        shown = rows[:DOCUMENT_PREVIEW_LINES]
        if len(rows) > len(shown):
            shown.append(f"... ({len(rows) - len(shown)} more lines)")
        self.say("\n".join(shown))


def _count(buttons: Keyboard) -> int:
    return sum(len(row) for row in buttons)


def _datas(buttons: Keyboard) -> list[str]:
    return [button.data for row in buttons for button in row]


class ConsoleTransport:
    """Alert delivery to the terminal (an ``AlertTransport``): ids count up from 1."""

    def __init__(self, screen: ConsoleScreen, local_chat_id: int = LOCAL_USER_ID) -> None:
        self._screen = screen
        self._local_chat_id = local_chat_id
        self._next_id = 0
        self._shown: OrderedDict[int, tuple[str, Keyboard]] = OrderedDict()

    async def send(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> int:
        self._next_id += 1
        message_id = self._next_id
        self._remember(message_id, text, buttons)
        header = self._header(message_id, chat_id) + (" (silent)" if silent else "")
        self._screen.show_alert(message_id, header, text, buttons)
        return message_id

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard = ()
    ) -> None:
        shown = self._shown.get(message_id)
        if shown is None:
            msg = f"message {message_id} to edit not found"
            raise MessageGone(msg)
        if shown == (text, buttons):
            msg = f"message {message_id} is not modified"
            raise MessageNotModified(msg)
        self._remember(message_id, text, buttons)
        header = self._header(message_id, chat_id) + " (updated)"
        self._screen.show_alert(message_id, header, text, buttons)

    def _remember(self, message_id: int, text: str, buttons: Keyboard) -> None:
        self._shown[message_id] = (text, buttons)
        self._shown.move_to_end(message_id)
        while len(self._shown) > MESSAGES_KEPT:
            self._shown.popitem(last=False)

    def _header(self, message_id: int, chat_id: int) -> str:
        header = f"alert #{message_id}"
        if chat_id != self._local_chat_id:
            header += f" to chat {chat_id}"
        return header


class ConsoleAdapter:
    """Runs ``Commands`` for the local user on stdin/stdout; ``transport`` prints the alerts."""

    def __init__(
        self,
        commands: Commands,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        caller: Caller | None = None,
        first_command: str | None = "/start",
        on_eof: Callable[[], None] | None = None,
    ) -> None:
        self._commands = commands
        self._stdin = stdin if stdin is not None else sys.stdin
        self.screen = ConsoleScreen(stdout if stdout is not None else sys.stdout)
        self.caller = caller if caller is not None else local_caller()
        self.transport = ConsoleTransport(self.screen, self.caller.chat_id)
        self._first_command = first_command
        self._on_eof = on_eof
        self._lines: asyncio.Queue[str | None] | None = None
        # Piped input (a script, a test) is echoed so the transcript reads like a session.
        self._echo = not _isatty(self._stdin)

    async def run(self) -> None:
        """Read and execute lines until end of input (then ``on_eof``) or cancellation."""
        lines = self._start_reader()
        self.screen.say(BANNER)
        if self._first_command:
            self.execute(self._first_command)
            self._first_command = None
        while True:
            line = await lines.get()
            if line is None:
                log.info("console_input_closed")
                if self._on_eof is not None:
                    self._on_eof()
                return
            if self._echo and line.strip():
                self.screen.say(f"> {line.strip()}")
            self.execute(line)

    def execute(self, line: str) -> None:
        """One line of input: a choice label presses its button, anything else is a command."""
        text = line.strip()
        if not text:
            return
        choice = self.screen.choice(text)
        try:
            if choice is not None:
                answer, replies = self._commands.press(self.caller, choice[0])
                if answer.text:
                    self.screen.say(f"! {answer.text}" if answer.alert else f"({answer.text})")
            else:
                replies = self._commands.handle(self.caller, text)
            # Pressing an alert's button leaves the reply the user was answering pressable.
            self.screen.show_replies(list(replies), keep_choices=choice is not None and choice[1])
        except Exception:
            log.exception("console_command_failed", command=text.split(maxsplit=1)[0][:64])
            self.screen.show_replies([Reply(APOLOGY)])

    def _start_reader(self) -> asyncio.Queue[str | None]:
        # A thread, not connect_read_pipe: the latter makes a terminal non-blocking, which
        # stdout shares, and it refuses regular files (``--console < script.txt``).
        if self._lines is None:
            self._lines = asyncio.Queue()
            thread = threading.Thread(
                target=_read_lines,
                args=(self._stdin, asyncio.get_running_loop(), self._lines),
                name="console-stdin",
                daemon=True,
            )
            thread.start()
        return self._lines


def _read_lines(
    stream: TextIO, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]
) -> None:
    """Blocking reader (its own thread): hands each line to the loop, then None at the end."""
    try:
        for line in iter(stream.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, line)
    except (OSError, ValueError) as exc:
        log.warning("console_input_failed", error=str(exc))
    finally:
        # RuntimeError: the loop has closed, nobody is reading any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(lines.put_nowait, None)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False
