"""Gemini market data v2 and REST wire-format builders, as JSON text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Changes = Sequence[tuple[str, str, str]]  # (side "buy"/"sell", price, quantity)


def _dump(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def initial(symbol: str, changes: Changes) -> str:
    """The first l2_updates of a subscription: the whole book plus recent trades."""
    trade = {
        "type": "trade", "symbol": symbol, "event_id": 1, "timestamp": 1767225600000,
        "price": changes[0][1] if changes else "1", "quantity": "0.1", "side": "buy", "tid": 7,
    }  # fmt: skip
    return _dump(
        {
            "type": "l2_updates",
            "symbol": symbol,
            "changes": [list(c) for c in changes],
            "trades": [trade],
        }
    )


def update(symbol: str, changes: Changes) -> str:
    return _dump({"type": "l2_updates", "symbol": symbol, "changes": [list(c) for c in changes]})


def trade(symbol: str) -> str:
    return _dump(
        {"type": "trade", "symbol": symbol, "event_id": 3, "timestamp": 1767225600100,
         "price": "100", "quantity": "0.5", "side": "sell", "tid": 8}
    )  # fmt: skip


def details(symbol: str, base: str, quote: str, product: str = "spot", **extra: Any) -> str:
    body = {
        "symbol": symbol, "base_currency": base, "quote_currency": quote, "tick_size": 1e-8,
        "quote_increment": 0.01, "min_order_size": "0.00001", "status": "open",
        "wrap_enabled": False, "product_type": product, "contract_type": "vanilla",
        "contract_price_currency": quote,
    }  # fmt: skip
    body.update(extra)
    return _dump(body)


def book_body(bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]) -> str:
    def rows(levels: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"price": p, "amount": a, "timestamp": "1767225600"} for p, a in levels]

    return _dump({"bids": rows(bids), "asks": rows(asks)})


def trade_at(symbol: str, price: str, quantity: str, side: str, ms: int) -> str:
    """A ``trade`` message of an ``l2`` subscription; ``side`` is the taker's."""
    return _dump(
        {"type": "trade", "symbol": symbol, "event_id": 3575573053, "timestamp": ms,
         "price": price, "quantity": quantity, "side": side, "tid": 2840140800}
    )  # fmt: skip
