"""Deribit protocol: JSON-RPC subscriptions, change_id chaining, heartbeats, polls, instruments."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.deribit import DeribitProtocol, instruments_request, parse_instruments
from tests.fakes import deribit_frames as dr

BTC = Symbol("BTC", "USDC")
ETH = Symbol("ETH", "USDC")
T0 = 1_700_000_000.0
BIDS = [("new", 42000.0, 0.5), ("new", 41999.5, 1.25)]
ASKS = [("new", 42000.5, 0.75), ("new", 42001.0, 2.0)]


def make(depth: int = 200) -> DeribitProtocol:
    proto = DeribitProtocol(SymbolMap([("BTC_USDC", BTC), ("ETH_USDC", ETH)]), depth=depth)
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def live(proto: DeribitProtocol, name: str = "BTC_USDC", change_id: int = 100) -> None:
    proto.on_frame(dr.book_notification("snapshot", name, change_id, None, BIDS, ASKS), T0)


def levels(proto: DeribitProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def sent(proto: DeribitProtocol) -> list[dict]:
    return [json.loads(f) for f in proto.drain().frames]


def test_open_sets_the_heartbeat_then_subscribes() -> None:
    proto = DeribitProtocol(SymbolMap())
    assert proto.ws_url() == "wss://www.deribit.com/ws/api/v2"
    proto.subscribe([BTC], T0)
    assert proto.drain().frames == ()  # not connected yet
    proto.on_open(T0)
    proto.subscribe([ETH], T0)
    proto.unsubscribe([BTC], T0)
    assert sent(proto) == [
        {"jsonrpc": "2.0", "id": 1, "method": "public/set_heartbeat", "params": {"interval": 30}},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "public/subscribe",
            "params": {"channels": ["book.BTC_USDC.100ms"]},
        },
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "public/subscribe",
            "params": {"channels": ["book.ETH_USDC.100ms"]},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "public/unsubscribe",
            "params": {"channels": ["book.BTC_USDC.100ms"]},
        },
    ]


def test_subscribe_is_split_by_the_per_request_limit() -> None:
    symbols = [Symbol(f"A{i}", "USDC") for i in range(120)]
    proto = DeribitProtocol(SymbolMap())
    proto.subscribe(symbols, T0)
    proto.on_open(T0)
    frames = sent(proto)[1:]
    assert [len(f["params"]["channels"]) for f in frames] == [50, 50, 20]
    assert frames[2]["params"]["channels"][-1] == "book.A119_USDC.100ms"


def test_snapshot_then_changes_build_the_book() -> None:
    proto = make()
    live(proto)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(42000.0, 0.5), (41999.5, 1.25)], [(42000.5, 0.75), (42001.0, 2.0)])
    assert book.venue_ts == 1700000000.123
    assert proto.drain().changed == {BTC}
    change = dr.book_notification(
        "change",
        "BTC_USDC",
        108,
        100,
        [("delete", 42000.0, 0.0), ("change", 41999.5, 3.0), ("new", 41999.0, 1.0)],
        [("new", 42000.25, 0.1), ("delete", 42001.0, 0.0)],
        timestamp=1700000000223,
    )
    proto.on_frame(change, T0 + 1)
    assert levels(proto) == ([(41999.5, 3.0), (41999.0, 1.0)], [(42000.25, 0.1), (42000.5, 0.75)])
    l1 = book.l1()
    assert (l1.bid, l1.bid_size, l1.ask, l1.ask_size) == (41999.5, 3.0, 42000.25, 0.1)
    assert (l1.venue_ts, l1.recv_ts, l1.state) == (1700000000.223, T0 + 1, BookState.LIVE)
    assert not proto.stats.errors


def test_change_id_mismatch_resubscribes_that_channel_only() -> None:
    proto = make()
    live(proto, "BTC_USDC", 100)
    live(proto, "ETH_USDC", 700)
    eth_before = levels(proto, ETH)
    proto.on_frame(dr.book_notification("change", "BTC_USDC", 130, 120, [], []), T0 + 1)
    btc = proto.books[BTC]
    assert btc.state is BookState.SYNCING
    assert btc.resyncs == 1
    assert levels(proto) == ([], [])
    assert proto.stats.errors["change_id_gap"] == 1
    assert [(f["method"], f["params"]) for f in sent(proto)] == [
        ("public/unsubscribe", {"channels": ["book.BTC_USDC.100ms"]}),
        ("public/subscribe", {"channels": ["book.BTC_USDC.100ms"]}),
    ]
    eth = proto.books[ETH]
    assert eth.state is BookState.LIVE
    assert eth.resyncs == 0
    assert levels(proto, ETH) == eth_before
    # Changes still in flight from the old subscription wait for the new snapshot.
    proto.on_frame(dr.book_notification("change", "BTC_USDC", 131, 130, [], []), T0 + 2)
    assert proto.stats.skipped["change_before_snapshot"] == 1
    assert btc.state is BookState.SYNCING
    live(proto, "BTC_USDC", 200)
    proto.on_frame(
        dr.book_notification("change", "BTC_USDC", 205, 200, [("new", 41000.0, 1.0)], []), T0 + 3
    )
    assert btc.state is BookState.LIVE
    assert btc.bids.size_at(41000.0) == 1.0


def test_test_request_is_answered_and_heartbeat_needs_nothing() -> None:
    proto = make()
    proto.on_frame(dr.heartbeat("heartbeat"), T0)
    assert proto.drain().frames == ()
    proto.on_frame(dr.heartbeat("test_request"), T0)
    assert sent(proto) == [{"jsonrpc": "2.0", "id": 3, "method": "public/test", "params": {}}]
    assert not proto.stats.errors


def test_results_are_silent_and_errors_counted() -> None:
    proto = make()
    proto.on_frame(dr.rpc_result(1, "ok"), T0)
    proto.on_frame(dr.rpc_result(2, ["book.BTC_USDC.100ms", "book.ETH_USDC.100ms"]), T0)
    assert not proto.stats.errors
    proto.on_frame(dr.rpc_error(2, 11050, "bad_request"), T0)
    proto.on_frame(dr.rpc_error(99), T0)
    assert proto.stats.errors == {"venue_error:11050": 1, "venue_error:10028": 1}


def test_crossed_book_resyncs() -> None:
    proto = make()
    live(proto)
    proto.on_frame(
        dr.book_notification("change", "BTC_USDC", 101, 100, [("new", 42000.5, 1.0)], []), T0
    )
    book = proto.books[BTC]
    assert book.state is BookState.SYNCING
    assert book.resyncs == 1
    assert proto.stats.errors["crossed"] == 1
    assert [f["method"] for f in sent(proto)] == ["public/unsubscribe", "public/subscribe"]


def _tampered(**changes: object) -> str:
    message = dr.book_message("change", "BTC_USDC", 101, 100, [("new", 41000.0, 1.0)], [])
    message["params"]["data"].update(changes)
    return json.dumps(message)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC_USDC.100ms","da',
        "[1, 2, 3]",
        '{"jsonrpc":"2.0","method":"subscription","params":"book"}',
        '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC_USDC.100ms","data":[]}}',
        _tampered(change_id="101"),
        _tampered(timestamp="soon"),
        _tampered(instrument_name=None),
        _tampered(bids=[["new", "abc", 1.0]]),
        _tampered(bids=[["new", 41000.0]]),
        _tampered(bids=[["add", 41000.0, 1.0]]),
        _tampered(asks={"new": 1}),
        _tampered(type="partial"),
        dr.heartbeat("what"),
    ],
)
def test_garbage_is_counted_and_leaves_the_book_unchanged(text: str) -> None:
    proto = make()
    live(proto)
    before = levels(proto)
    proto.on_frame(text, T0 + 1)
    assert sum(proto.stats.errors.values()) == 1
    assert levels(proto) == before
    assert proto.books[BTC].state is BookState.LIVE
    assert proto.drain().frames == ()


@pytest.mark.parametrize("track_all", [False, True])
def test_non_spot_instruments_are_skipped(track_all: bool) -> None:
    proto = DeribitProtocol(SymbolMap(), track_all=track_all)
    for name in ("BTC-PERPETUAL", "BTC_USDC-PERPETUAL", "BTC-27JUN25", "BTC-27JUN25-60000-C"):
        proto.on_frame(dr.book_notification("snapshot", name, 1, None, BIDS, ASKS), T0)
    assert proto.stats.skipped["not_spot"] == 4
    assert proto.books == {}


def test_track_all_builds_books_for_unsubscribed_symbols() -> None:
    proto = DeribitProtocol(SymbolMap(), track_all=True)
    proto.on_frame(dr.book_notification("snapshot", "SOL_USDC", 1, None, BIDS, ASKS), T0)
    sol = Symbol("SOL", "USDC")
    assert proto.books[sol].state is BookState.LIVE
    assert proto.symbols.symbol("SOL_USDC") == sol
    untracked = make()
    untracked.on_frame(dr.book_notification("snapshot", "SOL_USDC", 1, None, BIDS, ASKS), T0)
    assert untracked.stats.skipped["unsubscribed"] == 1


def test_other_channels_are_skipped() -> None:
    proto = make()
    grouped = dr.book_message("snapshot", "BTC_USDC", 1, None, BIDS, ASKS)
    grouped["params"]["channel"] = "book.BTC_USDC.none.10.100ms"
    proto.on_frame(json.dumps(grouped), T0)
    ticker = '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC_USDC.100ms","data":{}}}'
    proto.on_frame(ticker, T0)
    assert proto.stats.skipped == {
        "channel:book.BTC_USDC.none.10.100ms": 1,
        "channel:ticker.BTC_USDC.100ms": 1,
    }
    assert not proto.stats.errors


@pytest.mark.parametrize(("depth", "expected"), [(1, "1"), (20, "20"), (100, "100"), (200, "1000")])
def test_poll_request_uses_the_smallest_sufficient_depth(depth: int, expected: str) -> None:
    request = make(depth).poll_request(BTC)
    assert request is not None
    assert (request.purpose, request.symbol) == ("poll", BTC)
    assert request.url == "https://www.deribit.com/api/v2/public/get_order_book"
    assert request.params == (("instrument_name", "BTC_USDC"), ("depth", expected))


def test_poll_keeps_the_book_while_the_stream_is_down() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request is not None
    live(proto)
    proto.on_rest(request, 200, dr.order_book_body("BTC_USDC", [(1.0, 1.0)], [(2.0, 1.0)]), T0)
    assert proto.stats.skipped["rest:poll_unneeded"] == 1  # LIVE from the stream
    proto.on_close(T0 + 1)
    body = dr.order_book_body(
        "BTC_USDC", [(41990.0, 2.0)], [(42010.0, 3.0)], timestamp=1700000005000
    )
    proto.on_rest(request, 200, body, T0 + 2)
    book = proto.books[BTC]
    assert book.state is BookState.POLLED
    assert levels(proto) == ([(41990.0, 2.0)], [(42010.0, 3.0)])
    assert (book.recv_ts, book.venue_ts) == (T0 + 2, 1700000005.0)
    for status, text in [(200, '{"jsonrpc":"2.0","error":{"code":-32602}}'), (502, ""), (200, "x")]:
        proto.on_rest(request, status, text, T0 + 3)
    assert proto.stats.errors["rest:poll"] == 3
    assert book.state is BookState.POLLED
    proto.on_open(T0 + 4)
    live(proto)
    assert book.state is BookState.LIVE


def test_poll_of_a_quiet_synced_book_restarts_its_stream() -> None:
    proto = make()
    live(proto)
    book = proto.books[BTC]
    book.state = BookState.STALE  # the hub's verdict after a quiet spell
    request = proto.poll_request(BTC)
    assert request is not None
    proto.on_rest(request, 200, dr.order_book_body("BTC_USDC", [(1.0, 1.0)], [(2.0, 1.0)]), T0)
    assert book.state is BookState.POLLED
    assert [f["method"] for f in sent(proto)] == ["public/unsubscribe", "public/subscribe"]
    proto.on_frame(dr.book_notification("change", "BTC_USDC", 101, 100, [], []), T0)
    assert levels(proto) == ([(1.0, 1.0)], [(2.0, 1.0)])  # no change applies to polled data


@pytest.mark.parametrize(
    ("addr", "accepted"),
    [
        ("wss://www.deribit.com/ws/api/v2", True),
        ("wss://www.deribit.com/ws/api/v2/", True),
        ("ws://127.0.0.1:9000/ws/api/v2", True),
        ("wss://ws.okx.com:8443/ws/v5/public", False),
        ("wss://www.deribit.com/den/ws", False),
        ("wss://test.deribit.com/ws/api/v2", False),  # testnet
    ],
)
def test_accepts_address(addr: str, accepted: bool) -> None:
    assert DeribitProtocol.accepts_address(addr) is accepted


def test_instruments_request_and_parse() -> None:
    request = instruments_request()
    assert request.url == "https://www.deribit.com/api/v2/public/get_instruments"
    assert request.params == (("currency", "any"), ("kind", "spot"))
    assert request.purpose == "instruments"
    assert instruments_request("http://127.0.0.1:1").url.startswith("http://127.0.0.1:1/api/v2")
    body = dr.instruments_body(
        [
            dr.instrument("BTC_USDC", "BTC", "USDC", tick=1.0, min_amount=0.0001, cbe_routed=True),
            dr.instrument("ETH_USDC", "ETH", "USDC", tick=0.1, min_amount=0.001, cbe_routed=False),
            dr.instrument("STETH_ETH", "STETH", "ETH", tick=0.0001, min_amount=0.001),
            dr.instrument("OLD_USDC", "OLD", "USDC", active=False),
            dr.instrument("BTC_USDC-PERPETUAL", "BTC", "USDC", kind="future"),
        ]
    )
    instruments = parse_instruments(body)
    assert [(i.venue, i.symbol, i.native, i.routed_to) for i in instruments] == [
        (Venue.DERIBIT, BTC, "BTC_USDC", "coinbase"),
        (Venue.DERIBIT, ETH, "ETH_USDC", None),
        (Venue.DERIBIT, Symbol("STETH", "ETH"), "STETH_ETH", None),
    ]
    assert (instruments[0].tick_size, instruments[0].lot_size) == (1.0, 0.0001)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html>502</html>", "not JSON"),
        ("[]", "JSON object"),
        ('{"jsonrpc":"2.0","error":{"code":10028,"message":"too_many_requests"}}', "10028"),
        ('{"jsonrpc":"2.0","result":{}}', "not a list"),
        ('{"jsonrpc":"2.0","result":[{"instrument_name":"BTC_USDC","is_active":true}]}', "entry 0"),
        ('{"jsonrpc":"2.0","result":[7]}', "entry 0"),
    ],
)
def test_parse_instruments_rejects_garbage(body: str, message: str) -> None:
    with pytest.raises(VenueProtocolError, match=message):
        parse_instruments(body)


PRICES = st.integers(min_value=1, max_value=40)
AMOUNTS = st.sampled_from([0.1, 0.5, 1.0, 2.25, 10.0])
SNAPSHOT_SIDE = st.dictionaries(PRICES, AMOUNTS, max_size=12).map(lambda d: list(d.items()))
CHANGES = st.lists(st.tuples(PRICES, st.one_of(st.none(), AMOUNTS)), max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    snapshot=st.tuples(SNAPSHOT_SIDE, SNAPSHOT_SIDE),
    changes=st.lists(st.tuples(CHANGES, CHANGES, st.integers(1, 5)), max_size=15),
)
def test_changes_match_a_brute_force_model(snapshot: tuple, changes: list) -> None:
    """Bids at 0.5..39.5 and asks at 100.5..139.5 (never crossed); None amounts delete."""
    proto = make()
    model: tuple[dict[float, float], dict[float, float]] = ({}, {})

    def wire(side: dict[float, float], raw: list, offset: int) -> list[tuple[str, float, float]]:
        out = []
        for p, amount in raw:
            price = p + offset - 0.5
            if amount is None:
                out.append(("delete", price, 0.0))
                side.pop(price, None)
            else:
                out.append(("change" if price in side else "new", price, amount))
                side[price] = amount
        return out

    bids = wire(model[0], snapshot[0], 0)
    asks = wire(model[1], snapshot[1], 100)
    change_id = 1000
    proto.on_frame(dr.book_notification("snapshot", "BTC_USDC", change_id, None, bids, asks), T0)
    for raw_bids, raw_asks, step in changes:
        bids, asks = wire(model[0], raw_bids, 0), wire(model[1], raw_asks, 100)
        frame = dr.book_notification("change", "BTC_USDC", change_id + step, change_id, bids, asks)
        change_id += step
        proto.on_frame(frame, T0 + 1)
    book = proto.books[BTC]
    assert book.bids.levels() == sorted(model[0].items(), reverse=True)
    assert book.asks.levels() == sorted(model[1].items())
    assert book.resyncs == 0
    assert not proto.stats.errors
