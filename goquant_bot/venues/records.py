"""What a protocol and its driver exchange: REST requests, drained output, the capture recorder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.domain.trades import Trade


@dataclass(frozen=True, slots=True)
class RestRequest:
    """A REST call the protocol needs. ``purpose``: 'snapshot', 'poll', 'instruments' or
    'connect' (asked before each connection, see ``connect_request``)."""

    venue: Venue
    url: str
    params: tuple[tuple[str, str], ...]
    weight: int
    purpose: str
    symbol: Symbol | None = None
    method: str = "GET"  # POST only where a venue requires it (KuCoin's public token)


class Produced(NamedTuple):
    """What a protocol produced since its last ``drain()``, in the order it was produced.
    A NamedTuple, like L1: one is built after nearly every frame."""

    frames: tuple[str, ...] = ()
    requests: tuple[RestRequest, ...] = ()
    changed: frozenset[Symbol] = frozenset()
    trades: tuple[Trade, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.frames or self.requests or self.changed or self.trades)


NOTHING = Produced()


class Recorder(Protocol):
    """Receives everything a connection sends and receives (the capture format)."""

    def connect(self, conn: int, addr: str, ts: float) -> None: ...
    def send(self, conn: int, data: str, ts: float) -> None: ...
    def recv(self, conn: int, data: str, ts: float) -> None: ...
    def http(self, conn: int, url: str, data: str, ts: float, status: int = 200) -> None: ...
