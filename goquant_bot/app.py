"""The only module that wires everything: ``build(settings) -> App``; ``App.run()``."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from goquant_bot.logging import get_logger
from goquant_bot.settings import Settings
from goquant_bot.supervisor import Backoff, Supervisor, TaskSpec

log = get_logger(__name__)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class App:
    """Runs the supervised components until SIGINT/SIGTERM or a fatal error."""

    def __init__(self, settings: Settings, supervisor: Supervisor, specs: Sequence[TaskSpec]):
        self.settings = settings
        self.supervisor = supervisor
        for spec in specs:
            supervisor.add(spec)

    def request_stop(self) -> None:
        self.supervisor.request_stop()

    @property
    def hung_tasks(self) -> list[str]:
        return self.supervisor.hung

    async def run(self) -> int:
        """Exit code: 0 after a requested stop, 1 after an unexpected error."""
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        log.info(
            "app_started",
            mode=self.settings.effective_mode,
            demo=self.settings.app.demo,
            tasks=self.supervisor.task_names,
        )
        try:
            code = await self.supervisor.run(self.settings.app.shutdown_timeout_s)
        finally:
            for sig in _STOP_SIGNALS:
                loop.remove_signal_handler(sig)
        log.info("app_stopped", exit_code=code)
        return code

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("stop_requested", signal=sig.name)
        self.request_stop()


def build(settings: Settings) -> App:
    """Create every component from the settings and wire them together."""
    sup = settings.supervisor
    supervisor = Supervisor(
        Backoff(
            initial_s=sup.restart_initial_s,
            factor=sup.restart_factor,
            max_s=sup.restart_max_s,
            jitter=sup.restart_jitter,
        ),
        stable_after_s=sup.stable_after_s,
    )
    specs: list[TaskSpec] = []
    return App(settings, supervisor, specs)
