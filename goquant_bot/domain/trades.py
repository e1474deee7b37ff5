"""A venue's public trade: the last price a taker paid, the record candles will be built from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from goquant_bot.domain.instruments import InstrumentKey


class TakerSide(StrEnum):
    """Which side crossed the spread: a buyer lifting the ask or a seller hitting the bid."""

    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade. ``venue_ts``: the venue's trade time (None when it gives none);
    ``recv_ts``: our local receive time, both epoch seconds."""

    key: InstrumentKey
    price: float
    size: float
    side: TakerSide
    venue_ts: float | None
    recv_ts: float
    trade_id: str = ""  # the venue's id: a stream resent after a reconnect repeats trades

    @property
    def when(self) -> float:
        """When it happened: the venue's time when known, else when we received it."""
        return self.venue_ts if self.venue_ts is not None else self.recv_ts

    def age(self, now: float) -> float:
        """Seconds since the trade happened (never negative: clocks differ)."""
        return max(0.0, now - self.when)
