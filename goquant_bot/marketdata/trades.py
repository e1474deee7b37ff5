"""The trade tape: the last trade per (venue, symbol) and a bounded log read by cursor."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice

from goquant_bot.domain.instruments import InstrumentKey
from goquant_bot.domain.trades import Trade
from goquant_bot.logging import get_logger

log = get_logger(__name__)

# Trades kept for readers that poll with a cursor: minutes of a busy market on every venue.
TAPE_LENGTH = 50_000


@dataclass(frozen=True, slots=True)
class TradeBatch:
    """Trades after a cursor. ``cursor``: pass it to the next call; ``missed``: trades that
    left the bounded log before this reader came back for them (it read too seldom)."""

    trades: tuple[Trade, ...]
    cursor: int
    missed: int


class TradeTape:
    """Every trade the feeds hand over, in arrival order, numbered from 1."""

    def __init__(self, length: int = TAPE_LENGTH) -> None:
        self._log: deque[Trade] = deque(maxlen=length)
        self._count = 0  # trades ever recorded; the number of the newest one
        self._last: dict[InstrumentKey, Trade] = {}
        self._listeners: list[Callable[[Trade], None]] = []

    def record(self, trades: Iterable[Trade]) -> None:
        last, kept, listeners = self._last, self._log, self._listeners
        for trade in trades:
            self._count += 1
            kept.append(trade)
            previous = last.get(trade.key)
            # A snapshot of recent trades can arrive after newer ones: the latest time wins.
            if previous is None or trade.when >= previous.when:
                last[trade.key] = trade
            for listener in listeners:
                try:
                    listener(trade)
                except Exception:
                    # A failing consumer must not stop market data: logged, the tape goes on.
                    log.exception("trade_listener_failed", key=str(trade.key))

    def last(self, key: InstrumentKey) -> Trade | None:
        return self._last.get(key)

    @property
    def cursor(self) -> int:
        """The cursor of "now": ``since(tape.cursor)`` returns only trades to come."""
        return self._count

    def since(self, cursor: int) -> TradeBatch:
        """The trades numbered after ``cursor`` still in the log, and the new cursor."""
        oldest = self._count - len(self._log) + 1  # number of the oldest trade kept
        start = max(cursor + 1, oldest)
        missed = max(0, oldest - (cursor + 1))
        skip = start - oldest
        # One pass: indexing a deque in its middle costs a walk from an end each time.
        trades = tuple(islice(self._log, skip, None))
        return TradeBatch(trades, self._count, missed)

    def listen(self, listener: Callable[[Trade], None]) -> Callable[[], None]:
        """Call ``listener`` with every trade as it is recorded; returns the way to stop."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
