"""record -> capture files -> replay for Coinbase and Kraken, through local venue servers."""

from __future__ import annotations

import json
from pathlib import Path

from goquant_bot.app import open_captures, record_market_data
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.settings import Settings
from goquant_bot.venues.capture import CaptureReader
from goquant_bot.venues.replay import replay_files
from tests.fakes import coinbase_frames as cb
from tests.fakes import kraken_frames as kr
from tests.fakes.rest_server import RestServer
from tests.fakes.ws_server import ScriptConn, ScriptedServer

BTC_USD = Symbol("BTC", "USD")


async def _coinbase(conn: ScriptConn) -> None:
    await conn.recv_until(lambda t: '"heartbeats"' in t)
    sub = json.loads(await conn.recv_until(lambda t: '"level2"' in t))
    assert sub["product_ids"] == ["BTC-USD"]
    await conn.send(cb.subscriptions_frame(0, ["BTC-USD"]))
    await conn.send(cb.l2_frame(1, "snapshot", "BTC-USD", [("100.00", "1")], [("101.00", "2")]))
    await conn.send(cb.l2_frame(2, "update", "BTC-USD", [("100.50", "3")]))
    await conn.hold()


async def _kraken(conn: ScriptConn) -> None:
    sub = json.loads(await conn.recv_until(lambda t: '"subscribe"' in t))
    assert sub["params"]["symbol"] == ["BTC/USD"]
    await conn.send(kr.ack("subscribe", "BTC/USD", sub["params"]["depth"], sub["req_id"]))
    book = ([("100.2", "1.00000000")], [("100.4", "2.00000000")])
    await conn.send(kr.book_frame("snapshot", "BTC/USD", *book))
    after = ([("100.3", "0.50000000"), *book[0]], book[1])
    await conn.send(kr.book_frame("update", "BTC/USD", [("100.3", "0.50000000")], book=after))
    await conn.hold()


async def test_record_then_replay_gives_the_same_books(tmp_path: Path) -> None:
    async with (
        RestServer() as rest,
        ScriptedServer(_coinbase) as coinbase,
        ScriptedServer(_kraken, path="/v2") as kraken,
    ):
        rest.reply(
            "/api/v3/brokerage/market/products", body=cb.products_body([cb.product("BTC-USD")])
        )
        pairs = kr.asset_pairs_body({"XXBTZUSD": kr.asset_pair("XBT/USD")})
        rest.reply("/0/public/AssetPairs", body=pairs)
        settings = Settings(
            _env_file=None,
            app={"data_dir": str(tmp_path / "data")},  # type: ignore[arg-type]
            venues={
                "coinbase": {"taker_fee_pct": 1.2, "ws_url": coinbase.url, "rest_url": rest.url},
                "kraken": {"taker_fee_pct": 0.4, "ws_url": kraken.url, "rest_url": rest.url},
            },  # type: ignore[arg-type]
        )
        venues = [Venue.COINBASE, Venue.KRAKEN]
        writers = open_captures(tmp_path / "cap", venues, {"symbols": ["BTC-USD"]}, compress=True)
        await record_market_data(settings, writers, [BTC_USD], duration_s=1.5)
    for name, exchange in (("coinbase", "COINBASE"), ("kraken", "KRAKEN")):
        reader = CaptureReader(tmp_path / "cap" / f"{name}.jsonl.zst")
        kinds = [record.kind for record in reader]
        assert reader.header is not None
        assert reader.header.exchange == exchange
        assert kinds[:2] == ["http", "connect"]  # the instruments answer first
    report = replay_files(
        [tmp_path / "cap" / "coinbase.jsonl.zst", tmp_path / "cap" / "kraken.jsonl.zst"]
    ).report()
    coinbase_book, kraken_book = report["coinbase:BTC-USD"], report["kraken:BTC-USD"]
    assert (coinbase_book["bid"], coinbase_book["bid_size"], coinbase_book["ask"]) == (
        100.5,
        3.0,
        101.0,
    )
    assert (kraken_book["bid"], kraken_book["bid_size"], kraken_book["ask"]) == (100.3, 0.5, 100.4)
    assert (coinbase_book["state"], kraken_book["state"]) == ("live", "live")
    assert report["errors"] == {}
