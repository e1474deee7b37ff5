"""From a parsed request to the monitor service: building monitors, starting, changing, stopping."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from goquant_bot.bot.context import Deps
from goquant_bot.bot.parsing import ArbRequest, InputError, ViewRequest
from goquant_bot.bot.types import Caller
from goquant_bot.domain.book import INTEGRITY_MARKS, Integrity
from goquant_bot.domain.instruments import Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
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
log = get_logger(__name__)


def check_limits(ctx: Deps, user_id: int, kind: MonitorKind, adding: int = 1) -> None:
    ctx.monitors.check_limits(user_id, kind, adding)


def below_tier(
    ctx: Deps, venues: Sequence[Venue], tier: Integrity
) -> list[tuple[Venue, Integrity]]:
    """The venues whose books (by what their feed checks) are weaker than ``tier``."""
    tiers = {h.venue: h.integrity for h in ctx.hub.health()}
    return [(v, tiers[v]) for v in venues if v in tiers and not tiers[v].meets(tier)]


def check_tier(
    ctx: Deps, venues: Sequence[Venue], tier: Integrity, needed: int, example: str
) -> str:
    """Refuse a monitor left with fewer than ``needed`` venues whose books meet its tier;
    otherwise a note naming the venues it will not use (empty when there is none)."""
    weaker = below_tier(ctx, venues, tier)
    if not weaker:
        return ""
    names = ", ".join(f"{v.value}{INTEGRITY_MARKS[t][0]} ({t.value})" for v, t in weaker)
    unverified = any(t is Integrity.UNVERIFIED for _, t in weaker)
    weakest = Integrity.UNVERIFIED if unverified else Integrity.SNAPSHOT
    if len(venues) - len(weaker) < needed:
        msg = (
            f"The books of {names} are below integrity={tier.value}, so this monitor could "
            f"never use them. Add integrity={weakest.value} to accept them, or choose other "
            "exchanges."
        )
        raise InputError(msg, example)
    return f"Not used at integrity={tier.value}: {names} (integrity={weakest.value} would)."


def chat_fees(ctx: Deps, chat_id: int, venues: Sequence[Venue]) -> tuple[tuple[Venue, float], ...]:
    """The chat's own taker fees (/config fee) on these venues."""
    names = {v.value for v in venues}
    return tuple((Venue(v), fee) for v, fee in ctx.store.prefs(chat_id).fees_pct if v in names)


def chat_size(ctx: Deps, chat_id: int) -> float:
    """The chat's default trade size (/config size), or the bot's."""
    return ctx.store.prefs(chat_id).default_notional or ctx.config.default_notional


def arb_follows(req: ArbRequest) -> frozenset[str]:
    """What a new monitor takes from its chat's defaults: the fees, and the size unless given."""
    return frozenset({"fees"} if req.size_given else {"fees", "size"})


def apply_defaults(ctx: Deps, chat_id: int) -> int:
    """The chat's defaults changed: monitors that follow them change too; how many did."""
    changed = 0
    for record in ctx.monitors.of(chat_id=chat_id, kind=MonitorKind.ARB):
        monitor = record.monitor
        if not record.follows or not isinstance(monitor, ArbMonitor):
            continue
        updated = monitor
        if "size" in record.follows:
            updated = dataclasses.replace(updated, notional=chat_size(ctx, chat_id))
        if "fees" in record.follows:
            updated = dataclasses.replace(updated, fees_pct=chat_fees(ctx, chat_id, monitor.venues))
        if updated == monitor:
            continue
        try:
            ctx.monitors.change(record, updated)
        except RejectedInput as exc:  # e.g. a venue's listing is gone: it keeps its values
            log.warning("monitor_defaults_not_applied", monitor=record.id, error=str(exc))
            continue
        changed += 1
    return changed


def arb_monitor(ctx: Deps, caller: Caller, req: ArbRequest, monitor_id: str) -> ArbMonitor:
    fees = chat_fees(ctx, caller.chat_id, req.venues)
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
        quotes=req.quotes,
        min_integrity=req.min_integrity,
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
        min_integrity=req.min_integrity,
    )


def start(
    ctx: Deps, monitor: Monitor, user_id: int, follows: frozenset[str] = frozenset()
) -> MonitorRecord:
    """Run and keep a new monitor (raises RejectedInput when it cannot work)."""
    return ctx.monitors.add(monitor, user_id, follows=follows)


def stop(ctx: Deps, record: MonitorRecord) -> None:
    ctx.monitors.remove(record.id)


def replace(
    ctx: Deps, record: MonitorRecord, monitor: Monitor, *, own: Sequence[str] = ()
) -> MonitorRecord:
    """Change a monitor in place (same id); the old one keeps running on failure. ``own``:
    settings given now, which stop following the chat's defaults."""
    follows = record.follows - set(own) if own else None
    return ctx.monitors.change(record, monitor, follows=follows)
