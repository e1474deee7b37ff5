"""Wiring of the market-data side: feeds, hub, directory, service; capture recording."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.directory import SymbolDirectory
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.marketdata.incidents import VenueIncident
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.settings import MarketDataSettings, Settings, VenueSettings
from goquant_bot.supervisor import Backoff, Stage, TaskSpec
from goquant_bot.venues.base import Recorder
from goquant_bot.venues.capture import CaptureWriter
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.sim import SIMULATED_LABEL
from goquant_bot.venues.transport import HttpGet, WsConnector

log = get_logger(__name__)


def build_market_data(
    settings: Settings,
    connector: WsConnector,
    http: HttpGet,
    *,
    venues: Collection[Venue] | None = None,
    watch: Sequence[Symbol] | None = None,
    recorders: Mapping[Venue, Recorder] | None = None,
    demo: bool = False,
    on_incident: Callable[[VenueIncident], None] = lambda incident: None,
) -> tuple[MarketDataService, list[TaskSpec]]:
    """Feeds for the enabled venues (or ``venues``), the hub, the directory and the service.

    In demo mode the venues' own addresses are kept (the simulator answers them); the
    instruments cache is in the run's data directory (the demo has its own)."""
    md = settings.marketdata
    recorders = recorders or {}
    hub = MarketDataHub(
        HubConfig(book_max_age_s=md.book_max_age_s, unsubscribe_grace_s=md.unsubscribe_grace_s)
    )
    cache = settings.app.data_dir / "instruments"
    directory = SymbolDirectory(cache, md.instruments_ttl_s)
    specs: list[TaskSpec] = []
    rest_bases: dict[Venue, str | None] = {}
    enabled = {}
    for venue, spec in VENUES.items():
        venue_settings: VenueSettings = getattr(settings.venues, venue.value)
        if not (venue_settings.enabled if venues is None else venue in venues):
            continue
        enabled[venue] = spec
        rest_bases[venue] = None if demo else venue_settings.rest_url or None
        feed = VenueFeed(
            spec.protocol,
            directory.map_for(venue),
            _feed_config(md, venue_settings, demo=demo),
            connector=connector,
            http=http,
            on_change=hub.mark_changed,
            recorder=recorders.get(venue),
        )
        hub.add_feed(feed)
        specs.append(TaskSpec(f"feed:{venue.value}", feed.run, stage=Stage.FEEDS))
    service = MarketDataService(
        hub,
        directory,
        enabled,
        rest_bases,
        http,
        watch=[Symbol.parse(s) for s in md.watch] if watch is None else watch,
        recorders=recorders,
        label=SIMULATED_LABEL if demo else "",
        status_interval_s=10.0 if demo else 60.0,
        retry=Backoff(initial_s=md.reconnect_initial_s, max_s=md.reconnect_max_s, jitter=0.3),
        down_notice_s=md.venue_down_notice_s,
        timeout_s=md.rest_timeout_s,
        on_incident=on_incident,
    )
    specs.append(TaskSpec("marketdata", service.run, stage=Stage.FEEDS))
    return service, specs


def open_captures(
    out_dir: Path, venues: Sequence[Venue], config: Mapping[str, object], *, compress: bool
) -> dict[Venue, CaptureWriter]:
    """One capture file per venue in ``out_dir`` (``<venue>.jsonl``, or ``.jsonl.zst``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl.zst" if compress else ".jsonl"
    return {
        venue: CaptureWriter(
            out_dir / f"{venue.value}{suffix}", exchange=venue.value.upper(), config=config
        )
        for venue in venues
    }


async def record_market_data(
    settings: Settings,
    writers: Mapping[Venue, CaptureWriter],
    symbols: Sequence[Symbol],
    duration_s: float,
    *,
    connector: WsConnector | None = None,
    http: HttpGet | None = None,
) -> None:
    """Stream ``symbols`` from the venues of ``writers`` for ``duration_s`` and capture every
    frame and REST answer (the capture format that replay reads). Closes the writers."""
    session: AiohttpGet | None = None
    if http is None:
        session = http = AiohttpGet()
    try:
        _, specs = build_market_data(
            settings,
            connector or websocket_connect,
            http,
            venues=list(writers),
            watch=symbols,
            recorders=writers,
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration_s), asyncio.TaskGroup() as tg:
                for spec in specs:
                    tg.create_task(spec.run(), name=spec.name)
    finally:
        for venue, writer in writers.items():
            writer.close()
            log.info(
                "capture_written", venue=venue.value, path=str(writer.path), records=writer.records
            )
        if session is not None:
            await session.close()


def _feed_config(md: MarketDataSettings, venue: VenueSettings, *, demo: bool = False) -> FeedConfig:
    return FeedConfig(
        depth=md.book_depth,
        silence_s=md.watchdog_silence_s,
        max_connection_age_s=venue.max_connection_age_s or None,
        poll_after_failures=md.poll_after_failures,
        poll_interval_s=md.poll_interval_s,
        rest_weight_per_minute=venue.rest_weight_per_minute,
        rest_timeout_s=md.rest_timeout_s,
        reconnect=Backoff(
            initial_s=md.reconnect_initial_s, factor=2.0, max_s=md.reconnect_max_s, jitter=0.3
        ),
        ws_base=None if demo else venue.ws_url or None,
        rest_base=None if demo else venue.rest_url or None,
    )


def closing(session: AiohttpGet) -> Callable[[], Coroutine[Any, Any, None]]:
    """A task that closes the shared HTTP session when it is stopped."""

    async def run() -> None:
        try:
            await asyncio.Future()
        finally:
            await session.close()

    return run
