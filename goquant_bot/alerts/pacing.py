"""Telegram's send limits kept by design: global, per private chat, per group; flood pauses.

Pure: every method takes the time as an argument. Edits count like sends. A chat's spacing
and the global one-second window are measured from the END of each request (``finished``):
Telegram counts a request when it arrives, somewhere between our start and the answer, so a
slow answer followed by a fast one can never put requests closer together at Telegram's side
than we allowed. Besides Telegram's limits, a chat gets at most ``chat_messages_per_min`` new
messages a minute (edits do not count): the planner combines what waits into the next one.
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
    # New messages (not edits) a chat gets at most per minute, whatever sends them.
    chat_messages_per_min: int = 20
    # Flood waits for this many different chats within the window mean the global limit
    # was hit: everything pauses for the longest wait given.
    flood_chats: int = 3
    flood_window_s: float = 10.0


@dataclass(slots=True)
class _ChatPace:
    last: float = float("-inf")
    paused_until: float = 0.0
    window: deque[float] = field(default_factory=deque)  # groups: the last 20 requests
    messages: deque[float] = field(default_factory=deque)  # new messages of the last minute


@dataclass(slots=True, eq=False)
class _Slot:
    """One request in the global window: its start while in flight, then its end."""

    at: float
    open: bool = True


def is_group(chat_id: int) -> bool:
    """Group and supergroup ids are negative in the Bot API."""
    return chat_id < 0


class Pacer:
    """Decides when the next request may start, globally and for one chat."""

    def __init__(self, config: PacingConfig | None = None) -> None:
        self.config = config or PacingConfig()
        self._global: list[_Slot] = []
        self._open: dict[int, _Slot] = {}  # the request in flight per chat
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
        limit = self.config.global_per_s
        if len(self._global) >= limit:
            self._global = [s for s in self._global if s.open or s.at > now - 1.0]
        if len(self._global) >= limit:
            in_flight = sum(s.open for s in self._global)
            if in_flight >= limit:
                return float("inf")  # a request must answer first (its end opens the window)
            ended = sorted(s.at for s in self._global if not s.open)
            at = max(at, ended[len(ended) - (limit - in_flight)] + 1.0)
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

    def new_message_ready_at(self, chat_id: int, now: float) -> float:
        """Earliest time ``chat_id`` may get a new message (not an edit): the per-minute cap."""
        pace = self._chats.get(chat_id)
        if pace is None or len(pace.messages) < self.config.chat_messages_per_min:
            return now
        return max(now, pace.messages[-self.config.chat_messages_per_min] + 60.0)

    def ready_at(self, chat_id: int, now: float, *, new_message: bool = False) -> float:
        at = max(self.chat_ready_at(chat_id, now), self.global_ready_at(now))
        return max(at, self.new_message_ready_at(chat_id, now)) if new_message else at

    def started(self, chat_id: int, now: float, *, new_message: bool = True) -> None:
        """A request to ``chat_id`` starts now: it uses a global and a per-chat slot."""
        if (earlier := self._open.pop(chat_id, None)) is not None:
            earlier.at, earlier.open = max(earlier.at, now), False  # never leak a slot
        slot = _Slot(now)
        if len(self._global) > 4 * self.config.global_per_s:
            self._global = [s for s in self._global if s.open or s.at > now - 1.0]
        self._global.append(slot)
        self._open[chat_id] = slot
        self._burst.append(now)
        pace = self._chats.get(chat_id)
        if pace is None:
            pace = self._chats[chat_id] = _ChatPace()
        pace.last = now
        if is_group(chat_id):
            pace.window.append(now)
            while len(pace.window) > self.config.group_per_min:
                pace.window.popleft()
        if new_message:
            pace.messages.append(now)
            while len(pace.messages) > self.config.chat_messages_per_min:
                pace.messages.popleft()

    def finished(self, chat_id: int, now: float) -> None:
        """The request answered (or failed): the chat's spacing and its global slot count from
        now."""
        slot = self._open.pop(chat_id, None)
        if slot is not None:
            slot.at, slot.open = max(slot.at, now), False
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
            if pace.last < now - 60.0 and pace.paused_until < now and chat not in self._open
        ]
        for chat in idle:
            del self._chats[chat]
