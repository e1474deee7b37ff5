"""A venue read through ccxt against a local Upbit: its markets, its books behind our guards
(stalled, silent, crossed, REST mismatch), one symbol's failure kept to itself, its trades."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import TakerSide, Trade
from goquant_bot.marketdata.directory import SymbolDirectory, fetch_venue
from goquant_bot.supervisor import Backoff
from goquant_bot.venues.ccxt_books import GuardConfig
from goquant_bot.venues.ccxt_feed import CcxtFeed
from goquant_bot.venues.ccxt_markets import instruments_request, parse_instruments
from goquant_bot.venues.ccxt_net import CcxtMarketsHttp
from goquant_bot.venues.feed import FeedConfig
from goquant_bot.venues.transport import HttpResponse
from tests.fakes.upbit_server import FakeUpbit, FakeUpbitBook
from tests.helpers import wait_until

BTC = Symbol("BTC", "KRW")
ETH = Symbol("ETH", "KRW")
QUICK = GuardConfig(max_lag_s=0.5, silence_s=0.5, crosscheck_interval_s=3600.0)
FAST = Backoff(initial_s=0.01, max_s=0.05, jitter=0.0)


@dataclass
class Run:
    upbit: FakeUpbit
    feed: CcxtFeed
    trades: list[Trade] = field(default_factory=list)

    def state(self, symbol: Symbol) -> BookState | None:
        book = self.feed.book(symbol)
        return None if book is None else book.state

    def top(self, symbol: Symbol) -> tuple[float | None, float | None]:
        book = self.feed.book(symbol)
        assert book is not None
        return book.bids.best_price(), book.asks.best_price()


async def _plain_http(
    url: str, params: tuple[tuple[str, str], ...], timeout_s: float
) -> HttpResponse:
    return HttpResponse(599, "only ccxt addresses are asked here", {})


@asynccontextmanager
async def running(
    tmp_path: object,
    guard: GuardConfig = QUICK,
    reconnect: Backoff = FAST,
) -> AsyncIterator[Run]:
    books = {
        "KRW-BTC": FakeUpbitBook(100_000.0, 100_100.0),
        "KRW-ETH": FakeUpbitBook(5000.0, 5005.0),
    }
    async with FakeUpbit(books) as upbit:
        directory = SymbolDirectory(tmp_path, 3600.0)  # type: ignore[arg-type]
        config = FeedConfig(
            ws_base=upbit.ws_url,
            rest_base=upbit.url,
            reconnect=reconnect,
            rest_timeout_s=2.0,
        )
        feed = CcxtFeed(
            Venue.UPBIT,
            directory.map_for(Venue.UPBIT),
            config,
            guard,
            on_change=lambda venue, symbols: None,
            rest_per_minute=600,
            tick_s=0.02,
        )
        run = Run(upbit, feed)
        feed.on_trades = run.trades.extend
        # The venue's list comes through the directory's seam, as every venue's does.
        http = CcxtMarketsHttp(_plain_http, [feed])
        request = instruments_request(Venue.UPBIT, None)
        parse = lambda body: parse_instruments(Venue.UPBIT, body)  # noqa: E731
        assert await fetch_venue(directory, Venue.UPBIT, request, parse, http, 0.0, 10.0)
        assert [str(i.symbol) for i in directory.instruments(Venue.UPBIT)] == ["BTC-KRW", "ETH-KRW"]
        task = asyncio.ensure_future(feed.run())
        try:
            feed.add([BTC, ETH])
            await wait_until(lambda: run.state(BTC) is run.state(ETH) is BookState.LIVE, 10.0)
            yield run
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_books_arrive_unverified_with_the_venues_top(tmp_path: object) -> None:
    async with running(tmp_path) as run:
        assert run.top(BTC) == (100_000.0, 100_100.0)
        assert run.top(ETH) == (5000.0, 5005.0)
        assert run.feed.book(BTC).integrity is Integrity.UNVERIFIED  # type: ignore[union-attr]
        assert run.feed.protocol_cls.integrity is Integrity.UNVERIFIED
        assert run.feed.connected
        assert run.upbit.streams == {"KRW-BTC": 1, "KRW-ETH": 1}  # one client per book


async def test_a_stalled_book_turns_stale_while_the_other_stays_live(tmp_path: object) -> None:
    async with running(tmp_path) as run:
        run.upbit.stall("KRW-BTC")
        await wait_until(lambda: run.state(BTC) is BookState.STALE, 5.0)
        assert run.feed.state.stats.errors["lagging_book"] >= 1
        assert run.state(ETH) is BookState.LIVE
        run.upbit.books["KRW-BTC"].stalled_at_ms = None
        await wait_until(lambda: run.state(BTC) is BookState.LIVE, 5.0)


async def test_a_silent_book_is_marked_stale_and_its_stream_rebuilt(tmp_path: object) -> None:
    async with running(tmp_path) as run:
        run.upbit.books["KRW-BTC"].silent = True
        await wait_until(lambda: run.feed.state.stats.errors["silent_book"] >= 1, 5.0)
        await wait_until(lambda: run.upbit.streams["KRW-BTC"] >= 2, 5.0)
        assert run.state(ETH) is BookState.LIVE
        assert run.upbit.streams["KRW-ETH"] == 1
        run.upbit.books["KRW-BTC"].silent = False
        await wait_until(lambda: run.state(BTC) is BookState.LIVE, 5.0)


async def test_a_stopped_feed_leaves_no_book_live(tmp_path: object) -> None:
    async with running(tmp_path) as run:
        assert run.state(BTC) is BookState.LIVE
    # The feed's task ended with the context (as when the supervisor restarts it).
    assert run.state(BTC) is run.state(ETH) is BookState.SYNCING


async def test_a_book_silent_longer_than_its_back_off_still_comes_back(tmp_path: object) -> None:
    # Rebuild back-offs grow past the silence limit: the limit counts from when the new client
    # watches, not from when its back-off began, or the rebuilds would cancel each other.
    slow = Backoff(initial_s=0.3, max_s=1.0, jitter=0.0)
    async with running(tmp_path, reconnect=slow) as run:
        run.upbit.books["KRW-BTC"].silent = True
        await wait_until(lambda: run.feed.rebuilds >= 3, 10.0)
        run.upbit.books["KRW-BTC"].silent = False
        await wait_until(lambda: run.state(BTC) is BookState.LIVE, 5.0)


async def test_a_crossed_book_is_never_published_and_is_rebuilt(tmp_path: object) -> None:
    async with running(tmp_path) as run:
        seen_crossed = []
        book = run.feed.book(BTC)
        assert book is not None
        run.upbit.books["KRW-BTC"].crossed = True

        def crossed_and_counted() -> bool:
            seen_crossed.append(book.is_crossed() and book.state is BookState.LIVE)
            return run.feed.state.stats.errors["crossed"] >= 1 and run.upbit.streams["KRW-BTC"] >= 2

        await wait_until(crossed_and_counted, 5.0)
        assert not any(seen_crossed)
        assert book.state is not BookState.LIVE
        assert run.state(ETH) is BookState.LIVE
        run.upbit.books["KRW-BTC"].crossed = False
        await wait_until(lambda: run.state(BTC) is BookState.LIVE, 5.0)
        assert run.top(BTC) == (100_000.0, 100_100.0)


async def test_a_rest_mismatch_marks_the_book_bad_until_rebuilt(tmp_path: object) -> None:
    guard = GuardConfig(
        max_lag_s=5.0, silence_s=30.0, crosscheck_interval_s=0.1, tolerance_bps=50.0
    )
    async with running(tmp_path, guard) as run:
        await wait_until(lambda: run.feed.state.stats.skipped["crosscheck_ok"] >= 2, 5.0)
        assert run.upbit.rest_books["KRW-BTC"] >= 1
        run.upbit.books["KRW-BTC"].rest_offset = 1000.0  # 100 bps away from the stream
        await wait_until(lambda: run.feed.state.stats.errors["rest_mismatch"] >= 1, 5.0)
        await wait_until(lambda: run.upbit.streams["KRW-BTC"] >= 2, 5.0)
        assert run.feed.rebuilds >= 1
        assert run.feed.state.stats.errors["rest_mismatch"] == run.feed.rebuilds
        assert run.state(ETH) is BookState.LIVE
        run.upbit.books["KRW-BTC"].rest_offset = 0.0
        await wait_until(lambda: run.state(BTC) is BookState.LIVE, 5.0)


async def test_one_symbols_failing_stream_never_touches_the_other(tmp_path: object) -> None:
    async with running(tmp_path) as run:
        run.upbit.books["KRW-ETH"].refused = True
        await wait_until(lambda: run.feed.state.stats.errors["stream_error"] >= 2, 5.0)
        assert run.state(ETH) is not BookState.LIVE
        btc = run.feed.book(BTC)
        assert btc is not None
        updates = btc.updates
        await wait_until(lambda: btc.updates >= updates + 5, 5.0)
        assert btc.state is BookState.LIVE
        assert run.upbit.streams["KRW-BTC"] == 1
        run.upbit.books["KRW-ETH"].refused = False
        await wait_until(lambda: run.state(ETH) is BookState.LIVE, 5.0)


async def test_trades_are_read_on_demand(tmp_path: object) -> None:
    async with running(tmp_path) as run:
        run.feed.add_trades([BTC])
        assert run.feed.trade_symbols() == {BTC}
        await wait_until(lambda: len(run.trades) >= 2, 5.0)
        trade = run.trades[0]
        assert (trade.key.symbol, trade.price, trade.size) == (BTC, 100_000.0, 0.5)
        assert trade.side is TakerSide.SELL
        run.feed.remove_trades([BTC])
        assert run.feed.trade_symbols() == set()
