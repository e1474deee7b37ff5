"""Turning a chat's sendable alerts into one request: a combined new message, or an edit.

Texts are rendered here, at send time, so a delayed alert shows current numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from goquant_bot.alerts import compose
from goquant_bot.alerts.controls import HOUR_S, ChatControls, local_clock
from goquant_bot.alerts.history import Outcome
from goquant_bot.alerts.outbox import ChatBox, LiveMessage, Outbox
from goquant_bot.alerts.state import LIVE_PHASES, AlertKey, AlertSnapshot, PendingAlert, Phase
from goquant_bot.domain.users import ChatPrefs
from goquant_bot.logging import get_logger
from goquant_bot.messages import Keyboard

log = get_logger(__name__)
Renderer = Callable[[AlertSnapshot, float], str]
# Inline buttons for a message showing these alerts (sent again with every edit, which
# would otherwise remove them).
Buttons = Callable[[Sequence[AlertSnapshot]], Keyboard]
# The least seconds between two refreshes of a monitor's live messages (a view's throttle).
RefreshInterval = Callable[[str], float]
# A message text without its volatile parts (ages, "updated at"): only a change of the rest
# is worth an edit.
StableText = Callable[[str], str]


def no_buttons(items: Sequence[AlertSnapshot]) -> Keyboard:
    return ()


class JobItem(NamedTuple):
    """One alert in a request: the state it shows (``version`` in ``phase``) and its text."""

    alert: PendingAlert
    version: int
    phase: Phase
    text: str


def job_item(alert: PendingAlert, text: str) -> JobItem:
    return JobItem(alert, alert.version, alert.phase, text)


@dataclass(slots=True, eq=False)
class Job:
    """One request: a new message (``message`` None) or an edit of a live message."""

    chat_id: int
    text: str
    parts: list[AlertKey | str]
    items: list[JobItem]
    message: LiveMessage | None = None
    silent: bool = False
    plain: bool = False
    alerts: list[tuple[str, ...]] = field(default_factory=list)  # monitors of each new alert
    summarised: int = 0  # capped alerts this message reports
    cap_notice_until: float = 0.0
    buttons: Keyboard = ()

    @property
    def is_edit(self) -> bool:
        return self.message is not None

    @property
    def live(self) -> bool:
        """It shows a live state: the message is kept and edited later."""
        return any(entry.phase in LIVE_PHASES for entry in self.items)


def priority(item: PendingAlert) -> tuple[int, float, str, str]:
    """Arbitrage before market view, larger edge first (then a stable order)."""
    return (item.kind, -item.edge_pct, item.key.subject, item.key.monitor_id)


class Composer:
    """Renders alerts into message texts and packs them into requests."""

    def __init__(
        self,
        outbox: Outbox,
        render: Renderer,
        buttons: Buttons,
        *,
        refresh_s: float,
        min_refresh_s: RefreshInterval | None = None,
        stable_text: StableText | None = None,
    ) -> None:
        self.outbox = outbox
        self.render = render
        self.buttons = buttons
        self.refresh_s = refresh_s
        self.min_refresh_s = min_refresh_s
        self.stable_text = stable_text

    def next_refresh(self, message: LiveMessage, now: float) -> float:
        """When the message is next re-rendered: ``refresh_s``, or longer if a part asks."""
        interval = self.refresh_s
        if self.min_refresh_s is not None:
            for part in message.parts:
                if isinstance(part, AlertKey):
                    interval = max(interval, self.min_refresh_s(part.monitor_id))
        return now + interval

    def unchanged(self, text: str, shown: str | None) -> bool:
        """Nothing worth an edit: the same text, or only its volatile parts (times) differ."""
        if shown is None:
            return False
        if text == shown:
            return True
        stable = self.stable_text
        return stable is not None and stable(text) == stable(shown)

    def new_message(
        self,
        chat_id: int,
        candidates: list[PendingAlert],
        prefs: ChatPrefs,
        controls: ChatControls,
        *,
        silent: bool,
        now: float,
    ) -> Job | None:
        """As many alerts as one message holds, by priority; the hourly cap applied."""
        items = sorted(candidates, key=priority)
        headers: list[str] = []
        room = controls.room(prefs, now)
        summarised, notice_until = 0, 0.0
        if room is not None:
            fresh = [i for i in items if not i.shown]  # follow-ups are not new alerts
            if len(fresh) > room:
                for item in fresh[room:]:
                    controls.capped += 1
                    self.outbox.drop(item, Outcome.CAPPED, f"hourly limit of {prefs.hourly_cap}")
                items = sorted([*(i for i in items if i.shown), *fresh[:room]], key=priority)
                if controls.cap_notice_until <= now:
                    notice_until = (controls.sent[0] if controls.sent else now) + HOUR_S
                    until = local_clock(notice_until, prefs)
                    headers.append(compose.cap_notice(prefs.hourly_cap, until))
            elif controls.capped and room > 0 and controls.cap_notice_until <= now:
                summarised = controls.capped
                headers.append(compose.capped_summary(summarised))
        quiet = sum(i.held is Outcome.HELD_QUIET for i in items)
        snoozed = sum(i.held is Outcome.SNOOZED for i in items)
        if quiet or snoozed:
            headers.insert(0, compose.digest_header(snoozed, quiet))
        rendered = [(item, text) for item in items if (text := self.text(item, now)) is not None]
        if not rendered and not notice_until:
            return None
        plain = any(item.plain for item, _ in rendered)
        if plain:
            # Which alert broke the markup is unknown: the whole message goes as plain text.
            headers = [compose.plain_text(h) for h in headers]
            rendered = [(i, t if i.plain else compose.plain_text(t)) for i, t in rendered]
        reserved = compose.text_length(compose.join(headers)) if headers else 0
        taken = rendered[: compose.pack([t for _, t in rendered], reserved)] if rendered else []
        return Job(
            chat_id,
            compose.join([*headers, *(text for _, text in taken)]),
            [*headers, *(item.key for item, _ in taken)],
            [job_item(item, text) for item, text in taken],
            silent=silent,
            plain=plain,
            alerts=[item.members for item, _ in taken if not item.shown],
            summarised=summarised,
            cap_notice_until=notice_until,
            buttons=self._buttons([item for item, _ in taken]) if taken else (),
        )

    def view(self, chat_id: int, item: PendingAlert, now: float) -> Job | None:
        """A live market view is a message of its own."""
        text = self.text(item, now)
        if text is None:
            return None
        entry = job_item(item, text)
        return Job(chat_id, text, [item.key], [entry], buttons=self._buttons([item]))

    def edit(self, chat_id: int, box: ChatBox, message: LiveMessage, now: float) -> Job | None:
        """The message re-rendered from its parts' current states; None when unchanged."""
        items, texts = [], []
        for part in message.parts:
            item = box.items.get(part) if isinstance(part, AlertKey) else None
            if item is not None and item.message_id == message.message_id:
                if message.plain:
                    item.go_plain()
                text = self.text(item, now)
                if text is not None:
                    items.append(job_item(item, text))
                    texts.append(text)
                    continue
            # A header, or an alert whose final state is already shown: kept as it was.
            texts.append(part if isinstance(part, str) else message.texts.get(part, ""))
        fits = compose.pack(texts)
        if fits < len(texts):
            # Grown past one message: the parts that no longer fit go out in a new one.
            for part in message.parts[fits:]:
                item = box.items.get(part) if isinstance(part, AlertKey) else None
                if item is not None and item.message_id == message.message_id:
                    item.resend()
            del message.parts[fits:]
            keep = set(message.parts)
            items = [entry for entry in items if entry.alert.key in keep]
            texts = texts[:fits]
        text = compose.join(texts)
        if self.unchanged(text, message.last_text):
            for entry in items:
                if entry.alert.unchanged(entry.version):
                    self.outbox.remove(entry.alert)
            message.refresh_at = self.next_refresh(message, now)
            return None
        return Job(
            chat_id,
            text,
            message.parts,
            items,
            message=message,
            plain=message.plain,
            buttons=self._buttons([entry.alert for entry in items]),
        )

    def _buttons(self, items: Sequence[PendingAlert]) -> Keyboard:
        return self.buttons([item.snapshot() for item in items])

    def text(self, item: PendingAlert, now: float) -> str | None:
        try:
            text = compose.clip(self.render(item.snapshot(), now))
        except Exception:
            key = item.key
            log.exception("alert_render_failed", chat_id=key.chat_id, subject=key.subject)
            self.outbox.drop(item, Outcome.FAILED, "could not be rendered")
            return None
        return compose.plain_text(text) if item.plain else text


def make_plain(message: LiveMessage) -> None:
    """Telegram refused the message's markup: keep it, and edit it, as plain text."""
    if message.plain:
        return
    message.plain = True
    message.parts = [compose.plain_text(p) if isinstance(p, str) else p for p in message.parts]
    message.texts = {key: compose.plain_text(text) for key, text in message.texts.items()}
