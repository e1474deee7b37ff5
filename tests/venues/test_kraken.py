"""Kraken spot protocol: subscriptions, checksum, truncation, resync of one book, REST, v1."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState
from goquant_bot.domain.instruments import Instrument, Symbol, Venue
from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.base import SymbolMap
from goquant_bot.venues.kraken import KrakenProtocol, subscription_depth
from goquant_bot.venues.kraken_rest import kraken_checksum, parse_instruments, places
from tests.fakes import kraken_frames as kr

BTC = Symbol("BTC", "USD")
ETH = Symbol("ETH", "USD")
T0 = 1_700_000_000.0
BIDS = [("45283.5", "0.10000000"), ("45283.4", "1.20000000")]
ASKS = [("45285.2", "0.00100000"), ("45286.0", "2.50000000")]


def make(depth: int = 10) -> KrakenProtocol:
    proto = KrakenProtocol(SymbolMap([("BTC/USD", BTC), ("ETH/USD", ETH)]), depth=depth)
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def levels(proto: KrakenProtocol, symbol: Symbol = BTC) -> tuple[list, list]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def sent(proto: KrakenProtocol) -> list[dict]:
    out = [json.loads(f) for f in proto.drain().frames]
    return out


def test_subscribe_frames_carry_the_depth_and_batches() -> None:
    assert [subscription_depth(n) for n in (1, 10, 11, 200, 600, 5000)] == [
        10, 10, 25, 500, 1000, 1000,
    ]  # fmt: skip
    symbols = [Symbol(f"A{i}", "USD") for i in range(25)]
    proto = KrakenProtocol(SymbolMap(), depth=200)
    assert proto.ws_url() == "wss://ws.kraken.com/v2"
    proto.subscribe(symbols, T0)
    assert proto.drain().frames == ()
    proto.on_open(T0)
    frames = sent(proto)
    assert [len(f["params"]["symbol"]) for f in frames] == [20, 5]
    assert frames[0] == {
        "method": "subscribe",
        "params": {
            "channel": "book",
            "symbol": [f"A{i}/USD" for i in range(20)],
            "depth": 500,
            "snapshot": True,
        },
        "req_id": 1,
    }
    proto.unsubscribe([symbols[0]], T0)
    assert sent(proto) == [
        {
            "method": "unsubscribe",
            "params": {"channel": "book", "symbol": ["A0/USD"], "depth": 500},
            "req_id": 3,
        }
    ]


def test_snapshot_and_updates_with_their_checksums() -> None:
    proto = make()
    proto.on_frame(kr.status(), T0)
    proto.on_frame(kr.ack("subscribe", "BTC/USD"), T0)
    proto.on_frame(kr.book_frame("snapshot", "BTC/USD", BIDS, ASKS), T0)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(45283.5, 0.1), (45283.4, 1.2)], [(45285.2, 0.001), (45286.0, 2.5)])
    assert book.venue_ts == pytest.approx(kr.TS)
    after = ([("45284.0", "0.50000000"), ("45283.4", "1.20000000")], ASKS)
    update = kr.book_frame(
        "update",
        "BTC/USD",
        [("45283.5", "0.00000000"), ("45284.0", "0.50000000")],
        book=after,
        timestamp="2023-10-06T17:35:56.5Z",
    )
    proto.on_frame(update, T0 + 1)
    assert book.state is BookState.LIVE
    assert levels(proto)[0] == [(45284.0, 0.5), (45283.4, 1.2)]
    assert (book.venue_ts, book.updates, book.resyncs) == (1696613756.5, 2, 0)
    proto.on_frame(kr.heartbeat(), T0 + 2)
    assert proto.last_heartbeat == T0 + 2
    assert not proto.stats.errors
    assert proto.drain().frames == ()


def test_the_book_is_cut_to_the_subscribed_depth_before_the_checksum() -> None:
    proto = make(depth=10)
    bids = [(f"{100 - i}.0", "1.000") for i in range(10)]
    asks = [(f"{101 + i}.0", "1.000") for i in range(10)]
    proto.on_frame(kr.book_frame("snapshot", "BTC/USD", bids, asks), T0)
    # A new best bid pushes the tenth one out; Kraken never sends its deletion.
    after = ([("100.5", "2.000"), *bids[:9]], asks)
    proto.on_frame(kr.book_frame("update", "BTC/USD", [("100.5", "2.000")], book=after), T0 + 1)
    book = proto.books[BTC]
    assert (book.state, len(book.bids)) == (BookState.LIVE, 10)
    assert book.bids.levels()[-1] == (92.0, 1.0)
    # The best bid leaves: the book has nine bids until Kraken sends the next one in.
    after = (bids[:9], asks)
    proto.on_frame(kr.book_frame("update", "BTC/USD", [("100.5", "0.000")], book=after), T0 + 2)
    assert (book.state, len(book.bids)) == (BookState.LIVE, 9)
    assert not proto.stats.errors


def test_a_checksum_mismatch_resyncs_that_book_only() -> None:
    proto = make()
    proto.on_frame(kr.book_frame("snapshot", "BTC/USD", BIDS, ASKS), T0)
    proto.on_frame(
        kr.book_frame("snapshot", "ETH/USD", [("3000.10", "1.0")], [("3000.20", "2.0")]), T0
    )
    eth_before = levels(proto, ETH)
    stale = kr.checksum_of(BIDS, ASKS)  # the book before the update, not after
    proto.on_frame(
        kr.book_frame("update", "BTC/USD", [("45283.6", "1.00000000")], checksum=stale), T0 + 1
    )
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs) == (BookState.SYNCING, 1)
    assert levels(proto) == ([], [])
    assert (eth.state, eth.resyncs, levels(proto, ETH)) == (BookState.LIVE, 0, eth_before)
    assert proto.stats.errors["checksum"] == 1
    assert [(f["method"], f["params"]["symbol"]) for f in sent(proto)] == [
        ("unsubscribe", ["BTC/USD"]),
        ("subscribe", ["BTC/USD"]),
    ]
    # Updates before the new snapshot are not applied; the snapshot brings the book back.
    proto.on_frame(kr.book_frame("update", "BTC/USD", [("45283.6", "1.00000000")]), T0 + 2)
    assert proto.stats.skipped["update_before_snapshot"] == 1
    proto.on_frame(kr.book_frame("snapshot", "BTC/USD", BIDS, ASKS), T0 + 3)
    assert btc.state is BookState.LIVE


def test_a_crossed_book_and_a_bad_level_resync() -> None:
    proto = make()
    proto.on_frame(kr.book_frame("snapshot", "BTC/USD", BIDS, ASKS), T0)
    crossed = ([("45290.0", "1.00000000"), *BIDS], ASKS)
    proto.on_frame(
        kr.book_frame("update", "BTC/USD", [("45290.0", "1.00000000")], book=crossed), T0
    )
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["crossed"] == 1
    proto.on_frame(kr.book_frame("snapshot", "ETH/USD", [("1.0", "1.0")], [("2.0", "1.0")]), T0)
    bad = '{"channel":"book","type":"update","data":[{"symbol":"ETH/USD","bids":[{"price":"x","qty":1.0}],"asks":[],"checksum":1}]}'
    proto.on_frame(bad, T0)
    assert proto.books[ETH].state is BookState.SYNCING
    assert proto.stats.errors["bad_level"] == 1
    proto.on_frame("{oops", T0)
    proto.on_frame('{"channel":"book","type":"update","data":[{"symbol":"BTC/USD"}]}', T0)
    assert proto.stats.errors["invalid_json"] == 1
    assert proto.stats.errors["bad_book"] == 1


def test_trailing_zeros_lost_by_a_re_encoding_are_restored_for_the_checksum() -> None:
    """A recorder that re-encoded frames as JSON numbers wrote 0.001 for 0.00100000."""
    proto = make()
    full = ([("45283.5", "0.10000000"), ("45283.4", "1.23456789")], ASKS)
    trimmed = (
        [("45283.5", "0.1"), ("45283.4", "1.23456789")],
        [("45285.2", "0.001"), ("45286.0", "2.5")],
    )
    frame = kr.book_frame("snapshot", "BTC/USD", *trimmed, checksum=kr.checksum_of(*full))
    proto.on_frame(frame, T0)
    assert proto.books[BTC].state is BookState.LIVE
    assert not proto.stats.errors


def test_replies_and_errors() -> None:
    proto = make()
    proto.probe(T0)
    (ping,) = sent(proto)
    assert ping["method"] == "ping"
    proto.on_frame(kr.pong(ping["req_id"]), T0 + 0.1)
    assert proto.last_pong == T0 + 0.1
    proto.on_frame(kr.error("subscribe", "NOPE/USD"), T0)
    assert proto.stats.errors["subscribe_failed"] == 1
    proto.on_timer(T0 + 31)
    assert [f["method"] for f in sent(proto)] == ["ping"]
    proto.on_frame('{"channel":"ticker","type":"update","data":[]}', T0)
    assert proto.stats.skipped["channel:ticker"] == 1


def test_a_subscription_refused_for_the_message_rate_is_sent_again() -> None:
    proto = make()
    proto.on_frame(kr.error("subscribe", "BTC/USD", "EAPI:Rate limit exceeded"), T0)
    proto.on_frame(kr.error("subscribe", "NOPE/USD"), T0)  # not ours, not a rate problem
    proto.on_timer(T0 + 1)
    assert sent(proto) == []
    proto.on_timer(T0 + 5)
    assert [(f["method"], f["params"]["symbol"]) for f in sent(proto)] == [
        ("subscribe", ["BTC/USD"])
    ]
    proto.on_timer(T0 + 10)
    assert sent(proto) == []
    assert proto.stats.errors["subscribe_failed"] == 2


def test_replay_mode_reads_v1_frames_and_renames_xbt_and_xdg() -> None:
    proto = KrakenProtocol(SymbolMap(), track_all=True)
    proto.on_frame(kr.v1_status(336, "XBT/USD"), T0)
    proto.on_frame(kr.v1_snapshot(336, "XBT/USD", BIDS, ASKS), T0)
    proto.on_frame(
        kr.v1_snapshot(
            337, "XDG/EUR", [("0.0812000", "100.00000000")], [("0.0813000", "5.00000000")]
        ),
        T0,
    )
    after = ([("45283.6", "1.00000000"), *BIDS], [("45285.2", "0.50000000"), ASKS[1]])
    update = kr.v1_update(
        336,
        "XBT/USD",
        [("45283.6", "1.00000000")],
        [("45285.2", "0.50000000")],
        kr.checksum_of(*after),
    )
    proto.on_frame(update, T0 + 1)
    btc, doge = proto.books[BTC], proto.books[Symbol("DOGE", "EUR")]
    assert (btc.state, doge.state) == (BookState.LIVE, BookState.LIVE)
    assert btc.bids.best() == (45283.6, 1.0)
    assert btc.asks.best() == (45285.2, 0.5)
    assert btc.venue_ts == pytest.approx(1696613756.5)
    proto.on_frame(
        kr.v1_update(336, "XBT/USD", [("45283.7", "1.00000000")], checksum=12345), T0 + 2
    )
    assert btc.state is BookState.SYNCING
    assert proto.stats.errors["checksum"] == 1


def test_poll_uses_rest_depth_under_the_legacy_name() -> None:
    proto = make()
    request = proto.poll_request(BTC)
    assert request is not None
    assert request.url == "https://api.kraken.com/0/public/Depth"
    assert request.params == (("pair", "XBTUSD"), ("count", "10"))
    proto.on_rest(request, 200, kr.depth_body("XXBTZUSD", BIDS, ASKS), T0 + 5)
    book = proto.books[BTC]
    assert book.state is BookState.POLLED
    assert book.bids.best() == (45283.5, 0.1)
    assert book.venue_ts == 1696613755.0
    proto.on_rest(request, 200, '{"error":["EQuery:Unknown asset pair"]}', T0 + 6)
    assert proto.stats.errors["poll_invalid"] == 1
    assert book.state is BookState.POLLED


def test_addresses() -> None:
    assert KrakenProtocol.accepts_address("wss://ws.kraken.com/v2")
    assert KrakenProtocol.accepts_address("wss://ws.kraken.com")  # v1, other recorders
    assert not KrakenProtocol.accepts_address("wss://ws-auth.kraken.com/v2")
    assert not KrakenProtocol.accepts_address("wss://futures.kraken.com/ws/v1")


def test_instruments_from_asset_pairs() -> None:
    body = kr.asset_pairs_body(
        {
            "XXBTZUSD": kr.asset_pair("XBT/USD", altname="XBTUSD"),
            "XDGUSD": kr.asset_pair("XDG/USD", pair_decimals=7, lot_decimals=8, tick_size=None),
            "ETHUSDT": kr.asset_pair("ETH/USDT", pair_decimals=2, tick_size="0.01"),
            "XXBTZUSD.d": {**kr.asset_pair("XBT/USD"), "wsname": None},
            "OLDUSD": kr.asset_pair("OLD/USD", status="delisted"),
        }
    )
    found = [(str(i.symbol), i.native, i.tick_size, i.lot_size) for i in parse_instruments(body)]
    assert found == [
        ("BTC-USD", "BTC/USD", 0.1, 1e-8),
        ("DOGE-USD", "DOGE/USD", 1e-7, 1e-8),
        ("ETH-USDT", "ETH/USDT", 0.01, 1e-8),
    ]
    assert {i.venue for i in parse_instruments(body)} == {Venue.KRAKEN}
    with pytest.raises(VenueProtocolError):
        parse_instruments('{"error":["EGeneral:Temporary lockout"]}')


@pytest.mark.parametrize(
    ("step", "expected"), [(0.1, 1), (1e-08, 8), (0.00005, 5), (1.0, 0), (10.0, 0), (None, 0)]
)
def test_places_of_a_tick_or_lot_size(step: float | None, expected: int) -> None:
    assert places(step) == expected


def test_the_documented_rendering() -> None:
    # Kraken's example level: price 45285.2, qty 0.00100000 renders as "452852100000".
    assert kraken_checksum([("45285.2", "0.00100000")], []) == kr.brute_checksum(
        [], [("45285.2", "0.001")], 1, 8
    )


# -- the checksum against a brute-force rendering --------------------------------------------

prices = st.integers(min_value=1, max_value=10**7)
sizes = st.integers(min_value=1, max_value=10**9)


@settings(max_examples=60, deadline=None)
@given(
    price_dp=st.integers(0, 5),
    qty_dp=st.integers(0, 8),
    bid_units=st.lists(st.tuples(prices, sizes), min_size=1, max_size=14, unique_by=lambda t: t[0]),
    ask_units=st.lists(st.tuples(prices, sizes), min_size=1, max_size=14, unique_by=lambda t: t[0]),
    changes=st.lists(
        st.tuples(st.booleans(), st.integers(0, 20), st.integers(0, 10**9)), max_size=12
    ),
    trim=st.booleans(),
    listing=st.booleans(),
)
def test_the_checksum_matches_a_brute_force_rendering(
    price_dp: int,
    qty_dp: int,
    bid_units: list[tuple[int, int]],
    ask_units: list[tuple[int, int]],
    changes: list[tuple[bool, int, int]],
    trim: bool,
    listing: bool,
) -> None:
    """Any book and any sequence of updates, with number texts written at full precision or
    with their trailing zeros trimmed: every frame carrying the brute-force checksum of the
    true book is accepted, and the protocol's book equals the true one."""
    scale = Decimal(10) ** -price_dp
    qscale = Decimal(10) ** -qty_dp
    top = 1000 + max(p for p, _ in bid_units)  # every bid price stays above 0
    # Bids at or below ``top``, asks strictly above it: never crossed.
    bids = {top - p % 1000: s for p, s in bid_units}
    asks = {top + 1 + p % 1000: s for p, s in ask_units}

    def text(units: int, step: Decimal, places: int) -> str:
        value = f"{units * step:.{places}f}"
        if trim and "." in value:
            value = value.rstrip("0").rstrip(".") or "0"
        return value

    def pairs(side: dict[int, int]) -> list[tuple[str, str]]:
        return [(text(p, scale, price_dp), text(s, qscale, qty_dp)) for p, s in side.items()]

    def expected() -> int:
        full = (
            [(f"{p * scale:.{price_dp}f}", f"{s * qscale:.{qty_dp}f}") for p, s in bids.items()],
            [(f"{p * scale:.{price_dp}f}", f"{s * qscale:.{qty_dp}f}") for p, s in asks.items()],
        )
        return kr.brute_checksum(*full, price_dp, qty_dp)

    if listing:  # the pair's precision from AssetPairs: no level needs to show it
        pair = Instrument(
            Venue.KRAKEN, BTC, "BTC/USD", tick_size=float(scale), lot_size=float(qscale)
        )
        proto = KrakenProtocol(SymbolMap.from_instruments([pair]), depth=1000)
        snapshot_bids = pairs(bids)
    else:  # one level at full precision teaches it, even among trimmed texts
        proto = KrakenProtocol(SymbolMap([("BTC/USD", BTC)]), depth=1000)
        bids[top] = bids.get(top, 1) * 10 + 1 if trim else bids.get(top, 1)
        full_level = (f"{top * scale:.{price_dp}f}", f"{bids[top] * qscale:.{qty_dp}f}")
        rest = [pair for pair in pairs(bids) if Decimal(pair[0]) != top * scale]
        snapshot_bids = [full_level, *rest]
    proto.subscribe([BTC], T0)
    proto.on_open(T0)
    proto.on_frame(kr.book_frame("snapshot", "BTC/USD", snapshot_bids, pairs(asks), expected()), T0)
    book = proto.books[BTC]
    assert book.state is BookState.LIVE, proto.stats.errors
    for is_bid, offset, size in changes:
        side, price = (bids, top - offset) if is_bid else (asks, top + 1 + offset)
        if size:
            side[price] = size
        else:
            side.pop(price, None)
        if not bids or not asks:
            break
        level = [(text(price, scale, price_dp), text(size, qscale, qty_dp))]
        frame = kr.book_frame(
            "update", "BTC/USD", level if is_bid else [], [] if is_bid else level, expected()
        )
        proto.on_frame(frame, T0)
        assert book.state is BookState.LIVE, proto.stats.errors
    assert book.bids.levels() == [
        (float(p * scale), float(s * qscale)) for p, s in sorted(bids.items(), reverse=True)
    ]
    assert book.asks.levels() == [
        (float(p * scale), float(s * qscale)) for p, s in sorted(asks.items())
    ]
