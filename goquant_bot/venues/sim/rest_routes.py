"""Which simulated REST answer a GET reaches: routing by host, then by path."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

from goquant_bot.domain.instruments import Venue
from goquant_bot.venues.sim import gateio, kucoin
from goquant_bot.venues.sim.bitget import bitget_orderbook, bitget_symbols
from goquant_bot.venues.sim.cryptocom import cryptocom_book, cryptocom_instruments
from goquant_bot.venues.sim.encoders import dumps
from goquant_bot.venues.sim.gomarket import HOST_MARK, gomarket_rest
from goquant_bot.venues.sim.htx import htx_depth, htx_symbols
from goquant_bot.venues.sim.mexc import mexc_rest
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.rest import (
    binance_depth,
    binance_instruments,
    bybit_instruments,
    bybit_orderbook,
    coinbase_book,
    coinbase_products,
    deribit_instruments,
    deribit_order_book,
    kraken_depth,
    kraken_pairs,
    okx_books,
    okx_instruments,
)
from goquant_bot.venues.sim.spot_rest import SPOT_VENUES, spot_rest_answer

Handler = Callable[[MarketModel, Mapping[str, str]], tuple[int, str]]
ROUTES: Mapping[Venue, Mapping[str, Handler]] = MappingProxyType(
    {
        Venue.BINANCE: {
            "/api/v3/depth": binance_depth,
            "/api/v3/exchangeInfo": binance_instruments,
        },
        Venue.OKX: {
            "/api/v5/market/books": okx_books,
            "/api/v5/public/instruments": okx_instruments,
        },
        Venue.BYBIT: {
            "/v5/market/orderbook": bybit_orderbook,
            "/v5/market/instruments-info": bybit_instruments,
        },
        Venue.DERIBIT: {
            "/api/v2/public/get_order_book": deribit_order_book,
            "/api/v2/public/get_instruments": deribit_instruments,
        },
        Venue.COINBASE: {
            "/api/v3/brokerage/market/product_book": coinbase_book,
            "/api/v3/brokerage/market/products": coinbase_products,
        },
        Venue.KRAKEN: {
            "/0/public/Depth": kraken_depth,
            "/0/public/AssetPairs": kraken_pairs,
        },
        Venue.BITGET: {
            "/api/v2/spot/public/symbols": bitget_symbols,
            "/api/v2/spot/market/orderbook": bitget_orderbook,
        },
    }
)


def rest_answer(model: MarketModel, url: str, params: Iterable[tuple[str, str]]) -> tuple[int, str]:
    """(HTTP status, body) the venue would answer to a GET."""
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path.rstrip("/")
    query = dict(params)
    if "gateio" in host:
        answer = gateio.rest_answer(model, path, query)
        return answer or (404, dumps({"error": f"no such endpoint: {path}"}))
    if "kucoin" in host:
        answer = kucoin.rest_answer(model, path, query)
        return answer or (404, dumps({"code": "404000", "msg": f"no such endpoint: {path}"}))
    if HOST_MARK in host:
        return gomarket_rest(model, path)
    if host == "api.crypto.com":  # the venue id is not part of its host name
        if path == "/exchange/v1/public/get-instruments":
            return cryptocom_instruments(model, query)
        if path == "/exchange/v1/public/get-book":
            return cryptocom_book(model, query)
        return 404, dumps({"error": f"no such endpoint: {path}"})
    if host == "api.huobi.pro":
        if path == "/v1/common/symbols":
            return htx_symbols(model, query)
        if path == "/market/depth":
            return htx_depth(model, query)
        return 404, dumps({"error": f"no such endpoint: {path}"})
    if host == "api.mexc.com":
        return mexc_rest(model, path, query)
    for venue in SPOT_VENUES:
        if venue.value in host:
            answer = spot_rest_answer(model, venue, path, query)
            if answer is not None:
                return answer
            return 404, dumps({"error": f"no such endpoint: {path}"})
    for venue, routes in ROUTES.items():
        if venue.value in host:
            handler = routes.get(path)
            if handler is None:
                return 404, dumps({"error": f"no such endpoint: {path}"})
            return handler(model, query)
    return 404, dumps({"error": f"unknown host {host!r}"})
