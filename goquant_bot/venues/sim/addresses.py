"""Which simulated venue session a WebSocket address leads to."""

from __future__ import annotations

from urllib.parse import urlsplit

from goquant_bot.errors import VenueUnavailable
from goquant_bot.venues.sim.bitget import BitgetSession
from goquant_bot.venues.sim.coinbase import CoinbaseSession
from goquant_bot.venues.sim.cryptocom import CryptocomSession
from goquant_bot.venues.sim.gateio import GateioSession
from goquant_bot.venues.sim.gomarket import HOST_MARK, WS_PREFIX, open_gomarket
from goquant_bot.venues.sim.htx import HtxSession
from goquant_bot.venues.sim.kraken import KrakenSession
from goquant_bot.venues.sim.kucoin import KucoinSession
from goquant_bot.venues.sim.mexc import MexcSession
from goquant_bot.venues.sim.model import MarketModel
from goquant_bot.venues.sim.sessions import VenueSession
from goquant_bot.venues.sim.spot_sessions import BitfinexSession, BitstampSession, GeminiSession
from goquant_bot.venues.sim.venues import BinanceSession, BybitSession, DeribitSession, OkxSession


def open_session(model: MarketModel, url: str, conn_id: str) -> VenueSession:
    """The venue session a WebSocket address leads to; VenueUnavailable when none does."""
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path.rstrip("/")
    session: VenueSession | None = None
    if HOST_MARK in host and path.startswith(WS_PREFIX):
        session = open_gomarket(model, path, conn_id)
    elif "binance" in host:
        session = BinanceSession(model, conn_id, url)
    elif "okx" in host and path.startswith("/ws/v5/"):
        session = OkxSession(model, conn_id)
    elif "bybit" in host and path.endswith("/spot"):
        session = BybitSession(model, conn_id)
    elif "deribit" in host:
        session = DeribitSession(model, conn_id)
    elif host == "advanced-trade-ws.coinbase.com":
        session = CoinbaseSession(model, conn_id)
    elif host == "ws.kraken.com" and path == "/v2":
        session = KrakenSession(model, conn_id)
    elif "bitfinex" in host and path == "/ws/2":
        session = BitfinexSession(model, conn_id)
    elif "bitstamp" in host:
        session = BitstampSession(model, conn_id)
    elif "gemini" in host and path == "/v2/marketdata":
        session = GeminiSession(model, conn_id)
    elif "gateio" in host and path == "/ws/v4":
        session = GateioSession(model, conn_id)
    elif "kucoin" in host:
        session = KucoinSession(model, conn_id)
    elif host == "ws.bitget.com" and path == "/v2/ws/public":
        session = BitgetSession(model, conn_id)
    elif host == "stream.crypto.com" and path == "/exchange/v1/market":
        session = CryptocomSession(model, conn_id)
    elif host == "api.huobi.pro" and path in ("/feed", "/ws"):
        session = HtxSession(model, conn_id)
    elif host == "wbs-api.mexc.com" and path == "/ws":
        session = MexcSession(model, conn_id)
    if session is None or not model.listings(session.venue):
        msg = f"simulator: no simulated spot venue at {url}"
        raise VenueUnavailable(msg)
    return session
