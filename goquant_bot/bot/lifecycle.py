"""From a parsed request to the monitor service: building monitors, starting, changing, stopping."""

from __future__ import annotations

from goquant_bot.bot.context import Deps
from goquant_bot.bot.parsing import ArbRequest, ViewRequest
from goquant_bot.bot.types import Caller
from goquant_bot.domain.instruments import Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.monitors.records import MonitorKind, MonitorRecord
from goquant_bot.monitors.service import LimitReached

__all__ = [
    "LimitReached",
    "arb_monitor",
    "check_limits",
    "replace",
    "start",
    "stop",
    "view_monitor",
]
Monitor = ArbMonitor | MarketViewMonitor


def check_limits(ctx: Deps, user_id: int, kind: MonitorKind, adding: int = 1) -> None:
    ctx.monitors.check_limits(user_id, kind, adding)


def arb_monitor(ctx: Deps, caller: Caller, req: ArbRequest, monitor_id: str) -> ArbMonitor:
    prefs = ctx.store.prefs(caller.chat_id)
    names = {v.value for v in req.venues}
    fees = tuple((Venue(v), fee) for v, fee in prefs.fees_pct if v in names)
    return ArbMonitor(
        id=monitor_id,
        owner=caller.chat_id,
        symbols=req.symbols,
        venues=req.venues,
        min_edge_pct=req.threshold_pct,
        min_profit=req.min_profit,
        notional=req.notional,
        fees_pct=fees,
        min_duration_s=req.min_duration_s,
        allow_polled=req.allow_polled,
        policy=FiringPolicy.ONCE if req.once else FiringPolicy.EACH,
    )


def view_monitor(
    caller: Caller, req: ViewRequest, monitor_id: str, alert_cooldown_s: float = 300.0
) -> MarketViewMonitor:
    return MarketViewMonitor(
        id=monitor_id,
        owner=caller.chat_id,
        symbol=req.symbol,
        venues=req.venues,
        best_venue_change=True,
        mid_move_pct=req.mid_move_pct,
        spread_above_bps=req.spread_above_bps,
        venue_deviation_bps=req.venue_deviation_bps,
        cooldown_s=req.throttle_s,
        crossed_min_bps=req.crossed_min_bps,
        crossed_min_s=req.crossed_min_s,
        alert_cooldown_s=alert_cooldown_s,
    )


def start(ctx: Deps, monitor: Monitor, user_id: int) -> MonitorRecord:
    """Run and keep a new monitor (raises RejectedInput when it cannot work)."""
    return ctx.monitors.add(monitor, user_id)


def stop(ctx: Deps, record: MonitorRecord) -> None:
    ctx.monitors.remove(record.id)


def replace(ctx: Deps, record: MonitorRecord, monitor: Monitor) -> MonitorRecord:
    """Change a monitor in place (same id); the old one keeps running on failure."""
    return ctx.monitors.change(record, monitor)
