"""A venue read through GoMarket: one WebSocket per book, each message a whole book, sans-I/O.

GoMarket's stream address is the subscription (``/ws/l2-orderbook/{exchange}/{symbol}``), so
a connection carries exactly one book. Its books carry no sequence or checksum (integrity
SNAPSHOT): a message is used only when its ``timestamp`` is newer than the last one and within
``max_lag_s`` of our clock, so a stalled upstream that keeps repeating an old book ages out
like a silent one; a crossed book is dropped until a sane one arrives.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from goquant_bot.domain.book import BookState, Integrity, OrderBook
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.logging import get_logger
from goquant_bot.venues import gomarket_format as fmt
from goquant_bot.venues.base import RestRequest, VenueProtocol
from goquant_bot.venues.levels import LOOPBACK_HOSTS, apply_polled

log = get_logger(__name__)

WS_HOSTS = frozenset({"gomarket-api.goquant.io"})


class GoMarketProtocol(VenueProtocol):
    """One GoMarket L2 stream (one book) of one exchange; subclassed per venue."""

    exchange: ClassVar[str] = ""
    default_ws_base: ClassVar[str] = fmt.DEFAULT_WS_BASE
    default_rest_base: ClassVar[str] = fmt.DEFAULT_BASE
    integrity: ClassVar[Integrity] = Integrity.SNAPSHOT
    max_symbols_per_connection: ClassVar[int] = 1
    max_symbols_per_request: ClassVar[int] = 1
    has_trades: ClassVar[bool] = False
    # A message stamped longer ago than this (or this far ahead) is not used.
    max_lag_s: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_ts: dict[Symbol, float] = {}
        self._lagging: set[Symbol] = set()  # told once per run of stale messages

    @classmethod
    def accepts_address(cls, addr: str) -> bool:
        stream = stream_of(addr)
        return stream is not None and stream[0] == cls.exchange

    def ws_url(self) -> str:
        streamed = next(iter(self.books), None)
        if streamed is None:
            return self.ws_base
        return f"{self.ws_base}{fmt.ws_path(self.exchange, self.native_name(streamed))}"

    def native_name(self, symbol: Symbol) -> str:
        native = self.symbols.native(symbol)
        if native is None:
            native = f"{symbol.base}{fmt.SEPARATORS.get(self.exchange, '')}{symbol.quote}"
            self.symbols.add(native, symbol)
        return native

    # The stream address is the subscription: nothing is ever sent.
    def _send_subscribe(self, symbols: list[Symbol], now: float) -> None:
        for symbol in symbols:
            self._last_ts.pop(symbol, None)

    def _send_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        """Nothing to send: the connection ends when its book is released."""

    def _send_trade_subscribe(self, symbols: list[Symbol], now: float) -> None:
        """GoMarket has no trade stream."""

    def _send_trade_unsubscribe(self, symbols: list[Symbol], now: float) -> None:
        """GoMarket has no trade stream."""

    def _forget(self, symbol: Symbol) -> None:
        self._last_ts.pop(symbol, None)
        self._lagging.discard(symbol)

    def probe(self, now: float) -> None:
        """GoMarket has no application ping; the WebSocket's own pings keep the link."""

    def on_frame(self, text: str, now: float) -> None:
        book = next(iter(self.books.values()), None)
        if book is None:
            self.stats.skipped["unsubscribed"] += 1
            return
        try:
            msg = fmt.parse_book(text)
        except VenueProtocolError as exc:
            self.bad_frame(_reason(str(exc)), text)
            return
        native = self.native_name(book.key.symbol)
        if (msg.symbol is not None and msg.symbol != native) or (
            msg.exchange is not None and msg.exchange != self.exchange
        ):
            self.bad_frame("wrong_book", text)
            return
        if self._usable(book, msg.ts, now, text):
            self._replace(book, msg, now)

    def _usable(self, book: OrderBook, ts: float | None, now: float, text: str) -> bool:
        """Whether a book stamped ``ts`` may refresh ``book`` (fresh, newer than the last)."""
        symbol = book.key.symbol
        if ts is None:
            self.bad_frame("no_timestamp", text)
            return False
        if ts < now - self.max_lag_s:
            self.stats.errors["stale_message"] += 1
            if symbol not in self._lagging:
                self._lagging.add(symbol)
                log.warning(
                    "gomarket_stale_book",
                    venue=self.venue.value,
                    symbol=str(symbol),
                    lag_s=round(now - ts, 3),
                )
            return False
        self._lagging.discard(symbol)
        if ts > now + self.max_lag_s:
            self.bad_frame("future_timestamp", text)
            return False
        last = self._last_ts.get(symbol)
        if last is not None and ts <= last:
            self.stats.skipped["not_newer"] += 1
            return False
        return True

    def _replace(self, book: OrderBook, msg: fmt.GoMarketBook, now: float) -> None:
        if not msg.bids and not msg.asks:
            self.resync(book, "empty_book", now)
            return
        self._last_ts[book.key.symbol] = msg.ts or now
        book.bids.replace([lv for lv in msg.bids if lv[1] > 0])
        book.asks.replace([lv for lv in msg.asks if lv[1] > 0])
        book.bids.trim(self.depth)
        book.asks.trim(self.depth)
        self.mark_live(book, now, msg.ts)  # a crossed book is cleared until a sane one comes

    def _restart_book(self, book: OrderBook, now: float) -> None:
        """Every message is a whole book: the next sane one restores it."""

    # -- REST -----------------------------------------------------------------------------

    def poll_request(self, symbol: Symbol) -> RestRequest | None:
        native = self.native_name(symbol)
        return RestRequest(
            venue=self.venue,
            url=f"{self.rest_base}{fmt.l2_path(self.exchange, native)}",
            params=(),
            weight=1,
            purpose="poll",
            symbol=symbol,
        )

    def on_rest(self, request: RestRequest, status: int, body: str, now: float) -> None:
        symbol = request.symbol
        book = self.books.get(symbol) if symbol is not None else None
        if book is None or request.purpose != "poll":
            super().on_rest(request, status, body, now)
            return
        if book.state is BookState.LIVE:
            self.stats.skipped["rest:poll_unneeded"] += 1
            return
        try:
            if status != 200:
                msg = f"GoMarket poll: HTTP {status}"
                raise VenueProtocolError(msg)
            polled = fmt.parse_book(body)
        except VenueProtocolError as exc:
            self.stats.errors["rest:poll"] += 1
            log.warning("rest_rejected", venue=self.venue.value, reason=str(exc))
            return
        if self._usable(book, polled.ts, now, body):
            self._last_ts[book.key.symbol] = polled.ts or now
            apply_polled(self, book, polled.bids, polled.asks, now, polled.ts)


