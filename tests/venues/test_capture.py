from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from goquant_bot.venues.capture import (
    CaptureHeader,
    CaptureReader,
    CaptureRecord,
    CaptureWriter,
    read_capture,
)
from tests.fakes.captures import connect, encode, header, http, recv, send, write_capture

ADDR = "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms"
DIFF = (
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1767225600100,'
    '"s":"BTCUSDT","U":101,"u":102,"b":[["87000.10","0.5"]],"a":[["87000.20","1.25"]]}}'
)
SNAPSHOT_URL = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"
SNAPSHOT = '{"lastUpdateId":100,"bids":[["87000.00","2.0"]],"asks":[["87001.00","3.0"]]}'
SUBSCRIBE = '{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}'

EXPECTED = [
    CaptureRecord("connect", 1, 1767225600.5, target=ADDR),
    CaptureRecord("send", 1, 1767225600.625, SUBSCRIBE),
    CaptureRecord("recv", 1, 1767225600.75, DIFF),
    CaptureRecord("http", 1, 1767225601.0, SNAPSHOT, SNAPSHOT_URL),
    CaptureRecord("recv", 1, 1767225601.25, '{"result":null,"id":1}'),
]


def write_with_writer(path: Path, **kwargs: object) -> CaptureWriter:
    writer = CaptureWriter(
        path, exchange="BINANCE", config={"symbols": ["BTC-USDT"]}, recorded=1767225600.0
    )
    with writer:
        writer.connect(1, ADDR, 1767225600.5)
        writer.send(1, SUBSCRIBE, 1767225600.625)
        writer.recv(1, DIFF, 1767225600.75)
        writer.http(1, SNAPSHOT_URL, SNAPSHOT, 1767225601.0)
        writer.recv(1, '{"result":null,"id":1}', 1767225601.25)
    return writer


@pytest.mark.parametrize("name", ["cap.jsonl", "cap.jsonl.zst"])
def test_writer_reader_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    writer = write_with_writer(path)
    reader = CaptureReader(path)
    assert list(reader) == EXPECTED
    assert reader.header == CaptureHeader(
        format=2, exchange="BINANCE", config={"symbols": ["BTC-USDT"]}, recorded=1767225600.0
    )
    assert reader.records == 5
    assert not reader.errors
    assert not reader.skipped
    assert writer.closed
    assert writer.records == 5


def test_plain_file_is_the_documented_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl"
    write_with_writer(path)
    lines = path.read_bytes().splitlines()
    assert orjson.loads(lines[0]) == {
        "t": "header",
        "format": 2,
        "exchange": "BINANCE",
        "config": {"symbols": ["BTC-USDT"]},
        "recorded": 1767225600.0,
    }
    assert orjson.loads(lines[3]) == {"t": "recv", "conn": 1, "ts": 1767225600.75, "data": DIFF}
    assert orjson.loads(lines[4]) == {
        "t": "http",
        "conn": 1,
        "ts": 1767225601.0,
        "url": SNAPSHOT_URL,
        "data": SNAPSHOT,
    }
    assert len(lines) == 6


def test_zst_file_is_one_complete_frame_any_zstd_tool_reads(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl.zst"
    write_with_writer(path)
    plain = tmp_path / "cap.jsonl"
    write_with_writer(plain)
    # decompress() needs a finished frame: it fails on a stream that was never closed.
    assert (
        zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes())
        == plain.read_bytes()
    )


def test_small_buffer_flushes_while_writing_and_records_stay_in_order(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl.zst"
    with CaptureWriter(path, exchange="OKX", recorded=1.0, buffer_bytes=64) as writer:
        for i in range(500):
            writer.recv(7, f'{{"n":{i}}}', 1000.0 + i)
        # Flushed blocks are readable before the writer is closed.
        assert path.stat().st_size > 0
    records = list(read_capture(path))
    assert [r.data for r in records] == [f'{{"n":{i}}}' for i in range(500)]
    assert {r.conn for r in records} == {7}


def test_writing_after_close_is_refused(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path / "c.jsonl", exchange="BYBIT", recorded=1.0)
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.recv(1, "x", 2.0)


def test_http_status_other_than_200_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, exchange="BINANCE", recorded=1.0) as writer:
        writer.http(3, SNAPSHOT_URL, '{"code":-1003}', 5.0, status=429)
        writer.http(3, SNAPSHOT_URL, SNAPSHOT, 6.0, status=200)
    assert [(r.status, r.data) for r in read_capture(path)] == [
        (429, '{"code":-1003}'),
        (200, SNAPSHOT),
    ]
    assert b'"status"' not in path.read_bytes().splitlines()[2]


@pytest.mark.parametrize("name", ["bad.jsonl", "bad.jsonl.zst"])
def test_garbage_unknown_types_and_bad_records_are_counted_and_skipped(
    tmp_path: Path, name: str
) -> None:
    path = write_capture(
        tmp_path / name,
        [
            connect(1, 10.0, ADDR),
            b"this is not json\n",
            {"t": "ping", "conn": 1, "ts": 10.5},
            b"\n",
            recv(1, 11.0, DIFF),
            {"t": "recv", "conn": 1, "ts": "soon", "data": "x"},
            {"t": "recv", "conn": 1, "ts": 11.5},
            {"t": "connect", "conn": 2, "ts": 11.6},
            ["not", "an", "object"],  # type: ignore[list-item]
            b'{"t":"recv","conn":1,"ts":12.0,"data":"{\\"cut\n',
            send(1, 12.5, SUBSCRIBE),
            http(1, 13.0, SNAPSHOT_URL, SNAPSHOT),
        ],
    )
    reader = CaptureReader(path)
    assert [(r.kind, r.ts) for r in reader] == [
        ("connect", 10.0),
        ("recv", 11.0),
        ("send", 12.5),
        ("http", 13.0),
    ]
    assert reader.errors == {"corrupt_line": 2, "bad_record": 4}
    assert reader.skipped == {"unknown_record_type": 1}
    assert reader.header is not None
    assert reader.header.exchange == "BINANCE"


