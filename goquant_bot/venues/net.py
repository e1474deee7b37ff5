"""Real I/O for the driver: WebSockets with ``websockets``, REST with ``aiohttp``."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from types import TracebackType

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from goquant_bot.errors import VenueUnavailable
from goquant_bot.venues.transport import HttpResponse

# Big frames are legal (a full-depth snapshot can be several MB): accept up to 32 MiB.
MAX_FRAME_BYTES = 32 * 1024 * 1024


class WebSocketConnection:
    """A ``websockets`` client connection behind the WsConnection seam."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def send(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            msg = f"connection closed while sending: {exc}"
            raise VenueUnavailable(msg) from exc

    async def recv(self) -> str | bytes:
        try:
            data = await self._ws.recv()
        except ConnectionClosed as exc:
            msg = f"connection closed: {exc}"
            raise VenueUnavailable(msg) from exc
        return data if isinstance(data, str) else bytes(data)  # binary: the protocol decodes

    async def close(self) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            await self._ws.close()


async def websocket_connect(
    url: str, headers: Mapping[str, str] | None = None
) -> WebSocketConnection:
    """Open a WebSocket; library pings keep NAT and proxies awake, venues ping us too.
    ``headers`` go with the handshake (an API key)."""
    try:
        ws = await connect(
            url,
            additional_headers=dict(headers) if headers else None,
            max_size=MAX_FRAME_BYTES,
            open_timeout=10,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=2,
            max_queue=4096,
            proxy=None,
        )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        msg = f"cannot connect to {url}: {exc!r}"
        raise VenueUnavailable(msg) from exc
    return WebSocketConnection(ws)


class AiohttpGet:
    """HTTP GET over one shared aiohttp session, created on first use inside the loop."""

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        """``headers`` go with every request (an API key)."""
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"User-Agent": "goquant-bot", **(headers or {})}

    async def __call__(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        return await self._request("GET", url, params, timeout_s)

    async def post(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        """A POST without a body (KuCoin's public WebSocket token)."""
        return await self._request("POST", url, params, timeout_s)

    async def _request(
        self, method: str, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, raise_for_status=False)
        try:
            async with self._session.request(
                method, url, params=list(params), timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as resp:
                body = await resp.text(errors="replace")
                return HttpResponse(resp.status, body, dict(resp.headers))
        except (aiohttp.ClientError, TimeoutError) as exc:
            msg = f"{method} {url} failed: {exc!r}"
            raise VenueUnavailable(msg) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AiohttpGet:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
