"""Coinbase Advanced Trade wire-format builders: WebSocket frames and REST bodies as JSON text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Pairs = Sequence[tuple[str, str]]  # (price, quantity) as the venue's decimal strings
TS_TEXT = "2023-02-09T20:32:50.714964855Z"
TS = 1675974770.714964855


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def updates(bids: Pairs = (), asks: Pairs = (), event_time: str = TS_TEXT) -> list[dict[str, str]]:
    """``updates`` entries: bids with side "bid", asks with side "offer"."""
    out = []
    for side, pairs in (("bid", bids), ("offer", asks)):
        out += [
            {"side": side, "event_time": event_time, "price_level": p, "new_quantity": q}
            for p, q in pairs
        ]
    return out


def l2_event(kind: str, product: str, bids: Pairs = (), asks: Pairs = ()) -> dict[str, Any]:
    return {"type": kind, "product_id": product, "updates": updates(bids, asks)}


def l2_frame(
    seq: int,
    kind: str,
    product: str,
    bids: Pairs = (),
    asks: Pairs = (),
    *,
    timestamp: str = TS_TEXT,
    events: Sequence[dict[str, Any]] | None = None,
) -> str:
    """An ``l2_data`` message with one event (or the ``events`` given)."""
    return _dump(
        {
            "channel": "l2_data",
            "client_id": "",
            "timestamp": timestamp,
            "sequence_num": seq,
            "events": list(events) if events is not None else [l2_event(kind, product, bids, asks)],
        }
    )


def heartbeat_frame(seq: int, counter: int = 1) -> str:
    return _dump(
        {
            "channel": "heartbeats",
            "client_id": "",
            "timestamp": TS_TEXT,
            "sequence_num": seq,
            "events": [
                {
                    "current_time": "2023-02-09 20:32:50.714964855 +0000 UTC m=+91717.525857105",
                    "heartbeat_counter": str(counter),
                }
            ],
        }
    )


def subscriptions_frame(seq: int, products: Sequence[str]) -> str:
    """What Coinbase answers to every (un)subscribe: the subscriptions now active."""
    subs = {"level2": list(products), "heartbeats": ["heartbeats"]}
    return _dump(
        {
            "channel": "subscriptions",
            "client_id": "",
            "timestamp": TS_TEXT,
            "sequence_num": seq,
            "events": [{"subscriptions": subs}],
        }
    )


def error_frame(message: str = "Failed to subscribe") -> str:
    return _dump({"type": "error", "message": message})


def product(
    product_id: str,
    *,
    status: str = "online",
    product_type: str = "SPOT",
    tick: str = "0.01",
    lot: str = "0.00000001",
    alias: str = "",
    trading_disabled: bool = False,
) -> dict[str, Any]:
    """One entry of ``GET /api/v3/brokerage/market/products`` (read fields plus a few others)."""
    base, quote = product_id.split("-", 1)
    return {
        "product_id": product_id,
        "price": "65000.00",
        "base_increment": lot,
        "quote_increment": tick,
        "price_increment": tick,
        "quote_min_size": "1",
        "base_min_size": lot,
        "base_name": base,
        "quote_name": quote,
        "status": status,
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": trading_disabled,
        "auction_mode": False,
        "is_disabled": False,
        "product_type": product_type,
        "quote_currency_id": quote,
        "base_currency_id": base,
        "alias": alias,
        "alias_to": [],
        "base_display_symbol": base,
        "quote_display_symbol": quote,
        "view_only": False,
    }


def products_body(entries: Sequence[dict[str, Any]]) -> str:
    return _dump({"products": list(entries), "num_products": len(entries)})


def product_book_body(product_id: str, bids: Pairs, asks: Pairs, time: str = TS_TEXT) -> str:
    """``GET /api/v3/brokerage/market/product_book`` success body."""
    book = {
        "product_id": product_id,
        "bids": [{"price": p, "size": s} for p, s in bids],
        "asks": [{"price": p, "size": s} for p, s in asks],
        "time": time,
    }
    return _dump({"pricebook": book, "last": "65000.00", "mid_market": "65000.00"})


def trades_frame(seq: int, product: str, price: str, size: str, maker_side: str, time: str) -> str:
    """A ``market_trades`` update; ``side`` on the wire is the resting (maker) order's."""
    item = {"trade_id": "000000000", "product_id": product, "price": price, "size": size,
            "side": maker_side.upper(), "time": time}  # fmt: skip
    return _dump({"channel": "market_trades", "client_id": "", "timestamp": time,
                  "sequence_num": seq, "events": [{"type": "update", "trades": [item]}]})  # fmt: skip
