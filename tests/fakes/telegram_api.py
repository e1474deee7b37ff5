"""A fake Telegram Bot API: canned answers per method, every call recorded, failures on demand.

``BotApi`` is the server side (state, answers, scripted failures, queued updates);
``FakeBotRequest`` puts it behind python-telegram-bot's request layer, and
``tests.fakes.bot_api_server.BotApiServer`` behind HTTP for the end-to-end test.

    api = BotApi()
    app = build_application(BOT_TOKEN, request=FakeBotRequest(api),
                            get_updates_request=FakeBotRequest(api))
    api.fail(flood(7), method="sendMessage", chat_id=42)     # the next send to chat 42: 429
    await app.process_update(Update.de_json(api.message("/start"), app.bot))
    api.texts(USER_ID)  # what the bot sent to the user

Answers follow the Bot API: the error bodies are Telegram's
(``{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
"parameters": {"retry_after": 7}}``), an edit with identical content is refused as "message is
not modified", and HTML that Telegram would refuse ("can't parse entities") is refused too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from tests.fakes.bot_api_checks import (
    Failure,
    FakeNetworkDown,
    FakeTimeout,
    bad_request,
    blocked,
    flood,
    html_error,
    migrated,
    network_down,
    timed_out,
    visible_length,
)

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "USER_ID",
    "BotApi",
    "Call",
    "Failure",
    "FakeBotRequest",
    "StoredMessage",
    "TelegramLimits",
    "bad_request",
    "blocked",
    "flood",
    "migrated",
    "network_down",
    "timed_out",
]

BOT_ID = 123456789
BOT_USERNAME = "goquant_test_bot"
USER_ID = 1001
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "GoQuant Test",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TEXT_MAX = 4096
CAPTION_MAX = 1024
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


@dataclass
class _Rule:
    failure: Failure
    method: str | None
    chat_id: int | None
    times: int | None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return (self.method is None or self.method == method) and (
            self.chat_id is None or params.get("chat_id") == self.chat_id
        )


# --- records --------------------------------------------------------------------------------


@dataclass
class Call:
    """One request as the fake received it, and what it answered."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    at: float
    status: int = 0  # 0: no answer (timeout, no connection)
    result: Any = None
    failure: Failure | None = None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class StoredMessage:
    """A message the bot sent, as the fake keeps it (edits replace text and markup)."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    date: int
    document: tuple[str, bytes] | None = None
    edits: int = 0

    def buttons(self) -> list[list[tuple[str, str]]]:
        """The inline keyboard as (text, callback_data) rows."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]


