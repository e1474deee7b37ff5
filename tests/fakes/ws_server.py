"""A scripted local WebSocket server: each accepted connection runs the next script."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class ScriptConn:
    """The server side of one connection, as a script sees it."""

    def __init__(self, ws: ServerConnection, index: int) -> None:
        self.ws = ws
        self.index = index
        self.received: list[str] = []

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def recv(self) -> str:
        data = await self.ws.recv()
        text = data if isinstance(data, str) else data.decode()
        self.received.append(text)
        return text

    async def recv_until(self, predicate: Callable[[str], bool], within: float = 5.0) -> str:
        """Read client frames until one matches (others are kept in ``received``)."""
        async with asyncio.timeout(within):
            while True:
                text = await self.recv()
                if predicate(text):
                    return text

    async def hold(self) -> None:
        """Keep the connection open, reading (and recording) what the client sends."""
        try:
            while True:
                await self.recv()
        except ConnectionClosed:
            return

    async def close(self) -> None:
        await self.ws.close()


Script = Callable[[ScriptConn], Awaitable[None]]


class ScriptedServer:
    """``async with ScriptedServer(script1, script2) as srv``: connect to ``srv.url``.

    Connection N runs script N (the last script repeats). When a script returns, the
    server closes that connection.
    """

    def __init__(self, *scripts: Script, path: str = "") -> None:
        self.scripts: Sequence[Script] = scripts
        self.path = path
        self.conns: list[ScriptConn] = []
        self._server: Server | None = None
        self.url = ""

    async def _handle(self, ws: ServerConnection) -> None:
        conn = ScriptConn(ws, len(self.conns))
        self.conns.append(conn)
        script = self.scripts[min(conn.index, len(self.scripts) - 1)]
        try:
            await script(conn)
        except ConnectionClosed:
            return

    async def __aenter__(self) -> ScriptedServer:
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=None, ping_interval=None)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}{self.path}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
