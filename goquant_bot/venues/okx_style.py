"""The push envelope OKX and Bitget share: ``{"arg":{...},"data":[...]}``, events, a text pong."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from goquant_bot.logging import get_logger
from goquant_bot.venues.base import VenueProtocol

log = get_logger(__name__)


class Push(NamedTuple):
    """A data push: the whole frame, its ``arg`` (with a string ``instId``) and its ``data``."""

    msg: dict[str, Any]
    arg: dict[str, Any]
    data: list[Any]


def read_push(proto: VenueProtocol, text: str) -> Push | None:
    """The data push in ``text``; None for ``pong``, an event (see ``_on_event``) or a
    malformed frame (counted as ``bad_json`` or ``bad_shape``)."""
    if text == "pong":
        return None
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError:
        proto.bad_frame("bad_json", text)
        return None
    if type(msg) is not dict:
        proto.bad_frame("bad_shape", text)
        return None
    data = msg.get("data")
    if data is None:
        _on_event(proto, msg, text)
        return None
    arg = msg.get("arg")
    if type(arg) is not dict or type(data) is not list or type(arg.get("instId")) is not str:
        proto.bad_frame("bad_shape", text)
        return None
    return Push(msg, arg, data)


def _on_event(proto: VenueProtocol, msg: dict[str, Any], text: str) -> None:
    """``{"event":"subscribe","arg":{...}}`` acks, ``{"event":"error","code":"60012",
    "msg":"..."}`` (counted and logged), ``notice`` (OKX: the connection closes soon for an
    upgrade; logged); any other event is counted as skipped."""
    event = msg.get("event")
    if event in ("subscribe", "unsubscribe"):
        return
    if event == "error":
        code = msg.get("code")
        proto.stats.errors[f"venue_error:{code}"] += 1
        log.warning("venue_error", venue=proto.venue.value, code=code, msg=msg.get("msg"))
        return
    if event == "notice":
        log.info("venue_notice", venue=proto.venue.value, code=msg.get("code"), msg=msg.get("msg"))
    if event is None:
        proto.bad_frame("bad_shape", text)
        return
    proto.stats.skipped[f"event:{event}"] += 1