def stream_of(addr: str) -> tuple[str, str] | None:
    """The exchange id and native symbol a GoMarket stream address names (GoMarket's host or
    a loopback test host); None for any other address."""
    parts = urlsplit(addr if "://" in addr else f"wss://{addr}")
    if parts.hostname not in WS_HOSTS and parts.hostname not in LOOPBACK_HOSTS:
        return None
    pieces = parts.path.split("/")
    if len(pieces) != 5 or pieces[:3] != ["", "ws", "l2-orderbook"]:
        return None
    exchange, native = pieces[3], unquote(pieces[4])
    return (exchange, native) if exchange and native else None


def _reason(error: str) -> str:
    return "bad_json" if error == "not JSON" else "bad_book"


@cache
def protocol_for(venue: Venue, max_lag_s: float = 10.0) -> type[GoMarketProtocol]:
    """The GoMarket protocol class of one venue (made once per venue and lag)."""
    name = f"GoMarket{venue.name.title().replace('_', '')}Protocol"
    attrs = {
        "venue": venue,
        "exchange": fmt.exchange_id(venue),
        "max_lag_s": max_lag_s,
        "__module__": __name__,
    }
    return type(name, (GoMarketProtocol,), attrs)


def instruments_request(venue: Venue, base: str | None) -> RestRequest:
    """GoMarket's spot symbol list of one exchange."""
    return RestRequest(
        venue=venue,
        url=f"{base or fmt.DEFAULT_BASE}{fmt.symbols_path(fmt.exchange_id(venue))}",
        params=(),
        weight=1,
        purpose="instruments",
    )


def parse_instruments(venue: Venue, body: str) -> list[Instrument]:
    return fmt.parse_symbols(venue, body)


def l1_request(venue: Venue, native: str, base: str | None, symbol: Symbol) -> RestRequest:
    """GoMarket's best bid and ask of one book (parsed with ``gomarket_format.parse_book``)."""
    return RestRequest(
        venue=venue,
        url=f"{base or fmt.DEFAULT_BASE}{fmt.l1_path(fmt.exchange_id(venue), native)}",
        params=(),
        weight=1,
        purpose="l1",
        symbol=symbol,
    )
