from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from goquant_bot.domain.instruments import InstrumentKey, Symbol, Venue
from goquant_bot.venues import gomarket
from goquant_bot.venues.binance import BinanceProtocol
from goquant_bot.venues.bybit import BybitProtocol
from goquant_bot.venues.capture import CaptureRecord
from goquant_bot.venues.coinbase import CoinbaseProtocol
from goquant_bot.venues.deribit import DeribitProtocol
from goquant_bot.venues.kraken import KrakenProtocol
from goquant_bot.venues.okx import OkxProtocol
from goquant_bot.venues.registry import PROTOCOLS, VENUES, protocol_for_address
from goquant_bot.venues.replay import Replayer, replay_files, rest_key
from tests.fakes.captures import connect, http, recv, send, write_capture

BINANCE_WS = "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms"
BINANCE_SUB = '{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}'
BINANCE_DEPTH = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=500"
OKX_WS = "wss://ws.okx.com:8443/ws/v5/public"
BYBIT_SPOT = "wss://stream.bybit.com/v5/public/spot"
BYBIT_LINEAR = "wss://stream.bybit.com/v5/public/linear"
DERIBIT_WS = "wss://www.deribit.com/ws/api/v2"


def books_of(report: dict[str, Any]) -> dict[str, Any]:
    """The per-book entries of a report (keys are "venue:BASE-QUOTE")."""
    return {key: value for key, value in report.items() if ":" in key}


def diff(first: int, last: int, bids: str = "[]", asks: str = "[]", symbol: str = "BTCUSDT") -> str:
    return (
        f'{{"stream":"{symbol.lower()}@depth@100ms","data":{{"e":"depthUpdate",'
        f'"E":1767225600{first % 1000:03d},"s":"{symbol}","U":{first},"u":{last},'
        f'"b":{bids},"a":{asks}}}}}'
    )


SNAPSHOT_102 = (
    '{"lastUpdateId":102,"bids":[["87000.00","2.0"],["86999.00","1.0"]],'
    '"asks":[["87001.00","3.0"],["87002.00","4.0"]]}'
)
# Already contained in the snapshot: applying it would put 87000.50 on top of the bids.
DIFF_101_102 = diff(101, 102, bids='[["87000.50","9.0"]]')
DIFF_103_104 = diff(103, 104, bids='[["87000.00","2.5"]]', asks='[["87001.00","0"]]')
DIFF_105 = diff(105, 105, asks='[["87001.50","0.75"]]')

BINANCE_BOOK = {
    "bid": 87000.0,
    "bid_size": 2.5,
    "ask": 87001.5,
    "ask_size": 0.75,
    "bid_levels": 2,
    "ask_levels": 2,
    "resyncs": 0,
    "state": "live",
    "integrity": "verified",
}


def binance_lines(snapshot_ts: float) -> list[dict[str, Any]]:
    lines = [
        connect(1, 100.0, BINANCE_WS),
        send(1, 100.01, BINANCE_SUB),
        recv(1, 100.05, '{"result":null,"id":1}'),
        recv(1, 100.1, DIFF_101_102),
        recv(1, 100.2, DIFF_103_104),
        recv(1, 100.4, DIFF_105),
    ]
    lines.append(http(1, snapshot_ts, BINANCE_DEPTH, SNAPSHOT_102))
    return sorted(lines, key=lambda line: line["ts"])


def test_binance_snapshot_captured_after_the_request_answers_it(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "binance.jsonl", binance_lines(snapshot_ts=100.3))
    report = replay_files([path]).report()
    # Snapshot (with the buffered 103-104 diff) then the 105 diff: two updates.
    assert report == {
        "files": 1,
        "records": 7,
        "record_types": {"connect": 1, "http": 1, "recv": 4, "send": 1},
        "binance:BTC-USDT": {**BINANCE_BOOK, "updates": 2},
        "skipped": {},
        "errors": {},
        "problems": [],
    }


def test_binance_snapshot_captured_before_the_request_answers_it(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "binance.jsonl", binance_lines(snapshot_ts=99.0))
    report = replay_files([path]).report()
    # The snapshot is applied at the first diff, then the two later diffs: three updates.
    assert books_of(report) == {"binance:BTC-USDT": {**BINANCE_BOOK, "updates": 3}}
    assert report["skipped"] == {}
    assert report["errors"] == {}


