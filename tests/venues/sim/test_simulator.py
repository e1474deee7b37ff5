"""The demo simulator: a seeded model whose venue frames the real protocols turn into its books."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import replace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueUnavailable
from goquant_bot.venues import binance
from goquant_bot.venues.base import RestRequest, SymbolMap, VenueProtocol
from goquant_bot.venues.registry import VENUES
from goquant_bot.venues.sim.addresses import open_session
from goquant_bot.venues.sim.model import DEFAULT_VENUES, MarketModel, SimConfig
from goquant_bot.venues.sim.rest_routes import rest_answer
from goquant_bot.venues.sim.simulator import SIMULATED_LABEL, SimulatedVenues
from goquant_bot.venues.transport import WsConnection

START = 1_700_000_000.0
BTC_USDT = Symbol("BTC", "USDT")
BTC_USDC = Symbol("BTC", "USDC")
GAP_REASONS = {
    Venue.BINANCE: "gap",
    Venue.OKX: "seq_gap",
    Venue.BYBIT: "gap",
    Venue.DERIBIT: "change_id_gap",
    Venue.COINBASE: "seq_gap",
    Venue.KRAKEN: "checksum",
    Venue.BITFINEX: "seq_gap",
    # No sequence numbers: the lost diff arrives late, after a newer one that may already
    # leave the book crossed.
    Venue.BITSTAMP: "out_of_order|crossed",
    Venue.GATEIO: "gap",
    Venue.BITGET: "checksum",
    Venue.CRYPTOCOM: "seq_gap",
    Venue.HTX: "seq_gap",
    Venue.MEXC: "gap",
}
# Venues numbering messages per connection: a lost message rebuilds every book of it.
CONNECTION_SEQUENCE = frozenset({Venue.COINBASE, Venue.BITFINEX})
# Venues whose deepest book subscription is shallower than the simulated 300 levels.
MAX_LEVELS = {Venue.BITFINEX: 250, Venue.CRYPTOCOM: 50, Venue.HTX: 150}


def decode(proto: VenueProtocol, frame: str | bytes) -> str:
    """A frame as the driver hands it to the protocol (binary ones through decode_binary)."""
    text = frame if isinstance(frame, str) else proto.decode_binary(frame)
    assert text is not None
    return text


def calm(*venues: Venue, **changes: float) -> SimConfig:
    """The default market without rare events, restricted to some venues (faster)."""
    specs = tuple(v for v in DEFAULT_VENUES if v.venue in venues)
    return replace(SimConfig().calm(), venues=specs, **changes)


class Link:
    """A real protocol wired to a simulated session without sockets; REST answered inline."""

    def __init__(
        self, model: MarketModel, venue: Venue, depth: int = 300, rest_delay_ticks: int = 0
    ) -> None:
        spec = VENUES[venue]
        status, body = self._get(model, spec.instruments_request(None))
        assert status == 200
        instruments = spec.parse_instruments(body)
        self.model = model
        self.venue = venue
        self.proto: VenueProtocol = spec.protocol(
            SymbolMap.from_instruments(instruments), depth=depth
        )
        self.symbols = [i.symbol for i in instruments]
        self.rest_delay_ticks = rest_delay_ticks
        self.pending: list[tuple[int, RestRequest]] = []
        self.received: list[str] = []
        self.proto.subscribe(self.symbols, model.time)
        connect = self.proto.connect_request()  # KuCoin: the address comes from a token call
        if connect is not None:
            self.proto.on_rest(connect, *self._get(model, connect), model.time)
        self.session = open_session(model, self.proto.ws_url(), "c1")
        self.proto.on_open(model.time)
        self.exchange()

    @staticmethod
    def _get(model: MarketModel, request: RestRequest) -> tuple[int, str]:
        return rest_answer(model, request.url, request.params)

    def exchange(self) -> None:
        """Carry frames both ways (and due REST answers) until nobody has anything to say."""
        proto, session, now = self.proto, self.session, self.model.time
        proto.on_timer(now)  # as the driver does: keep-alives, frames held for a while
        outgoing: list[str] = []
        for _ in range(10):
            outgoing += self._take()
            sent, outgoing = outgoing, []
            for text in sent:
                session.on_text(text)
            session.pump()
            inbound = [decode(proto, frame) for frame in session.outbox]
            session.outbox.clear()
            for text in inbound:
                proto.on_frame(text, now)
            self.received += inbound
            outgoing += self._take()
            due = [r for t, r in self.pending if t <= self.model.tick]
            self.pending = [(t, r) for t, r in self.pending if t > self.model.tick]
            for request in due:
                proto.on_rest(request, *self._get(self.model, request), now)
            outgoing += self._take()
            if not (sent or inbound or due or outgoing):
                return

    def _take(self) -> tuple[str, ...]:
        """Drain the protocol: its REST requests wait their delay, its frames are returned."""
        produced = self.proto.drain()
        due_tick = self.model.tick + self.rest_delay_ticks
        self.pending += [(due_tick, request) for request in produced.requests]
        return produced.frames

    def assert_mirrors_model(self, levels: int) -> None:
        for symbol in self.symbols:
            book = self.proto.books[symbol]
            truth = self.model.book(self.venue, symbol)
            assert truth is not None
            assert book.state is BookState.LIVE, symbol
            assert book.bids.levels(levels) == truth.levels_float(True, levels), symbol
            assert book.asks.levels(levels) == truth.levels_float(False, levels), symbol


def run(model: MarketModel, links: list[Link], ticks: int) -> None:
    for _ in range(ticks):
        model.step()
        for link in links:
            link.exchange()


# -- the model -------------------------------------------------------------------------------


def test_the_model_is_a_function_of_its_seed() -> None:
    busy = replace(SimConfig(), gaps_per_hour=2000.0, dislocations_per_hour=5000.0)
    one, two, other = (MarketModel(busy, seed, START) for seed in (7, 7, 8))
    for model in (one, two, other):
        model.advance_to(START + 15.04)  # time is an argument: 150 ticks of 100 ms
    assert one.tick == two.tick == 150
    assert list(one.events) == list(two.events)
    assert any(e.kind == "dislocation" for e in one.events)
    for key, book in one.books.items():
        twin = two.books[key]
        assert (book.bids, book.asks, book.last_id) == (twin.bids, twin.asks, twin.last_id)
    assert one.books[(Venue.BINANCE, BTC_USDT)].bids != other.books[(Venue.BINANCE, BTC_USDT)].bids


def test_reference_prices_walk_together() -> None:
    model = MarketModel(calm(Venue.DERIBIT), 3, START)
    eth = Symbol("ETH", "USDC")
    moves: list[tuple[float, float]] = []
    last = model.reference(BTC_USDC), model.reference(eth)
    for _ in range(1500):
        model.step()
        now = model.reference(BTC_USDC), model.reference(eth)
        moves.append((math.log(now[0] / last[0]), math.log(now[1] / last[1])))
        last = now
    xs, ys = zip(*moves, strict=True)
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in moves)
    corr = cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))
    assert 0.6 < corr < 0.95  # configured at 0.8


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), vol_scale=st.sampled_from([1.0, 20.0]))
def test_every_book_stays_deep_and_uncrossed(seed: int, vol_scale: float) -> None:
    model = MarketModel(calm(Venue.DERIBIT, vol_scale=vol_scale), seed, START)
    for _ in range(40):
        model.step()
        for book in model.books.values():
            assert len(book.bids) == len(book.asks) == 300
            assert max(book.bids) < min(book.asks)
            assert min(book.bids.values()) > 0
            assert min(book.asks.values()) > 0


# -- frames through the real protocols --------------------------------------------------------


@pytest.mark.parametrize(
    ("venue", "depth"),
    [
        (Venue.BINANCE, 300),  # REST snapshot + diffs, whole book
        (Venue.OKX, 200),  # books: 400 levels, i.e. the whole simulated book
        (Venue.BYBIT, 200),  # orderbook.200: a top-200 view out of 300 levels
        (Venue.BYBIT, 300),  # orderbook.1000: the whole book
        (Venue.DERIBIT, 200),  # book.X.100ms: the whole book, new/change/delete
        (Venue.BITFINEX, 250),  # book P0 len 250: a top-250 view, checksums and sequence
        (Venue.BITSTAMP, 300),  # REST snapshot + diffs ordered by microtimestamp
        (Venue.GEMINI, 300),  # l2: the whole book first, then changes
        (Venue.BITGET, 300),  # books: the whole book, a checksum over the top 25 each time
        (Venue.CRYPTOCOM, 50),  # book.X.50 deltas chained by u/pu, a top-50 view
        (Venue.HTX, 150),  # mbp.150 pushes chained by seqNum on a req snapshot, a top-150 view
        (Venue.MEXC, 300),  # protobuf depth diffs chained by version on a REST snapshot
    ],
)
def test_frames_rebuild_the_simulated_books_level_by_level(venue: Venue, depth: int) -> None:
    model = MarketModel(calm(venue, quiet_prob=0.3), 11, START)
    link = Link(model, venue, depth)
    run(model, [link], 40)
    link.assert_mirrors_model(min(depth, 300))
    assert not link.proto.stats.errors
    assert all(link.proto.books[s].resyncs == 0 for s in link.symbols)


def test_instrument_lists_parse_with_each_venue_parser() -> None:
    model = MarketModel(SimConfig().calm(), 1, START)
    listed = {}
    for venue, spec in VENUES.items():
        request = spec.instruments_request(None)
        status, body = rest_answer(model, request.url, request.params)
        assert status == 200
        listed[venue] = {(str(i.symbol), i.native) for i in spec.parse_instruments(body)}
    majors = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USDC", "ETH-USDC"}
    assert {s for s, _ in listed[Venue.OKX]} == majors
    assert ("SOL-USDT", "SOLUSDT") in listed[Venue.BINANCE] & listed[Venue.BYBIT]
    assert listed[Venue.DERIBIT] == {("BTC-USDC", "BTC_USDC"), ("ETH-USDC", "ETH_USDC")}


# Gemini numbers nothing: a lost message goes unnoticed unless it leaves the book crossed.
# KuCoin's public snapshot holds 100 levels, which a moving market outruns (a planned rebuild):
# its own test counts gaps only (tests/venues/test_kucoin_sim.py).
@pytest.mark.parametrize("venue", [v for v in VENUES if v not in (Venue.GEMINI, Venue.KUCOIN)])
def test_a_lost_message_makes_the_protocol_resync_and_recover(venue: Venue) -> None:
    model = MarketModel(calm(venue, quiet_prob=0.0), 5, START)  # every tick sends
    # Kraken's checksum covers the top 10 levels only: a lost change deeper in the book goes
    # unseen until it reaches them, so this test holds 10 levels there.
    depth = 10 if venue is Venue.KRAKEN else MAX_LEVELS.get(venue, 300)
    # Binance: the new REST snapshot arrives three ticks late, behind buffered diffs.
    link = Link(model, venue, depth, rest_delay_ticks=3 if venue is Venue.BINANCE else 0)
    run(model, [link], 10)
    model.force_gap(venue, BTC_USDC)
    run(model, [link], 2)  # the message of the first tick is lost; the next one shows it
    book = link.proto.books[BTC_USDC]
    rebuilt = len(link.symbols) if venue in CONNECTION_SEQUENCE else 1
    assert book.resyncs == 1
    errors = link.proto.stats.errors
    # Coinbase counts the connection's gap once; Bitfinex counts it on every book it rebuilds.
    counted = 1 if venue is Venue.COINBASE else rebuilt
    assert sum(errors[reason] for reason in GAP_REASONS[venue].split("|")) == counted
    run(model, [link], 8)
    link.assert_mirrors_model(depth)
    assert sum(link.proto.books[s].resyncs for s in link.symbols) == rebuilt


def test_a_binance_snapshot_taken_inside_a_merged_diff_still_lines_up() -> None:
    """A diff lists every level touched over its U..u range, not only the net change, so
    a REST snapshot from the middle of that range plus the diff is the book at u."""
    model = MarketModel(calm(Venue.BINANCE, quiet_prob=0.0, vol_scale=30.0), 8, START)
    link = Link(model, Venue.BINANCE)
    run(model, [link], 5)
    link.assert_mirrors_model(300)
    proto, symbol = link.proto, BTC_USDT
    proto.resync(proto.books[symbol], "test", model.time)  # the next diff starts a new sync
    model.step()
    model.step()
    depth_url = "https://api.binance.com/api/v3/depth"
    snapshot = rest_answer(model, depth_url, (("symbol", "BTCUSDT"), ("limit", "1000")))
    model.step()
    model.step()
    link.session.pump()  # one diff covering the four ticks, snapshot time inside it
    for text in link.session.outbox:
        proto.on_frame(text, model.time)
    link.session.outbox.clear()
    (snapshot_request,) = [r for r in proto.drain().requests if r.symbol == symbol]
    proto.on_rest(snapshot_request, *snapshot, model.time)
    truth = model.book(Venue.BINANCE, symbol)
    assert truth is not None
    assert proto.books[symbol].state is BookState.LIVE
    assert proto.books[symbol].bids.levels() == truth.levels_float(True)
    assert proto.books[symbol].asks.levels() == truth.levels_float(False)


def test_a_client_too_far_behind_gets_a_broken_chain_and_resyncs() -> None:
    model = MarketModel(calm(Venue.BYBIT, history_ticks=5), 2, START)
    link = Link(model, Venue.BYBIT, depth=200)
    run(model, [], 12)  # nobody reads the connection for longer than the history
    run(model, [link], 2)
    assert all(link.proto.books[s].resyncs == 1 for s in link.symbols)
    run(model, [link], 3)
    link.assert_mirrors_model(200)


def test_a_dislocation_is_an_arbitrage_after_fees() -> None:
    model = MarketModel(calm(Venue.BINANCE, Venue.OKX), 9, START)
    links = [Link(model, Venue.BINANCE), Link(model, Venue.OKX)]

    def okx_over_binance() -> float:
        okx_bid = links[1].proto.books[BTC_USDT].l1().bid
        binance_ask = links[0].proto.books[BTC_USDT].l1().ask
        assert okx_bid is not None
        assert binance_ask is not None
        return okx_bid / binance_ask - 1.0

    fees = 0.001 + 0.001  # taker on both venues
    run(model, links, 20)
    assert okx_over_binance() < 0.0005  # a calm market offers nothing
    model.force_dislocation(Venue.OKX, BTC_USDT, 0.6, seconds=2.0)
    run(model, links, 3)
    assert okx_over_binance() > fees + 0.003
    run(model, links, 20)
    assert okx_over_binance() < 0.0005
    assert [e.kind for e in model.events] == ["dislocation"]


# -- venue behaviour of a session --------------------------------------------------------------


def replies(model: MarketModel, url: str, *frames: str) -> list[str]:
    session = open_session(model, url, "c1")
    for text in frames:
        session.on_text(text)
    session.pump()
    return session.outbox


def test_subscription_acks_and_errors_in_each_venue_format() -> None:
    model = MarketModel(SimConfig().calm(), 1, START)
    binance_out = replies(
        model,
        "wss://stream.binance.com:9443/stream",
        '{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}',
        '{"method":"LIST_SUBSCRIPTIONS","id":2}',
    )
    assert binance_out == ['{"result":null,"id":1}', '{"result":["btcusdt@depth@100ms"],"id":2}']

    okx_out = replies(
        model,
        "wss://ws.okx.com:8443/ws/v5/public",
        '{"id":"1","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}',
        '{"id":"2","op":"subscribe","args":[{"channel":"books","instId":"DOGE-USDT"}]}',
        "ping",
    )
    assert okx_out[:3] == [
        '{"id":"1","event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"c1"}',
        '{"id":"2","event":"error","code":"60018","msg":"Wrong URL or channel:books,'
        'instId:DOGE-USDT doesn\'t exist","connId":"c1"}',
        "pong",
    ]
    snapshot = orjson.loads(okx_out[3])
    assert snapshot["action"] == "snapshot"
    item = snapshot["data"][0]
    assert (item["prevSeqId"], item["checksum"], len(item["bids"][0])) == (-1, 0, 4)

    bybit_out = replies(
        model,
        "wss://stream.bybit.com/v5/public/spot",
        '{"req_id":"1","op":"subscribe","args":["orderbook.50.BTCUSDT"]}',
        '{"req_id":"2","op":"ping"}',
    )
    assert bybit_out[:2] == [
        '{"success":true,"ret_msg":"subscribe","conn_id":"c1","req_id":"1","op":"subscribe"}',
        '{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":"2","op":"ping"}',
    ]
    first = orjson.loads(bybit_out[2])
    assert (first["topic"], first["type"], len(first["data"]["b"])) == (
        "orderbook.50.BTCUSDT",
        "snapshot",
        50,
    )

    deribit_out = replies(
        model,
        "wss://www.deribit.com/ws/api/v2",
        '{"jsonrpc":"2.0","id":42,"method":"public/subscribe",'
        '"params":{"channels":["book.BTC_USDC.100ms","book.BTC_USDC.raw"]}}',
        '{"jsonrpc":"2.0","id":43,"method":"public/set_heartbeat","params":{"interval":5}}',
    )
    answers = [orjson.loads(text) for text in deribit_out]
    assert (answers[0]["id"], answers[0]["result"]) == (42, ["book.BTC_USDC.100ms"])
    assert (answers[1]["id"], answers[1]["error"]["code"]) == (43, -32602)
    notification = answers[2]["params"]
    assert notification["channel"] == "book.BTC_USDC.100ms"
    assert notification["data"]["type"] == "snapshot"
    assert notification["data"]["bids"][0][0] == "new"


def test_deribit_sends_test_requests_and_drops_a_silent_client() -> None:
    model = MarketModel(calm(Venue.DERIBIT), 1, START)
    session = open_session(model, "wss://www.deribit.com/ws/api/v2", "c1")
    session.on_text(
        '{"jsonrpc":"2.0","id":1,"method":"public/set_heartbeat","params":{"interval":10}}'
    )
    heartbeat = '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}'
    model.advance_to(START + 10.0)
    session.pump()
    assert session.outbox[-1] == heartbeat
    session.on_text('{"jsonrpc":"2.0","id":2,"method":"public/test","params":{}}')
    model.advance_to(START + 20.0)
    session.pump()
    assert session.outbox[-1] == heartbeat
    assert session.closed is None
    model.advance_to(START + 30.0)  # the second test_request was never answered
    session.pump()
    assert session.closed == "heartbeat test_request not answered"


def test_okx_keeps_a_quiet_book_alive_with_an_empty_update() -> None:
    model = MarketModel(calm(Venue.OKX, quiet_prob=0.5), 4, START)
    link = Link(model, Venue.OKX)
    run(model, [link], 20)
    pushes = [orjson.loads(t) for t in link.received if t.startswith('{"arg"')]
    empty = [p["data"][0] for p in pushes if not p["data"][0]["bids"] and not p["data"][0]["asks"]]
    assert empty
    assert all(item["prevSeqId"] == item["seqId"] for item in empty)
    link.assert_mirrors_model(300)


def test_a_stall_freezes_open_connections_only() -> None:
    model = MarketModel(calm(Venue.BYBIT), 6, START)
    old = Link(model, Venue.BYBIT)
    received = len(old.received)
    model.force_stall(Venue.BYBIT, seconds=3.0)
    run(model, [old], 10)
    assert len(old.received) == received  # not one frame while stalled
    fresh = Link(model, Venue.BYBIT)  # a reconnect during the stall works at once
    assert all(b.state is BookState.LIVE for b in fresh.proto.books.values())
    run(model, [old, fresh], 25)
    assert len(old.received) > received  # after the stall it resumes where it stopped
    assert not old.proto.stats.errors
    old.assert_mirrors_model(300)


# -- the asynchronous shell --------------------------------------------------------------------


async def test_a_connection_delivers_frames_until_the_book_is_live() -> None:
    # 10x model time and a 15 s bound: at 100x with 5 s this failed now and then on a loaded
    # 2-core machine.
    sim = SimulatedVenues(calm(Venue.BINANCE), seed=3, pace_s=0.001, time_scale=10.0)
    assert sim.label == SIMULATED_LABEL == "SIMULATED"
    request = binance.instruments_request()
    listing = await sim.http_get(request.url, request.params, 5.0)
    proto = binance.BinanceProtocol(
        SymbolMap.from_instruments(binance.parse_instruments(listing.body))
    )
    proto.subscribe([BTC_USDT], time.time())
    conn = await sim.connector(proto.ws_url())
    proto.on_open(time.time())
    book = proto.books[BTC_USDT]
    async with asyncio.timeout(15.0):
        while book.state is not BookState.LIVE:
            produced = proto.drain()
            for text in produced.frames:
                await conn.send(text)
            for rest in produced.requests:
                answer = await sim.http_get(rest.url, rest.params, 5.0)
                proto.on_rest(rest, answer.status, answer.body, time.time())
            proto.on_frame(await conn.recv(), time.time())
    bid, ask = book.bids.best_price(), book.asks.best_price()
    assert bid is not None
    assert ask is not None
    assert bid < ask
    assert abs(bid / sim.model.reference(BTC_USDT) - 1) < 0.001
    await conn.close()
    with pytest.raises(VenueUnavailable):
        await conn.recv()


async def read_until_closed(conn: WsConnection) -> None:
    while True:
        await conn.recv()


async def test_a_simulated_disconnect_surfaces_as_venue_unavailable() -> None:
    sim = SimulatedVenues(calm(Venue.BYBIT), seed=3, pace_s=0.001, time_scale=100.0)
    conn = await sim.connector("wss://stream.bybit.com/v5/public/spot")
    await conn.send('{"req_id":"1","op":"subscribe","args":["orderbook.50.BTCUSDT"]}')
    sim.model.force_disconnect(Venue.BYBIT)
    with pytest.raises(VenueUnavailable, match="simulated disconnect"):
        await asyncio.wait_for(read_until_closed(conn), 5.0)
    with pytest.raises(VenueUnavailable):
        await conn.send('{"req_id":"2","op":"ping"}')


@pytest.mark.parametrize(
    "url", ["wss://stream.bybit.com/v5/public/linear", "wss://example.com/ws", "not a url"]
)
async def test_the_connector_refuses_what_it_does_not_simulate(url: str) -> None:
    sim = SimulatedVenues(calm(Venue.BYBIT))
    with pytest.raises(VenueUnavailable):
        await sim.connector(url)


async def test_rest_errors_look_like_the_venue() -> None:
    sim = SimulatedVenues(calm(Venue.BINANCE))
    answer = await sim.http_get(
        "https://api.binance.com/api/v3/depth", (("symbol", "DOGEUSDT"), ("limit", "5")), 5.0
    )
    assert (answer.status, answer.body) == (400, '{"code":-1121,"msg":"Invalid symbol."}')
    depth = await sim.http_get(
        "https://api.binance.com/api/v3/depth", (("symbol", "BTCUSDT"), ("limit", "5")), 5.0
    )
    snapshot = orjson.loads(depth.body)
    truth = sim.model.book(Venue.BINANCE, BTC_USDT)
    assert truth is not None
    assert snapshot["lastUpdateId"] == truth.last_id
    assert len(snapshot["bids"]) == len(snapshot["asks"]) == 5


POLLED_DEPTH = {Venue.BITGET: 150, Venue.CRYPTOCOM: 50, Venue.HTX: 150}


@pytest.mark.parametrize("venue", sorted(POLLED_DEPTH))
def test_a_polled_book_mirrors_the_simulated_one(venue: Venue) -> None:
    model = MarketModel(calm(venue), 3, START)
    link = Link(model, venue, 300)
    run(model, [link], 3)
    link.proto.on_close(model.time)  # the stream is gone: books are kept from REST
    for symbol in link.symbols:
        request = link.proto.poll_request(symbol)
        assert request is not None
        link.proto.on_rest(request, *rest_answer(model, request.url, request.params), model.time)
        book = link.proto.books[symbol]
        truth = model.book(venue, symbol)
        assert truth is not None
        assert book.state is BookState.POLLED
        depth = POLLED_DEPTH[venue]
        assert book.bids.levels() == truth.levels_float(True, depth)
        assert book.asks.levels() == truth.levels_float(False, depth)
    assert not link.proto.stats.errors
