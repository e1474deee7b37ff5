"""HTX market-by-price books: pushes buffered until the req snapshot, lined up on its seqNum,
chained by prevSeqNum; a break rebuilds that one book; REST polls while the stream is down."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.domain.book import BookState, Integrity
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.venues.base import RestRequest, SymbolMap
from goquant_bot.venues.htx import MAX_BUFFERED, SNAPSHOT_TIMEOUT_S, HtxProtocol
from tests.fakes import htx_frames as hx

BTC, ETH = Symbol("BTC", "USDT"), Symbol("ETH", "USDT")
T0 = 1_700_000_000.0
BOOK = ([(100.0, 1.0), (99.0, 2.0)], [(101.0, 1.0), (102.0, 2.0)])


def make() -> HtxProtocol:
    proto = HtxProtocol(SymbolMap([("btcusdt", BTC), ("ethusdt", ETH)]))
    proto.subscribe([BTC, ETH], T0)
    proto.on_open(T0)
    proto.drain()
    return proto


def synced(seq: int = 100) -> HtxProtocol:
    proto = make()
    proto.on_frame(hx.mbp_snapshot("btcusdt", seq, *BOOK), T0)
    proto.on_frame(hx.mbp_snapshot("ethusdt", 7, [(20.0, 1.0)], [(21.0, 1.0)]), T0)
    proto.drain()
    return proto


def levels(proto: HtxProtocol, symbol: Symbol = BTC) -> tuple[list[tuple[float, float]], ...]:
    book = proto.books[symbol]
    return book.bids.levels(), book.asks.levels()


def requests(proto: HtxProtocol) -> list[dict[str, str]]:
    return [json.loads(f) for f in proto.drain().frames]


def test_pushes_wait_for_the_snapshot_and_line_up_on_its_seqnum() -> None:
    proto = make()
    book = proto.books[BTC]
    proto.on_frame(hx.mbp("btcusdt", 90, 95, [(100.0, 9.0)]), T0)  # older than the snapshot
    proto.on_frame(hx.mbp("btcusdt", 95, 103, [(100.0, 3.0)], [(101.0, 0)]), T0)  # spans it
    proto.on_frame(hx.mbp("btcusdt", 103, 104, [], [(101.5, 4.0)]), T0)
    assert book.state is BookState.SYNCING
    assert levels(proto) == ([], [])
    proto.on_frame(hx.mbp_snapshot("btcusdt", 100, *BOOK), T0 + 1)
    assert book.state is BookState.LIVE
    assert levels(proto) == ([(100.0, 3.0), (99.0, 2.0)], [(101.5, 4.0), (102.0, 2.0)])
    assert proto.stats.skipped["before_snapshot"] == 1
    proto.on_frame(hx.mbp("btcusdt", 104, 105, [(99.0, 0), (99.5, 1.5)], ts=hx.TS + 100), T0 + 2)
    assert levels(proto)[0] == [(100.0, 3.0), (99.5, 1.5)]
    assert (book.updates, book.recv_ts, book.venue_ts) == (2, T0 + 2, (hx.TS + 100) / 1000)
    assert book.integrity is Integrity.VERIFIED
    assert not proto.stats.errors


def test_a_snapshot_with_no_buffered_push_waits_for_one_that_spans_it() -> None:
    proto = synced(100)
    assert proto.books[BTC].state is BookState.LIVE
    proto.on_frame(hx.mbp("btcusdt", 97, 100, [(100.0, 5.0)]), T0)  # already in the snapshot
    assert levels(proto)[0][0] == (100.0, 1.0)
    proto.on_frame(hx.mbp("btcusdt", 100, 101, [(100.0, 6.0)]), T0)
    assert levels(proto)[0][0] == (100.0, 6.0)
    assert not proto.stats.errors


def test_a_snapshot_older_than_the_first_push_rebuilds_the_book() -> None:
    proto = make()
    proto.on_frame(hx.mbp("btcusdt", 105, 106, [(100.0, 3.0)]), T0)  # 101..105 were lost
    proto.on_frame(hx.mbp_snapshot("btcusdt", 100, *BOOK), T0)
    book = proto.books[BTC]
    assert (book.state, book.resyncs, proto.stats.errors["seq_gap"]) == (BookState.SYNCING, 1, 1)
    assert requests(proto) == [{"req": "market.btcusdt.mbp.150", "id": "5"}]


def test_a_break_in_the_chain_rebuilds_that_book_only() -> None:
    proto = synced(100)
    proto.on_frame(hx.mbp("btcusdt", 100, 101, [(100.0, 2.0)]), T0)
    proto.on_frame(hx.mbp("ethusdt", 7, 8, [(20.0, 3.0)]), T0)
    proto.on_frame(hx.mbp("btcusdt", 102, 103, [(100.0, 4.0)]), T0)  # 102 was lost
    btc, eth = proto.books[BTC], proto.books[ETH]
    assert (btc.state, btc.resyncs, levels(proto)) == (BookState.SYNCING, 1, ([], []))
    assert (eth.state, eth.resyncs, eth.bids.best()) == (BookState.LIVE, 0, (20.0, 3.0))
    # A new snapshot of that book; the subscription stays (no unsub / sub).
    assert requests(proto) == [{"req": "market.btcusdt.mbp.150", "id": "5"}]
    proto.on_frame(hx.mbp("btcusdt", 103, 104, [(100.0, 5.0)]), T0 + 1)  # buffered
    proto.on_frame(hx.mbp_snapshot("btcusdt", 103, [(100.0, 4.0)], [(101.0, 1.0)]), T0 + 1)
    assert (btc.state, levels(proto)) == (BookState.LIVE, ([(100.0, 5.0)], [(101.0, 1.0)]))
    proto.on_frame(hx.mbp("ethusdt", 8, 9, [(20.0, 1.0)]), T0 + 1)
    assert eth.bids.best() == (20.0, 1.0)
    assert proto.stats.errors["seq_gap"] == 1


def test_an_unanswered_snapshot_is_asked_again() -> None:
    proto = make()
    sent = T0 + 0.2  # BTC's sub and req leave 0.1 s and 0.2 s after T0 (10 sends a second)
    proto.on_timer(sent + SNAPSHOT_TIMEOUT_S - 0.1)
    assert proto.drain().frames == ()
    proto.on_frame(hx.mbp_snapshot("ethusdt", 7, [(20.0, 1.0)], [(21.0, 1.0)]), T0)
    proto.on_timer(sent + SNAPSHOT_TIMEOUT_S)
    assert requests(proto) == [{"req": "market.btcusdt.mbp.150", "id": "5"}]
    assert proto.stats.errors["snapshot_timeout"] == 1
    # Unanswered again: asked 20 s later, then 40 s, ... at most every 5 minutes.
    asked = [sent + SNAPSHOT_TIMEOUT_S]
    for tenth in range(1, 12_000):
        now = asked[0] + tenth / 10
        proto.on_timer(now)
        if requests(proto):
            asked.append(now)
    gaps = [b - a for a, b in itertools.pairwise(asked)]
    assert gaps == pytest.approx([20.1, 40.1, 80.1, 160.1, 300.1, 300.1], abs=0.15)
    proto.on_frame(hx.mbp_snapshot("btcusdt", 9, [(100.0, 1.0)], [(101.0, 1.0)]), asked[-1])
    assert proto.books[BTC].state is BookState.LIVE


def test_snapshot_requests_are_timed_from_when_they_can_leave() -> None:
    natives = [f"c{i:02d}usdt" for i in range(50)]
    symbols = [Symbol(f"C{i:02d}", "USDT") for i in range(50)]
    proto = HtxProtocol(SymbolMap(list(zip(natives, symbols, strict=True))), depth=150)
    proto.subscribe(symbols, T0)
    proto.on_open(T0)  # 100 frames at 10 a second: the last req leaves 10 s after T0
    assert len(proto.drain().frames) == 100
    proto.on_timer(T0 + 12)  # only the reqs sent by T0 + 2 s have waited 10 s
    assert proto.stats.errors["snapshot_timeout"] == 10
    assert len(proto.drain().frames) == 10


def test_the_buffer_keeps_the_newest_pushes() -> None:
    def buffered() -> HtxProtocol:
        proto = make()
        for seq in range(1, MAX_BUFFERED + 3):  # two more than it keeps: pushes 1 and 2 go
            proto.on_frame(hx.mbp("btcusdt", seq - 1, seq, [(100.0, float(seq))]), T0)
        return proto

    proto = buffered()
    proto.on_frame(hx.mbp_snapshot("btcusdt", 2, *BOOK), T0)
    assert levels(proto)[0][0] == (100.0, float(MAX_BUFFERED + 2))
    proto = buffered()
    proto.on_frame(hx.mbp_snapshot("btcusdt", 1, *BOOK), T0)  # needs push 2, let go
    assert proto.books[BTC].state is BookState.SYNCING
    assert proto.stats.errors["seq_gap"] == 1


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"ch":"market.btcusdt.mbp.150","ts":1,"tick":{"prevSeqNum":100,"bids":[]}}', "bad_mbp"),
        (
            '{"ch":"market.btcusdt.mbp.150","ts":1,"tick":{"seqNum":101,"prevSeqNum":100,'
            '"bids":[["x",1]],"asks":[]}}',
            "bad_mbp",
        ),
        (
            '{"id":"2","rep":"market.btcusdt.mbp.150","status":"ok","data":{"bids":[]}}',
            "bad_snapshot",
        ),
    ],
)
def test_a_malformed_push_or_snapshot_is_counted_and_changes_nothing(
    frame: str, reason: str
) -> None:
    proto = synced(100)
    proto.on_frame(frame, T0)
    assert dict(proto.stats.errors) == {reason: 1}
    assert (proto.books[BTC].state, levels(proto)) == (BookState.LIVE, BOOK)


def test_a_non_finite_level_rebuilds_the_book() -> None:
    proto = synced(100)
    proto.on_frame(
        '{"ch":"market.btcusdt.mbp.150","ts":1,"tick":{"seqNum":101,"prevSeqNum":100,'
        '"bids":[[100.0,"NaN"]],"asks":[]}}',
        T0,
    )
    assert (proto.books[BTC].resyncs, proto.stats.errors["non_finite"]) == (1, 1)


def test_a_push_that_crosses_the_book_rebuilds_it() -> None:
    proto = synced(100)
    proto.on_frame(hx.mbp("btcusdt", 100, 101, [(101.5, 1.0)]), T0)
    assert (proto.books[BTC].resyncs, proto.stats.errors["crossed"]) == (1, 1)
    assert requests(proto) == [{"req": "market.btcusdt.mbp.150", "id": "5"}]


def test_a_poll_keeps_the_book_while_the_stream_is_down() -> None:
    proto = synced(100)
    proto.on_close(T0)
    request = proto.poll_request(BTC)
    assert request == RestRequest(
        venue=Venue.HTX,
        url="https://api.huobi.pro/market/depth",
        params=(("symbol", "btcusdt"), ("type", "step0")),
        weight=1,
        purpose="poll",
        symbol=BTC,
    )
    assert request is not None
    proto.on_rest(request, 200, hx.depth_body([(99.5, 2.0)], [(100.5, 1.0)]), T0 + 5)
    book = proto.books[BTC]
    assert (book.state, book.trust, book.recv_ts) == (BookState.POLLED, Integrity.SNAPSHOT, T0 + 5)
    assert book.venue_ts == hx.TS / 1000
    assert levels(proto) == ([(99.5, 2.0)], [(100.5, 1.0)])
    error = '{"status":"error","err-code":"invalid-parameter","err-msg":"invalid symbol"}'
    proto.on_rest(request, 200, error, T0 + 6)
    proto.on_rest(request, 200, '{"status":"ok","tick":{"bids":[[1,"NaN"]],"asks":[]}}', T0 + 6)
    proto.on_rest(request, 200, "<html>", T0 + 6)
    proto.on_rest(request, 503, "unavailable", T0 + 7)
    assert proto.stats.errors["poll_invalid"] == 3
    assert proto.stats.errors["poll_failed"] == 1
    assert levels(proto) == ([(99.5, 2.0)], [(100.5, 1.0)])
    # The stream is back: pushes wait for a new snapshot, never apply to the polled book.
    proto.on_open(T0 + 8)
    proto.on_frame(hx.mbp("btcusdt", 200, 201, [(99.0, 1.0)]), T0 + 8)
    assert levels(proto) == ([(99.5, 2.0)], [(100.5, 1.0)])
    proto.on_frame(hx.mbp_snapshot("btcusdt", 200, *BOOK), T0 + 8)
    assert book.state is BookState.LIVE
    assert levels(proto)[0] == [(100.0, 1.0), (99.0, 1.0)]
    proto.on_rest(request, 200, hx.depth_body([(1.0, 1.0)], [(2.0, 1.0)]), T0 + 9)
    assert proto.stats.skipped["poll_while_live"] == 1
    assert levels(proto)[0][0] == (100.0, 1.0)


# A book's history as the venue numbers it: each state's levels (price -> size), each push the
# absolute sizes that changed from the previous state (0 removes), seqNums growing by steps.
SIDE = st.dictionaries(st.integers(1, 40), st.integers(1, 5), max_size=12)


def _diff(before: dict[int, int], after: dict[int, int]) -> list[tuple[float, float]]:
    changed = [(float(p), float(s)) for p, s in after.items() if before.get(p) != s]
    return changed + [(float(p), 0.0) for p in before if p not in after]


@settings(max_examples=150, deadline=None)
@given(
    states=st.lists(SIDE, min_size=2, max_size=8),
    steps=st.lists(st.integers(1, 3), min_size=8, max_size=8),
    data=st.data(),
)
def test_any_snapshot_and_start_of_the_buffer_give_the_venues_book(
    states: list[dict[int, int]], steps: list[int], data: st.DataObject
) -> None:
    """Bids only (asks far above): the snapshot is one of the states, the buffer starts at
    any push up to the one after it, the snapshot arrives after any of the pushes."""
    seqs = [sum(steps[: i + 1]) for i in range(len(states))]
    at = data.draw(st.integers(0, len(states) - 1), label="snapshot state")
    first = data.draw(st.integers(1, at + 1), label="first push received")
    arrives = data.draw(st.integers(first - 1, len(states) - 1), label="snapshot after push")
    proto = HtxProtocol(SymbolMap([("btcusdt", BTC)]))
    proto.subscribe([BTC], T0)
    proto.on_open(T0)

    def push(i: int) -> None:
        proto.on_frame(hx.mbp("btcusdt", seqs[i - 1], seqs[i], _diff(states[i - 1], states[i])), T0)

    for i in range(first, arrives + 1):
        push(i)
    bids = [(float(p), float(s)) for p, s in sorted(states[at].items(), reverse=True)]
    proto.on_frame(hx.mbp_snapshot("btcusdt", seqs[at], bids, [(1000.0, 1.0)]), T0)
    for i in range(max(arrives + 1, first), len(states)):
        push(i)
    book = proto.books[BTC]
    expected = sorted(((float(p), float(s)) for p, s in states[-1].items()), reverse=True)
    assert book.bids.levels() == expected
    assert book.state is BookState.LIVE
    assert not proto.stats.errors
