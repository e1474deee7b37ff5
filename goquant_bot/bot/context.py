"""The collaborators every command needs, and the small protocols they are seen through."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.ondemand import OnDemand, Subscriptions
from goquant_bot.bot.render import tick_decimals
from goquant_bot.bot.types import CallbackAnswer, Caller, Reply
from goquant_bot.bot.users import UserStore
from goquant_bot.domain.book import Integrity
from goquant_bot.domain.cbbo import Cbbo
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.engine.arb_records import OpenOpportunity
from goquant_bot.engine.history import OpportunityStats
from goquant_bot.engine.quotes import ArbQuotes
from goquant_bot.monitors.records import MonitorKind, MonitorRecord
from goquant_bot.monitors.service import MonitorService

_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0, i)


class Directory(Protocol):
    """What the commands need from the symbol directory."""

    def resolve(self, text: str) -> Symbol: ...
    def venues_listing(self, symbol: Symbol) -> list[Venue]: ...
    def all_symbols(self) -> list[Symbol]: ...
    def unreachable(self) -> dict[Venue, float]: ...
    def instrument(self, venue: Venue, symbol: Symbol) -> Instrument | None: ...


class VenueStatus(Protocol):
    @property
    def venue(self) -> Venue: ...
    @property
    def connected(self) -> bool: ...
    @property
    def polling(self) -> bool: ...
    @property
    def books(self) -> Mapping[str, int]: ...
    @property
    def disconnects(self) -> int: ...
    @property
    def integrity(self) -> Integrity: ...


class HealthSource(Protocol):
    """The market-data hub, for /status and /admin."""

    def health(self) -> Sequence[VenueStatus]: ...


class MarketHub(HealthSource, Subscriptions, Protocol):
    """The market-data hub: health, and books subscribed on demand (/get_cbbo, /arbitrage)."""


class AlertRecord(Protocol):
    """One entry of a chat's alert history, kept by alert delivery (plain text, escaped here)."""

    @property
    def ts(self) -> float: ...
    @property
    def monitor_id(self) -> str: ...
    @property
    def subject(self) -> str: ...  # "BTC-USDT binance->okx"
    @property
    def outcome(self) -> str: ...  # "sent", "merged", "dropped", ...
    @property
    def detail(self) -> str: ...  # why, when there is a reason


AlertHistory = Callable[[int], Sequence[AlertRecord]]  # newest first


class ArbQueries(Protocol):
    """What the commands read from the arbitrage engine."""

    def tier_for(self, notional: float) -> float: ...
    def open_opportunities(self, monitor_id: str) -> list[OpenOpportunity]: ...
    def symbols(self) -> list[Symbol]: ...


class ViewQueries(Protocol):
    """What the commands read from the market-view engine."""

    @property
    def ranking_window_s(self) -> float: ...
    def cbbo(
        self,
        symbol: Symbol,
        venues: Iterable[Venue] | None = None,
        *,
        now: float,
        min_integrity: Integrity = ...,
    ) -> Cbbo: ...
    def ranking(self, symbol: Symbol, now: float) -> Mapping[Venue, tuple[float, float]]: ...
    def ranking_since(self, symbol: Symbol) -> float | None: ...
    def symbols(self) -> list[Symbol]: ...


def random_id(length: int) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


@dataclass(slots=True)
class Deps:
    monitors: MonitorService
    arbitrage: ArbQueries
    market_view: ViewQueries
    quotes: ArbQuotes
    directory: Directory
    hub: MarketHub
    stats: OpportunityStats
    config: BotConfig
    clock: Callable[[], float]
    store: UserStore
    history: AlertHistory
    new_id: Callable[[int], str]
    started: float
    ondemand: OnDemand

    def is_admin(self, caller: Caller) -> bool:
        return self.config.is_admin(caller.user_id)

    def can_change(self, record: MonitorRecord, caller: Caller) -> bool:
        """Its creator may change a monitor, and so may an admin."""
        return record.user_id == caller.user_id or self.is_admin(caller)

    def can_see(self, record: MonitorRecord, caller: Caller) -> bool:
        return self.can_change(record, caller) or record.chat_id == caller.chat_id

    def may_configure(self, caller: Caller, chat_id: int) -> bool:
        """Chat-wide settings: anyone in their own private chat; for a group, an admin or a
        member who created a monitor there (a chat-admin check would cost a Bot API call)."""
        if self.is_admin(caller) or (chat_id == caller.chat_id and not caller.is_group):
            return True
        return any(
            r.chat_id == chat_id and r.user_id == caller.user_id
            for r in self.monitors.records.values()
        )

    def records(self, caller: Caller, kind: MonitorKind | None = None) -> list[MonitorRecord]:
        """The monitors a chat shows: a group's own, or everything a user created in private."""
        if caller.is_group:
            return self.monitors.of(chat_id=caller.chat_id, kind=kind)
        return self.monitors.of(user_id=caller.user_id, kind=kind)

    def price_decimals(self, venue: Venue, symbol: Symbol) -> int | None:
        """Decimals of the venue's tick size for the symbol (None when unknown)."""
        instrument = self.directory.instrument(venue, symbol)
        return None if instrument is None else tick_decimals(instrument.tick_size)

    def new_monitor_id(self) -> str:
        while True:
            candidate = self.new_id(6)
            if not self.monitors.is_taken(candidate):
                return candidate


Handler = Callable[[Deps, Caller, list[str]], list[Reply]]
PressResult = tuple[CallbackAnswer, list[Reply]]
PressHandler = Callable[[Deps, Caller, list[str]], PressResult]
STALE_BUTTON = "This button is no longer valid."
NOT_YOURS = "This monitor is not yours, or it no longer exists."
GROUP_SETTINGS = (
    "In a group, only members who created a monitor here (or a bot admin) can change its "
    "alert settings."
)


def refuse(text: str = STALE_BUTTON) -> PressResult:
    return CallbackAnswer(text, alert=True), []
