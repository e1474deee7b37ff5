"""Every protocol can ask its venue for an answer when a connection is quiet."""

from __future__ import annotations

import json

import pytest

from goquant_bot.venues.base import SymbolMap, VenueProtocol
from goquant_bot.venues.binance import BinanceProtocol
from goquant_bot.venues.bybit import BybitProtocol
from goquant_bot.venues.deribit import DeribitProtocol
from goquant_bot.venues.okx import OkxProtocol


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (BinanceProtocol, {"method": "LIST_SUBSCRIPTIONS"}),
        (BybitProtocol, {"op": "ping"}),
        (DeribitProtocol, {"jsonrpc": "2.0", "method": "public/test", "params": {}}),
        (OkxProtocol, "ping"),
    ],
)
def test_probe_queues_a_request_the_venue_answers(
    cls: type[VenueProtocol], expected: object
) -> None:
    proto = cls(SymbolMap())
    proto.probe(100.0)
    (frame,) = proto.drain().frames
    if isinstance(expected, str):
        assert frame == expected
    else:
        decoded = json.loads(frame)
        assert isinstance(expected, dict)
        assert {k: decoded[k] for k in expected} == expected
