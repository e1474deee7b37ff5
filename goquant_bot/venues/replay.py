"""Replay capture files through the venue protocols, on the capture's own clock (sans-I/O).

The records of all files are merged by timestamp (a file's own order is always kept; ties go
to the earlier file). Each ``connect`` starts a protocol chosen by its address; ``recv``
frames are fed to it; nothing is sent (the subscriptions are in the capture). Captured REST
bodies answer the protocols' requests: a response is available from its place in the
timeline on, and a request with no available response waits for the next matching one.
Captured instrument lists teach the venue's symbol map. When a file's header names an
exchange we know (``"exchange":"KRAKEN"``, as other recorders write it), that venue is asked
first whether a connection address is its own; the address always has the last word. Venues
read through GoMarket (header ``"exchange":"GOMARKET"``) replay through GoMarket's protocol,
one book per stream address (``replay_sources``).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from goquant_bot.domain.book import OrderBook
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.domain.trades import Trade
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.venues.base import RestRequest, SymbolMap, VenueProtocol
from goquant_bot.venues.capture import CaptureHeader, CaptureReader, CaptureRecord
from goquant_bot.venues.registry import VENUES, VenueSpec
from goquant_bot.venues.replay_report import ReplayResult as ReplayResult
from goquant_bot.venues.replay_report import trade_report as trade_report
from goquant_bot.venues.replay_sources import GOMARKET_MAX_LAG_S, GoMarketStreams, header_source

log = get_logger(__name__)

BooksChanged = Callable[[float, frozenset[InstrumentKey]], None]
# Query parameters naming the instrument of a REST snapshot, by venue convention.
SYMBOL_PARAMS = ("symbol", "instId", "instrument_name", "currency_pair")
RestKey = tuple[str, str | None]


def rest_key(url: str, params: Sequence[tuple[str, str]] = ()) -> RestKey:
    """What pairs a request with a captured response: URL path and instrument parameter."""
    parts = urlsplit(url)
    found = dict(parse_qsl(parts.query))
    found.update(params)
    symbol = next((found[name] for name in SYMBOL_PARAMS if name in found), None)
    return parts.path.rstrip("/"), symbol


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """A venue's instruments endpoint: path plus the parameters that select spot."""

    spec: VenueSpec
    path: str
    params: frozenset[tuple[str, str]]

    def matches(self, url: str) -> bool:
        parts = urlsplit(url)
        path = unquote(parts.path).rstrip("/")  # some recorders keep ':' percent-encoded
        if any(path.startswith(prefix) for prefix in self.spec.instrument_paths):
            return True
        return path == self.path and self.params <= set(parse_qsl(parts.query))


