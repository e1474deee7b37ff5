"""One connection of a venue feed: a protocol paired with a WebSocket, reconnecting until stopped."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from typing import TYPE_CHECKING

from goquant_bot.domain.instruments import Symbol
from goquant_bot.errors import VenueUnavailable
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import VenueProtocol
from goquant_bot.venues.records import RestRequest
from goquant_bot.venues.transport import WsConnection

if TYPE_CHECKING:
    from goquant_bot.venues.feed import VenueFeed

log = get_logger(__name__)
PLANNED = "planned reconnect"


class _Closed:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class FeedConnection:
    """One WebSocket connection and its protocol, reconnecting until stopped."""

    def __init__(self, feed: VenueFeed, proto: VenueProtocol) -> None:
        self.feed = feed
        self.proto = proto
        self.connected = False
        self.polling = False
        self.connected_since: float | None = None
        self.disconnects = 0
        self._queue: asyncio.Queue[tuple[str, float] | _Closed | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._poller: asyncio.Task[None] | None = None
        self._rest_in_flight: set[tuple[str, Symbol | None]] = set()
        # Drained from the protocol, not yet sent / requested.
        self._sends: deque[str] = deque()
        self._requests: list[RestRequest] = []
        self._conn_id = 0

    def has_room(self) -> bool:
        return self.proto.load() < self.proto.max_symbols_per_connection

    def wake(self) -> None:
        self._queue.put_nowait(None)

    def start(self, tg: asyncio.TaskGroup) -> None:
        name = f"feed:{self.feed.venue.value}:{len(self.feed.connections)}"
        self._task = tg.create_task(self.run(), name=name)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            try:
                await self._connect_loop()
            finally:
                self._tg = None

    async def _connect_loop(self) -> None:
        feed, cfg = self.feed, self.feed.config
        failures = 0
        while True:
            try:
                url = await self._address()
                ws = await feed.connector(url)
            except VenueUnavailable as exc:
                failures += 1
                log.warning(
                    "ws_connect_failed", venue=feed.venue.value, failures=failures, error=str(exc)
                )
                if failures >= cfg.poll_after_failures:
                    self._start_polling()
                await feed.sleep(cfg.reconnect.delay(failures - 1, feed.rand))
                continue
            self._stop_polling()
            started = feed.clock()
            reason = await self._session(ws, url)
            stable = feed.clock() - started >= cfg.stable_after_s
            failures = 0 if (stable or reason == PLANNED) else failures + 1
            if reason != PLANNED:
                self.disconnects += 1
                log.warning("ws_disconnected", venue=feed.venue.value, reason=reason)
                await feed.sleep(cfg.reconnect.delay(max(failures - 1, 0), feed.rand))

    async def _address(self) -> str:
        """The address to connect to, after the REST call the venue asks for first, if any."""
        request, status = self.proto.connect_request(), 0
        if request is not None:
            status, body = await self.feed.rest.fetch(request, self._conn_id)
            self.proto.on_rest(request, status, body, self.feed.clock())
        url = self.proto.ws_url()
        if not url:
            msg = f"no WebSocket address: {request.url if request else 'none'} answered {status}"
            raise VenueUnavailable(msg)
        return url

    async def _session(self, ws: WsConnection, url: str) -> str:
        feed = self.feed
        now = feed.clock()
        self._conn_id = feed.next_conn_id()
        if feed.recorder is not None:
            feed.recorder.connect(self._conn_id, url, now)
        self._queue = asyncio.Queue()
        self.connected, self.connected_since = True, now
        log.info("ws_connected", venue=feed.venue.value, url=url, symbols=len(self.proto.books))
        self.proto.on_open(now)
        try:
            async with asyncio.TaskGroup() as tg:
                reader = tg.create_task(self._read(ws), name=f"ws-reader:{feed.venue.value}")
                try:
                    return await self._pump(ws)
                finally:
                    reader.cancel()
        finally:
            self.connected, self.connected_since = False, None
            self.proto.on_close(feed.clock())
            self.take()
            self._sends.clear()  # frames for the closed socket mean nothing on the next one
            await ws.close()

    async def _read(self, ws: WsConnection) -> None:
        clock, put, recorder = self.feed.clock, self._queue.put_nowait, self.feed.recorder
        try:
            while True:
                data = await ws.recv()
                now = clock()
                # Binary frames are the protocol's to decode (HTX gzips every frame, MEXC sends
                # protobuf); the recorder and the protocol see the text.
                text = data if isinstance(data, str) else self.proto.decode_binary(data)
                if text is None:
                    continue
                if recorder is not None:
                    recorder.recv(self._conn_id, text, now)
                put((text, now))
        except VenueUnavailable as exc:
            put(_Closed(str(exc)))

    async def _pump(self, ws: WsConnection) -> str:
        feed, proto, cfg, queue = self.feed, self.proto, self.feed.config, self._queue
        start = last_recv = feed.clock()
        planned_at = start + cfg.max_connection_age_s if cfg.max_connection_age_s else math.inf
        next_timer = start + proto.timer_interval_s
        send_gap = 1.0 / proto.max_sends_per_second
        probe_after = cfg.silence_s / 2
        probed = False
        next_send = start
        sends = self._sends
        while True:
            self._dispatch()
            now = feed.clock()
            while sends and now >= next_send:
                text = sends.popleft()
                try:
                    await ws.send(text)
                except VenueUnavailable as exc:
                    return str(exc)
                if feed.recorder is not None:
                    feed.recorder.send(self._conn_id, text, now)
                next_send = max(now, next_send) + send_gap
            wait = min(last_recv + cfg.silence_s, next_timer, planned_at)
            if not probed:
                wait = min(wait, last_recv + probe_after)
            if sends:
                wait = min(wait, next_send)
            try:
                async with asyncio.timeout(max(0.0, wait - now)):
                    item = await queue.get()
            except TimeoutError:
                item = None
            while item is not None:
                if isinstance(item, _Closed):
                    return item.reason
                text, last_recv = item
                probed = False
                proto.stats.frames += 1
                proto.on_frame(text, last_recv)
                item = queue.get_nowait() if not queue.empty() else None
            now = feed.clock()
            if now - last_recv >= cfg.silence_s:
                return f"silent for {cfg.silence_s:g} s (watchdog)"
            if now >= planned_at:
                return PLANNED
            if not probed and now - last_recv >= probe_after:
                proto.probe(now)  # quiet: ask for an answer before the watchdog gives up
                probed = True
            if now >= next_timer:
                proto.on_timer(now)
                next_timer = now + proto.timer_interval_s

    def take(self) -> None:
        """Drain the protocol: frames to the send queue, REST requests to perform, changed
        symbols to the hub at once."""
        produced = self.proto.drain()
        if not produced:
            return
        if produced.frames:
            self._sends.extend(produced.frames)
        if produced.requests:
            self._requests.extend(produced.requests)
        if produced.changed:
            self.feed.on_change(self.feed.venue, produced.changed)
        if produced.trades:
            self.feed.on_trades(produced.trades)

    def _dispatch(self) -> None:
        """Take what the protocol produced and start its REST requests."""
        self.take()
        if self._requests and self._tg is not None:
            requests, self._requests = self._requests, []
            for request in requests:
                self._spawn_rest(request)

    def _spawn_rest(self, request: RestRequest) -> None:
        key = (request.purpose, request.symbol)
        if key in self._rest_in_flight or self._tg is None:
            return
        self._rest_in_flight.add(key)
        self._tg.create_task(self._rest(request, key), name=f"rest:{self.feed.venue.value}")

    async def _rest(self, request: RestRequest, key: tuple[str, Symbol | None]) -> None:
        try:
            status, body = await self.feed.rest.fetch(request, self._conn_id)
        finally:
            self._rest_in_flight.discard(key)
        self.proto.on_rest(request, status, body, self.feed.clock())
        self.take()
        self.wake()  # the protocol may want to send or request more

    def _start_polling(self) -> None:
        if self._poller is None and self._tg is not None:
            self.polling = True
            log.warning("rest_polling_started", venue=self.feed.venue.value)
            self._poller = self._tg.create_task(self._poll(), name=f"poll:{self.feed.venue.value}")

    def _stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
            self.polling = False
            log.info("rest_polling_stopped", venue=self.feed.venue.value)

    async def _poll(self) -> None:
        feed = self.feed
        while True:
            for symbol in list(self.proto.books):
                request = self.proto.poll_request(symbol)
                if request is None:
                    continue
                status, body = await feed.rest.fetch(request, self._conn_id)
                self.proto.on_rest(request, status, body, feed.clock())
                self.take()
            await feed.sleep(feed.config.poll_interval_s)
