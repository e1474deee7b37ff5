"""The one schema of a monitor: the state file, ``replay --monitors`` files and exports.

An entry is the monitor's definition (``kind`` ``arbitrage`` or ``market_view``) plus, in the
state file, who created it and whether it is paused. Entries written before this schema
(state-file version 1: ``kind`` ``arb``/``view`` with the definition under ``spec``) are
migrated on load, so old state files keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.monitors import ArbMonitor, FiringPolicy, MarketViewMonitor
from goquant_bot.engine.arb_records import RestoredOpening
from goquant_bot.errors import RejectedInput
from goquant_bot.monitors.records import MonitorKind, MonitorRecord, monitor_to_dict

__all__ = [
    "SCHEMA_VERSION",
    "ArbSpec",
    "MarketViewSpec",
    "export_monitors",
    "load_monitors",
    "migrate_entry",
    "monitor_from_dict",
    "monitor_to_dict",
    "opening_from_dict",
    "opening_to_dict",
    "record_from_dict",
    "record_to_dict",
    "records_from_entries",
]
# 3: arbitrage monitors gained ``quotes`` (entries without it mean "none").
# 4: monitors of both kinds gained ``integrity``, the weakest tier of book they use
#    (entries without it mean "snapshot", what every monitor accepted before).
SCHEMA_VERSION = 4
Monitor = ArbMonitor | MarketViewMonitor


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    owner: int = 0  # the chat that receives the alerts
    # Defaults by factory: pydantic deep-copies a literal mutable default for every entry.
    venues: list[Venue] = Field(default_factory=list)  # empty: every venue
    # Bookkeeping of the state file; a replay file may leave them out.
    user_id: int | None = None  # who created it (None: the owner)
    created: float = 0.0
    paused: bool = False  # paused by its user
    chat_blocked: bool = False  # its chat blocked the bot: kept, not running until /start
    follows_defaults: list[Literal["size", "fees"]] = Field(default_factory=list)  # from /config
    integrity: Integrity = DEFAULT_MIN_INTEGRITY  # the weakest tier of book the monitor uses


class ArbSpec(_Spec):
    kind: Literal["arbitrage"]
    symbols: list[str] = Field(min_length=1)
    min_edge_pct: float | None = None
    min_profit: float | None = None
    notional: float = 1000.0
    fees_pct: dict[Venue, float] = Field(default_factory=dict)
    min_duration_s: float = 0.0
    allow_polled: bool = False
    policy: FiringPolicy = FiringPolicy.EACH
    # Quotes compared across with a live conversion, "USD~USDT"; entries written before
    # the option existed (schema 2 and earlier) have none and load as "none".
    quotes: str = Field("none", max_length=40)

    def to_monitor(self) -> ArbMonitor:
        return ArbMonitor(
            id=self.id,
            owner=self.owner,
            symbols=tuple(Symbol.parse(s) for s in self.symbols),
            venues=tuple(self.venues or Venue),
            min_edge_pct=self.min_edge_pct,
            min_profit=self.min_profit,
            notional=self.notional,
            fees_pct=tuple(self.fees_pct.items()),
            min_duration_s=self.min_duration_s,
            allow_polled=self.allow_polled,
            policy=self.policy,
            quotes=parse_quotes(self.quotes),
            min_integrity=self.integrity,
        )


def parse_quotes(text: str) -> tuple[str, ...]:
    """``none`` or ``USD~USDT[~USDC]`` as a monitor keeps it; the monitor checks the names."""
    if text.strip().lower() == "none":
        return ()
    return tuple(part.strip().upper() for part in text.split("~"))


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
            min_integrity=self.integrity,
        )


Spec = Annotated[ArbSpec | MarketViewSpec, Field(discriminator="kind")]
_ONE: TypeAdapter[ArbSpec | MarketViewSpec] = TypeAdapter(Spec)
_KIND = {MonitorKind.ARB: "arbitrage", MonitorKind.VIEW: "market_view"}


def record_to_dict(record: MonitorRecord) -> dict[str, Any]:
    """A record in the schema's form: its definition and its bookkeeping."""
    return {
        **monitor_to_dict(record.monitor),
        "user_id": record.user_id,
        "created": record.created,
        "paused": record.paused,
        "chat_blocked": record.chat_blocked,
        "follows_defaults": sorted(record.follows),
    }


def migrate_entry(data: Any) -> Any:
    """A state-file version 1 entry (``kind`` arb/view, the definition under ``spec``, fees
    as pairs, ``paused`` meaning the chat blocked the bot) in today's form; others unchanged."""
    if not isinstance(data, Mapping) or "spec" not in data or not isinstance(data["spec"], Mapping):
        return data
    spec = dict(data["spec"])
    kind = {"arb": "arbitrage", "view": "market_view"}.get(str(data.get("kind")), data.get("kind"))
    if kind == "arbitrage" and isinstance(spec.get("fees_pct"), list):
        spec["fees_pct"] = {str(pair[0]): pair[1] for pair in spec["fees_pct"]}
    return {
        **spec,
        "id": data.get("id"),
        "kind": kind,
        "owner": data.get("chat_id"),
        "user_id": data.get("user_id"),
        "created": data.get("created", 0.0),
        "chat_blocked": bool(data.get("paused", False)),
    }


