"""A monitor record: a monitor's definition plus who created it and whether it runs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, Integrity
from goquant_bot.domain.monitors import ArbMonitor, MarketViewMonitor

Monitor = ArbMonitor | MarketViewMonitor


class MonitorKind(StrEnum):
    ARB = "arb"
    VIEW = "view"


@dataclass(frozen=True, slots=True)
class MonitorRecord:
    """One monitor a user created. Immutable: a change is a new record with the same id."""

    id: str
    kind: MonitorKind
    chat_id: int  # the chat that receives the alerts (the monitor's owner)
    user_id: int  # who created it: counts against their limit, may change it
    created: float
    monitor: ArbMonitor | MarketViewMonitor
    paused: bool = False  # paused by its user (/pause): kept, not running
    chat_blocked: bool = False  # its chat blocked the bot: kept, not running until /start
    # Settings taken from its chat's defaults (/config): "size", "fees". They change with
    # the defaults; the others are its own.
    follows: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        monitor: ArbMonitor | MarketViewMonitor,
        user_id: int,
        now: float,
        follows: frozenset[str] = frozenset(),
    ) -> MonitorRecord:
        kind = MonitorKind.ARB if isinstance(monitor, ArbMonitor) else MonitorKind.VIEW
        return cls(monitor.id, kind, monitor.owner, user_id, now, monitor, follows=follows)

    @property
    def runs(self) -> bool:
        """Whether it should be running (neither paused nor held by a blocked chat)."""
        return not (self.paused or self.chat_blocked)

    @property
    def spec(self) -> dict[str, Any]:
        """Its definition in the schema's dict form."""
        return monitor_to_dict(self.monitor)

    @property
    def subject(self) -> str:
        """The symbol(s) watched, for buttons and short messages."""
        monitor = self.monitor
        symbols = monitor.symbols if isinstance(monitor, ArbMonitor) else (monitor.symbol,)
        return ", ".join(str(s) for s in symbols)

    def to_monitor(self) -> ArbMonitor | MarketViewMonitor:
        return self.monitor


def monitor_to_dict(monitor: Monitor) -> dict[str, Any]:
    """A monitor's definition in the schema's form."""
    if isinstance(monitor, ArbMonitor):
        return {
            "id": monitor.id,
            "kind": "arbitrage",
            "owner": monitor.owner,
            "symbols": [str(s) for s in monitor.symbols],
            "venues": [v.value for v in monitor.venues],
            "min_edge_pct": monitor.min_edge_pct,
            "min_profit": monitor.min_profit,
            "notional": monitor.notional,
            "fees_pct": {v.value: fee for v, fee in monitor.fees_pct},
            "min_duration_s": monitor.min_duration_s,
            "allow_polled": monitor.allow_polled,
            "policy": monitor.policy.value,
            "quotes": "~".join(monitor.quotes) or "none",
            **_integrity(monitor.min_integrity),
        }
    return {
        "id": monitor.id,
        "kind": "market_view",
        "owner": monitor.owner,
        "symbol": str(monitor.symbol),
        "venues": [v.value for v in monitor.venues],
        "best_venue_change": monitor.best_venue_change,
        "mid_move_pct": monitor.mid_move_pct,
        "spread_above_bps": monitor.spread_above_bps,
        "venue_deviation_bps": monitor.venue_deviation_bps,
        "cooldown_s": monitor.cooldown_s,
        "crossed_min_bps": monitor.crossed_min_bps,
        "crossed_min_s": monitor.crossed_min_s,
        "alert_cooldown_s": monitor.alert_cooldown_s,
        **_integrity(monitor.min_integrity),
    }


def _integrity(tier: Integrity) -> dict[str, str]:
    """The tier requirement, written only when it is not the default: a state file of
    monitors that keep the default stays readable by the release before the option."""
    return {} if tier is DEFAULT_MIN_INTEGRITY else {"integrity": tier.value}
