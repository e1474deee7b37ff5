"""A command router wired to the real hub (feeds not connected), directory, engines, registry
and monitor service."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.router import CommandRouter
from goquant_bot.bot.types import Button, CallbackAnswer, Caller, ChatType, Reply
from goquant_bot.bot.users import UserStore
from goquant_bot.domain.book import BookState, OrderBook
from goquant_bot.domain.events import Event
from goquant_bot.domain.instruments import Instrument, InstrumentKey, Symbol, Venue
from goquant_bot.engine.arb_records import ArbConfig
from goquant_bot.engine.arbitrage import ArbitrageEngine
from goquant_bot.engine.history import OpportunityStats
from goquant_bot.engine.market_view import MarketViewEngine
from goquant_bot.engine.quotes import ArbQuotes
from goquant_bot.engine.registry import MonitorRegistry
from goquant_bot.marketdata.directory import SymbolDirectory
from goquant_bot.marketdata.hub import HubConfig, MarketDataHub
from goquant_bot.monitors.dispatch import LocalDispatcher
from goquant_bot.monitors.events import EngineSignals
from goquant_bot.monitors.records import MonitorRecord
from goquant_bot.monitors.schema import record_to_dict, records_from_entries
from goquant_bot.monitors.service import MonitorLimits, MonitorService
from goquant_bot.venues.feed import FeedConfig, VenueFeed
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.transport import HttpResponse, WsConnection

BN, OK, BY, DB = Venue.BINANCE, Venue.OKX, Venue.BYBIT, Venue.DERIBIT
BTC, ETH, SOL = Symbol("BTC", "USDT"), Symbol("ETH", "USDT"), Symbol("SOL", "USDT")
DOGE, BTC_USDC = Symbol("DOGE", "USDT"), Symbol("BTC", "USDC")
LISTINGS: dict[Venue, list[Symbol]] = {
    BN: [BTC, ETH, SOL, DOGE, BTC_USDC],
    OK: [BTC, ETH, SOL],
    BY: [BTC, ETH],
    DB: [BTC_USDC],
}
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC

ALICE = Caller(user_id=11, chat_id=11, first_name="Alice", username="alice")
BOB = Caller(user_id=22, chat_id=22, first_name="Bob")
GROUP = -100_123
ALICE_IN_GROUP = Caller(11, GROUP, ChatType.SUPERGROUP, "Alice", "alice")
BOB_IN_GROUP = Caller(22, GROUP, ChatType.SUPERGROUP, "Bob")


async def _no_ws(url: str) -> WsConnection:
    raise AssertionError("not connected in these tests")


async def _no_http(url: str, params: tuple[tuple[str, str], ...], timeout_s: float) -> HttpResponse:
    raise AssertionError("no REST in these tests")


def _native(venue: Venue, symbol: Symbol) -> str:
    if venue is BN or venue is BY:
        return f"{symbol.base}{symbol.quote}"
    if venue is DB:
        return f"{symbol.base}_{symbol.quote}"
    return str(symbol)


@dataclass
class Entry:
    """An alert history entry as delivery keeps it."""

    ts: float
    monitor_id: str
    subject: str
    outcome: str
    detail: str = ""


class Bot:
    def __init__(
        self,
        tmp_path: Path,
        *,
        config: BotConfig | None = None,
        store: UserStore | None = None,
        records: Iterable[MonitorRecord] = (),
        now: float = T0,
        seq: int = 0,
        listings: Mapping[Venue, list[Symbol]] = LISTINGS,
    ) -> None:
        self.now = now
        self.seq = seq
        self.hub = MarketDataHub(HubConfig(unsubscribe_grace_s=0.0), clock=lambda: self.now)
        self.directory = SymbolDirectory(tmp_path / "instruments", 3600.0)
        for venue, symbols in listings.items():
            self.directory.set_instruments(
                venue, [Instrument(venue, s, _native(venue, s)) for s in symbols]
            )
            self.hub.add_feed(
                VenueFeed(
                    VENUES[venue].protocol,
                    self.directory.map_for(venue),
                    FeedConfig(),
                    connector=_no_ws,
                    http=_no_http,
                    on_change=self.hub.mark_changed,
                    clock=lambda: self.now,
                )
            )
        config = config or BotConfig(admin_ids=frozenset({99}))
        if config.venues == tuple(Venue):  # the bot reads the venues it has feeds for
            config = dataclasses.replace(config, venues=tuple(VENUES))
        arb_config = ArbConfig(fees_pct=dict.fromkeys(Venue, 0.1))
        self.arb = ArbitrageEngine(self.hub, arb_config)
        self.views = MarketViewEngine(self.hub)
        self.registry = MonitorRegistry(
            self.hub, self.directory.venues_listing, self.arb, self.views, clock=lambda: self.now
        )
        self.events = LocalDispatcher()
        self.monitors = MonitorService(
            self.registry,
            self.events,
            MonitorLimits(
                config.max_arb_per_user, config.max_views_per_user, config.max_monitors_total
            ),
            records=records,
            clock=lambda: self.now,
        )
        self.stats = OpportunityStats()
        self.published: list[Event] = []
        self.events.subscribe(EngineSignals, lambda batch: self.published.extend(batch.events))
        self.history: dict[int, list[Entry]] = {}
        self.router = CommandRouter(
            monitors=self.monitors,
            arbitrage=self.arb,
            market_view=self.views,
            quotes=ArbQuotes(self.hub, arb_config),
            directory=self.directory,
            hub=self.hub,
            stats=self.stats,
            config=config,
            store=store,
            history=lambda chat_id: self.history.get(chat_id, []),
            clock=lambda: self.now,
            new_id=self.new_id,
        )
        self.store = self.router.store

    def saved(self) -> tuple[UserStore, list[MonitorRecord]]:
        """The user store and the monitors as a restart reads them back from the state file."""
        users = json.loads(json.dumps(self.store.to_dict()))
        entries = json.loads(
            json.dumps([record_to_dict(r) for r in self.monitors.records.values()])
        )
        records, problems = records_from_entries(entries)
        assert problems == []
        return UserStore.from_dict(users), records

    def new_id(self, length: int) -> str:
        self.seq += 1
        return f"{'f' if length == 4 else 'm'}{self.seq:0{length - 1}d}"

    def say(self, text: str, caller: Caller = ALICE) -> list[Reply]:
        out = self.router.handle(caller, text)
        check_replies(out)
        return out

    def tap(self, data: str, caller: Caller = ALICE) -> tuple[CallbackAnswer, list[Reply]]:
        answer, out = self.router.press(caller, data)
        check_replies(out)
        return answer, out

    def book(self, venue: Venue, symbol: Symbol = BTC) -> OrderBook:
        book = self.hub.book(InstrumentKey(venue, symbol))
        if book is None:  # not streamed yet: subscribe as another monitor would
            self.hub.acquire(InstrumentKey(venue, symbol))
            book = self.hub.book(InstrumentKey(venue, symbol))
        assert book is not None
        return book

    def quote(
        self, venue: Venue, bid: float, ask: float, symbol: Symbol = BTC, size: float = 50.0
    ) -> OrderBook:
        """A live book with one level per side, refreshed now."""
        book = self.book(venue, symbol)
        book.bids.replace([(bid, size)])
        book.asks.replace([(ask, size)])
        book.state, book.recv_ts = BookState.LIVE, self.now
        return book


def check_replies(replies: Sequence[Reply]) -> None:
    for reply in replies:
        assert len(reply.text) < 4096, len(reply.text)
        for row in reply.buttons:
            for button in row:
                assert 1 <= len(button.data.encode()) <= 64


def text(replies: Sequence[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def buttons(replies: Sequence[Reply]) -> list[Button]:
    return [b for r in replies for row in r.buttons for b in row]


def data(replies: Sequence[Reply]) -> list[str]:
    return [b.data for b in buttons(replies)]


def button(replies: Sequence[Reply], label: str) -> str:
    """The callback data of the (only) button whose text contains ``label``."""
    found = [b.data for b in buttons(replies) if label in b.text]
    assert len(found) == 1, (label, [b.text for b in buttons(replies)])
    return found[0]
