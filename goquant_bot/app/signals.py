"""Wiring of the signal side: engines, registry, signal loop; demo monitors."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import INTERNAL_OWNER, ArbMonitor
from goquant_bot.engine.arbitrage import ArbConfig, ArbitrageEngine
from goquant_bot.engine.history import HistoryWriter, OpportunityStats
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.engine.service import SignalService, log_events
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.marketdata.service import MarketDataService
from goquant_bot.settings import Settings

log = get_logger(__name__)
HISTORY_FILE = "opportunities.jsonl"


def build_signals(
    settings: Settings, market: MarketDataService
) -> tuple[SignalService, MonitorRegistry]:
    hub, directory = market.hub, market.directory

    def routed(symbol: Symbol) -> frozenset[Venue]:
        """Venues whose book of ``symbol`` is another venue's liquidity (never counted twice)."""
        return frozenset(
            venue
            for venue in directory.venues_listing(symbol)
            if (listing := directory.instrument(venue, symbol)) and listing.routed_to
        )

    arbitrage = ArbitrageEngine(hub, arb_config(settings))
    market_view = MarketViewEngine(
        hub, max_age_s=settings.marketdata.book_max_age_s, exclude_routed=routed
    )
    registry = MonitorRegistry(hub, directory.venues_listing, arbitrage, market_view)
    signals = SignalService(
        hub,
        arbitrage,
        market_view,
        log_events,
        stats=OpportunityStats(),
        history=HistoryWriter(settings.app.data_dir / HISTORY_FILE),
        on_finished=registry.finished,
    )
    return signals, registry


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
    (the bot's own: they log, never send). A pair on fewer than two enabled venues only has
    market views: arbitrage needs one venue to buy on and another to sell on."""

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
