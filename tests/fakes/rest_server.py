"""A local HTTP server answering REST requests from queued responses, recording each request."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    repeat: bool = False


class RestServer:
    """``async with RestServer() as rest``: ``rest.url`` is the base; queue replies per path."""

    def __init__(self) -> None:
        self._replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posts: list[str] = []  # paths asked with POST (also in ``requests``)
        # While set, every request is answered 503 (the venue's REST is down); nothing queued
        # is used up.
        self.refusing = False
        self._runner: web.AppRunner | None = None
        self.url = ""

    def reply(
        self,
        path: str,
        payload: object = None,
        *,
        status: int = 200,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        repeat: bool = False,
    ) -> None:
        """Queue a reply for ``path``; the last one with ``repeat`` answers forever."""
        text = body if body is not None else json.dumps(payload)
        self._replies[path].append(Reply(status, text, headers or {}, repeat))

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if request.method == "POST":
            self.posts.append(request.path)
        if self.refusing:
            return web.Response(status=503, text='{"error":"service unavailable"}')
        queue = self._replies.get(request.path)
        if not queue:
            return web.Response(status=404, text='{"error":"no reply queued"}')
        reply = queue[0] if queue[0].repeat else queue.popleft()
        return web.Response(
            status=reply.status,
            text=reply.body,
            headers=reply.headers,
            content_type="application/json",
        )

    async def __aenter__(self) -> RestServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
