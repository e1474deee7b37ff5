"""The simulator's trades: each venue's wire format, read by the real protocol, on demand."""

from __future__ import annotations

import pytest

from goquant_bot.domain.instruments import Venue
from goquant_bot.domain.trades import TakerSide, Trade
from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.sim.addresses import open_session
from goquant_bot.venues.sim.model import DEFAULT_VENUES, MarketModel
from goquant_bot.venues.sim.rest_routes import rest_answer
from goquant_bot.venues.sim.sessions import VenueSession
from tests.venues.sim.test_simulator import START, calm, decode

SIM_VENUES = [spec.venue for spec in DEFAULT_VENUES]


class TradeLink:
    """A real protocol reading only trades from a simulated session (no sockets)."""

    def __init__(self, venue: Venue) -> None:
        self.model = MarketModel(calm(venue), seed=11, start=START)
        spec = VENUES[venue]
        request = spec.instruments_request(None)
        status, body = rest_answer(self.model, request.url, request.params)
        assert status == 200
        instruments = spec.parse_instruments(body)
        self.symbol = instruments[0].symbol
        self.proto: VenueProtocol = spec.protocol(SymbolMap.from_instruments(instruments))
        connect = self.proto.connect_request()  # KuCoin: the address comes from a token call
        if connect is not None:
            answer = rest_answer(self.model, connect.url, connect.params)
            self.proto.on_rest(connect, *answer, self.model.time)
        self.session: VenueSession = open_session(self.model, self.proto.ws_url(), "c1")
        self.trades: list[Trade] = []

    def exchange(self) -> None:
        model, proto, session = self.model, self.proto, self.session
        proto.on_timer(model.time)  # as the driver does: keep-alives, frames held for a while
        for _ in range(5):
            produced = proto.drain()
            self.trades += produced.trades
            for text in produced.frames:
                session.on_text(text)
            session.pump()
            inbound, session.outbox[:] = session.outbox[:], []
            for text in [decode(proto, frame) for frame in inbound]:
                proto.on_frame(text, model.time)
            after = proto.drain()  # KuCoin subscribes when the venue's welcome arrives
            self.trades += after.trades
            for text in after.frames:
                session.on_text(text)
            if not produced.frames and not inbound and not after.frames:
                return

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.model.step()
            self.exchange()


@pytest.mark.parametrize("venue", SIM_VENUES, ids=[v.value for v in SIM_VENUES])
def test_simulated_trades_arrive_when_asked_and_stop_after_release(venue: Venue) -> None:
    link = TradeLink(venue)
    link.proto.subscribe_trades([link.symbol], link.model.time)
    link.proto.on_open(link.model.time)
    link.run(40)  # 4 s: at least one trade every 3 s
    assert link.trades, f"{venue.value}: no trade in 4 s"
    book = link.model.book(venue, link.symbol)
    assert book is not None
    (bid, _), (ask, _) = book.top(True, 1)[0], book.top(False, 1)[0]
    mid = (float(book.price_text(bid)) + float(book.price_text(ask))) / 2
    for trade in link.trades:
        assert (trade.key.venue, trade.key.symbol) == (venue, link.symbol)
        assert abs(trade.price / mid - 1) < 0.01
        assert trade.size > 0
        assert trade.side in (TakerSide.BUY, TakerSide.SELL)
        assert trade.venue_ts is not None
        assert START <= trade.venue_ts <= link.model.time + 0.001
    assert not link.proto.stats.errors
    link.proto.unsubscribe_trades([link.symbol], link.model.time)
    link.exchange()
    seen = len(link.trades)
    link.run(40)
    assert len(link.trades) == seen
