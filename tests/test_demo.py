"""--demo: the whole market-data path on simulated venues, through the real protocols."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goquant_bot.app import DEMO_WATCH, build
from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Venue
from goquant_bot.settings import Settings
from tests.helpers import wait_until


async def test_demo_streams_live_books_from_all_four_venues(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        app={
            "demo": True,
            "mode": "headless",
            "data_dir": str(tmp_path / "data"),
            "shutdown_timeout_s": 3,
        },  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        observability={"port": 0},  # type: ignore[arg-type]
    )
    app = build(settings)
    assert app.market is not None
    hub = app.market.hub
    runner = asyncio.ensure_future(app.run())

    # Every venue listing a watched symbol streams it; Deribit lists only the USDC pair.
    expected = {
        f"{venue.value}:{symbol}"
        for venue in Venue
        for symbol in DEMO_WATCH
        if venue is not Venue.DERIBIT or symbol.quote == "USDC"
    }

    def all_live() -> bool:
        books = [b for feed in hub.feeds.values() for b in feed.books()]
        return len(books) == len(expected) and all(b.state is BookState.LIVE for b in books)

    await wait_until(all_live, within=10)
    assert {str(k) for k in hub.subscribed()} == expected
    for feed in hub.feeds.values():
        for book in feed.books():
            l1 = book.l1()
            assert l1.bid is not None
            assert l1.ask is not None
            assert l1.bid < l1.ask
            assert len(book.bids) >= 50
    assert (tmp_path / "data" / "instruments-demo").is_dir()
    app.request_stop()
    assert await asyncio.wait_for(runner, 10) == 0
