"""REST of the simulated Binance, OKX, Bybit, Deribit, Coinbase and Kraken: depth snapshots and
instrument lists, in each venue's format (``rest_routes`` sends each GET to its answer)."""

from __future__ import annotations

from collections.abc import Mapping

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.kraken_rest import LEGACY_TICKERS, legacy_name
from goquant_bot.venues.sim.book import SimBook, decimal_text
from goquant_bot.venues.sim.encoders import (
    binance_partial_depth,
    book_time,
    deribit_reply,
    dumps,
    iso_time,
    native_name,
    number_levels,
    okx_levels,
    text_levels,
)
from goquant_bot.venues.sim.model import MarketModel


def _find(model: MarketModel, venue: Venue, native: str | None) -> SimBook | None:
    for symbol in model.listings(venue):
        if native_name(venue, symbol) == native:
            return model.book(venue, symbol)
    return None


def _int(query: Mapping[str, str], key: str, default: int, cap: int) -> int:
    try:
        return max(1, min(cap, int(query.get(key, default))))
    except ValueError:
        return default


def binance_depth(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    """``{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[...]}``."""
    book = _find(model, Venue.BINANCE, query.get("symbol"))
    if book is None:
        return 400, dumps({"code": -1121, "msg": "Invalid symbol."})
    return 200, dumps(binance_partial_depth(book, _int(query, "limit", 100, 5000)))


def binance_instruments(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    entries = []
    for symbol in model.listings(Venue.BINANCE):
        asset = model.asset(symbol.base)
        tick = decimal_text(10 ** (8 - asset.tick_decimals), 8)
        step = decimal_text(10 ** (8 - asset.lot_decimals), 8)
        entries.append(
            {
                "symbol": native_name(Venue.BINANCE, symbol),
                "status": "TRADING",
                "baseAsset": symbol.base,
                "baseAssetPrecision": 8,
                "quoteAsset": symbol.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "isSpotTradingAllowed": True,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": tick,
                        "maxPrice": "1000000.00000000",
                        "tickSize": tick,
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": step,
                        "maxQty": "9000.00000000",
                        "stepSize": step,
                    },
                ],
                "permissionSets": [["SPOT"]],
            }
        )
    body = {
        "timezone": "UTC",
        "serverTime": round(model.time * 1000),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": entries,
    }
    return 200, dumps(body)


