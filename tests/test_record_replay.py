"""record -> capture files -> replay, end to end through local venue servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.monitors.schema import load_monitors, record_to_dict
from goquant_bot.settings import Settings
from goquant_bot.storage.state import PersistedState
from goquant_bot.venues.capture import read_capture
from goquant_bot.venues.replay import replay_files
from tests.fakes import bybit_frames as bb
from tests.fakes.captures import connect, recv, write_capture
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer
from tests.helpers import REPO_ROOT

BTC = Symbol("BTC", "USDT")


async def _bybit(conn: ScriptConn) -> None:
    sub = json.loads(await conn.recv_until(lambda t: '"subscribe"' in t))
    assert sub["args"] == ["orderbook.200.BTCUSDT"]
    await conn.send(bb.op_ack(sub["req_id"]))
    await conn.send(
        bb.orderbook_frame(
            "snapshot", "BTCUSDT", 1, [["100.0", "1"], ["99.0", "2"]], [["101.0", "3"]], depth=200
        )
    )
    await conn.send(
        bb.orderbook_frame("delta", "BTCUSDT", 2, [["100.0", "0"], ["99.5", "4"]], [], depth=200)
    )
    await conn.send(bb.orderbook_frame("delta", "BTCUSDT", 3, [], [["100.5", "0.5"]], depth=200))
    await conn.hold()


async def test_record_then_replay_gives_the_same_book(tmp_path: Path) -> None:
    async with RestServer() as rest, ScriptedServer(_bybit, path="/v5/public/spot") as srv:
        rest.reply(
            "/v5/market/instruments-info",
            body=bb.instruments_body([bb.instrument_entry("BTCUSDT", "BTC", "USDT")]),
        )
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={"bybit": {"taker_fee_pct": 0.1, "ws_url": srv.url, "rest_url": rest.url}},  # type: ignore[arg-type]
        )
        writers = open_captures(
            tmp_path / "cap", [Venue.BYBIT], {"symbols": ["BTC-USDT"]}, compress=True
        )
        await record_market_data(settings, writers, [BTC], duration_s=1.5)
    path = tmp_path / "cap" / "bybit.jsonl.zst"
    kinds = [record.kind for record in read_capture(path)]
    assert kinds[0] == "http"  # the instruments answer, so replay knows the symbols
    assert kinds[1:4] == ["connect", "send", "recv"]
    assert kinds.count("recv") == 4
    report = replay_files([path]).report()
    assert report["bybit:BTC-USDT"] == {
        "bid": 99.5, "bid_size": 4.0, "ask": 100.5, "ask_size": 0.5,
        "bid_levels": 2, "ask_levels": 2, "updates": 3, "resyncs": 0, "state": "live",
        "integrity": "verified",
    }  # fmt: skip
    assert report["errors"] == {}


def test_replay_command_prints_the_json_report(tmp_path: Path) -> None:
    addr = "wss://stream.bybit.com/v5/public/spot"
    path = write_capture(
        tmp_path / "bybit.jsonl",
        [
            connect(1, 10.0, addr),
            recv(
                1,
                10.1,
                bb.orderbook_frame("snapshot", "BTCUSDT", 1, [["100.0", "1"]], [["101.0", "2"]]),
            ),
            recv(1, 10.2, bb.orderbook_frame("delta", "BTCUSDT", 3, [["100.0", "5"]], [])),  # gap
            recv(1, 10.3, "garbage"),
        ],
    )
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "replay", str(path), "--report", "json"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["bybit:BTC-USDT"]["state"] == "syncing"
    assert report["bybit:BTC-USDT"]["resyncs"] == 1
    assert report["errors"] == {"gap": 1, "invalid_json": 1}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "missing.jsonl"], "cannot read missing.jsonl"),
        (["replay", "x.jsonl", "--monitors", "m.json"], "cannot read m.json"),
        (["replay", "x.jsonl", "--monitors", "bad.json"], "cannot read bad.json"),
        (["record", "--venues", "ftx", "--symbols", "BTC-USDT", "--out", "d"], "unknown venue"),
        (["record", "--venues", "okx", "--symbols", "BTCUSDT", "--out", "d"], "BASE-QUOTE"),
        (
            ["record", "--venues", "okx", "--symbols", "BTC-USDT", "--out", "d", "--duration", "0"],
            "between 0",
        ),
    ],
)
def test_bad_record_and_replay_arguments(argv: list[str], message: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), *argv],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _replay(tmp_path: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "replay", *map(str, paths)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip


def test_replay_of_nothing_readable_exits_non_zero(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n{also not\n")
    empty = tmp_path / "empty.jsonl.zst"
    empty.write_bytes(b"")
    result = _replay(tmp_path, junk, empty)
    assert result.returncode == 2
    assert f"no record could be read from {junk}, {empty}" in result.stderr
    assert json.loads(result.stdout)["errors"] == {"corrupt_line": 2}


def test_replay_says_how_far_a_truncated_zst_got(tmp_path: Path) -> None:
    addr = "wss://stream.bybit.com/v5/public/spot"
    frames = [connect(1, 10.0, addr)] + [
        recv(1, 10.0 + i / 10, bb.orderbook_frame("snapshot", "BTCUSDT", i, [["100.0", "1"]], [["101.0", str(i)]]))
        for i in range(1, 3000)
    ]  # fmt: skip
    path = write_capture(tmp_path / "bybit.jsonl.zst", frames)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    result = _replay(tmp_path, path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert 0 < report["records"] < 3000
    assert report["errors"]["truncated_zst"] == 1
    expected = (
        f"{path}: truncated after {report['records']} records "
        f"(compressed byte offset {len(whole) // 2})"
    )
    assert expected in result.stderr
    assert report["problems"][0].startswith(expected)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "inf"])
def test_replay_never_applies_non_finite_numbers(tmp_path: Path, bad: str) -> None:
    addr = "wss://stream.bybit.com/v5/public/spot"
    snapshot = bb.orderbook_frame("snapshot", "BTCUSDT", 1, [["100.0", "1"]], [["101.0", "2"]])
    path = write_capture(
        tmp_path / "bybit.jsonl",
        [
            connect(1, 10.0, addr),
            recv(1, 10.1, snapshot),
            recv(1, 10.2, bb.orderbook_frame("delta", "BTCUSDT", 2, [[bad, "5"]], [])),
            recv(1, 10.3, bb.orderbook_frame("delta", "BTCUSDT", 3, [], [["101.0", bad]])),
        ],
    )
    report = replay_files([path]).report()
    book = report["bybit:BTC-USDT"]
    assert (book["state"], book["resyncs"], book["bid"]) == ("syncing", 1, None)
    assert report["errors"] == {"bad_level": 1}
    assert report["skipped"] == {"delta_before_snapshot": 1}


def test_replay_takes_the_monitors_of_a_state_file_as_they_are(tmp_path: Path) -> None:
    """The state file's monitors are in the replay schema: ``--monitors data/state.json``."""
    scenario = REPO_ROOT / "tests" / "scenarios" / "data" / "true_opportunity"
    records = load_monitors(scenario / "monitors.json")
    state = PersistedState(users={}, monitors=[record_to_dict(r) for r in records])
    state_file = tmp_path / "state.json"
    state_file.write_text(state.model_dump_json())
    captures = sorted(scenario.glob("*.jsonl"))
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "replay", *map(str, captures),
         "--monitors", str(state_file), "--report", "json"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    alerts = json.loads(result.stdout)["alerts"]
    opened = [(a["monitor"], a["kind"]) for a in alerts if a["kind"] == "arbitrage_open"]
    assert opened == [
        ("m1", "arbitrage_open"),
        ("m_vip", "arbitrage_open"),
        ("m_wait", "arbitrage_open"),
    ]