def test_a_request_waits_for_the_next_captured_snapshot_after_a_gap(tmp_path: Path) -> None:
    snapshot_110 = '{"lastUpdateId":110,"bids":[["86990.00","1.0"]],"asks":[["86995.00","2.0"]]}'
    path = write_capture(
        tmp_path / "gap.jsonl",
        [
            connect(1, 1.0, BINANCE_WS),
            recv(1, 2.0, diff(101, 102)),
            http(1, 3.0, BINANCE_DEPTH, SNAPSHOT_102),
            recv(1, 4.0, diff(103, 105, bids='[["87000.00","0.5"]]')),
            recv(1, 5.0, diff(108, 110, bids='[["87000.00","7"]]')),  # 106-107 lost
            recv(1, 6.0, diff(111, 112, asks='[["86996.00","1.5"]]')),
            http(1, 7.0, BINANCE_DEPTH, snapshot_110),
        ],
    )
    result = replay_files([path])
    assert books_of(result.report()) == {
        "binance:BTC-USDT": {
            "bid": 86990.0,
            "bid_size": 1.0,
            "ask": 86995.0,
            "ask_size": 2.0,
            "bid_levels": 1,
            "ask_levels": 2,
            "updates": 3,
            "resyncs": 1,
            "state": "live",
            "integrity": "verified",
        }
    }
    assert result.errors == {"gap": 1}
    book = result.books[InstrumentKey(Venue.BINANCE, Symbol("BTC", "USDT"))]
    assert book.recv_ts == 7.0  # the replay's clock is the capture's


def test_unanswered_requests_and_unused_responses_are_counted(tmp_path: Path) -> None:
    eth_url = "https://api.binance.com/api/v3/depth?symbol=ETHUSDT&limit=500"
    path = write_capture(
        tmp_path / "b.jsonl",
        [
            http(1, 1.0, eth_url, '{"lastUpdateId":5,"bids":[],"asks":[]}'),
            connect(1, 2.0, BINANCE_WS),
            recv(1, 3.0, DIFF_101_102),
            recv(1, 4.0, DIFF_103_104),
        ],
    )
    report = replay_files([path]).report()
    assert books_of(report) == {
        "binance:BTC-USDT": {
            "bid": None,
            "bid_size": None,
            "ask": None,
            "ask_size": None,
            "bid_levels": 0,
            "ask_levels": 0,
            "updates": 0,
            "resyncs": 0,
            "state": "syncing",
            "integrity": "verified",
        }
    }
    assert report["skipped"] == {"http_unused": 1, "rest_unanswered": 1}


OKX_SNAPSHOT = (
    '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{'
    '"asks":[["87010.1","0.5","0","2"],["87011.0","1.5","0","3"]],'
    '"bids":[["87009.9","0.8","0","1"],["87009.0","2.0","0","4"]],'
    '"ts":"1767225600150","checksum":0,"prevSeqId":-1,"seqId":1000}]}'
)
OKX_UPDATE = (
    '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{'
    '"asks":[["87010.1","0","0","0"]],"bids":[["87010.0","0.3","0","1"]],'
    '"ts":"1767225600250","checksum":0,"prevSeqId":1000,"seqId":1001}]}'
)
OKX_TICKER = (
    '{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT",'
    '"instId":"BTC-USDT","last":"87010","bidPx":"87100","bidSz":"1","askPx":"87101",'
    '"askSz":"1","ts":"1767225600300"}]}'
)


def write_binance_and_okx(tmp_path: Path, suffix: str = ".jsonl") -> list[Path]:
    binance = write_capture(tmp_path / f"binance{suffix}", binance_lines(snapshot_ts=100.3))
    okx = write_capture(
        tmp_path / f"okx{suffix}",
        [
            connect(7, 100.02, OKX_WS),
            send(
                7,
                100.03,
                '{"id":"1","op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}',
            ),
            recv(
                7,
                100.15,
                '{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}',
            ),
            recv(7, 100.2, OKX_SNAPSHOT),
            recv(7, 100.3, OKX_UPDATE),
            recv(7, 100.35, OKX_TICKER),
            recv(7, 100.36, "pong"),
        ],
        exchange="OKX",
    )
    return [binance, okx]