def test_records_of_other_recorders_are_accepted(tmp_path: Path) -> None:
    """No header, string connection ids, integer times, JSON payloads stored decoded."""
    path = write_capture(
        tmp_path / "old.jsonl",
        [
            {"t": "connect", "conn": "c1", "ts": 10, "addr": ADDR},
            {"t": "recv", "conn": "c1", "ts": 11, "data": {"result": None, "id": 1}},
            {"t": "http", "ts": 12, "url": SNAPSHOT_URL, "data": SNAPSHOT},
        ],
        with_header=False,
    )
    reader = CaptureReader(path)
    assert list(reader) == [
        CaptureRecord("connect", "c1", 10.0, target=ADDR),
        CaptureRecord("recv", "c1", 11.0, '{"result":null,"id":1}'),
        CaptureRecord("http", 0, 12.0, SNAPSHOT, SNAPSHOT_URL),
    ]
    assert reader.header is None
    assert not reader.errors


def frames(n: int) -> list[dict[str, object]]:
    return [recv(1, 100.0 + i, f'{{"i":{i},"pad":"{"x" * 200}"}}') for i in range(n)]


def test_truncated_zst_ends_cleanly_with_an_error(tmp_path: Path) -> None:
    """A recorder killed mid-write leaves flushed blocks, then a cut block: keep what we can."""
    path = tmp_path / "cut.jsonl.zst"
    with CaptureWriter(path, exchange="BYBIT", recorded=1.0, buffer_bytes=4096) as writer:
        for i in range(2000):
            writer.recv(1, f'{{"i":{i},"pad":"{"x" * 200}"}}', 100.0 + i)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])
    reader = CaptureReader(path)
    got = [orjson.loads(r.data)["i"] for r in reader]
    assert len(got) > 100
    assert got == list(range(len(got)))  # a prefix, in order, no gap
    assert reader.errors["truncated_zst"] == 1
    assert sum(reader.errors.values()) <= 2  # plus at most the one cut line
    cut = len(whole) * 2 // 3
    assert reader.problems == [
        f"{path}: truncated after {len(got)} records (compressed byte offset {cut}); "
        "the rest could not be read"
    ]


def test_zst_cut_inside_the_first_block_gives_nothing_but_an_error(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "tiny.jsonl.zst", frames(50))
    path.write_bytes(path.read_bytes()[:40])
    reader = CaptureReader(path)
    assert list(reader) == []
    assert reader.errors == {"truncated_zst": 1}


def test_not_zstd_at_all_is_a_counted_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.jsonl.zst"
    path.write_bytes(encode([header(), *frames(3)]))
    reader = CaptureReader(path)
    assert list(reader) == []
    assert reader.errors == {"corrupt_zst": 1}
    assert reader.problems == [
        f"{path}: corrupt after 0 records (compressed byte offset 0); the rest could not be read"
    ]


def test_concatenated_zst_frames_are_all_read(tmp_path: Path) -> None:
    """Two recording sessions appended to one file: two zstd frames."""
    first = zstandard.ZstdCompressor().compress(encode([header(), *frames(2)]))
    second = zstandard.ZstdCompressor().compress(encode([header(), recv(1, 500.0, "{}")]))
    path = tmp_path / "two.jsonl.zst"
    path.write_bytes(first + second)
    reader = CaptureReader(path)
    assert [r.ts for r in reader] == [100.0, 101.0, 500.0]
    assert not reader.errors


def test_lines_longer_than_a_read_chunk_survive(tmp_path: Path) -> None:
    big = '{"levels":"' + "9" * 3_000_000 + '"}'
    for name in ("big.jsonl", "big.jsonl.zst"):
        path = write_capture(tmp_path / name, [recv(1, 1.0, big), recv(1, 2.0, "{}")])
        assert [r.data for r in read_capture(path)] == [big, "{}"]


def test_a_frame_with_a_lone_surrogate_is_recorded_with_a_replacement(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with CaptureWriter(path, exchange="OKX", recorded=1.0) as writer:
        writer.recv(1, '{"x":"a\udcffb"}', 2.0)
        writer.recv(1, "{}", 3.0)
    assert [r.data for r in read_capture(path)] == ['{"x":"a?b"}', "{}"]


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
events = st.lists(
    st.tuples(
        st.sampled_from(["connect", "send", "recv", "http"]),
        st.integers(0, 2**40),
        st.floats(0, 4e9, allow_nan=False, allow_infinity=False),
        texts,
        texts,
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(events=events, compressed=st.booleans())
def test_any_records_round_trip(
    events: list[tuple[str, int, float, str, str]], compressed: bool
) -> None:
    expected = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("p.jsonl.zst" if compressed else "p.jsonl")
        with CaptureWriter(path, exchange="X", recorded=0.0, buffer_bytes=512) as writer:
            for kind, conn, ts, text, url in events:
                if kind == "connect":
                    writer.connect(conn, url, ts)
                    expected.append(CaptureRecord(kind, conn, ts, target=url))
                elif kind == "http":
                    writer.http(conn, url, text, ts)
                    expected.append(CaptureRecord(kind, conn, ts, text, url))
                else:
                    getattr(writer, kind)(conn, text, ts)
                    expected.append(CaptureRecord(kind, conn, ts, text))
        reader = CaptureReader(path)
        assert list(reader) == expected
        assert not reader.errors
