"""Simulated trades in each venue's wire format (the shapes the real protocols read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from goquant_bot.venues.sim.book import SimBook
from goquant_bot.venues.sim.encoders import dumps
from goquant_bot.venues.sim.trades import SimTrade


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def binance(book: SimBook, native: str, t: SimTrade) -> dict[str, Any]:
    """``m``: the buyer was the maker, i.e. the taker sold."""
    return {"e": "trade", "E": t.ts_ms, "s": native, "t": t.trade_id,
            "p": book.price_text(t.price), "q": book.size_text(t.size), "T": t.ts_ms,
            "m": not t.buy, "M": True}  # fmt: skip


def okx(book: SimBook, native: str, t: SimTrade) -> str:
    item = {"instId": native, "tradeId": str(t.trade_id), "px": book.price_text(t.price),
            "sz": book.size_text(t.size), "side": "buy" if t.buy else "sell",
            "ts": str(t.ts_ms), "count": "1"}  # fmt: skip
    return dumps({"arg": {"channel": "trades", "instId": native}, "data": [item]})


def bybit(book: SimBook, native: str, t: SimTrade) -> str:
    item = {"T": t.ts_ms, "s": native, "S": "Buy" if t.buy else "Sell",
            "v": book.size_text(t.size), "p": book.price_text(t.price), "L": "ZeroPlusTick",
            "i": f"sim-{t.trade_id}", "BT": False}  # fmt: skip
    return dumps({"topic": f"publicTrade.{native}", "type": "snapshot", "ts": t.ts_ms,
                  "data": [item]})  # fmt: skip


def deribit(book: SimBook, native: str, t: SimTrade) -> str:
    price = float(book.price_text(t.price))
    item = {"trade_seq": t.trade_id, "trade_id": f"SIM-{t.trade_id}", "timestamp": t.ts_ms,
            "tick_direction": 0, "price": price, "mark_price": price, "instrument_name": native,
            "index_price": price, "direction": "buy" if t.buy else "sell",
            "amount": float(book.size_text(t.size))}  # fmt: skip
    params = {"channel": f"trades.{native}.100ms", "data": [item]}
    return dumps({"jsonrpc": "2.0", "method": "subscription", "params": params})


def coinbase_event(book: SimBook, native: str, t: SimTrade) -> dict[str, Any]:
    """One ``market_trades`` event; ``side`` is the resting (maker) order's."""
    item = {"trade_id": str(t.trade_id), "product_id": native,
            "price": book.price_text(t.price), "size": book.size_text(t.size),
            "side": "SELL" if t.buy else "BUY", "time": _iso(t.ts_ms)}  # fmt: skip
    return {"type": "update", "trades": [item]}


def kraken(book: SimBook, native: str, t: SimTrade) -> str:
    item = (
        f'{{"symbol":"{native}","side":"{"buy" if t.buy else "sell"}",'
        f'"price":{book.price_text(t.price)},"qty":{book.size_text(t.size)},'
        f'"ord_type":"market","trade_id":{t.trade_id},"timestamp":"{_iso(t.ts_ms)}"}}'
    )
    return f'{{"channel":"trade","type":"update","data":[{item}]}}'


def bitstamp(book: SimBook, native: str, t: SimTrade) -> str:
    price, size = book.price_text(t.price), book.size_text(t.size)
    data = {"id": t.trade_id, "timestamp": str(t.ts_ms // 1000), "amount": float(size),
            "amount_str": size, "price": float(price), "price_str": price,
            "type": 0 if t.buy else 1, "microtimestamp": str(t.ts_ms * 1000),
            "buy_order_id": 1, "sell_order_id": 2}  # fmt: skip
    return dumps({"data": data, "channel": f"live_trades_{native}", "event": "trade"})


def gemini(book: SimBook, native: str, t: SimTrade) -> str:
    return dumps({"type": "trade", "symbol": native, "event_id": t.trade_id,
                  "timestamp": t.ts_ms, "price": book.price_text(t.price),
                  "quantity": book.size_text(t.size), "side": "buy" if t.buy else "sell",
                  "tid": t.trade_id})  # fmt: skip
