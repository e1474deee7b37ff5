"""Guided set-up flows: a small state machine whose state is plain data.

A flow belongs to one user in one chat, is identified by a short nonce carried in its
buttons' callback data (``f:<nonce>:<step>:<value>``), survives a restart through
``to_dict``/``from_dict``, and expires after a period without input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from goquant_bot.domain.book import DEFAULT_MIN_INTEGRITY, Integrity
from goquant_bot.domain.instruments import Symbol, Venue


class FlowKind(StrEnum):
    ARB = "arb"  # symbol -> venues (two or more) -> threshold -> confirm
    VIEW = "view"  # symbol -> venues (one or more, or all) -> confirm


class Step(StrEnum):
    SYMBOL = "s"
    VENUES = "v"
    THRESHOLD = "t"
    CONFIRM = "c"


_ORDER = {
    FlowKind.ARB: (Step.SYMBOL, Step.VENUES, Step.THRESHOLD, Step.CONFIRM),
    FlowKind.VIEW: (Step.SYMBOL, Step.VENUES, Step.CONFIRM),
}


class FlowError(ValueError):
    """A move the flow cannot make now; the message is shown to the user."""


@dataclass(slots=True)
class Flow:
    kind: FlowKind
    nonce: str
    step: Step
    started: float
    updated: float
    symbol: str | None = None
    venues: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)  # the venues offered for the symbol
    threshold: float | None = None
    min_profit: float | None = None  # offered at the confirm step (arbitrage)
    integrity: str = DEFAULT_MIN_INTEGRITY.value  # the tier, offered at the confirm step
    page: int = 0  # the page of exchanges shown at the venue step

    @property
    def min_venues(self) -> int:
        return 2 if self.kind is FlowKind.ARB else 1

    @property
    def position(self) -> tuple[int, int]:
        """(step number from 1, number of steps)."""
        order = _ORDER[self.kind]
        return order.index(self.step) + 1, len(order)

    def expired(self, now: float, timeout_s: float) -> bool:
        return now - self.updated > timeout_s

    # -- moves ----------------------------------------------------------------------------

    def expect(self, step: Step) -> None:
        if self.step is not step:
            msg = "That button belongs to an earlier step: use the latest message."
            raise FlowError(msg)

    def choose_symbol(self, symbol: str, listed: Sequence[str], now: float) -> None:
        if len(listed) < self.min_venues:
            where = ", ".join(listed) or "none of the enabled exchanges"
            msg = f"{symbol} is listed on {where}: arbitrage needs two. Pick another symbol."
            raise FlowError(msg)
        self.symbol = symbol
        self.listed = list(listed)
        self.page = 0
        self.venues = [v for v in self.venues if v in listed]
        self._go(Step.VENUES, now)

    def toggle_venue(self, venue: str, now: float) -> None:
        self.expect(Step.VENUES)
        if venue not in self.listed:
            msg = "That exchange does not list this symbol."
            raise FlowError(msg)
        if venue in self.venues:
            self.venues.remove(venue)
        else:
            self.venues = [v for v in self.listed if v in self.venues or v == venue]
        self.updated = now

    def set_page(self, page: int, pages: int, now: float) -> None:
        """Show another page of exchanges (``pages`` of them)."""
        self.expect(Step.VENUES)
        if not 0 <= page < pages:
            msg = "That page of exchanges does not exist: use the latest message."
            raise FlowError(msg)
        self.page = page
        self.updated = now

    def select_all(self, now: float) -> None:
        self.expect(Step.VENUES)
        self.venues = list(self.listed)
        self.updated = now

    def venues_done(self, now: float) -> None:
        self.expect(Step.VENUES)
        if len(self.venues) < self.min_venues:
            need = "two exchanges" if self.min_venues == 2 else "one exchange"
            msg = f"Pick at least {need} first."
            raise FlowError(msg)
        self._go(Step.THRESHOLD if self.kind is FlowKind.ARB else Step.CONFIRM, now)

    def set_venues(self, venues: Sequence[str], now: float) -> None:
        """Typed names at the venue step (already validated against the listings)."""
        self.expect(Step.VENUES)
        self.venues = list(venues)
        self.venues_done(now)

    def set_threshold(self, value: float, now: float) -> None:
        self.expect(Step.THRESHOLD)
        self.threshold = value
        self._go(Step.CONFIRM, now)

    def set_min_profit(self, value: float | None, now: float) -> None:
        self.expect(Step.CONFIRM)
        if self.kind is not FlowKind.ARB:
            msg = "A market view has no profit floor."
            raise FlowError(msg)
        self.min_profit = value
        self.updated = now

    def set_integrity(self, value: str, now: float) -> None:
        self.expect(Step.CONFIRM)
        self.integrity = Integrity(value).value
        self.updated = now

    def back(self, now: float) -> None:
        order = _ORDER[self.kind]
        index = order.index(self.step)
        if index == 0:
            msg = "This is the first step."
            raise FlowError(msg)
        self._go(order[index - 1], now)

    def _go(self, step: Step, now: float) -> None:
        self.step = step
        self.updated = now

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "nonce": self.nonce,
            "step": self.step.value,
            "started": self.started,
            "updated": self.updated,
            "symbol": self.symbol,
            "venues": list(self.venues),
            "listed": list(self.listed),
            "threshold": self.threshold,
            "min_profit": self.min_profit,
            "integrity": self.integrity,
            "page": self.page,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flow:
        """Rebuild a saved flow; raise ValueError when the data is not a flow."""
        try:
            kind = FlowKind(data["kind"])
            step = Step(data["step"])
            flow = cls(
                kind=kind,
                nonce=str(data["nonce"]),
                step=step,
                started=float(data["started"]),
                updated=float(data["updated"]),
                symbol=None if data.get("symbol") is None else str(data["symbol"]),
                venues=[str(v) for v in data.get("venues", [])],
                listed=[str(v) for v in data.get("listed", [])],
                threshold=None if data.get("threshold") is None else float(data["threshold"]),
                min_profit=None if data.get("min_profit") is None else float(data["min_profit"]),
                page=int(data.get("page", 0)),
                integrity=Integrity(data.get("integrity", DEFAULT_MIN_INTEGRITY.value)).value,
            )
            if flow.symbol is not None:
                Symbol.parse(flow.symbol)
            for venue in (*flow.venues, *flow.listed):
                Venue(venue)
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"not a saved flow: {exc!r}"
            raise ValueError(msg) from None
        if (
            step not in _ORDER[kind]
            or (step is not Step.SYMBOL and flow.symbol is None)
            or (kind is FlowKind.ARB and step is Step.CONFIRM and flow.threshold is None)
            or flow.page < 0
        ):
            msg = "not a saved flow: inconsistent step"
            raise ValueError(msg)
        return flow


def start(kind: FlowKind, nonce: str, now: float) -> Flow:
    return Flow(kind=kind, nonce=nonce, step=Step.SYMBOL, started=now, updated=now)
