"""One in-process event dispatcher: publish(event), subscribe(event type or topic, handler).

Delivery is synchronous, in subscription order, on the caller's stack: when ``publish``
returns, every consumer has seen the event. A failing consumer is logged and the others
still run (one broken consumer must not keep alerts from the others).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from goquant_bot.logging import get_logger

log = get_logger(__name__)
Handler = Callable[[Any], object]  # what it returns is ignored
ALL = "*"  # the topic that receives every event


class Dispatcher(Protocol):
    """What producers and consumers see; a Redis Streams backend would implement the same."""

    def publish(self, event: Any) -> None: ...
    def subscribe(self, topic: type | str, handler: Handler) -> None: ...


def topic_of(topic: type | str) -> str:
    """An event type stands for its ``topic``; a string ending in ``.*`` is a topic prefix."""
    return topic if isinstance(topic, str) else str(topic.topic)  # type: ignore[attr-defined]


class LocalDispatcher:
    """Synchronous in-process delivery by topic (``monitor.added``), prefix (``monitor.*``)
    or everything (``*``)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self.published = 0

    def subscribe(self, topic: type | str, handler: Handler) -> None:
        self._handlers.setdefault(topic_of(topic), []).append(handler)

    def publish(self, event: Any) -> None:
        self.published += 1
        topic: str = event.topic
        family = topic.split(".", 1)[0] + ".*"
        for key in (topic, family, ALL):
            for handler in self._handlers.get(key, ()):
                try:
                    handler(event)
                except Exception:
                    log.exception("event_consumer_failed", topic=topic)