class Replayer:
    """Feeds records (already in timeline order) to protocol instances, one per connection.

    ``books`` always holds the current book of each instrument (the one most recently
    changed, whichever connection owns it), so an engine called through
    ``on_books_changed(ts, keys)`` after each frame can read the books at capture time.
    """

    def __init__(
        self,
        *,
        depth: int = 200,
        on_books_changed: BooksChanged | None = None,
        specs: Mapping[Venue, VenueSpec] = VENUES,
        gomarket_max_lag_s: float = GOMARKET_MAX_LAG_S,
    ) -> None:
        """``gomarket_max_lag_s``: how far a GoMarket message's stamp may be from the capture's
        clock (``[gomarket] max_message_lag_s``), as live."""
        self.depth = depth
        self.on_books_changed = on_books_changed
        self.specs = specs
        self.books: dict[InstrumentKey, OrderBook] = {}
        self.protocols: list[VenueProtocol] = []
        self.skipped: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.record_types: Counter[str] = Counter()
        self.records = 0
        self._conns: dict[tuple[int, int | str], VenueProtocol | None] = {}
        self._symbol_maps = {venue: SymbolMap() for venue in specs}
        self._endpoints = [_endpoint(spec) for spec in specs.values()]
        self._waiting: dict[RestKey, list[tuple[VenueProtocol, RestRequest]]] = {}
        self._available: dict[RestKey, CaptureRecord] = {}
        self._history: dict[InstrumentKey, list[OrderBook]] = {}
        self._current: set[int] = set()  # ids of the books in self.books (all kept alive)
        self._header_venues: dict[int, Venue] = {}  # per source, from the file's header
        self._header_gomarket: set[int] = set()  # sources whose header says GOMARKET
        self._gomarket = GoMarketStreams(depth, gomarket_max_lag_s)
        self.last_trades: dict[InstrumentKey, Trade] = {}
        self.trade_counts: Counter[InstrumentKey] = Counter()

    def expect_header(self, header: CaptureHeader | None, source: int = 0, name: str = "") -> None:
        """The header of file ``source`` (named ``name``): an exchange we know is tried first
        for its addresses. RejectedInput: a GoMarket header naming a venue we do not know."""
        found = header_source(header, name)
        if found.gomarket:
            self._header_gomarket.add(source)
        elif found.venue is not None and found.venue in self.specs:
            self._header_venues[source] = found.venue

    def feed(self, record: CaptureRecord, source: int = 0) -> None:
        """One record; ``source`` tells files apart (connection ids are per file)."""
        self.records += 1
        kind = record.kind
        self.record_types[kind] += 1
        if kind == "recv":
            self._on_recv(record, source)
        elif kind == "connect":
            self._on_connect(record, source)
        elif kind == "http":
            self._on_http(record)

    def result(self, files: int = 0, headers: Sequence[CaptureHeader | None] = ()) -> ReplayResult:
        """Books and counters so far: the protocols' counters merged with the replayer's."""
        for proto in self.protocols:
            for book in proto.books.values():
                if book.key not in self.books:
                    self._adopt(book.key, book)  # created but never reported as changed
        skipped = Counter(self.skipped)
        errors = Counter(self.errors)
        for proto in self.protocols:
            skipped.update(proto.stats.skipped)
            errors.update(proto.stats.errors)
        unanswered = sum(len(waiting) for waiting in self._waiting.values())
        if unanswered:
            skipped["rest_unanswered"] += unanswered
        if self._available:
            skipped["http_unused"] += len(self._available)
        return ReplayResult(
            books=dict(self.books),
            updates={k: sum(b.updates for b in hist) for k, hist in self._history.items()},
            resyncs={k: sum(b.resyncs for b in hist) for k, hist in self._history.items()},
            skipped=skipped,
            errors=errors,
            record_types=Counter(self.record_types),
            records=self.records,
            files=files,
            headers=list(headers),
            last_trades=dict(self.last_trades),
            trade_counts=Counter(self.trade_counts),
        )

    # -- records --------------------------------------------------------------------------

    def _on_recv(self, record: CaptureRecord, source: int) -> None:
        try:
            proto = self._conns[(source, record.conn)]
        except KeyError:
            self.skipped["unknown_connection"] += 1  # the capture starts mid-connection
            return
        if proto is None:
            self.skipped["unsupported_address"] += 1
            return
        now = record.ts
        proto.on_frame(record.data, now)
        self._after(proto, now)

    def _on_connect(self, record: CaptureRecord, source: int) -> None:
        proto = None
        if source in self._header_gomarket:
            proto = self._gomarket.protocol(record.target, record.ts)
        if proto is None:
            proto = self._native(record.target, source)
        if proto is None and source not in self._header_gomarket:
            proto = self._gomarket.protocol(record.target, record.ts)
        if proto is None:
            log.info("replay_unsupported_address", addr=record.target)
        else:
            self.protocols.append(proto)
        self._conns[(source, record.conn)] = proto

    def _native(self, addr: str, source: int) -> VenueProtocol | None:
        venue = self._header_venues.get(source)
        specs = list(self.specs.values())
        if venue is not None:
            specs.insert(0, self.specs[venue])
        spec = next((s for s in specs if s.protocol.accepts_address(addr)), None)
        if spec is None:
            return None
        return spec.protocol(self._symbol_maps[spec.venue], depth=self.depth, track_all=True)

    def _on_http(self, record: CaptureRecord) -> None:
        venue = self._gomarket.listing_venue(record.target)
        if venue is not None:
            self._learn_gomarket(venue, record)
            return
        polled = self._gomarket.poll(record.target, record.status, record.data, record.ts)
        if polled is not None:
            if polled[1]:
                self.protocols.append(polled[0])
            self._after(polled[0], record.ts)
            return
        for endpoint in self._endpoints:
            if endpoint.matches(record.target):
                self._learn_instruments(endpoint.spec, record)
                return
        key = rest_key(record.target)
        waiting = self._waiting.pop(key, None)
        if not waiting:
            if key in self._available:
                self.skipped["http_unused"] += 1  # a newer body makes the older one useless
            self._available[key] = record
            return
        # Every request waiting for this resource gets the same (newest) body.
        for proto, request in waiting:
            self._answer(proto, request, record, record.ts)
        for proto in dict.fromkeys(proto for proto, _ in waiting):
            self._after(proto, record.ts)

    def _learn_instruments(self, spec: VenueSpec, record: CaptureRecord) -> None:
        try:
            instruments = spec.parse_instruments(record.data)
        except (RejectedInput, ValueError) as exc:
            self.errors["instruments_unparsable"] += 1
            log.warning("replay_instruments_unparsable", venue=spec.venue.value, error=str(exc))
            return
        symbols = self._symbol_maps[spec.venue]
        for instrument in instruments:
            symbols.add(instrument.native, instrument.symbol, instrument)

    def _learn_gomarket(self, venue: Venue, record: CaptureRecord) -> None:
        try:
            self._gomarket.learn(venue, record.data)
        except RejectedInput as exc:
            self.errors["instruments_unparsable"] += 1
            log.warning("replay_instruments_unparsable", venue=venue.value, error=str(exc))

    # -- protocol outputs -----------------------------------------------------------------

    def _after(self, proto: VenueProtocol, now: float) -> None:
        """Drain what the protocol produced: frames to send (dropped), requests, changes."""
        produced = proto.drain()
        if not produced:
            return
        if produced.trades:
            self._trades(produced.trades)
        changed = produced.changed
        requests = produced.requests
        # An answer available at once can make the protocol ask for more: drain until quiet.
        while requests:
            for request in requests:
                key = rest_key(request.url, request.params)
                response = self._available.pop(key, None)
                if response is None:
                    self._waiting.setdefault(key, []).append((proto, request))
                else:
                    self._answer(proto, request, response, now)
            more = proto.drain()
            requests = more.requests
            if more.trades:
                self._trades(more.trades)
            if more.changed:
                changed = changed | more.changed
        if changed:
            self._publish(proto, changed, now)

    def _trades(self, trades: Sequence[Trade]) -> None:
        last, counts = self.last_trades, self.trade_counts
        for trade in trades:
            counts[trade.key] += 1
            previous = last.get(trade.key)
            if previous is None or trade.when >= previous.when:
                last[trade.key] = trade

    def _answer(
        self, proto: VenueProtocol, request: RestRequest, response: CaptureRecord, now: float
    ) -> None:
        proto.on_rest(request, response.status, response.data, now)

    def _publish(self, proto: VenueProtocol, changed: frozenset[Symbol], now: float) -> None:
        books, current, callback = proto.books, self._current, self.on_books_changed
        keys: list[InstrumentKey] = []
        for symbol in changed:
            book = books.get(symbol)
            # Identity, not the key: hashing an InstrumentKey per frame costs more than this.
            if book is not None and id(book) not in current:
                self._adopt(book.key, book)
            if callback is not None:
                keys.append(InstrumentKey(proto.venue, symbol) if book is None else book.key)
        if callback is not None:
            callback(now, frozenset(keys))

    def _adopt(self, key: InstrumentKey, book: OrderBook) -> None:
        previous = self.books.get(key)
        if previous is not None:
            self._current.discard(id(previous))
        self._current.add(id(book))
        self.books[key] = book
        history = self._history.setdefault(key, [])
        if all(known is not book for known in history):
            history.append(book)


