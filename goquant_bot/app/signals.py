"""Wiring of the signal path: engines, registry, monitor service, signal loop; demo monitors.

The same path serves the running bot and ``replay --monitors`` (``build_signal_path``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from goquant_bot.domain.events import Event
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import INTERNAL_OWNER, ArbMonitor
from goquant_bot.engine.arb_records import ArbConfig, BookSource
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.engine.history import HistoryWriter, OpportunityStats
from goquant_bot.engine.market_view import MarketViewEngine, RoutedVenues
from goquant_bot.engine.quotes import ArbQuotes
from goquant_bot.engine.registry import MonitorRegistry, Subscriptions
from goquant_bot.engine.service import ChangeSource, SignalService
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.monitors.dispatch import Dispatcher
from goquant_bot.monitors.events import EngineSignals
from goquant_bot.monitors.records import MonitorRecord
from goquant_bot.monitors.service import MonitorLimits, MonitorService
from goquant_bot.settings import Settings

log = get_logger(__name__)
HISTORY_FILE = "opportunities.jsonl"


class SignalBooks(BookSource, Subscriptions, ChangeSource, Protocol):
    """What the signal path reads books from (the hub, or a replay's books)."""


@dataclass(slots=True)
class SignalPath:
    """Books -> engines -> events: everything that turns book changes into signals."""

    arbitrage: ArbitrageEngine
    market_view: MarketViewEngine
    quotes: ArbQuotes
    registry: MonitorRegistry
    monitors: MonitorService
    loop: SignalService


def build_signal_path(
    books: SignalBooks,
    listing: Callable[[Symbol], Sequence[Venue]],
    config: ArbConfig,
    events: Dispatcher,
    *,
    records: Iterable[MonitorRecord],
    limits: MonitorLimits,
    book_max_age_s: float,
    history: HistoryWriter,
    stats: OpportunityStats | None = None,
    exclude_routed: RoutedVenues = frozenset(),
    publish_signals: bool = True,
    clock: Callable[[], float] = time.time,
) -> SignalPath:
    """``publish_signals``: the loop's events go on to the dispatcher (False in a replay,
    which collects what the loop returns)."""
    arbitrage = ArbitrageEngine(books, config)
    market_view = MarketViewEngine(books, max_age_s=book_max_age_s, exclude_routed=exclude_routed)
    registry = MonitorRegistry(books, listing, arbitrage, market_view, clock=clock)
    monitors = MonitorService(registry, events, limits, records=records, clock=clock)

    def sink(found: Sequence[Event]) -> None:
        if publish_signals:
            events.publish(EngineSignals(tuple(found)))

    loop = SignalService(
        books,
        arbitrage,
        market_view,
        sink,
        stats=stats or OpportunityStats(),
        history=history,
        on_finished=monitors.finished,
        clock=clock,
    )
    return SignalPath(arbitrage, market_view, ArbQuotes(books, config), registry, monitors, loop)


def build_signals(
    settings: Settings,
    market: MarketDataService,
    events: Dispatcher,
    records: Iterable[MonitorRecord],
) -> SignalPath:
    hub, directory = market.hub, market.directory

    def routed(symbol: Symbol) -> frozenset[Venue]:
        """Venues whose book of ``symbol`` is another venue's liquidity (never counted twice)."""
        return frozenset(
            venue
            for venue in directory.venues_listing(symbol)
            if (listing := directory.instrument(venue, symbol)) and listing.routed_to
        )

    bot = settings.bot
    return build_signal_path(
        hub,
        directory.venues_listing,
        arb_config(settings),
        events,
        records=records,
        limits=MonitorLimits(bot.max_arb_per_user, bot.max_views_per_user, bot.max_monitors_total),
        book_max_age_s=settings.marketdata.book_max_age_s,
        history=HistoryWriter(settings.app.data_dir / HISTORY_FILE),
        exclude_routed=routed,
    )


def arb_config(settings: Settings) -> ArbConfig:
    """The arbitrage engine's settings: fees per venue, tiers, hysteresis, guards."""
    arb = settings.arbitrage
    return ArbConfig(
        fees_pct={venue: getattr(settings.venues, venue.value).taker_fee_pct for venue in Venue},
        size_tiers=arb.size_tiers,
        hysteresis=arb.hysteresis_pct / 100.0,
        sanity_cap_pct=arb.sanity_cap_pct,
        max_skew_s=arb.max_skew_s,
    )


def demo_monitors(
    settings: Settings, market: MarketDataService, registry: MonitorRegistry
) -> Callable[[], Coroutine[Any, Any, None]]:
    """In demo mode, watch the simulated dislocations with one arbitrage monitor per pair
    (the bot's own: they log, never send, and are no user's record). A pair on fewer than
    two enabled venues only has market views: arbitrage needs one venue to buy on and
    another to sell on."""

    async def run() -> None:
        await market.ready.wait()
        for symbol in market.watch:
            venues = tuple(market.directory.venues_listing(symbol))
            if len(venues) < 2:
                log.warning(
                    "demo_arbitrage_unavailable",
                    symbol=str(symbol),
                    venues=[v.value for v in venues],
                    reason="arbitrage needs two venues (buy on one, sell on the other); "
                    "market views (/view_market, /get_cbbo) work with one",
                )
                continue
            try:
                registry.add_arbitrage(
                    ArbMonitor(
                        id=f"demo:{symbol}",
                        owner=INTERNAL_OWNER,
                        symbols=(symbol,),
                        venues=venues,
                        min_edge_pct=settings.arbitrage.default_min_edge_pct,
                        notional=settings.arbitrage.default_notional,
                    )
                )
            except (RejectedInput, ValueError) as exc:
                log.warning("demo_monitor_skipped", symbol=str(symbol), reason=str(exc))

    return run
