"""Books streamed on demand for /get_cbbo and /arbitrage: subscribe, answer once live, release.
/get_cbbo holds the venues' trade streams the same way (its answer never waits for a trade).

The command layer is synchronous: a command whose books are live answers at once; otherwise
it answers "syncing" and leaves a pending answer here, which ``due`` hands out (rendered at
that moment) once every book has settled or the wait is over. ``run_followups`` sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from goquant_bot.bot.render import esc, fmt_span, replies
from goquant_bot.bot.types import Caller, Keyboard, Reply
from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.trades import Trade
from goquant_bot.errors import GoQuantError, RejectedInput
from goquant_bot.logging import get_logger

if TYPE_CHECKING:
    from goquant_bot.bot.context import Deps

log = get_logger(__name__)
WAIT_S = 10.0  # the answer goes out after this long even if some books are still syncing
MAX_PENDING = 200  # answers waiting at once, across all chats


class Subscriptions(Protocol):
    """The market-data hub's ref-counted subscriptions (the last release waits a grace period)."""

    def acquire(self, key: InstrumentKey) -> None: ...
    def release(self, key: InstrumentKey) -> None: ...
    def book(self, key: InstrumentKey) -> OrderBook | None: ...
    def acquire_trades(self, key: InstrumentKey) -> None: ...
    def release_trades(self, key: InstrumentKey) -> None: ...
    def last_trade(self, key: InstrumentKey) -> Trade | None: ...


Answer = Callable[[], list[Reply]]
FollowUp = tuple[int, list[Reply]]  # (chat id, replies)


@dataclass(slots=True)
class _Pending:
    chat_id: int
    keys: tuple[InstrumentKey, ...]
    deadline: float
    answer: Answer
    trades: tuple[InstrumentKey, ...] = ()


class OnDemand:
    """Pending one-shot answers, each holding its books until they are live."""

    def __init__(
        self, books: Subscriptions, *, wait_s: float = WAIT_S, max_pending: int = MAX_PENDING
    ) -> None:
        self.books = books
        self.wait_s = wait_s
        self.max_pending = max_pending
        self._pending: dict[Hashable, _Pending] = {}

    def settled(self, keys: Sequence[InstrumentKey]) -> bool:
        """Every book subscribed and past its first sync (live, polled, or even stale)."""
        for key in keys:
            book = self.books.book(key)
            if book is None or book.state is BookState.SYNCING:
                return False
        return True

    def touch(self, keys: Sequence[InstrumentKey], *, trades: bool = False) -> None:
        """Books used by a one-shot answer now: acquire and release, so the grace restarts
        (and the trade streams with them when ``trades``)."""
        held = self._acquire(keys)
        for key in held:
            self.books.release(key)
        if trades:
            self._release_trades(self._acquire_trades(keys))

    def wait(
        self,
        ask: Hashable,
        chat_id: int,
        keys: Sequence[InstrumentKey],
        now: float,
        answer: Answer,
        *,
        trades: bool = False,
    ) -> bool:
        """Hold the books until ``answer`` can be given; False when too many answers wait.

        The same question asked again in the same chat replaces the earlier one (one answer).
        """
        earlier = self._pending.pop((chat_id, ask), None)
        if earlier is not None:
            self._release(earlier.keys)
            self._release_trades(earlier.trades)
        elif len(self._pending) >= self.max_pending:
            return False
        held = self._acquire(keys)
        streams = self._acquire_trades(keys) if trades else ()
        self._pending[(chat_id, ask)] = _Pending(chat_id, held, now + self.wait_s, answer, streams)
        return True

    def due(self, now: float) -> list[FollowUp]:
        """The answers whose books have settled or whose wait is over; their books released."""
        out: list[FollowUp] = []
        for ask, pending in list(self._pending.items()):
            if now < pending.deadline and not self.settled(pending.keys):
                continue
            del self._pending[ask]
            try:
                out.append((pending.chat_id, pending.answer()))
            finally:
                self._release(pending.keys)
                self._release_trades(pending.trades)
        return out

    def __len__(self) -> int:
        return len(self._pending)

    def _acquire(self, keys: Sequence[InstrumentKey]) -> tuple[InstrumentKey, ...]:
        held: list[InstrumentKey] = []
        for key in keys:
            try:
                self.books.acquire(key)
            except KeyError:  # the venue is not enabled: nothing to hold
                continue
            held.append(key)
        return tuple(held)

    def _release(self, keys: Sequence[InstrumentKey]) -> None:
        for key in keys:
            self.books.release(key)

    def _acquire_trades(self, keys: Sequence[InstrumentKey]) -> tuple[InstrumentKey, ...]:
        held: list[InstrumentKey] = []
        for key in keys:
            try:
                self.books.acquire_trades(key)
            except KeyError:
                continue
            held.append(key)
        return tuple(held)

    def _release_trades(self, keys: Sequence[InstrumentKey]) -> None:
        for key in keys:
            self.books.release_trades(key)


BUSY = "Too many answers are waiting for their books right now: try again in a few seconds."


def book_keys(
    ctx: Deps, symbol: Symbol, venues: tuple[Venue, ...] | None
) -> tuple[InstrumentKey, ...]:
    """The books a one-shot answer reads: the chosen venues, or every enabled one listing it."""
    listed = ctx.directory.venues_listing(symbol)
    chosen = venues or tuple(v for v in ctx.config.venues if v in listed)
    return tuple(InstrumentKey(v, symbol) for v in chosen)


def answer_when_live(
    ctx: Deps,
    caller: Caller,
    ask: Hashable,
    keys: tuple[InstrumentKey, ...],
    answer: Callable[[], list[Reply]],
    what: str,
    *,
    trades: bool = False,
) -> list[Reply]:
    """Answer now when the books are live; otherwise subscribe, say so, and answer later.
    ``trades``: hold the venues' trade streams too (the answer shows their last trades)."""
    if ctx.ondemand.settled(keys):
        ctx.ondemand.touch(keys, trades=trades)  # the unsubscribe grace starts again from now
        return answer()
    if not ctx.ondemand.wait(ask, caller.chat_id, keys, ctx.clock(), answer, trades=trades):
        raise RejectedInput(BUSY)
    venues = ", ".join(esc(k.venue) for k in keys)
    symbol = esc(keys[0].symbol) if keys else ""
    return replies(
        f"⏳ <b>{symbol}</b> is not streamed yet: subscribing to its books on {venues}. "
        f"The {what} follows in a new message as soon as they are live "
        f"(within {fmt_span(ctx.ondemand.wait_s)})."
    )


class Send(Protocol):
    def __call__(
        self, chat_id: int, text: str, *, buttons: Keyboard = (), silent: bool = False
    ) -> Awaitable[int]: ...


async def run_followups(
    due: Callable[[], list[FollowUp]], send: Send, *, interval_s: float = 0.25
) -> None:
    """Send the answers that became due (a failed send is logged, never retried)."""
    while True:
        for chat_id, answer in due():
            for reply in answer:
                try:
                    await send(chat_id, reply.text, buttons=reply.buttons)
                except GoQuantError as exc:
                    log.warning("followup_not_sent", chat_id=chat_id, error=str(exc))
        await asyncio.sleep(interval_s)