def test_two_files_are_merged_by_time_and_the_engine_hook_sees_each_change(
    tmp_path: Path,
) -> None:
    seen: list[tuple[float, list[str]]] = []
    binance, okx = write_binance_and_okx(tmp_path)

    def on_books_changed(ts: float, keys: frozenset[InstrumentKey]) -> None:
        seen.append((ts, sorted(str(k) for k in keys)))

    result = replay_files([binance, okx], on_books_changed=on_books_changed)
    report = result.report()
    # At 100.3 both files have a record: the first file's comes first.
    assert seen == [
        (100.2, ["okx:BTC-USDT"]),
        (100.3, ["binance:BTC-USDT"]),
        (100.3, ["okx:BTC-USDT"]),
        (100.4, ["binance:BTC-USDT"]),
    ]
    assert books_of(report) == {
        "binance:BTC-USDT": {**BINANCE_BOOK, "updates": 2},
        "okx:BTC-USDT": {
            "bid": 87010.0,
            "bid_size": 0.3,
            "ask": 87011.0,
            "ask_size": 1.5,
            "bid_levels": 3,
            "ask_levels": 1,
            "updates": 2,
            "resyncs": 0,
            "state": "live",
            "integrity": "verified",
        },
    }
    assert report["files"] == 2
    assert report["records"] == 14
    assert report["record_types"] == {"connect": 2, "http": 1, "recv": 9, "send": 2}
    # The ticker's better prices never reach the book: the channel is counted as skipped.
    assert report["skipped"] == {"channel:tickers": 1}
    assert report["errors"] == {}
    assert [h.exchange if h else None for h in result.headers] == ["BINANCE", "OKX"]


def test_same_files_give_the_same_report_plain_or_compressed(tmp_path: Path) -> None:
    plain = write_binance_and_okx(tmp_path)
    packed = write_binance_and_okx(tmp_path, ".jsonl.zst")
    first = replay_files(plain).report()
    assert replay_files(plain).report() == first
    assert replay_files(packed).report() == first
    assert json.loads(json.dumps(first)) == first


BYBIT_SPOT_FRAMES = [
    '{"success":true,"ret_msg":"subscribe","conn_id":"d2ks0","req_id":"1","op":"subscribe"}',
    '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1767225600000,"data":{"s":"BTCUSDT",'
    '"b":[["65000.10","1.5"],["65000.00","2"]],"a":[["65000.20","0.4"]],"u":500,"seq":900001},'
    '"cts":1767225599990}',
    '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1767225600100,"data":{"s":"BTCUSDT",'
    '"b":[["65000.10","0"]],"a":[["65000.30","1.1"]],"u":501,"seq":900002},"cts":1767225600090}',
    # u 502 was lost: the book resyncs, and a delta before the next snapshot is useless.
    '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1767225600300,"data":{"s":"BTCUSDT",'
    '"b":[["64999.00","3"]],"a":[],"u":503,"seq":900004},"cts":1767225600290}',
    '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1767225600400,"data":{"s":"BTCUSDT",'
    '"b":[["64998.00","3"]],"a":[],"u":504,"seq":900005},"cts":1767225600390}',
    # After a venue restart the snapshot starts again at u 1.
    '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1767225600500,"data":{"s":"BTCUSDT",'
    '"b":[["64990.0","1"]],"a":[["64991.0","2"]],"u":1,"seq":900010},"cts":1767225600490}',
    '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1767225600600,"data":{"s":"BTCUSDT",'
    '"b":[["64990.5","0.5"]],"a":[],"u":2,"seq":900011},"cts":1767225600590}',
]
BYBIT_LINEAR_FRAMES = [
    '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1767225600050,"data":{"s":"BTCUSDT",'
    '"b":[["65100.0","10"]],"a":[["65100.5","11"]],"u":900,"seq":700001},"cts":1767225600040}',
    '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1767225600150,"data":{"s":"BTCUSDT",'
    '"b":[["65200.0","10"]],"a":[],"u":901,"seq":700002},"cts":1767225600140}',
]


def test_bybit_linear_frames_never_touch_the_spot_book_and_a_gap_resyncs(
    tmp_path: Path,
) -> None:
    lines = [connect(1, 10.0, BYBIT_SPOT), connect(2, 10.0, BYBIT_LINEAR)]
    lines += [recv(1, 11.0 + i, frame) for i, frame in enumerate(BYBIT_SPOT_FRAMES)]
    lines += [recv(2, 11.5 + i, frame) for i, frame in enumerate(BYBIT_LINEAR_FRAMES)]
    lines.sort(key=lambda line: line["ts"])
    report = replay_files(
        [write_capture(tmp_path / "bybit.jsonl", lines, exchange="BYBIT")]
    ).report()
    assert books_of(report) == {
        "bybit:BTC-USDT": {
            "bid": 64990.5,
            "bid_size": 0.5,
            "ask": 64991.0,
            "ask_size": 2.0,
            "bid_levels": 2,
            "ask_levels": 1,
            "updates": 4,
            "resyncs": 1,
            "state": "live",
            "integrity": "verified",
        }
    }
    assert report["skipped"] == {"unsupported_address": 2, "delta_before_snapshot": 1}
    assert report["errors"] == {"gap": 1}