def _chat(chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
    if chat_type is None:
        chat_type = "private" if chat_id > 0 else "supergroup"
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Ada"
    else:
        chat["title"] = f"Group {chat_id}"
    return chat


# --- the fake server ------------------------------------------------------------------------


class BotApi:
    """The Bot API as far as this bot uses it, in memory."""

    def __init__(
        self, *, clock: Callable[[], float] = time.time, max_poll_wait_s: float = 1.0
    ) -> None:
        self.clock = clock
        self.max_poll_wait_s = max_poll_wait_s
        self.calls: list[Call] = []
        self.messages: dict[int, StoredMessage] = {}
        self.commands: list[dict[str, str]] = []
        self.answered: dict[str, dict[str, Any]] = {}
        self.confirmed_offset = 0
        # Decides per call, after the rules: return a Failure to fail it, None to answer.
        self.script: Callable[[str, dict[str, Any]], Failure | None] | None = None
        self._rules: list[_Rule] = []
        self._gates: list[tuple[str | None, int | None, asyncio.Event]] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ready = asyncio.Event()
        self._next_update_id = 1
        self._next_message_id = 1
        self._next_query_id = 1
        self._closed = False
        self._methods: dict[str, Callable[[dict[str, Any], dict[str, tuple[str, bytes]]], Any]] = {
            "getMe": lambda p, f: BOT_USER,
            "deleteWebhook": lambda p, f: True,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p, f: self.commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
        }

    # scripting ---------------------------------------------------------------------------

    def fail(
        self,
        failure: Failure,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer the next ``times`` matching calls (None: all of them) with ``failure``."""
        self._rules.append(_Rule(failure, method, chat_id, times))

    def gate(self, *, method: str | None = None, chat_id: int | None = None) -> asyncio.Event:
        """Hold matching calls until the returned event is set (a slow Telegram)."""
        event = asyncio.Event()
        self._gates.append((method, chat_id, event))
        return event

    def close(self) -> None:
        """Wake every waiting long poll (server shutdown)."""
        self._closed = True
        self._update_ready.set()

    # updates -----------------------------------------------------------------------------

    def message(
        self,
        text: str,
        *,
        user_id: int = USER_ID,
        chat_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Ada",
        username: str | None = "ada",
        date: float | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """An update carrying a text message from a user (a command when it starts with /)."""
        chat_id = user_id if chat_id is None else chat_id
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        message: dict[str, Any] = {
            "message_id": self._take_message_id(),
            "date": int(self.clock() if date is None else date),
            "chat": _chat(chat_id, chat_type),
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        return {"update_id": self._take_update_id(), "message": message}

    def callback(
        self,
        data: str,
        *,
        message_id: int,
        user_id: int = USER_ID,
        chat_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Ada",
    ) -> dict[str, Any]:
        """An update carrying a button press on message ``message_id`` (one the bot sent)."""
        stored = self.messages.get(message_id)
        if chat_id is None:
            chat_id = stored.chat_id if stored is not None else user_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": stored.date if stored is not None else int(self.clock()),
            "chat": _chat(chat_id, chat_type),
            "from": BOT_USER,
            "text": stored.text if stored is not None else "",
        }
        if stored is not None and stored.reply_markup:
            message["reply_markup"] = stored.reply_markup
        query_id = str(self._next_query_id)
        self._next_query_id += 1
        return {
            "update_id": self._take_update_id(),
            "callback_query": {
                "id": query_id,
                "from": {"id": user_id, "is_bot": False, "first_name": first_name},
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": message,
            },
        }

    def queue(self, update: dict[str, Any]) -> None:
        """Make an update available to getUpdates."""
        self._updates.append(update)
        self._update_ready.set()

    # queries -----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent(self, chat_id: int | None = None) -> list[StoredMessage]:
        """Messages the bot sent (documents included), oldest first."""
        return [m for m in self.messages.values() if chat_id is None or m.chat_id == chat_id]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [m.text for m in self.sent(chat_id)]

    def last(self, chat_id: int | None = None) -> StoredMessage:
        sent = self.sent(chat_id)
        assert sent, f"nothing was sent to chat {chat_id}"
        return sent[-1]

    # the server --------------------------------------------------------------------------

    async def handle(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request: (HTTP status, JSON body); raises FakeTimeout / FakeNetworkDown."""
        call = Call(method, params, files, self.clock())
        self.calls.append(call)
        for gate_method, gate_chat, event in self._gates:
            if (gate_method in (None, method)) and (gate_chat in (None, params.get("chat_id"))):
                await event.wait()
        failure = self._failure_for(method, params)
        call.failure = failure
        if failure is not None and failure.network:
            raise FakeNetworkDown
        if failure is not None and failure.timeout:
            if failure.delivered:
                await self._answer(call, method, params, files)
            raise FakeTimeout
        if failure is not None:
            call.status = failure.status
            return failure.status, failure.body()
        return await self._answer(call, method, params, files)

    async def _answer(
        self,
        call: Call,
        method: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes]],
    ) -> tuple[int, dict[str, Any]]:
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        elif method in self._methods:
            result = self._methods[method](params, files)
        else:
            call.status = 404
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if isinstance(result, Failure):
            call.status, call.failure = result.status, result
            return result.status, result.body()
        call.status, call.result = 200, result
        return 200, {"ok": True, "result": result}

    def _failure_for(self, method: str, params: dict[str, Any]) -> Failure | None:
        for rule in self._rules:
            if rule.matches(method, params):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                return rule.failure
        if self.script is not None:
            return self.script(method, params)
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            # Telegram forgets every update below the offset: they are confirmed.
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closed:
            self._update_ready.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(timeout, self.max_poll_wait_s)):
                    await self._update_ready.wait()
        return self._updates[:limit]

    def _set_my_commands(self, params: dict[str, Any], files: object) -> Any:
        commands = params.get("commands") or []
        for command in commands:
            if not _COMMAND.fullmatch(command.get("command", "")):
                return bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                return bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = list(commands)
        return True

    def _send_message(self, params: dict[str, Any], files: object) -> Any:
        text = str(params.get("text", ""))
        refusal = self._check_text(text, params, TEXT_MAX, "message is too long")
        if refusal is not None:
            return refusal
        return self._store(int(params["chat_id"]), text, params.get("reply_markup"))

    def _edit_message_text(self, params: dict[str, Any], files: object) -> Any:
        stored = self.messages.get(int(params.get("message_id", 0)))
        if stored is None or stored.chat_id != params.get("chat_id"):
            return bad_request("message to edit not found")
        text = str(params.get("text", ""))
        refusal = self._check_text(text, params, TEXT_MAX, "message is too long")
        if refusal is not None:
            return refusal
        markup = params.get("reply_markup")
        if stored.text == text and stored.reply_markup == markup:
            return bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        stored.text, stored.reply_markup = text, markup
        stored.edits += 1
        return self._message_json(stored)

    def _answer_callback_query(self, params: dict[str, Any], files: object) -> Any:
        query_id = str(params.get("callback_query_id"))
        if query_id in self.answered:
            return bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.answered[query_id] = params
        return True

    def _send_document(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if "document" not in files:
            return bad_request("there is no document in the request")
        caption = str(params.get("caption", ""))
        if caption:
            refusal = self._check_text(caption, params, CAPTION_MAX, "message caption is too long")
            if refusal is not None:
                return refusal
        return self._store(
            int(params["chat_id"]), caption, params.get("reply_markup"), files["document"]
        )

    def _check_text(
        self, text: str, params: dict[str, Any], limit: int, too_long: str
    ) -> Failure | None:
        if not text.strip():
            return bad_request("message text is empty")
        if params.get("parse_mode") == "HTML":
            error = html_error(text)
            if error is not None:
                return bad_request(error)
            length = visible_length(text)
        else:
            length = len(text)
        if length > limit:
            return bad_request(too_long)
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if not 1 <= len(button.get("callback_data", "").encode()) <= 64:
                    return bad_request("BUTTON_DATA_INVALID")
        return None

    def _store(
        self,
        chat_id: int,
        text: str,
        markup: dict[str, Any] | None,
        document: tuple[str, bytes] | None = None,
    ) -> dict[str, Any]:
        stored = StoredMessage(
            self._take_message_id(), chat_id, text, markup, int(self.clock()), document
        )
        self.messages[stored.message_id] = stored
        return self._message_json(stored)

    def _message_json(self, stored: StoredMessage) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": stored.message_id,
            "date": stored.date,
            "chat": _chat(stored.chat_id),
            "from": BOT_USER,
        }
        if stored.document is not None:
            n = stored.message_id
            message["document"] = {
                "file_id": f"doc{n}",
                "file_unique_id": f"udoc{n}",
                "file_name": stored.document[0],
            }
            if stored.text:
                message["caption"] = stored.text
        else:
            message["text"] = stored.text
        if stored.edits:
            message["edit_date"] = int(self.clock())
        if stored.reply_markup:
            message["reply_markup"] = stored.reply_markup
        return message

    def _take_update_id(self) -> int:
        self._next_update_id += 1
        return self._next_update_id - 1

    def _take_message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id - 1