def record_from_dict(data: Any) -> MonitorRecord:
    """Validate one entry (either version); raise RejectedInput naming the problem."""
    try:
        spec = _ONE.validate_python(migrate_entry(data))
        monitor = spec.to_monitor()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "entry"
        msg = f"invalid {_name(data)}: {where}: {first['msg']}"
        raise RejectedInput(msg) from None
    except ValueError as exc:
        msg = f"invalid {_name(data)}: {exc}"
        raise RejectedInput(msg) from None
    kind = MonitorKind.ARB if isinstance(monitor, ArbMonitor) else MonitorKind.VIEW
    return MonitorRecord(
        id=monitor.id,
        kind=kind,
        chat_id=monitor.owner,
        user_id=monitor.owner if spec.user_id is None else spec.user_id,
        created=spec.created,
        monitor=monitor,
        paused=spec.paused,
        chat_blocked=spec.chat_blocked,
        follows=frozenset(spec.follows_defaults),
    )


def monitor_from_dict(data: object) -> Monitor:
    """A monitor's definition from either form; raise RejectedInput when it is not valid."""
    return record_from_dict(data).monitor


def records_from_entries(entries: Iterable[Any]) -> tuple[list[MonitorRecord], list[str]]:
    """Every valid entry, and one problem per entry left out (damaged or a repeated id)."""
    records: list[MonitorRecord] = []
    problems: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        try:
            record = record_from_dict(entry)
        except RejectedInput as exc:
            problems.append(f"{exc} (damaged, dropped)")
            continue
        if record.id in seen:
            problems.append(f"monitor id {record.id!r} is used twice (the second one dropped)")
            continue
        seen.add(record.id)
        records.append(record)
    return records, problems


def kind_name(kind: MonitorKind) -> str:
    return _KIND[kind]


def opening_to_dict(opening: RestoredOpening) -> dict[str, Any]:
    """An open opportunity as the state file keeps it."""
    saved: dict[str, Any] = {
        "symbol": str(opening.symbol),
        "buy": opening.buy_venue.value,
        "sell": opening.sell_venue.value,
        "opened_at": opening.opened_at,
        "peak_edge_pct": opening.peak_edge_pct,
    }
    if opening.route is not None:  # across quotes: the symbols of both legs
        saved["buy_symbol"], saved["sell_symbol"] = (str(s) for s in opening.route)
    return saved


def opening_from_dict(data: Mapping[str, Any]) -> RestoredOpening | None:
    """None when the entry is damaged (the opportunity then opens again, announced)."""
    try:
        route = None
        if "buy_symbol" in data:
            route = (Symbol.parse(str(data["buy_symbol"])), Symbol.parse(str(data["sell_symbol"])))
        return RestoredOpening(
            Symbol.parse(str(data["symbol"])),
            Venue(str(data["buy"])),
            Venue(str(data["sell"])),
            float(data["opened_at"]),
            float(data["peak_edge_pct"]),
            route,
        )
    except (KeyError, ValueError, TypeError):
        return None


def _name(data: Any) -> str:
    name = data.get("id") if isinstance(data, Mapping) else None
    return f"monitor {name!s:.64}" if name else f"entry {str(data)[:80]}"


def load_monitors(path: Path) -> list[MonitorRecord]:
    """A monitors file (``replay --monitors``): a JSON list of entries, or a document
    ``{"schema_version": 3, "monitors": [...]}`` as ``export_monitors`` writes it. The file
    is refused as a whole (RejectedInput naming the entry) when any entry is invalid."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror}"
        raise RejectedInput(msg) from None
    except orjson.JSONDecodeError as exc:
        msg = f"{path}: not JSON: {exc}"
        raise RejectedInput(msg) from None
    if isinstance(data, dict):
        version = data.get("schema_version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            msg = f"{path}: schema_version {version!r} is not one this program reads"
            raise RejectedInput(msg)
        data = data.get("monitors")
    if not isinstance(data, list):
        msg = f"{path}: expected a list of monitors"
        raise RejectedInput(msg)
    records: list[MonitorRecord] = []
    seen: set[str] = set()
    for index, entry in enumerate(data):
        try:
            record = record_from_dict(entry)
        except RejectedInput as exc:
            msg = f"{path}: entry {index}: {exc}"
            raise RejectedInput(msg) from None
        if record.id in seen:
            msg = f"{path}: monitor id {record.id!r} is used twice"
            raise RejectedInput(msg)
        seen.add(record.id)
        records.append(record)
    return records


def export_monitors(records: Iterable[MonitorRecord]) -> bytes:
    """The monitors as a file ``load_monitors`` (and so ``replay --monitors``) reads."""
    document = {"schema_version": SCHEMA_VERSION, "monitors": [record_to_dict(r) for r in records]}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)
