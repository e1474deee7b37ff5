"""The push envelope OKX and Bitget share: ``{"arg":{...},"data":[...]}``, events, a text pong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

from goquant_bot.venues.base import VenueProtocol


class Push(NamedTuple):
    """A data push: the whole frame, its ``arg`` (with a string ``instId``) and its ``data``."""

    msg: dict[str, Any]
    arg: dict[str, Any]
    data: list[Any]


def read_push(
    proto: VenueProtocol, text: str, on_event: Callable[[dict[str, Any], str], None]
) -> Push | None:
    """The data push in ``text``; None for ``pong``, an event (handed to ``on_event``) or a
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
        on_event(msg, text)
        return None
    arg = msg.get("arg")
    if type(arg) is not dict or type(data) is not list or type(arg.get("instId")) is not str:
        proto.bad_frame("bad_shape", text)
        return None
    return Push(msg, arg, data)
