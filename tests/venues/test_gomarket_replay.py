"""Captures of venues read through GoMarket: record through a local gateway, then replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from goquant_bot import cli
from goquant_bot.app import open_captures, record_market_data, record_sources
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import RejectedInput
from goquant_bot.settings import Settings
from goquant_bot.venues.capture import CaptureReader
from goquant_bot.venues.gomarket import stream_of
from goquant_bot.venues.replay import replay_files
from tests.fakes.captures import connect, encode, http, recv
from tests.fakes.gomarket_server import FakeBook, FakeGoMarket

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
KEY = "gm-record-key-0123456789"
T0 = 1_767_225_600.0  # 2026-01-01: the capture's clock, far behind ours
PROD = "wss://gomarket-api.goquant.io"


def gm_settings(url: str, tmp_path: Path, *, enabled: bool = True, **gomarket: Any) -> Settings:
    return Settings(
        _env_file=None,
        app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
        logging={"file": None},  # type: ignore[arg-type]
        venues={"okx": {"taker_fee_pct": 0.1, "source": "gomarket"}},  # type: ignore[arg-type]
        gomarket={"enabled": enabled, "base_url": url, "api_key": KEY} | gomarket,  # type: ignore[arg-type]
        marketdata={"poll_after_failures": 1, "poll_interval_s": 0.1, "reconnect_initial_s": 0.05},  # type: ignore[arg-type]
    )


def book(ts_ms: float, bids: Any, asks: Any, *, exchange: str, symbol: str) -> str:
    return json.dumps(
        {"timestamp": ts_ms, "exchange": exchange, "symbol": symbol, "bids": bids, "asks": asks}
    )


def gm_header(venue: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"t": "header", "format": 2, "exchange": "GOMARKET", "config": {}}
    return line | ({"venue": venue} if venue is not None else {})


def write(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(encode(lines))
    return path


@pytest.fixture
def run_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``main.py ARGS`` in this process, from ``tmp_path``: (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


# -- record -> replay -----------------------------------------------------------------------


async def test_a_venue_read_through_gomarket_records_and_replays_to_the_same_book(
    tmp_path: Path,
) -> None:
    bids, asks = [(100.0, 1.0), (99.5, 2.0)], [(100.5, 1.5), (101.0, 3.0)]
    gm = FakeGoMarket(
        symbols={"okx": ["BTC-USDT"]}, books={("okx", "BTC-USDT"): FakeBook(bids, asks)}
    )
    async with gm:
        settings = gm_settings(gm.url, tmp_path)
        sources, refused = record_sources(settings, [Venue.OKX, Venue.BYBIT])
        assert (sources, refused) == ({Venue.OKX: "gomarket", Venue.BYBIT: "native"}, {})
        writers = open_captures(
            tmp_path / "cap", [Venue.OKX], {"symbols": ["BTC-USDT"]}, compress=True,
            gomarket=[Venue.OKX],
        )  # fmt: skip
        await record_market_data(settings, writers, [BTC], duration_s=1.0)
    path = tmp_path / "cap" / "okx.gomarket.jsonl.zst"
    reader = CaptureReader(path)
    records = list(reader)
    assert reader.header is not None
    assert (reader.header.exchange, reader.header.venue) == ("GOMARKET", "okx")
    assert records[0].kind == "http"  # GoMarket's symbol list, so replay knows the names
    assert records[0].target == f"{gm.url}/api/symbols/okx/spot"
    assert records[1].kind == "connect"
    assert stream_of(records[1].target) == ("okx", "BTC-USDT")
    frames = [r for r in records if r.kind == "recv"]
    assert len(frames) >= 5
    assert all(json.loads(r.data)["exchange"] == "okx" for r in frames)
    assert set(gm.api_keys) == {KEY}  # the key went to GoMarket as a header, never to the file
    assert all(KEY not in r.data and KEY not in r.target for r in records)

    report = replay_files([path]).report()
    assert report["okx:BTC-USDT"] == {
        "bid": 100.0, "bid_size": 1.0, "ask": 100.5, "ask_size": 1.5,
        "bid_levels": 2, "ask_levels": 2, "updates": len(frames), "resyncs": 0,
        "state": "live", "integrity": "snapshot",
    }  # fmt: skip
    assert report["errors"] == {}
    assert report["skipped"] == {}


async def test_books_kept_from_polls_beyond_the_stream_budget_replay_from_the_answers(
    tmp_path: Path,
) -> None:
    gm = FakeGoMarket(
        symbols={"bitmex": ["BTC-USDT", "ETH-USDT"]},
        books={
            ("bitmex", "BTC-USDT"): FakeBook([(100.0, 1.0)], [(100.5, 1.5)]),
            ("bitmex", "ETH-USDT"): FakeBook([(10.0, 4.0)], [(10.5, 5.0)]),
        },
    )
    async with gm:
        settings = gm_settings(gm.url, tmp_path, ws_connections=1)
        writers = open_captures(
            tmp_path, [Venue.BITMEX], {}, compress=False, gomarket=[Venue.BITMEX]
        )
        await record_market_data(settings, writers, [BTC, ETH], duration_s=1.0)
    path = tmp_path / "bitmex.gomarket.jsonl"
    records = list(CaptureReader(path))
    polls = [r for r in records if r.kind == "http" and "/api/l2-orderbook/" in r.target]
    assert polls
    assert sum(r.kind == "connect" for r in records) == 1  # one stream: the budget
    report = replay_files([path]).report()
    books = {key: report[key] for key in ("bitmex:BTC-USDT", "bitmex:ETH-USDT")}
    streamed, polled = sorted(books.values(), key=lambda book: book["state"])
    assert (streamed["state"], polled["state"]) == ("live", "polled")
    assert {streamed["integrity"], polled["integrity"]} == {"snapshot"}
    assert polled["updates"] == len(polls)
    assert {(b["bid"], b["ask"]) for b in books.values()} == {(100.0, 100.5), (10.0, 10.5)}
    assert report["skipped"] == {}
    assert report["errors"] == {}


@pytest.mark.usefixtures("restore_logging")
def test_record_refuses_a_venue_it_cannot_read_and_writes_nothing(
    tmp_path: Path, run_main: Callable[..., tuple[int, str, str]]
) -> None:
    settings = gm_settings("http://gm", tmp_path, enabled=False)
    assert record_sources(settings, [Venue.OKX, Venue.BITMEX, Venue.BYBIT]) == (
        {Venue.BYBIT: "native"},
        {
            Venue.OKX: '[venues.okx] source = "gomarket" but [gomarket] is disabled',
            Venue.BITMEX: "it has no native feed and [gomarket] is disabled",
        },
    )
    code, _, err = run_main("record", "--venues", "bitmex", "--symbols", "BTC-USDT", "--out", "d")
    assert code == 2
    assert "cannot record bitmex: it has no native feed and [gomarket] is disabled" in err
    assert not (tmp_path / "d").exists()


# -- a capture written by hand --------------------------------------------------------------


def kraken_capture(path: Path) -> Path:
    """Kraken through GoMarket: names with a slash, an old clock, every kind of damage."""
    addr = f"{PROD}/ws/l2-orderbook/kraken/XBT%2FUSD"
    bids, asks = [["100.0", "2.0"], ["99.0", "1.0"]], [["101.0", "1.0"]]

    def msg(at: float, b: Any = bids, a: Any = asks, symbol: str = "XBT/USD") -> str:
        return book(at * 1000, b, a, exchange="kraken", symbol=symbol)

    listing = [{"symbol": "XBT/USD", "base": "XBT", "quote": "USD"}]
    return write(
        path,
        [
            gm_header("kraken"),
            http(0, T0, "https://gomarket-api.goquant.io/api/symbols/kraken/spot", listing),
            connect(1, T0 + 0.1, addr),
            recv(1, T0 + 1.0, msg(T0 + 0.9)),
            recv(1, T0 + 2.0, msg(T0 + 0.9)),  # the same stamp again: not newer
            recv(1, T0 + 3.0, msg(T0 - 20.0)),  # 23 s behind the capture's clock: stale
            b'{"t":"recv","conn":1,"ts":17672256\n',  # a line cut short
            recv(1, T0 + 4.0, "not json"),
            recv(1, T0 + 5.0, msg(T0 + 5.0, symbol="ETH/USD")),  # another book's message
            recv(1, T0 + 6.0, msg(T0 + 6.0, b=[["102.0", "1.0"]])),  # crossed: cleared
            recv(1, T0 + 7.0, msg(T0 + 7.0, b=[["100.5", "3.0"]], a=[["100.7", "0.5"]])),
        ],
    )


def test_an_old_hand_made_capture_replays_on_its_own_clock_and_counts_its_damage(
    tmp_path: Path,
) -> None:
    path = kraken_capture(tmp_path / "kraken.gomarket.jsonl")
    report = replay_files([path]).report()
    assert report["kraken:BTC-USD"] == {
        "bid": 100.5, "bid_size": 3.0, "ask": 100.7, "ask_size": 0.5,
        "bid_levels": 1, "ask_levels": 1, "updates": 3, "resyncs": 1,
        "state": "live", "integrity": "snapshot",
    }  # fmt: skip
    assert report["errors"] == {
        "bad_json": 1, "corrupt_line": 1, "crossed": 1, "stale_message": 1, "wrong_book": 1,
    }  # fmt: skip
    assert report["skipped"] == {"not_newer": 1}
    assert report["record_types"] == {"connect": 1, "http": 1, "recv": 7}


def test_the_replay_lag_is_the_settings_one(tmp_path: Path) -> None:
    path = kraken_capture(tmp_path / "kraken.gomarket.jsonl")
    report = replay_files([path], gomarket_max_lag_s=30.0).report()
    assert "stale_message" not in report["errors"]
    assert report["skipped"] == {"not_newer": 2}  # the late message is older than the first


def test_a_header_without_a_venue_lets_the_addresses_decide(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.jsonl",
        [
            gm_header(None),
            connect(1, T0, "ws://127.0.0.1:8123/ws/l2-orderbook/bitmex/XBTUSDT"),
            recv(1, T0 + 1, book(T0 * 1000, [["5", "1"]], [["6", "1"]], exchange="bitmex", symbol="XBTUSDT")),
        ],
    )  # fmt: skip
    report = replay_files([path]).report()
    assert report["bitmex:BTC-USDT"]["bid"] == 5.0
    assert report["bitmex:BTC-USDT"]["state"] == "live"


@pytest.mark.usefixtures("restore_logging")
def test_a_gomarket_header_naming_an_unknown_venue_is_refused_with_exit_2(
    tmp_path: Path, run_main: Callable[..., tuple[int, str, str]]
) -> None:
    path = write(tmp_path / "ftx.jsonl", [gm_header("ftx"), connect(1, T0, f"{PROD}/ws/x")])
    with pytest.raises(RejectedInput, match="GoMarket for venue 'ftx'"):
        replay_files([path])
    code, out, err = run_main("replay", str(path))
    assert code == 2
    assert f"{path}: the header says the data came through GoMarket for venue 'ftx'" in err
    assert out == ""


@pytest.mark.usefixtures("restore_logging")
def test_replay_with_monitors_alerts_on_books_read_through_gomarket(
    tmp_path: Path, run_main: Callable[..., tuple[int, str, str]]
) -> None:
    def capture(venue: str, bid: float, ask: float) -> Path:
        addr = f"{PROD}/ws/l2-orderbook/{venue}/BTC-USDT"
        frames = [
            recv(1, T0 + i, book((T0 + i) * 1000, [[str(bid), "20"]], [[str(ask), "20"]],
                                 exchange=venue, symbol="BTC-USDT"))
            for i in (1.0, 2.0, 3.0)
        ]  # fmt: skip
        return write(
            tmp_path / f"{venue}.gomarket.jsonl",
            [gm_header(venue), connect(1, T0, addr), *frames],
        )

    okx, binance = capture("okx", 100.0, 100.5), capture("binance", 101.5, 102.0)
    monitors = tmp_path / "m.json"
    monitors.write_bytes(
        orjson.dumps(
            [
                {
                    "id": "m1",
                    "kind": "arbitrage",
                    "symbols": ["BTC-USDT"],
                    "venues": ["binance", "okx"],
                    "min_edge_pct": 0.1,
                    "notional": 1000,
                }
            ]
        )
    )
    code, out, err = run_main("replay", str(okx), str(binance), "--monitors", str(monitors))
    assert code == 0, err
    report = json.loads(out)
    assert report["okx:BTC-USDT"]["integrity"] == "snapshot"
    opened = [a for a in report["alerts"] if a["kind"] == "arbitrage_open"]
    assert [(a["ts"], a["buy_venue"], a["sell_venue"]) for a in opened] == [
        (T0 + 1.0, "okx", "binance")
    ]
    assert opened[0]["buy_price"] == pytest.approx(100.5)
    assert opened[0]["sell_price"] == pytest.approx(101.5)


def test_only_gomarket_stream_addresses_name_a_gomarket_book() -> None:
    assert stream_of(f"{PROD}/ws/l2-orderbook/kraken/XBT%2FUSD") == ("kraken", "XBT/USD")
    assert stream_of("ws://localhost:9/ws/l2-orderbook/okx/BTC-USDT") == ("okx", "BTC-USDT")
    assert stream_of("wss://example.com/ws/l2-orderbook/okx/BTC-USDT") is None
    assert stream_of(f"{PROD}/ws/l1-orderbook/okx/BTC-USDT") is None
    assert stream_of(f"{PROD}/ws/l2-orderbook/okx/") is None
