"""Our guards on books kept by ccxt's WebSocket module, sans-I/O: books and checks in, verdicts out.

ccxt reads the venue's frames and hands over whole books (``{"bids", "asks", "timestamp"}``);
nothing here can check a sequence or a checksum, so the books are of the UNVERIFIED tier
(shown; used by signals only for monitors that accept that tier). What we check ourselves, per book:
- the venue's timestamp: older than ``max_lag_s`` by our clock (or that far ahead) or older
  than the last one, the book is not used (a lagging one turns STALE);
- our clock: a book not updated for ``silence_s`` turns STALE and its stream is rebuilt;
- a crossed or empty book is never published: cleared, and its stream is rebuilt;
- a REST cross-check of the top: a best bid or ask further than ``tolerance_bps`` from REST's
  marks the book bad (cleared, held back) until its stream is rebuilt.
A problem of one book never touches another's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import VenueProtocol, taker_side
from goquant_bot.venues.levels import float_levels

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class GuardConfig:
    max_lag_s: float = 10.0
    silence_s: float = 30.0
    crosscheck_interval_s: float = 60.0
    tolerance_bps: float = 50.0


@dataclass(slots=True)
class _Watch:
    """What the guards remember of one book."""

    since: float  # when the stream was (re)started
    last_ts: float | None = None  # the venue's time of the last book used
    checked_at: float = 0.0  # the last REST cross-check asked (or the stream's start)
    bad: str | None = None  # why the book is held back until its stream is rebuilt
    lagging: bool = False  # told once per run of lagging books


class CcxtBooks(VenueProtocol):
    """The books of one venue read through ccxt, behind our guards; subclassed per venue."""

    integrity: ClassVar[Integrity] = Integrity.UNVERIFIED
    default_ws_base: ClassVar[str] = ""
    default_rest_base: ClassVar[str] = ""
    max_symbols_per_connection: ClassVar[int] = 1  # one ccxt client per book (see ccxt_feed)
    guard: GuardConfig = GuardConfig()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch: dict[Symbol, _Watch] = {}
        self._rebuild: set[Symbol] = set()
        # Streams restarting: their new client is not watching yet (waiting out its back-off,
        # or being made), so they are not judged silent until it is.
        self._starting: set[Symbol] = set()
        self.connected = True  # ccxt owns the connections; subscriptions always "send"

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        """ccxt's own traffic is never captured: no capture address is ours."""
        return False

    def on_frame(self, text: str, now: float) -> None:
        """ccxt reads the venue's frames itself: a frame reaching us is counted, not used."""
        self.bad_frame("unexpected_frame", text)

    def probe(self, now: float) -> None:
        """ccxt keeps its connections alive itself."""

    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._watch[symbol] = _Watch(since=now, checked_at=now)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        """The feed stops the symbol's ccxt client (nothing to send from here)."""

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        """The feed starts a trade watch per symbol."""

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        """The feed stops the symbol's trade watch."""

    def _forget(self, symbol: Symbol) -> None:
        self._watch.pop(symbol, None)
        self._rebuild.discard(symbol)
        self._starting.discard(symbol)

    def _restart_book(self, book: OrderBook, now: float) -> None:
        self._rebuild.add(book.key.symbol)

    # -- books from ccxt ------------------------------------------------------------------

    def on_book(self, symbol: Symbol, ccxt_book: Mapping[str, Any], now: float) -> bool:
        """One book handed over by ccxt; True when it was published."""
        book = self.books.get(symbol)
        watch = self._watch.get(symbol)
        if book is None or watch is None:
            self.stats.skipped["unsubscribed"] += 1
            return False
        self.stats.frames += 1
        if watch.bad is not None or symbol in self._rebuild:
            self.stats.skipped["held_back"] += 1
            return False
        stamp = ccxt_book.get("timestamp")
        ts = stamp / 1000.0 if isinstance(stamp, int | float) and stamp > 0 else None
        if not self._fresh(book, watch, ts, now):
            return False
        try:
            bids = _levels(ccxt_book.get("bids"))
            asks = _levels(ccxt_book.get("asks"))
            book.bids.replace(bids)
            book.asks.replace(asks)
        except (TypeError, ValueError, IndexError) as exc:
            self.resync(book, "bad_book", now, repr(exc))
            return False
        if not bids and not asks:
            self.resync(book, "empty_book", now)
            return False
        book.bids.trim(self.depth)
        book.asks.trim(self.depth)
        if ts is not None:
            watch.last_ts = ts
        self.mark_live(book, now, ts)  # a crossed book is cleared and its stream rebuilt
        return book.state is BookState.LIVE

    def _fresh(self, book: OrderBook, watch: _Watch, ts: float | None, now: float) -> bool:
        """Whether a book stamped ``ts`` by the venue may be used (None: ccxt gave no time)."""
        if ts is None:
            return True
        if ts < now - self.guard.max_lag_s:
            self.stats.errors["lagging_book"] += 1
            if not watch.lagging:
                watch.lagging = True
                log.warning(
                    "ccxt_book_lagging",
                    venue=self.venue.value,
                    symbol=str(book.key.symbol),
                    lag_s=round(now - ts, 3),
                )
            if book.state is BookState.LIVE:
                book.state = BookState.STALE
                self._changed.add(book.key.symbol)
            return False
        watch.lagging = False
        if ts > now + self.guard.max_lag_s:
            self.stats.errors["future_timestamp"] += 1
            return False
        if watch.last_ts is not None and ts < watch.last_ts:
            self.stats.skipped["older_book"] += 1
            return False
        return True

    def on_error(self, symbol: Symbol, error: str, now: float) -> None:
        """ccxt failed on this symbol's stream: its book is untrustworthy until it is back."""
        book = self.books.get(symbol)
        self.stats.errors["stream_error"] += 1
        log.warning("ccxt_stream_error", venue=self.venue.value, symbol=str(symbol), error=error)
        if book is not None:
            self._invalidate(book, symbol)

    # -- our clock and REST -----------------------------------------------------------------

    def check(self, now: float) -> None:
        """Books silent for ``silence_s`` turn STALE and their streams are rebuilt."""
        for symbol, watch in self._watch.items():
            book = self.books.get(symbol)
            if book is None or symbol in self._rebuild or symbol in self._starting:
                continue
            last = book.recv_ts if book.recv_ts is not None else watch.since
            if now - max(last, watch.since) > self.guard.silence_s:
                self.stats.errors["silent_book"] += 1
                log.warning(
                    "ccxt_book_silent",
                    venue=self.venue.value,
                    symbol=str(symbol),
                    silent_s=round(now - last, 3),
                )
                if book.state in (BookState.LIVE, BookState.POLLED):
                    book.state = BookState.STALE
                    self._changed.add(symbol)
                self._rebuild.add(symbol)

    def crosscheck_due(self, now: float) -> list[Symbol]:
        """Live books whose REST cross-check is due, the longest unchecked first."""
        due = [
            (watch.checked_at, symbol)
            for symbol, watch in self._watch.items()
            if now - watch.checked_at >= self.guard.crosscheck_interval_s
            and (book := self.books.get(symbol)) is not None
            and book.state is BookState.LIVE
        ]
        return [symbol for _, symbol in sorted(due)]

    def crosscheck_asked(self, symbol: Symbol, now: float) -> None:
        watch = self._watch.get(symbol)
        if watch is not None:
            watch.checked_at = now

    def on_crosscheck(self, symbol: Symbol, rest_book: Mapping[str, Any], now: float) -> bool:
        """REST's book against ours: False (and the book is bad until rebuilt) on a mismatch."""
        book = self.books.get(symbol)
        watch = self._watch.get(symbol)
        if book is None or watch is None or book.state is not BookState.LIVE:
            self.stats.skipped["crosscheck_unneeded"] += 1
            return True
        try:
            rest_bid = _best(rest_book.get("bids"))
            rest_ask = _best(rest_book.get("asks"))
        except (TypeError, ValueError, IndexError) as exc:
            self.stats.errors["crosscheck_unreadable"] += 1
            log.warning("ccxt_crosscheck_unreadable", venue=self.venue.value, error=repr(exc))
            return True
        ours = (book.bids.best_price(), book.asks.best_price())
        worst = max(_gap_bps(ours[0], rest_bid), _gap_bps(ours[1], rest_ask))
        if worst <= self.guard.tolerance_bps:
            self.stats.skipped["crosscheck_ok"] += 1
            return True
        watch.bad = "rest_mismatch"
        log.warning(
            "ccxt_crosscheck_mismatch",
            venue=self.venue.value,
            symbol=str(symbol),
            ours=ours,
            rest=(rest_bid, rest_ask),
            gap_bps=round(worst, 1) if worst != float("inf") else None,
        )
        self.resync(book, "rest_mismatch", now)
        return False

    # -- rebuilds -------------------------------------------------------------------------

    def take_rebuilds(self) -> set[Symbol]:
        """Symbols whose ccxt stream must be restarted (handed out once)."""
        rebuild, self._rebuild = self._rebuild, set()
        return rebuild

    def rebuild_pending(self, symbol: Symbol) -> bool:
        return symbol in self._rebuild

    def stopped(self) -> None:
        """The feed stopped: no book is trustworthy until its stream is back."""
        for symbol, book in self.books.items():
            self._invalidate(book, symbol)

    def rebuilding(self, symbol: Symbol) -> None:
        """The symbol's stream is being restarted: not silent until its new client watches."""
        self._rebuild.discard(symbol)
        self._starting.add(symbol)

    def rebuilt(self, symbol: Symbol, now: float) -> None:
        """The symbol's new client watches: its guards start afresh."""
        self._rebuild.discard(symbol)
        self._starting.discard(symbol)
        if symbol in self.books:
            self._watch[symbol] = _Watch(since=now, checked_at=now)

    # -- trades ---------------------------------------------------------------------------

    def on_trades(self, symbol: Symbol, trades: Sequence[Mapping[str, Any]], now: float) -> None:
        """Trades handed over by ccxt's ``watch_trades`` (kept while ``symbol``'s are wanted)."""
        if symbol not in self.trade_symbols:
            self.stats.skipped["trades_unwanted"] += 1
            return
        for raw in trades:
            if not isinstance(raw, Mapping):
                self.bad_trade("bad_trade", repr(raw))
                continue
            stamp = raw.get("timestamp")
            self.add_trade(  # the checks every venue's trades go through
                symbol,
                raw.get("price"),
                raw.get("amount"),
                taker_side(raw.get("side")),
                stamp / 1000.0 if isinstance(stamp, int | float) else None,
                now,
                repr(raw),
                raw.get("id") or "",
            )