def test_unsupported_addresses_and_unknown_connections_are_skipped(tmp_path: Path) -> None:
    futures = "wss://fstream.binance.com/stream?streams=btcusdt@depth@100ms"
    path = write_capture(
        tmp_path / "misc.jsonl",
        [
            connect(1, 1.0, futures),
            recv(1, 2.0, DIFF_101_102),
            recv(1, 3.0, DIFF_103_104),
            connect(2, 4.0, "wss://ws-auth.kraken.com/v2"),  # private: no public books
            recv(2, 5.0, '{"channel":"heartbeat"}'),
            recv(9, 6.0, DIFF_105),  # its connect record is not in the file
        ],
    )
    report = replay_files([path]).report()
    assert books_of(report) == {}
    assert report["skipped"] == {"unsupported_address": 3, "unknown_connection": 1}


def test_captured_instrument_lists_teach_the_symbol_map(tmp_path: Path) -> None:
    """BTCPLN cannot be split without metadata (PLN is no known quote asset)."""
    exchange_info = (
        '{"timezone":"UTC","serverTime":1767225600000,"symbols":[{"symbol":"BTCPLN",'
        '"status":"TRADING","baseAsset":"BTC","quoteAsset":"PLN","filters":[]}]}'
    )
    frames = [
        connect(1, 2.0, "wss://stream.binance.com:9443/stream?streams=btcpln@depth@100ms"),
        recv(1, 3.0, diff(41, 42, bids='[["350000","0.1"]]', symbol="BTCPLN")),
        http(
            1,
            4.0,
            "https://api.binance.com/api/v3/depth?symbol=BTCPLN&limit=500",
            '{"lastUpdateId":42,"bids":[["349000","0.2"]],"asks":[["351000","0.3"]]}',
        ),
    ]
    info = http(0, 1.0, "https://api.binance.com/api/v3/exchangeInfo", exchange_info)
    taught = replay_files([write_capture(tmp_path / "a.jsonl", [info, *frames])]).report()
    assert books_of(taught)["binance:BTC-PLN"]["bid"] == 349000.0
    assert books_of(taught)["binance:BTC-PLN"]["state"] == "live"
    untaught = replay_files([write_capture(tmp_path / "b.jsonl", frames)]).report()
    assert books_of(untaught) == {}
    assert untaught["skipped"] == {"unknown_symbol": 1, "http_unused": 1}


def test_an_unparsable_instrument_list_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = write_capture(
        tmp_path / "a.jsonl",
        [http(0, 1.0, "https://www.okx.com/api/v5/public/instruments?instType=SPOT", "<html>")],
    )
    assert replay_files([path]).report()["errors"] == {"instruments_unparsable": 1}


def test_replayer_can_be_fed_record_by_record_and_exposes_current_books() -> None:
    replayer = Replayer()
    replayer.feed(CaptureRecord("connect", 1, 10.0, target=BYBIT_SPOT))
    replayer.feed(CaptureRecord("recv", 1, 11.0, BYBIT_SPOT_FRAMES[1]))
    key = InstrumentKey(Venue.BYBIT, Symbol("BTC", "USDT"))
    book = replayer.books[key]
    assert book.l1().bid == 65000.1
    replayer.feed(CaptureRecord("recv", 1, 12.0, BYBIT_SPOT_FRAMES[2]))
    assert replayer.books[key].l1().bid == 65000.0
    assert replayer.result().records == 3


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        (BINANCE_WS, BinanceProtocol),
        ("wss://data-stream.binance.vision/stream?streams=btcusdt@depth", BinanceProtocol),
        ("wss://fstream.binance.com/stream?streams=btcusdt@depth", None),
        (OKX_WS, OkxProtocol),
        (BYBIT_SPOT, BybitProtocol),
        (BYBIT_LINEAR, None),
        (DERIBIT_WS, DeribitProtocol),
        ("wss://test.deribit.com/ws/api/v2", None),  # testnet: not the real market
        ("wss://ws-auth.kraken.com/v2", None),
        ("wss://ws.kraken.com/v2", KrakenProtocol),
        ("wss://ws.kraken.com", KrakenProtocol),  # v1, as other recorders connect
        ("wss://advanced-trade-ws.coinbase.com", CoinbaseProtocol),
        ("wss://ws-feed.exchange.coinbase.com", None),
    ],
)
def test_protocol_for_address(addr: str, expected: type | None) -> None:
    assert protocol_for_address(addr) is expected


