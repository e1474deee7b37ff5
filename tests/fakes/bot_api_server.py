"""The fake Bot API (``BotApi``) behind real HTTP on 127.0.0.1, for the end-to-end test.

python-telegram-bot reaches it through its ``base_url``: ``server.base_url`` is
``http://127.0.0.1:<port>/bot`` and the library appends ``<token>/<method>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api import BotApi, FakeNetworkDown, FakeTimeout
from tests.helpers import BOT_TOKEN

# Parameters whose form values are JSON (python-telegram-bot JSON-encodes everything that is
# not a string); every other value is kept as the string it is.
_JSON_PARAMS = {
    "chat_id", "message_id", "reply_markup", "commands", "allowed_updates", "offset", "limit",
    "timeout", "disable_notification", "show_alert", "drop_pending_updates", "cache_time",
    "message_thread_id", "link_preview_options", "reply_parameters", "protect_content", "scope",
}  # fmt: skip


class BotApiServer:
    """``async with BotApiServer() as server``: point the bot at ``server.base_url``."""

    def __init__(self, api: BotApi | None = None, *, token: str = BOT_TOKEN) -> None:
        self.api = api if api is not None else BotApi()
        self.token = token
        self.base_url = ""
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if request.match_info["token"] != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(body, status=401)
        params, files = await _read_params(request)
        try:
            status, body = await self.api.handle(request.match_info["method"], params, files)
        except FakeTimeout:
            # Never answer: the client's read timeout fires (or the server shuts down).
            await self._closing.wait()
            return web.Response(status=504)
        except FakeNetworkDown:
            return web.Response(status=502, text="Bad Gateway")
        return web.json_response(body, status=status)

    async def __aenter__(self) -> BotApiServer:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.api.close()
        self._closing.set()
        assert self._runner is not None
        await self._runner.cleanup()


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        raw.update(await request.json())
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read())
            else:
                raw[name] = value
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _JSON_PARAMS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[name] = value
    return params, files
