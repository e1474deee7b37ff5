"""The command router: the transport-agnostic ``Commands`` the Telegram and console adapters drive.

Synchronous and total: whatever text or callback data comes in, it returns replies (or an
answer) and never raises; a bug is logged and answered with an apology.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from goquant_bot.bot import commands_arb as arb
from goquant_bot.bot import commands_flow as flow_commands
from goquant_bot.bot import commands_general as general
from goquant_bot.bot import commands_market as market
from goquant_bot.bot import commands_monitors as monitor_commands
from goquant_bot.bot import commands_prefs as prefs
from goquant_bot.bot import commands_templates as templates
from goquant_bot.bot.config import BotConfig
from goquant_bot.bot.context import (
    STALE_BUTTON,
    AlertHistory,
    AlertRecord,
    ArbQueries,
    Deps,
    Directory,
    Handler,
    MarketHub,
    PressHandler,
    PressResult,
    ViewQueries,
    random_id,
    refuse,
)
from goquant_bot.bot.flows import FlowKind
from goquant_bot.bot.ondemand import FollowUp, OnDemand
from goquant_bot.bot.parsing import InputError, clip, split_command
from goquant_bot.bot.render import COMMANDS, error_text, esc, replies
from goquant_bot.bot.types import CallbackAnswer, Caller, Reply
from goquant_bot.bot.users import UserStore
from goquant_bot.domain.monitors import MarketViewMonitor
from goquant_bot.engine.history import OpportunityStats
from goquant_bot.engine.quotes import ArbQuotes
from goquant_bot.errors import RejectedInput
from goquant_bot.logging import get_logger
from goquant_bot.monitors.events import (
    ChatBlocked,
    ChatMigrated,
    MonitorEvent,
    MonitorFinished,
    MonitorRemoved,
)
from goquant_bot.monitors.records import MonitorKind
from goquant_bot.monitors.schema import record_from_dict
from goquant_bot.monitors.service import LimitReached, MonitorService

__all__ = ["AlertRecord", "CommandRouter"]
log = get_logger(__name__)
SORRY = "😵 Something went wrong on our side; it has been logged. Please try again."
HINT = "I answer commands: send /help for the list, or /menu for buttons."
PAUSED = "⏸ Alerts to this chat are paused since the bot was blocked here: send /start to resume."


class CommandRouter:
    """Implements ``goquant_bot.bot.types.Commands``."""

    def __init__(
        self,
        *,
        monitors: MonitorService,
        arbitrage: ArbQueries,
        market_view: ViewQueries,
        quotes: ArbQuotes,
        directory: Directory,
        hub: MarketHub,
        stats: OpportunityStats,
        config: BotConfig,
        store: UserStore | None = None,
        history: AlertHistory = lambda chat_id: (),
        clock: Callable[[], float] = time.time,
        new_id: Callable[[int], str] = random_id,
    ) -> None:
        self.ctx = Deps(
            monitors=monitors,
            arbitrage=arbitrage,
            market_view=market_view,
            quotes=quotes,
            directory=directory,
            hub=hub,
            stats=stats,
            config=config,
            clock=clock,
            store=store if store is not None else UserStore(),
            history=history,
            new_id=new_id,
            started=clock(),
            ondemand=OnDemand(hub),
        )
        self._commands: dict[str, Handler] = {
            "start": general.start,
            "help": general.help_,
            "menu": general.menu,
            "status": general.status,
            "list_symbols": general.list_symbols,
            "alerts": prefs.alerts,
            "config": prefs.config,
            "monitor_arb": self._monitor_arb,
            "stop_arb": arb.stop_arb,
            "config_arb": arb.config_arb,
            "status_arb": arb.status_arb,
            "template": templates.template,
            "pause": monitor_commands.pause,
            "resume": monitor_commands.resume,
            "threshold": arb.threshold,
            "arbitrage": arb.arbitrage,
            "arb_stats": arb.arb_stats,
            "export": arb.export_history,
            "view_market": self._view_market,
            "stop_market": market.stop_market,
            "get_cbbo": market.get_cbbo,
            "config_market": market.config_market,
            "status_market": market.status_market,
            "cancel": general.cancel,
            "admin": general.admin,
        }
        self._presses: dict[str, PressHandler] = {
            "c": self._press_command,
            "f": flow_commands.press,
            "m": prefs.press_monitor,
            "a": prefs.press_alerts,
            "g": prefs.press_config,
            "l": general.press_symbols,
            "q": market.press_cbbo,
            "r": general.press_restore,
        }
        # The user side's own records follow the monitors' lives.
        store = self.ctx.store
        monitors.events.subscribe(MonitorRemoved, self._forget)
        monitors.events.subscribe(MonitorFinished, self._forget)
        monitors.events.subscribe(
            ChatBlocked, lambda e: store.update_prefs(e.chat_id, active=False)
        )
        monitors.events.subscribe(
            ChatMigrated, lambda e: store.migrate_chat(e.old_chat_id, e.new_chat_id)
        )

    @property
    def store(self) -> UserStore:
        return self.ctx.store

    # -- Commands -------------------------------------------------------------------------

    def menu(self) -> list[tuple[str, str]]:
        return [(command, description) for command, description, _ in COMMANDS]

    def handle(self, caller: Caller, text: str) -> list[Reply]:
        name = "text"
        try:
            parsed = split_command(text)
            if self._not_for_us(caller, parsed):
                return []
            if not self.ctx.config.is_allowed(caller.user_id):
                return replies(_private(caller))
            if parsed is None:
                self.ctx.store.register(caller, self.ctx.clock())
                return self._free_text(caller, text)
            name, _, args = parsed
            handler = self._commands.get(name)
            if handler is None:
                unknown = esc(clip("/" + name))
                return replies(f"Unknown command {unknown}. Send /help for the list.")
            if name == "start":
                return handler(self.ctx, caller, args)
            self.ctx.store.register(caller, self.ctx.clock())
            out = handler(self.ctx, caller, args)
            if not self.ctx.store.prefs(caller.chat_id).active:
                out += replies(PAUSED)
            return out
        except InputError as err:
            return replies(error_text(err))
        except LimitReached as err:
            return replies(f"⛔ {esc(err)}")
        except RejectedInput as err:
            return replies(f"⚠️ {esc(clip(str(err), 400))}")
        except Exception:
            log.exception("command_failed", command=name, chat_id=caller.chat_id)
            return replies(SORRY)

    def press(self, caller: Caller, data: str) -> PressResult:
        try:
            if not self.ctx.config.is_allowed(caller.user_id):
                return CallbackAnswer("This bot is private.", alert=True), []
            prefix, *parts = data.split(":")
            handler = self._presses.get(prefix)
            if handler is None:
                return refuse()
            self.ctx.store.register(caller, self.ctx.clock())
            return handler(self.ctx, caller, parts)
        except InputError as err:
            return CallbackAnswer(clip(err.problem, 190), alert=True), []
        except RejectedInput as err:
            return CallbackAnswer(clip(str(err), 190), alert=True), []
        except Exception:
            log.exception("press_failed", data=data[:64], chat_id=caller.chat_id)
            return CallbackAnswer("Something went wrong; it has been logged.", alert=True), []

    # -- hooks for the app and alert delivery ---------------------------------------------

    def restore_monitors(self) -> list[str]:
        """After a restart (instruments loaded): run the stored monitors; return problems."""
        return self.ctx.monitors.restore()

    def chat_blocked(self, chat_id: int) -> int:
        """Delivery got 403: mark the chat inactive, pause its monitors; /start resumes."""
        return self.ctx.monitors.block_chat(chat_id)

    def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """Delivery got ChatMigrated: the group's settings and monitors move to the new id."""
        self.ctx.monitors.migrate_chat(old_chat_id, new_chat_id)

    def due_answers(self) -> list[FollowUp]:
        """Answers of /get_cbbo and /arbitrage that waited for their books: send them now."""
        try:
            return self.ctx.ondemand.due(self.ctx.clock())
        except Exception:
            log.exception("followup_failed")
            return []

    def live_view_text(self, monitor_id: str) -> str | None:
        """The current text of a market view's live message (None when it is gone)."""
        monitor = self.ctx.monitors.running_monitor(monitor_id)
        if not isinstance(monitor, MarketViewMonitor):
            return None
        return market.live_view_text(self.ctx, monitor)

    # -- internals ------------------------------------------------------------------------

    def _forget(self, event: MonitorEvent) -> None:
        """A monitor stopped or finished: remembered for "reuse my configuration"."""
        self.ctx.store.remember(record_from_dict(event.definition))

    def _monitor_arb(self, ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
        if name := _template_name(args):
            return templates.from_template(ctx, caller, name, MonitorKind.ARB)
        if args:
            return arb.monitor_arb(ctx, caller, args)
        return flow_commands.begin(ctx, caller, FlowKind.ARB)

    def _view_market(self, ctx: Deps, caller: Caller, args: list[str]) -> list[Reply]:
        if name := _template_name(args):
            return templates.from_template(ctx, caller, name, MonitorKind.VIEW)
        if args:
            return market.view_market(ctx, caller, args)
        return flow_commands.begin(ctx, caller, FlowKind.VIEW)

    def _not_for_us(self, caller: Caller, parsed: tuple[str, str | None, list[str]] | None) -> bool:
        """Whether to stay silent: a command for another bot, or group chatter.

        A bot that sees every group message must not answer ordinary talk (unless the member is
        in a set-up here) nor commands of other bots (unless addressed ``/cmd@thisbot``).
        """
        if parsed is None:
            return caller.is_group and (caller.chat_id, caller.user_id) not in self.ctx.store.flows
        name, mention, _ = parsed
        wanted = self.ctx.config.bot_username
        if mention is not None and wanted is not None and mention.lower() != wanted.lower():
            return True
        return caller.is_group and mention is None and name not in self._commands

    def _free_text(self, caller: Caller, text: str) -> list[Reply]:
        key = (caller.chat_id, caller.user_id)
        flow = self.ctx.store.flows.get(key)
        if flow is None:
            return replies(HINT)
        if flow.expired(self.ctx.clock(), self.ctx.config.flow_timeout_s):
            del self.ctx.store.flows[key]
            again = "/monitor_arb" if flow.kind is FlowKind.ARB else "/view_market"
            return replies(f"⌛ Your set-up timed out. Start again with {again}.\n{HINT}")
        return flow_commands.text_input(self.ctx, caller, flow, text)

    def _press_command(self, ctx: Deps, caller: Caller, parts: list[str]) -> PressResult:
        """``c:<command>``: a menu button runs the command without arguments."""
        if len(parts) != 1 or parts[0] not in self._commands or parts[0] == "start":
            return CallbackAnswer(STALE_BUTTON, alert=True), []
        return CallbackAnswer(), self._commands[parts[0]](ctx, caller, [])


def _template_name(args: list[str]) -> str | None:
    """``template=NAME`` as the only argument."""
    if len(args) == 1 and args[0].lower().startswith("template="):
        return args[0].split("=", 1)[1]
    return None


def _private(caller: Caller) -> str:
    return (
        "🔒 This bot is private. Ask its operator to add your user id "
        f"<code>{caller.user_id}</code> to the allowlist."
    )
