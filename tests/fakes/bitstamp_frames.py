"""Bitstamp WebSocket v2 and REST wire-format builders, as JSON text."""

from __future__ import annotations

import json
from collections.abc import Sequence

Pairs = Sequence[tuple[str, str]]  # (price, amount) decimal strings
T_US = 1_767_225_600_000_000  # a microtimestamp


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def diff(pair: str, ts_us: int, bids: Pairs = (), asks: Pairs = ()) -> str:
    data = {
        "timestamp": str(ts_us // 1_000_000),
        "microtimestamp": str(ts_us),
        "bids": [list(level) for level in bids],
        "asks": [list(level) for level in asks],
    }
    return _dump({"data": data, "channel": f"diff_order_book_{pair}", "event": "data"})


def subscribed(pair: str) -> str:
    channel = f"diff_order_book_{pair}"
    return _dump({"event": "bts:subscription_succeeded", "channel": channel, "data": {}})


def book_body(ts_us: int, bids: Pairs, asks: Pairs) -> str:
    return _dump(
        {
            "timestamp": str(ts_us // 1_000_000),
            "microtimestamp": str(ts_us),
            "bids": [list(level) for level in bids],
            "asks": [list(level) for level in asks],
        }
    )


def pairs_body(*entries: tuple[str, str, int, int, str]) -> str:
    """(name, url_symbol, base_decimals, counter_decimals, trading) rows."""
    return _dump(
        [
            {
                "name": name,
                "url_symbol": native,
                "base_decimals": base,
                "counter_decimals": counter,
                "instant_order_counter_decimals": counter,
                "minimum_order": "10.0 USD",
                "trading": trading,
                "instant_and_market_orders": "Enabled",
                "description": name,
            }
            for name, native, base, counter, trading in entries
        ]
    )


def trade(
    pair: str, price: str, amount: str, side: str, ts_us: int, trade_id: int = 312004836
) -> str:
    """A ``live_trades_{pair}`` trade; ``type`` 0 when the taker bought, 1 when it sold."""
    data = {"id": trade_id, "timestamp": str(ts_us // 1_000_000), "amount": float(amount),
            "amount_str": amount, "price": float(price), "price_str": price,
            "type": 0 if side == "buy" else 1, "microtimestamp": str(ts_us),
            "buy_order_id": 1, "sell_order_id": 2}  # fmt: skip
    return _dump({"data": data, "channel": f"live_trades_{pair}", "event": "trade"})
