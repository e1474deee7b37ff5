"""Monitors from a JSON file (``replay --monitors M.json``), validated at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.errors import RejectedInput


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    owner: int = 0
    venues: list[Venue] = []  # empty: every venue


class ArbSpec(_Spec):
    kind: Literal["arbitrage"]
    symbols: list[str] = Field(min_length=1)
    min_edge_pct: float | None = None
    min_profit: float | None = None
    notional: float = 1000.0
    fees_pct: dict[Venue, float] = {}
    min_duration_s: float = 0.0
    allow_polled: bool = False
    policy: FiringPolicy = FiringPolicy.EACH

    def to_monitor(self) -> ArbMonitor:
        return ArbMonitor(
            id=self.id,
            owner=self.owner,
            symbols=tuple(Symbol.parse(s) for s in self.symbols),
            venues=tuple(self.venues or Venue),
            min_edge_pct=self.min_edge_pct,
            min_profit=self.min_profit,
            notional=self.notional,
            fees_pct=tuple(sorted(self.fees_pct.items())),
            min_duration_s=self.min_duration_s,
            allow_polled=self.allow_polled,
            policy=self.policy,
        )


class MarketViewSpec(_Spec):
    kind: Literal["market_view"]
    symbol: str
    best_venue_change: bool = False
    mid_move_pct: float | None = None
    spread_above_bps: float | None = None
    venue_deviation_bps: float | None = None
    cooldown_s: float = 30.0
    crossed_min_bps: float | None = None  # opt-in crossed alert
    crossed_min_s: float = 0.0
    alert_cooldown_s: float | None = None  # None: cooldown_s (files written before it existed)

    def to_monitor(self) -> MarketViewMonitor:
        return MarketViewMonitor(
            id=self.id,
            owner=self.owner,
            symbol=Symbol.parse(self.symbol),
            venues=tuple(self.venues),
            best_venue_change=self.best_venue_change,
            mid_move_pct=self.mid_move_pct,
            spread_above_bps=self.spread_above_bps,
            venue_deviation_bps=self.venue_deviation_bps,
            cooldown_s=self.cooldown_s,
            crossed_min_bps=self.crossed_min_bps,
            crossed_min_s=self.crossed_min_s,
            alert_cooldown_s=(
                self.cooldown_s if self.alert_cooldown_s is None else self.alert_cooldown_s
            ),
        )


_FILE = TypeAdapter(list[Annotated[ArbSpec | MarketViewSpec, Field(discriminator="kind")]])


def load_monitors(path: Path) -> tuple[list[ArbMonitor], list[MarketViewMonitor]]:
    """Parse and validate; raise RejectedInput naming the entry and the problem."""
    try:
        specs = _FILE.validate_json(path.read_bytes())
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror}"
        raise RejectedInput(msg) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        msg = f"{path}: entry {where}: {first['msg']} ({exc.error_count()} problem(s))"
        raise RejectedInput(msg) from None
    arbs: list[ArbMonitor] = []
    views: list[MarketViewMonitor] = []
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            msg = f"{path}: monitor id {spec.id!r} is used twice"
            raise RejectedInput(msg)
        seen.add(spec.id)
        try:
            if isinstance(spec, ArbSpec):
                arbs.append(spec.to_monitor())
            else:
                views.append(spec.to_monitor())
        except ValueError as exc:
            msg = f"{path}: {exc}"
            raise RejectedInput(msg) from None
    return arbs, views


_ONE = TypeAdapter(Annotated[ArbSpec | MarketViewSpec, Field(discriminator="kind")])


def monitor_to_dict(monitor: ArbMonitor | MarketViewMonitor) -> dict[str, object]:
    """The monitors-file form of a monitor (also how the state file stores it)."""
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
    }


def monitor_from_dict(data: object) -> ArbMonitor | MarketViewMonitor:
    """Inverse of ``monitor_to_dict``; raise RejectedInput for an entry that is not valid."""
    try:
        return _ONE.validate_python(data).to_monitor()
    except (ValidationError, ValueError) as exc:
        msg = f"invalid monitor {str(data)[:120]}: {exc}"
        raise RejectedInput(msg) from None
