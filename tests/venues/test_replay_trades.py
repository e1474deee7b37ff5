"""Trade frames in a capture: replayed like any frame, the last one reported per book."""

from __future__ import annotations

from pathlib import Path

from goquant_bot.venues.replay import replay_files
from tests.fakes import binance_frames as bn
from tests.fakes import okx_frames as ok
from tests.fakes.captures import connect, recv, send, write_capture

MS = 1_767_225_600_000


def test_replay_reports_the_last_trade_of_each_book(tmp_path: Path) -> None:
    lines = [
        connect(1, 1.0, "wss://stream.binance.com:9443/stream"),
        send(1, 1.1, '{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms","btcusdt@trade"],"id":1}'),
        recv(1, 1.2, bn.depth_update("BTCUSDT", 10, 11, [["100.0", "1"]], [])),
        recv(1, 1.3, bn.trade("BTCUSDT", "100.5", "0.5", "buy", MS + 300, trade_id=7)),
        recv(1, 1.4, bn.trade("BTCUSDT", "100.4", "0.2", "sell", MS + 400, trade_id=8)),
        recv(1, 1.5, bn.trade("BTCUSDT", "abc", "0.2", "sell", MS + 500, trade_id=9)),  # bad
        connect(2, 2.0, "wss://ws.okx.com:8443/ws/v5/public"),
        recv(2, 2.1, ok.trade("ETH-USDT", "3000.1", "1.5", "buy", MS + 100)),
        recv(2, 2.2, ok.books_frame("snapshot", "ETH-USDT", [("3000", "1")], [("3001", "1")], 1, -1)),
    ]  # fmt: skip
    path = write_capture(tmp_path / "trades.jsonl", lines)
    report = replay_files([path]).report()
    btc = report["binance:BTC-USDT"]
    assert btc["trades"] == 2
    assert btc["last_trade"] == {
        "price": 100.4,
        "size": 0.2,
        "side": "sell",
        "venue_ts": (MS + 400) / 1000,
        "recv_ts": 1.4,
        "trade_id": "8",
    }
    assert btc["resyncs"] == 0  # the bad trade left the book alone
    assert report["errors"] == {"bad_trade": 1}
    eth = report["okx:ETH-USDT"]
    assert (eth["last_trade"]["price"], eth["last_trade"]["side"]) == (3000.1, "buy")
    assert eth["state"] == "live"
