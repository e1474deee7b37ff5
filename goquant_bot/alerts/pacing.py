"""Telegram's send limits kept by design: global, per private chat, per group; flood pauses.

Pure: every method takes the time as an argument. Edits count like sends. A chat's spacing
is measured from the END of its previous request (``finished``), so a slow answer followed by
a fast one can never put two messages less than the interval apart at Telegram's side.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PacingConfig:
    global_per_s: int = 25  # Telegram allows about 30; the margin absorbs network jitter
    # At most this many requests in any ``global_burst / global_per_s`` seconds (0.2 s): a
    # backlog goes out as a steady stream, so a new urgent alert never waits a whole second.
    global_burst: int = 5
    private_interval_s: float = 1.0
    group_per_min: int = 20
    group_interval_s: float = 1.0
    # Flood waits for this many different chats within the window mean the global limit
    # was hit: everything pauses for the longest wait given.
    flood_chats: int = 3
    flood_window_s: float = 10.0


@dataclass(slots=True)
class _ChatPace:
    last: float = float("-inf")
    paused_until: float = 0.0
    window: deque[float] = field(default_factory=deque)  # groups: the last 20 requests


def is_group(chat_id: int) -> bool:
    """Group and supergroup ids are negative in the Bot API."""
    return chat_id < 0


class Pacer:
    """Decides when the next request may start, globally and for one chat."""

    def __init__(self, config: PacingConfig | None = None) -> None:
        self.config = config or PacingConfig()
        self._global: deque[float] = deque(maxlen=self.config.global_per_s)
        self._burst: deque[float] = deque(maxlen=max(1, self.config.global_burst))
        self._burst_span = max(1, self.config.global_burst) / self.config.global_per_s
        self._chats: dict[int, _ChatPace] = {}
        self._paused_until = 0.0
        self._floods: deque[tuple[float, int, float]] = deque()
        self.flood_waits = 0
        self.global_pauses = 0

    def global_ready_at(self, now: float) -> float:
        """Earliest time any request may start (sliding windows, global pause)."""
        at = max(now, self._paused_until)
        if len(self._global) == self._global.maxlen:
            at = max(at, self._global[0] + 1.0)
        if len(self._burst) == self._burst.maxlen:
            at = max(at, self._burst[0] + self._burst_span)
        return at

    def chat_ready_at(self, chat_id: int, now: float) -> float:
        """Earliest time a request to ``chat_id`` may start (ignoring the global limit)."""
        pace = self._chats.get(chat_id)
        if pace is None:
            return now
        cfg = self.config
        at = max(now, pace.paused_until)
        if is_group(chat_id):
            at = max(at, pace.last + cfg.group_interval_s)
            if len(pace.window) >= cfg.group_per_min:
                at = max(at, pace.window[0] + 60.0)
        else:
            at = max(at, pace.last + cfg.private_interval_s)
        return at

    def ready_at(self, chat_id: int, now: float) -> float:
        return max(self.chat_ready_at(chat_id, now), self.global_ready_at(now))

    def started(self, chat_id: int, now: float) -> None:
        """A request to ``chat_id`` starts now: it uses a global and a per-chat slot."""
        self._global.append(now)
        self._burst.append(now)
        pace = self._chats.get(chat_id)
        if pace is None:
            pace = self._chats[chat_id] = _ChatPace()
        pace.last = now
        if is_group(chat_id):
            pace.window.append(now)
            while len(pace.window) > self.config.group_per_min:
                pace.window.popleft()

    def finished(self, chat_id: int, now: float) -> None:
        """The request answered (or failed): the chat's spacing counts from now."""
        pace = self._chats.get(chat_id)
        if pace is None or now <= pace.last:
            return
        pace.last = now
        if pace.window:
            pace.window[-1] = now

    def flood_wait(self, chat_id: int, retry_after_s: float, now: float) -> bool:
        """Pause the chat; True when floods on several chats also paused everything."""
        self.flood_waits += 1
        until = now + max(retry_after_s, 0.0)
        pace = self._chats.setdefault(chat_id, _ChatPace())
        pace.paused_until = max(pace.paused_until, until)
        cfg = self.config
        self._floods.append((now, chat_id, until))
        while self._floods and self._floods[0][0] < now - cfg.flood_window_s:
            self._floods.popleft()
        if len({chat for _, chat, _ in self._floods}) >= cfg.flood_chats:
            self.pause_all(max(u for _, _, u in self._floods))
            self._floods.clear()
            self.global_pauses += 1
            return True
        return False

    def pause_all(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)

    def paused_until(self) -> float:
        return self._paused_until

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)

    def prune(self, now: float) -> None:
        """Drop the state of chats idle for over a minute (it no longer limits anything)."""
        idle = [
            chat
            for chat, pace in self._chats.items()
            if pace.last < now - 60.0 and pace.paused_until < now
        ]
        for chat in idle:
            del self._chats[chat]