def okx_books(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    """``{"code":"0","msg":"","data":[{"asks":[[px,sz,"0",n]],"bids":[...],"ts":"..."}]}``."""
    book = _find(model, Venue.OKX, query.get("instId"))
    if book is None:
        return 200, dumps({"code": "51001", "msg": "Instrument ID does not exist", "data": []})
    depth = _int(query, "sz", 1, 400)
    item = {
        "asks": okx_levels(book, book.top(False, depth)),
        "bids": okx_levels(book, book.top(True, depth)),
        "ts": str(book.ts_ms),
    }
    return 200, dumps({"code": "0", "msg": "", "data": [item]})


def okx_instruments(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    data = []
    for symbol in model.listings(Venue.OKX):
        asset = model.asset(symbol.base)
        data.append(
            {
                "instType": "SPOT",
                "instId": native_name(Venue.OKX, symbol),
                "baseCcy": symbol.base,
                "quoteCcy": symbol.quote,
                "state": "live",
                "tickSz": decimal_text(1, asset.tick_decimals),
                "lotSz": decimal_text(1, asset.lot_decimals),
                "minSz": decimal_text(10, asset.lot_decimals),
            }
        )
    return 200, dumps({"code": "0", "msg": "", "data": data})


def bybit_orderbook(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    book = _find(model, Venue.BYBIT, query.get("symbol"))
    if book is None:
        return 200, dumps(
            {
                "retCode": 10001,
                "retMsg": "params error: symbol invalid",
                "result": {},
                "retExtInfo": {},
                "time": book_time(model),
            }
        )
    depth = _int(query, "limit", 1, 200)
    result = {
        "s": native_name(Venue.BYBIT, book.symbol),
        "b": text_levels(book, book.top(True, depth)),
        "a": text_levels(book, book.top(False, depth)),
        "ts": book.ts_ms,
        "u": book.last_id,
        "seq": book.last_id,
        "cts": book.ts_ms - 3,
    }
    return 200, dumps(
        {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": book_time(model)}
    )


def bybit_instruments(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    entries = []
    for symbol in model.listings(Venue.BYBIT):
        asset = model.asset(symbol.base)
        entries.append(
            {
                "symbol": native_name(Venue.BYBIT, symbol),
                "baseCoin": symbol.base,
                "quoteCoin": symbol.quote,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "both",
                "lotSizeFilter": {
                    "basePrecision": decimal_text(1, asset.lot_decimals),
                    "quotePrecision": "0.00000001",
                    "minOrderQty": decimal_text(10, asset.lot_decimals),
                    "maxOrderQty": "9000",
                    "minOrderAmt": "1",
                    "maxOrderAmt": "2000000",
                },
                "priceFilter": {"tickSize": decimal_text(1, asset.tick_decimals)},
            }
        )
    result = {"category": "spot", "list": entries, "nextPageCursor": ""}
    return 200, dumps(
        {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": book_time(model)}
    )


def deribit_order_book(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    book = _find(model, Venue.DERIBIT, query.get("instrument_name"))
    ts_ms = book_time(model)
    if book is None:
        error = {
            "message": "Invalid params",
            "data": {"reason": "instrument not found", "param": "instrument_name"},
            "code": -32602,
        }
        return 400, deribit_reply(None, ts_ms, error=error)
    depth = _int(query, "depth", 20, 10_000)
    (bid, bid_size), (ask, ask_size) = book.top(True, 1)[0], book.top(False, 1)[0]
    result = {
        "timestamp": book.ts_ms,
        "instrument_name": native_name(Venue.DERIBIT, book.symbol),
        "change_id": book.last_id,
        "state": "open",
        "bids": number_levels(book, book.top(True, depth)),
        "asks": number_levels(book, book.top(False, depth)),
        "best_bid_price": float(book.price_text(bid)),
        "best_bid_amount": float(book.size_text(bid_size)),
        "best_ask_price": float(book.price_text(ask)),
        "best_ask_amount": float(book.size_text(ask_size)),
    }
    return 200, deribit_reply(None, ts_ms, result)


def deribit_instruments(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    currency = query.get("currency", "any").upper()
    result = []
    for symbol in model.listings(Venue.DERIBIT):
        if currency not in ("ANY", symbol.base, symbol.quote):
            continue
        asset = model.asset(symbol.base)
        result.append(
            {
                "instrument_name": native_name(Venue.DERIBIT, symbol),
                "kind": "spot",
                "base_currency": symbol.base,
                "quote_currency": symbol.quote,
                "counter_currency": symbol.quote,
                "price_index": f"{symbol.base}_{symbol.quote}".lower(),
                "is_active": True,
                "tick_size": 10.0**-asset.tick_decimals,
                "min_trade_amount": 10.0**-asset.lot_decimals,
                "contract_size": 10.0**-asset.lot_decimals,
                "taker_commission": 0.0,
                "maker_commission": 0.0,
                # Simulated liquidity is Deribit's own: nothing is counted twice.
                "is_cbe_routed": False,
            }
        )
    body = deribit_reply(None, book_time(model), result)
    return 200, body


def coinbase_book(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    """``{"pricebook":{"product_id":"BTC-USD","bids":[{"price":...,"size":...}],...}}``."""
    book = _find(model, Venue.COINBASE, query.get("product_id"))
    if book is None:
        return 404, dumps({"error": "NOT_FOUND", "message": "product not found"})
    depth = _int(query, "limit", 50, 1000)
    pricebook = {
        "product_id": native_name(Venue.COINBASE, book.symbol),
        "bids": [
            {"price": book.price_text(p), "size": book.size_text(s)}
            for p, s in book.top(True, depth)
        ],
        "asks": [
            {"price": book.price_text(p), "size": book.size_text(s)}
            for p, s in book.top(False, depth)
        ],
        "time": iso_time(book.ts_ms),
    }
    return 200, dumps({"pricebook": pricebook})


def coinbase_products(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    products = []
    for symbol in model.listings(Venue.COINBASE):
        asset = model.asset(symbol.base)
        tick = decimal_text(1, asset.tick_decimals)
        products.append(
            {
                "product_id": native_name(Venue.COINBASE, symbol),
                "base_increment": decimal_text(1, asset.lot_decimals),
                "quote_increment": tick,
                "price_increment": tick,
                "status": "online",
                "trading_disabled": False,
                "is_disabled": False,
                "cancel_only": False,
                "view_only": False,
                "product_type": "SPOT",
                "base_currency_id": symbol.base,
                "quote_currency_id": symbol.quote,
                "base_display_symbol": symbol.base,
                "quote_display_symbol": symbol.quote,
                # Simulated books are each their own: no USDC product aliases a USD one here.
                "alias": "",
                "alias_to": [],
            }
        )
    return 200, dumps({"products": products, "num_products": len(products)})


def kraken_depth(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    """``{"error":[],"result":{"XXBTZUSD":{"asks":[["65000.1","0.5",1700000000]],...}}}``."""
    book = next(
        (
            model.book(Venue.KRAKEN, s)
            for s in model.listings(Venue.KRAKEN)
            if legacy_name(s) == query.get("pair")
        ),
        None,
    )
    if book is None:
        return 200, dumps({"error": ["EQuery:Unknown asset pair"]})
    depth = _int(query, "count", 100, 500)
    stamp = book.ts_ms // 1000
    result = {
        legacy_name(book.symbol): {
            side: [[book.price_text(p), book.size_text(s), stamp] for p, s in book.top(bids, depth)]
            for side, bids in (("bids", True), ("asks", False))
        }
    }
    return 200, dumps({"error": [], "result": result})


def kraken_pairs(model: MarketModel, query: Mapping[str, str]) -> tuple[int, str]:
    """AssetPairs with Kraken's own tickers (XBT for BTC) in ``wsname``."""
    result = {}
    for symbol in model.listings(Venue.KRAKEN):
        asset = model.asset(symbol.base)
        base = LEGACY_TICKERS.get(symbol.base, symbol.base)
        result[legacy_name(symbol)] = {
            "altname": legacy_name(symbol),
            "wsname": f"{base}/{symbol.quote}",
            "base": base,
            "quote": symbol.quote,
            "pair_decimals": asset.tick_decimals,
            "lot_decimals": asset.lot_decimals,
            "tick_size": decimal_text(1, asset.tick_decimals),
            "ordermin": decimal_text(10, asset.lot_decimals),
            "status": "online",
        }
    return 200, dumps({"error": [], "result": result})