@dataclass
class TelegramLimits:
    """A ``BotApi.script`` answering 429 to any message request past Telegram's limits, by the
    times the requests arrive: ``per_s`` overall in any second, one per ``chat_interval_s`` to a
    chat, ``group_per_min`` to a group in any minute. Callback answers are not counted.

        api.script = TelegramLimits(api, per_s=25)
    """

    api: BotApi
    per_s: int = 30
    chat_interval_s: float = 1.0
    group_per_min: int = 20
    retry_after: int = 5
    methods: tuple[str, ...] = ("sendMessage", "editMessageText", "sendDocument")
    slack: float = 1e-9  # a float sum of simulated times may land a hair below a whole second
    floods: int = 0
    _recent: deque[float] = field(default_factory=deque)
    _last: dict[int, float] = field(default_factory=dict)
    _group: dict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def __call__(self, method: str, params: dict[str, Any]) -> Failure | None:
        if method not in self.methods:
            return None
        now, chat = self.api.calls[-1].at, int(params["chat_id"])
        while self._recent and self._recent[0] <= now - 1.0 + self.slack:
            self._recent.popleft()
        window = self._group[chat]
        while window and window[0] <= now - 60.0 + self.slack:
            window.popleft()
        too_soon = now - self._last.get(chat, -1e9) < self.chat_interval_s - self.slack
        full = len(self._recent) >= self.per_s or (chat < 0 and len(window) >= self.group_per_min)
        if too_soon or full:
            self.floods += 1
            return flood(self.retry_after)
        self._recent.append(now)
        self._last[chat] = now
        if chat < 0:
            window.append(now)
        return None


# --- python-telegram-bot's request layer ----------------------------------------------------


class FakeBotRequest(BaseRequest):
    """``BaseRequest`` that answers from a ``BotApi`` instead of HTTP."""

    def __init__(self, api: BotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None and request_data.contains_files:
            for name, field_tuple in request_data.multipart_data.items():
                filename, content = field_tuple[0], field_tuple[1]
                data = content if isinstance(content, bytes) else content.read()
                files[name] = (filename or name, data)
        try:
            status, body = await self.api.handle(api_method, params, files)
        except FakeTimeout:
            raise TimedOut("Timed out") from None
        except FakeNetworkDown:
            raise NetworkError("httpx.ConnectError: All connection attempts failed") from None
        return status, json.dumps(body).encode()
