"""The demo reads a simulated venue through a simulated GoMarket gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

from goquant_bot.app import build
from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.gomarket import GoMarketProtocol
from goquant_bot.venues.sim import SimConfig
from goquant_bot.venues.sim.addresses import open_session
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.rest_routes import rest_answer
from tests.helpers import wait_until
from tests.test_demo import demo_settings, stop

BTC = Symbol("BTC", "USDT")


def test_the_simulated_gateway_lists_symbols_and_answers_books() -> None:
    model = MarketModel(SimConfig().calm(), 1, 1_800_000_000.0)
    status, body = rest_answer(model, "https://gomarket-api.goquant.io/api/symbols/okx/spot", ())
    assert status == 200
    assert "BTC-USDT" in body
    status, body = rest_answer(
        model, "https://gomarket-api.goquant.io/api/l1-orderbook/okx/BTC-USDT", ()
    )
    assert status == 200
    assert body.count("],[") == 0  # one level a side
    assert (
        rest_answer(model, "https://gomarket-api.goquant.io/api/l2-orderbook/okx/NOPE", ())[0]
        == 404
    )
    session = open_session(model, "wss://gomarket-api.goquant.io/ws/l2-orderbook/okx/BTC-USDT", "c")
    session.pump()
    assert '"exchange":"okx"' in session.outbox[0]


async def test_demo_reads_a_venue_through_the_simulated_gateway(tmp_path: Path) -> None:
    base = Settings(_env_file=None).venues
    venues = {v.value: getattr(base, v.value).model_dump() | {"enabled": False} for v in Venue}
    venues["okx"] |= {"enabled": True, "source": "gomarket"}
    venues["binance"] |= {"enabled": True}
    venues["bitmex"] |= {"enabled": True}  # not simulated: read through GoMarket, never listed
    settings = demo_settings(tmp_path / "data", venues=venues, gomarket={"enabled": True})
    app = build(settings)
    assert app.market is not None
    hub = app.market.hub
    assert issubclass(hub.feeds[Venue.OKX].protocol_cls, GoMarketProtocol)
    assert not issubclass(hub.feeds[Venue.BINANCE].protocol_cls, GoMarketProtocol)
    runner = asyncio.ensure_future(app.run())

    def live() -> bool:
        book = hub.book(InstrumentKey(Venue.OKX, BTC))
        return book is not None and book.state is BookState.LIVE

    await wait_until(live, within=10)
    book = hub.book(InstrumentKey(Venue.OKX, BTC))
    assert book is not None
    assert book.integrity is Integrity.SNAPSHOT
    assert book.venue_ts is not None
    await stop(app, runner)
