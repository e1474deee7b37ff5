"""The I/O seams of the driver: a WebSocket connector and an HTTP GET.

The real implementations use ``websockets`` and ``aiohttp``; the demo simulator and tests
provide their own. Library exceptions are translated here: every failure of a connection
surfaces as ``VenueUnavailable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: str
    headers: Mapping[str, str]


class WsConnection(Protocol):
    async def send(self, text: str) -> None:
        """Send one text frame; raise VenueUnavailable when the connection is gone."""

    async def recv(self) -> str | bytes:
        """The next frame (a text frame as str, a binary one as bytes); raise
        VenueUnavailable when the connection is gone."""

    async def close(self) -> None:
        """Close; never raises."""


class WsConnector(Protocol):
    async def __call__(self, url: str) -> WsConnection:
        """Open a connection; raise VenueUnavailable when it cannot be established."""


class HttpGet(Protocol):
    async def __call__(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        """GET; raise VenueUnavailable on a transport failure (any HTTP status is returned)."""


class HttpPost(Protocol):
    async def post(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        """POST without a body; raise VenueUnavailable on a transport failure."""
