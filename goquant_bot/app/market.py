"""Wiring of the market-data side: feeds, hub, directory, service; capture recording."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from goquant_bot.domain.ccxt_venues import CCXT_ONLY
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.directory import SymbolDirectory
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.marketdata.incidents import VenueIncident
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.settings import Settings
from goquant_bot.settings_sections import GoMarketSettings, MarketDataSettings, VenueSettings
from goquant_bot.supervisor import Backoff, Stage, TaskSpec
from goquant_bot.venues import ccxt_markets, gomarket
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.capture import CaptureWriter
from goquant_bot.venues.ccxt_books import GuardConfig
from goquant_bot.venues.ccxt_feed import CcxtFeed
from goquant_bot.venues.ccxt_net import CcxtMarketsHttp
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.gomarket_format import API_KEY_HEADER, CAPTURE_EXCHANGE, DEFAULT_BASE
from goquant_bot.venues.gomarket_net import BackoffHttp, BudgetedConnector
from goquant_bot.venues.net import AiohttpGet, websocket_connect
from goquant_bot.venues.records import Recorder
from goquant_bot.venues.registry import VENUES, VenueSpec
from goquant_bot.venues.sim import SIMULATED_LABEL
from goquant_bot.venues.transport import HttpGet, HttpResponse, WsConnection, WsConnector

log = get_logger(__name__)
Source = Literal["native", "gomarket", "ccxt"]


def venue_sources(settings: Settings) -> dict[Venue, Source]:
    """How each enabled venue is read: natively, through GoMarket or through ccxt (never two
    ways). A venue with no native protocol is read through ccxt when its settings say so
    (settings refuse a venue ccxt cannot read), else through GoMarket when it is enabled."""
    sources: dict[Venue, Source] = {}
    for venue in Venue:
        venue_settings: VenueSettings = getattr(settings.venues, venue.value)
        if not venue_settings.enabled:
            continue
        if venue_settings.source == "native" and venue in VENUES:
            sources[venue] = "native"
        elif venue_settings.source == "ccxt":
            sources[venue] = "ccxt"
        elif settings.gomarket.enabled:
            sources[venue] = "gomarket"
    return sources


def read_venues(settings: Settings) -> tuple[Venue, ...]:
    """The venues whose books are read (natively, through GoMarket or ccxt), in enum order;
    the demo reads no venue through ccxt (the simulator speaks the venues' own protocols)."""
    sources = venue_sources(settings)
    return tuple(v for v, s in sources.items() if not (settings.app.demo and s == "ccxt"))


def _tell_unread(settings: Settings, sources: Mapping[Venue, Source]) -> None:
    """An enabled venue that cannot be read says why (its settings chose what is missing)."""
    for venue in Venue:
        venue_settings: VenueSettings = getattr(settings.venues, venue.value)
        if venue_settings.enabled and venue not in sources and venue in VENUES:
            log.warning("venue_not_read", venue=venue.value, reason="[gomarket] is disabled")
        elif venue_settings.enabled and venue_settings.source == "native" and venue not in VENUES:
            how = "read through GoMarket" if venue in sources else "not read ([gomarket] is off)"
            log.warning("venue_has_no_native_feed", venue=venue.value, outcome=how)


def record_sources(
    settings: Settings, venues: Collection[Venue]
) -> tuple[dict[Venue, Source], dict[Venue, str]]:
    """How each of ``venues`` is read for a recording, enabled or not (its ``source``; a
    venue with no native feed through GoMarket), and why the others cannot be read (GoMarket
    off, or read through ccxt)."""
    chosen: dict[Venue, Source] = {}
    refused: dict[Venue, str] = {}
    gomarket_on = settings.gomarket.enabled
    for venue in venues:
        wanted = getattr(settings.venues, venue.value).source
        if wanted == "ccxt" or venue in CCXT_ONLY:
            refused[venue] = "it is read through ccxt, whose own traffic cannot be recorded"
        elif venue not in VENUES or wanted == "gomarket":
            if gomarket_on:
                chosen[venue] = "gomarket"
            elif venue not in VENUES:
                refused[venue] = "it has no native feed and [gomarket] is disabled"
            else:
                refused[venue] = (
                    f'[venues.{venue.value}] source = "gomarket" but [gomarket] is disabled'
                )
        else:
            chosen[venue] = "native"
    return chosen, refused


def gomarket_spec(venue: Venue, max_lag_s: float = 10.0) -> VenueSpec:
    """A venue read through GoMarket, as the driver and the directory see it."""
    return VenueSpec(
        venue,
        gomarket.protocol_for(venue, max_lag_s),
        functools.partial(gomarket.instruments_request, venue),
        functools.partial(gomarket.parse_instruments, venue),
    )


def ccxt_venue_feed(
    settings: Settings, venue: Venue, symbols: SymbolMap, hub: MarketDataHub
) -> CcxtFeed:
    """A venue read through ccxt, behind the guards of [ccxt]; its books go to ``hub``."""
    cx = settings.ccxt
    venue_settings: VenueSettings = getattr(settings.venues, venue.value)
    feed = CcxtFeed(
        venue,
        symbols,
        _feed_config(settings.marketdata, venue_settings),
        GuardConfig(
            max_lag_s=cx.max_message_lag_s,
            silence_s=cx.silence_s,
            crosscheck_interval_s=cx.crosscheck_interval_s,
            tolerance_bps=cx.crosscheck_tolerance_bps,
        ),
        on_change=hub.mark_changed,
        rest_per_minute=cx.rest_requests_per_minute,
    )
    hub.add_feed(feed)
    return feed


def ccxt_spec(venue: Venue, feed: CcxtFeed) -> VenueSpec:
    """A venue read through ccxt, as the directory sees it (its markets come from ccxt)."""
    return VenueSpec(
        venue,
        feed.protocol_cls,
        functools.partial(ccxt_markets.instruments_request, venue),
        functools.partial(ccxt_markets.parse_instruments, venue),
    )


def gomarket_transport(
    gm: GoMarketSettings, connector: WsConnector, http: HttpGet | None, *, real: bool
) -> tuple[BudgetedConnector, BackoffHttp, AiohttpGet | None]:
    """GoMarket's connector and HTTP, within its limits; with the real network, its key
    goes as a header on both (the session returned must be closed by the caller)."""
    session = None
    headers = {API_KEY_HEADER: gm.api_key.get_secret_value()} if gm.api_key else {}
    if real:
        session = AiohttpGet(headers)

        async def keyed(url: str) -> WsConnection:
            return await websocket_connect(url, headers)

        connector = keyed
    ws = BudgetedConnector(connector, gm.ws_connections)
    rest = BackoffHttp(
        session or http or AiohttpGet(headers),
        initial_s=gm.backoff_initial_s,
        max_s=gm.backoff_max_s,
    )
    return ws, rest, session


class _RoutedHttp:
    """GoMarket addresses through GoMarket's HTTP, the rest through the venues' own."""

    def __init__(self, plain: HttpGet, gomarket_http: HttpGet, prefix: str) -> None:
        self._plain, self._gomarket, self._prefix = plain, gomarket_http, prefix

    async def __call__(
        self, url: str, params: tuple[tuple[str, str], ...], timeout_s: float
    ) -> HttpResponse:
        via = self._gomarket if url.startswith(self._prefix) else self._plain
        return await via(url, params, timeout_s)


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
    real_network: bool = False,
) -> tuple[MarketDataService, list[TaskSpec]]:
    """Feeds for the enabled venues (or ``venues``), the hub, the directory and the service.

    In demo mode the venues' own addresses are kept (the simulator answers them); the
    instruments cache is in the run's data directory (the demo has its own). Venues read
    through GoMarket share its limits; ``real_network``: GoMarket's own sessions carry its
    key (tests and the simulator pass their own connector and HTTP)."""
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
    sources = venue_sources(settings) if venues is None else record_sources(settings, venues)[0]
    gm = settings.gomarket
    if venues is None:
        _tell_unread(settings, sources)
    via_gomarket = [v for v, source in sources.items() if source == "gomarket"]
    gm_ws: WsConnector = connector
    gm_http: HttpGet = http
    if via_gomarket:
        gm_ws, gm_http, session = gomarket_transport(gm, connector, http, real=real_network)
        if session is not None:
            specs.append(TaskSpec("http:gomarket", closing(session), stage=Stage.FEEDS))
        log.info("gomarket_venues", venues=[v.value for v in via_gomarket], url=gm.base_url)
    ccxt_feeds: list[CcxtFeed] = []
    for venue, source in sources.items():
        venue_settings: VenueSettings = getattr(settings.venues, venue.value)
        if source == "ccxt":
            if demo:  # the simulator speaks the venues' own protocols, not ccxt's
                log.warning("ccxt_venue_not_simulated", venue=venue.value)
                continue
            if venue in recorders:
                log.warning("ccxt_venue_not_captured", venue=venue.value)
            ccxt_feed = ccxt_venue_feed(settings, venue, directory.map_for(venue), hub)
            ccxt_feeds.append(ccxt_feed)
            enabled[venue] = ccxt_spec(venue, ccxt_feed)
            rest_bases[venue] = None
            specs.append(TaskSpec(f"feed:{venue.value}", ccxt_feed.run, stage=Stage.FEEDS))
            continue
        if source == "gomarket":
            spec = gomarket_spec(venue, gm.max_message_lag_s)
            rest_bases[venue] = None if demo else gm.base_url
            config = _gomarket_config(md, gm, len(via_gomarket), demo=demo)
        else:
            spec = VENUES[venue]
            rest_bases[venue] = None if demo else venue_settings.rest_url or None
            config = _feed_config(md, venue_settings, demo=demo)
        enabled[venue] = spec
        feed = VenueFeed(
            spec.protocol,
            directory.map_for(venue),
            config,
            connector=gm_ws if source == "gomarket" else connector,
            http=gm_http if source == "gomarket" else http,
            on_change=hub.mark_changed,
            recorder=recorders.get(venue),
        )
        hub.add_feed(feed)
        specs.append(TaskSpec(f"feed:{venue.value}", feed.run, stage=Stage.FEEDS))
    service_http: HttpGet = (
        _RoutedHttp(http, gm_http, gm.base_url if not demo else DEFAULT_BASE)
        if via_gomarket
        else http
    )
    if ccxt_feeds:
        service_http = CcxtMarketsHttp(service_http, ccxt_feeds)
        log.info("ccxt_venues", venues=[feed.venue.value for feed in ccxt_feeds])
    service = MarketDataService(
        hub,
        directory,
        enabled,
        rest_bases,
        service_http,
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
    out_dir: Path,
    venues: Sequence[Venue],
    config: Mapping[str, object],
    *,
    compress: bool,
    gomarket: Collection[Venue] = (),
) -> dict[Venue, CaptureWriter]:
    """One capture file per venue in ``out_dir``: ``<venue>.jsonl`` (or ``.jsonl.zst``);
    a venue in ``gomarket`` is read through GoMarket: ``<venue>.gomarket.jsonl``, whose
    header says ``"exchange": "GOMARKET"`` and names the venue beside it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl.zst" if compress else ".jsonl"
    writers = {}
    for venue in venues:
        if venue in gomarket:
            path = out_dir / f"{venue.value}.gomarket{suffix}"
            writers[venue] = CaptureWriter(
                path, exchange=CAPTURE_EXCHANGE, venue=venue.value, config=config
            )
        else:
            path = out_dir / f"{venue.value}{suffix}"
            writers[venue] = CaptureWriter(path, exchange=venue.value.upper(), config=config)
    return writers


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
            real_network=connector is None,  # GoMarket's own sessions carry its key
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


def _gomarket_config(
    md: MarketDataSettings, gm: GoMarketSettings, venues: int, *, demo: bool
) -> FeedConfig:
    """GoMarket's request budget is per key: each venue read through it gets its share."""
    return FeedConfig(
        depth=md.book_depth,
        silence_s=md.watchdog_silence_s,
        poll_after_failures=md.poll_after_failures,
        poll_interval_s=md.poll_interval_s,
        rest_weight_per_minute=max(1, gm.requests_per_minute // max(venues, 1)),
        rest_timeout_s=md.rest_timeout_s,
        reconnect=Backoff(
            initial_s=md.reconnect_initial_s, factor=2.0, max_s=md.reconnect_max_s, jitter=0.3
        ),
        ws_base=None if demo else gm.ws_base,
        rest_base=None if demo else gm.base_url,
    )


def closing(session: AiohttpGet) -> Callable[[], Coroutine[Any, Any, None]]:
    """A task that closes the shared HTTP session when it is stopped."""

    async def run() -> None:
        try:
            await asyncio.Future()
        finally:
            await session.close()

    return run