def _levels(raw: object) -> list[tuple[float, float]]:
    """A ccxt book side as (price, size) levels; an unreadable or non-positive one raises
    TypeError or ValueError (never applied: the book is rebuilt)."""
    if not isinstance(raw, list | tuple):
        msg = "a book side is not a list"
        raise TypeError(msg)
    try:
        return float_levels(raw)
    except (KeyError, IndexError) as exc:  # a level that is not [price, size, ...]
        msg = f"unreadable level in {str(raw)[:80]}"
        raise TypeError(msg) from exc


def _best(raw: object) -> float | None:
    levels = _levels(raw)
    return levels[0][0] if levels else None


def _gap_bps(ours: float | None, rest: float | None) -> float:
    """How far apart two prices are in basis points (one missing and not the other: inf)."""
    if ours is None or rest is None:
        return 0.0 if ours is rest else float("inf")
    return abs(ours - rest) / rest * 1e4 if rest > 0 else float("inf")


def protocol_for(venue: Venue, guard: GuardConfig) -> type[CcxtBooks]:
    """The books class of one venue read through ccxt, with its guards' settings."""
    name = f"Ccxt{venue.name.title().replace('_', '')}Books"
    return type(name, (CcxtBooks,), {"venue": venue, "guard": guard, "__module__": __name__})