def test_every_venue_is_registered_with_its_instruments_endpoint() -> None:
    # A venue with no native protocol is read through GoMarket, under its own venue id.
    for venue in set(Venue) - set(PROTOCOLS):
        assert gomarket.protocol_for(venue).venue is venue
        assert gomarket.instruments_request(venue, None).venue is venue
    for venue, spec in VENUES.items():
        assert spec.protocol.venue is venue
        assert spec.instruments_request(None).venue is venue


def test_rest_key_pairs_requests_with_captured_urls() -> None:
    captured = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"
    asked = rest_key(
        "https://api.binance.com/api/v3/depth", (("symbol", "BTCUSDT"), ("limit", "500"))
    )
    assert rest_key(captured) == asked == ("/api/v3/depth", "BTCUSDT")
    assert rest_key("https://www.okx.com/api/v5/market/books?instId=BTC-USDT&sz=400") == (
        "/api/v5/market/books",
        "BTC-USDT",
    )


def deribit_book(kind: str, change_id: int, prev: int | None, bids: str, asks: str) -> str:
    prev_field = "" if prev is None else f',"prev_change_id":{prev}'
    return (
        '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC_USDC.100ms",'
        f'"data":{{"type":"{kind}","timestamp":1767225600{change_id % 1000:03d},'
        f'"instrument_name":"BTC_USDC","change_id":{change_id}{prev_field},'
        f'"bids":{bids},"asks":{asks}}}}}}}'
    )


def test_deribit_spot_replays_and_perpetual_books_are_skipped(tmp_path: Path) -> None:
    perpetual = (
        '{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms",'
        '"data":{"type":"snapshot","timestamp":1767225600000,"instrument_name":"BTC-PERPETUAL",'
        '"change_id":7,"bids":[["new",88000.0,1000.0]],"asks":[["new",88000.5,2000.0]]}}}'
    )
    frames = [
        '{"jsonrpc":"2.0","id":2,"result":["book.BTC_USDC.100ms","book.BTC-PERPETUAL.100ms"]}',
        deribit_book(
            "snapshot",
            100,
            None,
            '[["new",87000.0,0.5],["new",86990.0,1.0]]',
            '[["new",87010.0,0.25]]',
        ),
        perpetual,
        deribit_book("change", 105, 100, '[["delete",87000.0,0.0]]', '[["new",87005.0,0.1]]'),
        deribit_book("change", 110, 107, '[["new",87100.0,9.0]]', "[]"),  # 107 never came
        deribit_book("change", 112, 110, '[["new",87101.0,9.0]]', "[]"),
        '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}',
        deribit_book("snapshot", 120, None, '[["new",86950.0,2.0]]', '[["new",86960.0,3.0]]'),
        deribit_book("change", 121, 120, '[["change",86950.0,1.5]]', "[]"),
    ]
    lines = [
        connect(3, 50.0, DERIBIT_WS),
        send(3, 50.1, '{"jsonrpc":"2.0","id":2,"method":"public/subscribe","params":{}}'),
    ]
    lines += [recv(3, 51.0 + i, frame) for i, frame in enumerate(frames)]
    path = write_capture(tmp_path / "deribit.jsonl.zst", lines, exchange="DERIBIT")
    report = replay_files([path]).report()
    assert books_of(report) == {
        "deribit:BTC-USDC": {
            "bid": 86950.0,
            "bid_size": 1.5,
            "ask": 86960.0,
            "ask_size": 3.0,
            "bid_levels": 1,
            "ask_levels": 1,
            "updates": 4,
            "resyncs": 1,
            "state": "live",
            "integrity": "verified",
        }
    }
    assert report["skipped"] == {"change_before_snapshot": 1, "not_spot": 1}
    assert report["errors"] == {"change_id_gap": 1}