def _endpoint(spec: VenueSpec) -> _Endpoint:
    request = spec.instruments_request(None)
    parts = urlsplit(request.url)
    params = set(parse_qsl(parts.query)) | set(request.params)
    return _Endpoint(spec, parts.path.rstrip("/"), frozenset(params))


def _announced(replayer: Replayer, source: int, reader: CaptureReader) -> Iterator[CaptureRecord]:
    """The records of ``reader``; its header (read before the first record) goes first."""
    records = iter(reader)
    first = next(records, None)
    replayer.expect_header(reader.header, source, str(reader.path))
    if first is not None:
        yield first
        yield from records


def _timed(
    replayer: Replayer, source: int, reader: CaptureReader
) -> Iterator[tuple[float, int, CaptureRecord]]:
    # (ts, source) orders the merge and never ties: two records of one file are never in
    # the heap together. Without a key function heapq.merge is markedly faster.
    for record in _announced(replayer, source, reader):
        yield record.ts, source, record


def replay_files(
    paths: Sequence[Path],
    *,
    depth: int = 200,
    on_books_changed: BooksChanged | None = None,
    gomarket_max_lag_s: float = GOMARKET_MAX_LAG_S,
) -> ReplayResult:
    """Replay capture files (plain or .zst) merged by time; see ``ReplayResult.report``."""
    replayer = Replayer(
        depth=depth, on_books_changed=on_books_changed, gomarket_max_lag_s=gomarket_max_lag_s
    )
    return feed_files(replayer, paths)


def feed_files(replayer: Replayer, paths: Sequence[Path]) -> ReplayResult:
    """Feed the records of ``paths``, merged by time, to ``replayer``."""
    readers = [CaptureReader(Path(path)) for path in paths]
    if len(readers) == 1:
        feed = replayer.feed
        for record in _announced(replayer, 0, readers[0]):
            feed(record)
    else:
        streams = [_timed(replayer, source, reader) for source, reader in enumerate(readers)]
        for _, source, record in heapq.merge(*streams):
            replayer.feed(record, source)
    result = replayer.result(files=len(readers), headers=[r.header for r in readers])
    for reader in readers:
        result.errors.update(reader.errors)
        result.skipped.update(reader.skipped)
        result.problems += reader.problems
    return result
