"""The delivery service: paced requests through an AlertTransport, and what each outcome means.

Engines call ``publish`` (synchronous, O(events), never waits); ``run`` sends what pacing and
the chats' rules allow, several requests in flight at once (one per chat), and on
cancellation drains what is pending for ``flush_timeout_s`` before it returns. Command replies
and notices share the pacer through ``direct`` and go before any alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from goquant_bot.alerts.controls import ChatControls
from goquant_bot.alerts.direct import DirectConfig, DirectRequests, Wait, wait_for_event
from goquant_bot.alerts.history import AlertHistory, Outcome
from goquant_bot.alerts.jobs import (
    Buttons,
    Job,
    RefreshInterval,
    Renderer,
    StableText,
    make_plain,
    no_buttons,
)
from goquant_bot.alerts.outbox import ClosedUnseen, LiveMessage, Outbox, SizeClass, notional_class
from goquant_bot.alerts.pacing import Pacer, PacingConfig
from goquant_bot.alerts.planner import Planner, PrefsLookup
from goquant_bot.alerts.state import LIVE_PHASES, Payload, PendingAlert, Phase
from goquant_bot.alerts.transport import (
    AlertTransport,
    BadMessage,
    ChatBlocked,
    ChatMigrated,
    DeliveryNetworkError,
    DeliveryTimeout,
    FloodWait,
    MessageGone,
    MessageNotModified,
)
from goquant_bot.errors import GoQuantError
from goquant_bot.logging import get_logger
from goquant_bot.supervisor import Backoff

log = get_logger(__name__)
RETRY_BACKOFF = Backoff(initial_s=1.0, factor=2.0, max_s=60.0, jitter=0.3)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    edit_interval_s: float = 3.0  # at least this long between two edits of one message
    refresh_s: float = 10.0  # a live message is re-rendered (and edited if changed) this often
    closed_unseen: ClosedUnseen = "summary"  # or "drop": an alert closed before it was sent
    flush_timeout_s: float = 5.0  # drain bound when the loop is cancelled
    max_keys_per_chat: int = 500
    retry: Backoff = RETRY_BACKOFF


class Delivery:
    """Outbox + pacing + per-chat rules + history, sending through one transport."""

    def __init__(
        self,
        transport: AlertTransport,
        *,
        prefs: PrefsLookup,
        render: Renderer,
        buttons: Buttons = no_buttons,
        # Must mark the chat inactive before it returns: the preferences alone decide from
        # then on whether the chat gets alerts (/start makes it active again).
        on_blocked: Callable[[int], None] = lambda chat_id: None,
        on_migrated: Callable[[int, int], None] = lambda old, new: None,
        # The state behind message_ids() and history changed: worth saving.
        on_change: Callable[[], None] = lambda: None,
        min_refresh_s: RefreshInterval | None = None,  # per monitor: a view's throttle
        stable_text: StableText | None = None,  # only a change of this is worth an edit
        clock: Callable[[], float] = time.time,
        config: DeliveryConfig | None = None,
        pacing: PacingConfig | None = None,
        history: AlertHistory | None = None,
        rand: Callable[[], float] = random.random,
        direct: DirectConfig | None = None,
        wait: Wait = wait_for_event,  # how replies wait for their turn (tests: a fake clock)
        size_class: SizeClass = notional_class,  # openings of one class share an alert
    ) -> None:
        self.config = config = config or DeliveryConfig()
        self.transport = transport
        self.on_blocked = on_blocked
        self.on_migrated = on_migrated
        self.on_change = on_change
        self.clock = clock
        self.rand = rand
        self.history = history or AlertHistory()
        self.outbox = Outbox(
            self.history,
            closed_unseen=config.closed_unseen,
            max_keys_per_chat=config.max_keys_per_chat,
            size_class=size_class,
        )
        self.pacer = Pacer(pacing)
        self.planner = Planner(
            self.outbox,
            self.pacer,
            prefs,
            render,
            buttons,
            edit_interval_s=config.edit_interval_s,
            refresh_s=config.refresh_s,
            min_refresh_s=min_refresh_s,
            stable_text=stable_text,
        )
        self._wake = asyncio.Event()
        self.direct = DirectRequests(
            self.pacer,
            clock=clock,
            wait=wait,
            config=direct,
            hold=self.planner.hold,
            release=self._released,
            in_flight=self.planner.busy.__contains__,
            on_answer=self._wake.set,
        )
        self._revision = self.history.revision
        self._network_failures = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0

    @property
    def reachable(self) -> bool:
        """False while sends fail on the network (readiness: the transport is unreachable)."""
        return self._network_failures == 0

    def publish(self, events: Iterable[Payload]) -> None:
        """Fold events into the outbox (the engines' sink): never waits, O(events)."""
        self.outbox.publish(events)
        self._wake.set()

    def forget(self, chat_id: int, monitor_id: str, *, keep_view: bool = False) -> None:
        """A monitor was removed: drop its waiting alerts, stop editing its messages
        (``keep_view``: but its live view stays, for its ``ViewUpdate(stopped=True)`` edit)."""
        self.outbox.forget_monitor(chat_id, monitor_id, keep_view=keep_view)
        self._wake.set()

    async def notify(self, chat_id: int, text: str) -> bool:
        """Send a notice (HTML) to a chat outside the outbox, e.g. to admins: paced like every
        message, ahead of alerts. False when it could not be delivered (logged)."""
        try:
            await self.direct.request(chat_id, lambda: self.transport.send(chat_id, text))
        except GoQuantError as exc:
            log.warning("notice_failed", chat_id=chat_id, error=str(exc), kind=type(exc).__name__)
            return False
        return True

    def _released(self, chat_id: int, now: float) -> None:
        """No reply or notice waits for the chat any more: its alerts may go again."""
        self.planner.release(chat_id, now)
        self._wake.set()

    @property
    def pending(self) -> bool:
        """A request in flight, or an alert waiting that no chat rule holds back."""
        return self.planner.urgent(self.clock())

    # -- loops -------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until cancelled, then drain for at most ``flush_timeout_s``."""
        async with asyncio.TaskGroup() as group:
            try:
                await self._serve(group, None)
            except asyncio.CancelledError:
                await self._serve(group, self.clock() + self.config.flush_timeout_s)
                raise

    async def flush(self, timeout_s: float) -> None:
        """Send what is pending (not what a chat's rules hold) within ``timeout_s``."""
        async with asyncio.TaskGroup() as group:
            await self._serve(group, self.clock() + timeout_s)

    async def _serve(self, group: asyncio.TaskGroup, deadline: float | None) -> None:
        while True:
            self._wake.clear()
            now = self.clock()
            self.direct.grant(now)  # replies first: they take the free slots before alerts
            for job in self.planner.due(now):
                task = group.create_task(self._execute(job), name=f"alert:{job.chat_id}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._report_change()
            wake = self.planner.next_wake(now)
            if deadline is not None:
                if not self.planner.urgent(now) or now >= deadline:
                    for task in self._tasks:
                        task.cancel()
                    return
                wake = min(wake, deadline)
            timeout = None if wake == float("inf") else max(wake - now, 0.0)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    # -- one request -------------------------------------------------------------------

    async def _execute(self, job: Job) -> None:
        self.requests += 1
        changed = True
        try:
            if job.message is not None:
                message_id = job.message.message_id
                await self.transport.edit(job.chat_id, message_id, job.text, buttons=job.buttons)
            else:
                message_id = await self.transport.send(
                    job.chat_id, job.text, buttons=job.buttons, silent=job.silent
                )
        except asyncio.CancelledError:
            self._maybe_sent(job)  # cancelled mid-request: it may have gone through
            self.planner.finished(job.chat_id, self.clock())
            self.direct.poke()
            self._report_change(force=True)
            raise
        except MessageNotModified:
            self._delivered(job, job.message.message_id if job.message else 0)
        except (FloodWait, DeliveryNetworkError, DeliveryTimeout, BadMessage) as exc:
            changed = not isinstance(exc, FloodWait | DeliveryNetworkError)  # retried as is
            self._failed(job, exc)
        except (ChatBlocked, ChatMigrated) as exc:
            self._chat_failed(job, exc)
        except Exception:
            log.exception("alert_transport_error", chat_id=job.chat_id)
            self._refused(job, "transport error")
        else:
            self._delivered(job, message_id)
        self.planner.finished(job.chat_id, self.clock())
        self.direct.poke()  # a reply may have waited for this chat's request to answer
        self._report_change(force=changed)
        self._wake.set()

    def _report_change(self, *, force: bool = False) -> None:
        """Tell the app its saved state (live message ids, history) changed."""
        revision = self.history.revision
        if force or revision != self._revision:
            self._revision = revision
            try:
                self.on_change()
            except Exception:
                log.exception("alert_on_change_failed")

    def _delivered(self, job: Job, message_id: int) -> None:
        now = self.clock()
        self._network_failures = 0
        log.debug("alert_sent", chat_id=job.chat_id, alerts=len(job.items), edit=job.is_edit)
        box = self.outbox.chats.get(job.chat_id)
        message = job.message
        if message is None and box is not None and job.live:
            message = LiveMessage(message_id, list(job.parts), plain=job.plain)
            box.messages[message_id] = message
        if message is not None:
            message.last_text, message.edited_at = job.text, now
            message.refresh_at = self.planner.composer.next_refresh(message, now)
        detail = "silently" if job.silent else ""
        shown_in = message.message_id if message is not None else None
        for entry in job.items:
            item, phase = entry.alert, entry.phase
            if message is not None:
                message.texts[item.key] = entry.text
            if phase is not Phase.VIEW and not (
                job.is_edit and item.version == entry.version and phase in LIVE_PHASES
            ):
                # Refreshes of an unchanged open state and live views are not news.
                self._note(item, Outcome.SENT, "edited" if job.is_edit else detail, now)
            self._settle(item, item.delivered(entry.version, phase, shown_in))
        self._count_alerts(job, now)

    def _settle(self, item: PendingAlert, finished: bool) -> None:
        """After its request: a finished alert leaves the outbox; another waits for news."""
        if finished:
            self.outbox.remove(item)
        else:
            self.outbox.settle(item)

    def _count_alerts(self, job: Job, now: float) -> None:
        controls = self.planner.controls.setdefault(job.chat_id, ChatControls())
        controls.delivered(job.alerts, now)
        if job.cap_notice_until:
            controls.cap_notice_until = job.cap_notice_until
        controls.capped = max(controls.capped - job.summarised, 0)

    def _maybe_sent(self, job: Job) -> None:
        """No answer: never resend blindly. An edit is retried (editing twice is harmless)."""
        now = self.clock()
        if job.message is not None:
            job.message.last_text = None
            self._release(job)
            return
        for entry in job.items:
            self._note(entry.alert, Outcome.MAYBE_SENT, "no answer from Telegram", now)
            # Live: no id to edit, the next change goes out as a new message.
            self._settle(entry.alert, entry.alert.delivered(entry.version, entry.phase, None))
        self._count_alerts(job, now)

    def _release(self, job: Job) -> None:
        for entry in job.items:
            entry.alert.released()
            self.outbox.settle(entry.alert)

    def _failed(self, job: Job, exc: Exception) -> None:
        now = self.clock()
        if isinstance(exc, FloodWait):
            paused_all = self.pacer.flood_wait(job.chat_id, exc.retry_after_s, now)
            log.warning(
                "alert_flood_wait",
                chat_id=job.chat_id,
                retry_after_s=exc.retry_after_s,
                all_chats=paused_all,
            )
            self._release(job)
        elif isinstance(exc, DeliveryNetworkError):
            delay = self.config.retry.delay(self._network_failures, self.rand)
            self._network_failures += 1
            self.pacer.pause_all(now + delay)
            log.warning("alert_network_error", error=str(exc), retry_in_s=round(delay, 3))
            self._release(job)
        elif isinstance(exc, DeliveryTimeout):
            log.warning("alert_timeout", chat_id=job.chat_id, edit=job.is_edit)
            self._maybe_sent(job)
        elif isinstance(exc, MessageGone) and job.message is not None:
            self._message_gone(job, job.message)
        elif isinstance(exc, BadMessage) and not job.plain and exc.markup_refused:
            log.warning("alert_markup_refused", chat_id=job.chat_id, reason=str(exc))
            if job.message is not None:
                make_plain(job.message)
            for entry in job.items:
                entry.alert.go_plain()
            self._release(job)
        else:
            log.warning("alert_refused", chat_id=job.chat_id, reason=str(exc))
            self._refused(job, f"refused by Telegram: {exc}")

    def _message_gone(self, job: Job, message: LiveMessage) -> None:
        self.outbox.drop_message(job.chat_id, message.message_id)
        for entry in job.items:
            entry.alert.resend()

    def _refused(self, job: Job, reason: str) -> None:
        """Not sent, and never as it is: a refused edit leaves its alerts shown but unbound."""
        message = job.message
        if message is None:
            self._give_up(job, reason)
            return
        now = self.clock()
        self.outbox.drop_message(job.chat_id, message.message_id)
        for entry in job.items:
            self._note(entry.alert, Outcome.FAILED, reason, now)
            self._settle(entry.alert, entry.alert.refused(entry.version, entry.phase))

    def _give_up(self, job: Job, reason: str) -> None:
        now = self.clock()
        if job.message is not None:
            self.outbox.drop_message(job.chat_id, job.message.message_id)
        for entry in job.items:
            entry.alert.released()
            self._note(entry.alert, Outcome.FAILED, reason, now)
            self.outbox.remove(entry.alert)

    def _chat_failed(self, job: Job, exc: ChatBlocked | ChatMigrated) -> None:
        chat_id = job.chat_id
        if isinstance(exc, ChatMigrated):
            self._release(job)
            new_chat = exc.new_chat_id
            log.info("alert_chat_migrated", chat_id=chat_id, new_chat_id=new_chat)
            self.outbox.migrate(chat_id, new_chat)
            self.history.move(chat_id, new_chat)
            self.planner.move_chat(chat_id, new_chat)
            self.on_migrated(chat_id, new_chat)
            return
        log.info("alert_chat_blocked", chat_id=chat_id)
        self._give_up(job, "the bot is blocked in this chat")
        self.on_blocked(chat_id)
        if self.planner.prefs(chat_id).active:
            log.warning("alert_blocked_chat_still_active", chat_id=chat_id)
        self.outbox.touched.add(chat_id)

    def _note(self, item: PendingAlert, outcome: Outcome, detail: str, now: float) -> None:
        key = item.key
        self.history.record(key.chat_id, now, key.monitor_id, key.subject, outcome, detail)

    # -- state for persistence ---------------------------------------------------------

    def message_ids(self) -> list[dict[str, Any]]:
        """Live messages (chat, message id, each alert's last text) for the state file."""
        return self.outbox.message_ids()

    def restore_message_ids(self, saved: Iterable[dict[str, Any]]) -> None:
        """After a restart: alerts found open again edit their old message."""
        self.outbox.restore_message_ids(saved)
