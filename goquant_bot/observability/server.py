"""/healthz, /readyz and /metrics on a small aiohttp server (localhost by default)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from goquant_bot.logging import get_logger

log = get_logger(__name__)
Readiness = Callable[[], tuple[bool, dict[str, Any]]]


class HealthServer:
    def __init__(
        self, host: str, port: int, *, readiness: Readiness, registry: CollectorRegistry
    ) -> None:
        self.host = host
        self.port = port
        self.readiness = readiness
        self.registry = registry
        self.bound_port: int | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        ready, details = self.readiness()
        return web.json_response({"ready": ready, **details}, status=200 if ready else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def run(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                # The bot runs on without its endpoints rather than not at all.
                log.error("health_server_failed", host=self.host, port=self.port, error=str(exc))
                return
            sockets = getattr(site._server, "sockets", None) or ()
            self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
            log.info("health_server_started", host=self.host, port=self.bound_port)
            await asyncio.Future()
        finally:
            await runner.cleanup()
