"""Books built from a REST snapshot plus the stream's buffered diffs: the steps venues share.

A venue's protocol subclasses ``SnapshotSyncProtocol`` and supplies the snapshot requests, how
a snapshot is parsed, how a polled answer is applied and how buffered diffs line up with a
snapshot (its alignment rule). This module keeps one ``SyncFeed`` per book, schedules the
snapshot requests (one outstanding at a time, retried after a back-off or a lost answer) and
routes REST answers: a poll fills a book that is not live, a snapshot starts its buffered book.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.instruments import Symbol
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, VenueProtocol
from goquant_bot.venues.levels import Levels, valid_levels

log = get_logger(__name__)

# Diffs kept while a snapshot is awaited: the newest ones win, older ones are dropped and a
# snapshot that predates the buffer is simply fetched again.
BUFFER_LIMIT = 2000
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
# A snapshot request with no answer after this long is considered lost and sent again.
REQUEST_TIMEOUT_S = 15.0


def backoff(failures: int) -> float:
    """Seconds to wait before the next snapshot request after ``failures`` failures in a row."""
    return 0.0 if failures <= 0 else min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (failures - 1))


class SyncFeed:
    """Synchronisation state of one book."""

    __slots__ = ("book", "bracket", "buffer", "failures", "last", "next_at", "requested_at")

    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.buffer: deque[Any] = deque(maxlen=BUFFER_LIMIT)
        # Position (update id, sequence or time) of the last applied diff; -1 awaiting a snapshot.
        self.last = -1
        self.bracket = False  # the next diff must straddle last + 1 (first after a snapshot)
        self.requested_at: float | None = None
        self.failures = 0
        self.next_at = 0.0

    def reset(self) -> None:
        self.buffer.clear()
        self.last = -1
        self.bracket = False
        self.requested_at = None


F = TypeVar("F", bound=SyncFeed)
S = TypeVar("S")


class SnapshotSyncProtocol(VenueProtocol, Generic[F, S]):
    """A venue protocol whose books start from REST snapshots under buffered stream diffs."""

    feed_class: ClassVar[type[SyncFeed]] = SyncFeed
    # Counted when a poll answer arrives for a book that has gone live meanwhile.
    poll_unneeded: ClassVar[str] = "poll_while_live"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._feeds: dict[str, F] = {}
        # Diffs add far levels forever: trim back to depth once a side outgrows this.
        self._trim_at = self.depth + max(20, self.depth // 4)

    # -- venue hooks ----------------------------------------------------------------------

    @abstractmethod
    def _snapshot_requests(self, symbol: Symbol) -> Sequence[RestRequest]:
        """The REST request(s) for a snapshot of ``symbol`` (purpose ``snapshot``)."""

    @abstractmethod
    def _parse_body(self, body: str) -> S:
        """A snapshot or poll answer's body; raises on a malformed one."""

    @abstractmethod
    def _apply_poll(self, book: OrderBook, snap: S, now: float) -> None:
        """Fill a book that is not live from a polled answer."""

    @abstractmethod
    def _apply_snapshot(self, feed: F, snap: S, request: RestRequest, now: float) -> None:
        """Start ``feed``'s book from ``snap`` and the buffered diffs (the alignment rule)."""

    # -- per-book state -------------------------------------------------------------------

    def _feed(self, native: str) -> F | None:
        """The state of ``native``'s book, created on its first diff; None if not wanted."""
        feed = self._feeds.get(native)
        if feed is None:
            book = self.book_for(native)
            if book is None:
                return None
            feed = self._feeds[native] = cast(F, self.feed_class(book))
        return feed

    def _forget(self, symbol: Symbol) -> None:
        self._feeds.pop(self.native_name(symbol), None)

    def _invalidate(self, book: OrderBook, symbol: Symbol) -> None:
        super()._invalidate(book, symbol)
        native = self.symbols.native(symbol)
        feed = self._feeds.get(native) if native is not None else None
        if feed is not None:
            feed.reset()

    # -- diffs --------------------------------------------------------------------------

    def _in_chain(self, feed: F, first: int, last: int, diff: Any, now: float, raw: str) -> bool:
        """Whether a live diff covering ``first``..``last`` continues the chain: the first after
        a snapshot must straddle it (older ones are skipped), later ones follow on exactly; a
        gap rebuilds the book and starts its new buffer with this diff."""
        if feed.bracket:
            if last <= feed.last:
                self.stats.skipped["stale_diff"] += 1
                return False
            if first > feed.last + 1:
                self._gap(feed, diff, now, raw)
                return False
            feed.bracket = False
        elif first != feed.last + 1:
            self._gap(feed, diff, now, raw)
            return False
        return True

    def _gap(self, feed: F, diff: Any, now: float, raw: str) -> None:
        """Rebuild the book; the diff that showed the gap starts the new buffer."""
        self.resync(feed.book, "gap", now, raw)
        self._buffer(feed, diff, now, raw)

    def _buffer(self, feed: F, diff: Any, now: float, raw: str) -> None:
        """Keep a diff until the snapshot arrives; levels are checked here, off the hot path."""
        if not (valid_levels(diff.get("b", [])) and valid_levels(diff.get("a", []))):
            self.bad_frame("bad_level", raw)
            return
        feed.buffer.append(diff)
        self._request_snapshot(feed, now)

    def _trim(self, book: OrderBook) -> None:
        if len(book.bids) > self._trim_at:
            book.bids.trim(self.depth)
        if len(book.asks) > self._trim_at:
            book.asks.trim(self.depth)

    # -- snapshot requests ----------------------------------------------------------------

    def _request_snapshot(self, feed: F, now: float) -> None:
        if feed.requested_at is not None and now - feed.requested_at < REQUEST_TIMEOUT_S:
            return
        if now < feed.next_at:
            return
        feed.requested_at = now
        self._rest_out.extend(self._snapshot_requests(feed.book.key.symbol))

    def _retry_snapshots(self, now: float) -> None:
        """Re-request snapshots whose back-off has expired or whose answer was lost."""
        for feed in self._feeds.values():
            if feed.last < 0 and feed.buffer:
                self._request_snapshot(feed, now)

    def on_timer(self, now: float) -> None:
        """Re-request snapshots whose back-off has expired (pongs are the driver's job)."""
        self._retry_snapshots(now)

    def _snapshot_stale(self, feed: F, now: float) -> None:
        """The snapshot predates the buffered diffs: fetch again, at once the first time."""
        self.stats.skipped["snapshot_stale"] += 1
        feed.failures += 1
        feed.next_at = now + backoff(feed.failures - 1)
        self._request_snapshot(feed, now)

    def _chain_snapshot(
        self,
        feed: F,
        snapshot: tuple[int, Levels, Levels],
        now: float,
        venue_ts: float | None,
        diff_ts: Callable[[Any], float | None],
    ) -> None:
        """Lay a snapshot (its last update id, bids, asks) under the buffered ``U``/``u``/
        ``b``/``a`` diffs: those it already holds are skipped, the first newer one must straddle
        it and every next one follow on exactly (else the book is rebuilt); then the book goes
        live. ``venue_ts``: the snapshot's venue time; ``diff_ts``: a diff's (None: keep the
        last one)."""
        last_id, bids, asks = snapshot
        feed.failures = 0
        book = feed.book
        book.bids.replace(bids)
        book.asks.replace(asks)
        feed.last = last_id
        feed.bracket = True
        applied = 0
        buffer = feed.buffer
        while buffer:
            diff = buffer.popleft()
            if diff["u"] <= feed.last:
                continue  # already in the snapshot
            expected = feed.last + 1
            if diff["U"] > expected if feed.bracket else diff["U"] != expected:
                self.resync(book, "snapshot_gap", now)
                return
            feed.bracket = False
            book.bids.apply_text(diff.get("b", []))
            book.asks.apply_text(diff.get("a", []))
            feed.last = diff["u"]
            ts = diff_ts(diff)
            venue_ts = venue_ts if ts is None else ts
            applied += 1
        self._finish_snapshot(book, applied, now, venue_ts)

    def _finish_snapshot(
        self, book: OrderBook, applied: int, now: float, venue_ts: float | None
    ) -> None:
        """Trim to depth and go live, counting one update per applied buffered diff."""
        book.bids.trim(self.depth)
        book.asks.trim(self.depth)
        # One update per applied diff, as if they had come after the snapshot (mark_live adds one).
        book.updates += max(0, applied - 1)
        self.mark_live(book, now, venue_ts)

    # -- answers --------------------------------------------------------------------------

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        """A snapshot or poll answer for one book; anything else is counted as skipped."""
        book = self.books.get(request.symbol) if request.symbol is not None else None
        if book is None or request.purpose not in ("snapshot", "poll"):
            super().on_rest(request, status, body, now)
            return
        feed = self._feeds.get(self.native_name(book.key.symbol))
        if feed is not None and feed.book is not book:
            feed = None  # an answer for a book that was dropped since
        is_snapshot = request.purpose == "snapshot"
        if is_snapshot and feed is not None:
            feed.requested_at = None
        parsed = self._parse(request, status, body)
        if parsed is None:
            if is_snapshot and feed is not None:
                feed.failures += 1
                feed.next_at = now + backoff(feed.failures)
        elif not is_snapshot:
            if book.state is BookState.LIVE:
                self.stats.skipped[self.poll_unneeded] += 1
            else:
                self._apply_poll(book, parsed, now)
        elif feed is None or feed.last >= 0 or not feed.buffer:
            self.stats.skipped["snapshot_unused"] += 1
        else:
            self._apply_snapshot(feed, parsed, request, now)

    def _parse(self, request: RestRequest, status: int, body: str) -> S | None:
        """The answer's snapshot, or None (counted and logged) for a failed or malformed one."""
        if status != 200:
            self.stats.errors[f"{request.purpose}_failed"] += 1
            log.warning(
                "snapshot_failed", venue=self.venue.value, symbol=str(request.symbol), status=status
            )
            return None
        try:
            return self._parse_body(body)
        except (ValueError, TypeError, KeyError, VenueProtocolError):
            self.bad_frame(f"{request.purpose}_invalid", body)
            return None
