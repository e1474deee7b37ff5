"""MEXC's binary pushes (protobuf) as the JSON text the protocol, the recorder and replay read.

A push is decoded with the module generated from ``mexc.proto`` and written out in its JSON
form: MEXC's field names, 64-bit integers as strings, as protobuf's JSON mapping writes a
well-formed push (``{"channel":"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT",
"symbol":"BTCUSDT","sendTime":"1736411507002","publicAggreDepths":{"asks":[{"price":
"92877.58","quantity":"0.00000000"}],"eventType":"...","fromVersion":"10589632359",
"toVersion":"10589632359"}}``). Captures thus hold readable JSON, and files of recorders
that stored the JSON form replay the same way.
"""

from __future__ import annotations

from typing import Any

import orjson
from google.protobuf.message import DecodeError

from goquant_bot.errors import VenueProtocolError
from goquant_bot.venues.mexc_pb2 import PushDataV3ApiWrapper

_parse = PushDataV3ApiWrapper.FromString
_dumps = orjson.dumps


def push_to_json(data: bytes) -> str:
    """One binary push as JSON text; VenueProtocolError when it is not a readable push."""
    try:
        push = _parse(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        msg = f"not a MEXC protobuf push ({exc})"
        raise VenueProtocolError(msg) from exc
    out: dict[str, Any] = {}
    if push.channel:
        out["channel"] = push.channel
    if push.HasField("symbol"):
        out["symbol"] = push.symbol
    if push.HasField("symbolId"):
        out["symbolId"] = push.symbolId
    if push.HasField("createTime"):
        out["createTime"] = str(push.createTime)
    if push.HasField("sendTime"):
        out["sendTime"] = str(push.sendTime)
    kind = push.WhichOneof("body")
    if kind == "publicAggreDepths":
        depth = push.publicAggreDepths
        body: dict[str, Any] = {}
        if depth.asks:
            body["asks"] = [{"price": i.price, "quantity": i.quantity} for i in depth.asks]
        if depth.bids:
            body["bids"] = [{"price": i.price, "quantity": i.quantity} for i in depth.bids]
        if depth.eventType:
            body["eventType"] = depth.eventType
        if depth.fromVersion:
            body["fromVersion"] = depth.fromVersion
        if depth.toVersion:
            body["toVersion"] = depth.toVersion
        out[kind] = body
    elif kind == "publicAggreDeals":
        deals = push.publicAggreDeals
        body = {}
        if deals.deals:
            body["deals"] = [
                {"price": d.price, "quantity": d.quantity, "tradeType": d.tradeType,
                 "time": str(d.time)}
                for d in deals.deals
            ]  # fmt: skip
        if deals.eventType:
            body["eventType"] = deals.eventType
        out[kind] = body
    return _dumps(out).decode()
