"""What the command layer needs from the settings: venues, limits, access, defaults."""

from __future__ import annotations

from dataclasses import dataclass

from goquant_bot.domain.instruments import Venue


@dataclass(frozen=True, slots=True)
class BotConfig:
    """Frozen; built from the settings in ``app.build``."""

    venues: tuple[Venue, ...] = tuple(Venue)  # the enabled venues, in display order
    admin_ids: frozenset[int] = frozenset()
    allowlist: frozenset[int] = frozenset()  # empty: everyone may use the bot
    max_arb_per_user: int = 10
    max_views_per_user: int = 20
    max_monitors_total: int = 100
    max_symbols_per_monitor: int = 20  # /monitor_arb BTC-USDT,ETH-USDT,...
    default_threshold_pct: float = 0.3
    default_notional: float = 1000.0
    min_notional: float = 10.0
    max_notional: float = 1_000_000.0
    max_threshold_pct: float = 50.0
    threshold_choices: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 1.0)
    popular: tuple[str, ...] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "BTC-USDC")
    flow_timeout_s: float = 600.0
    view_throttle_s: float = 5.0  # a market view's signals of one kind at most this often
    # Alert delivery's pacing of live messages, so that what a view promises is what happens:
    # two edits of a message at least ``edit_interval_s`` apart, and a re-render (an edit only
    # when the figures changed) every ``view_refresh_s``, or the view's throttle if longer.
    edit_interval_s: float = 3.0
    view_refresh_s: float = 10.0
    view_alert_cooldown_s: float = 300.0  # one market-view alert of a kind per this
    max_skew_s: float = 5.0  # for the one-shot /arbitrage guards (as the engine's)
    sanity_cap_pct: float = 5.0
    page_size: int = 60  # symbols per /list_symbols page
    bot_username: str | None = None  # commands addressed to another bot are ignored

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    def is_allowed(self, user_id: int) -> bool:
        return not self.allowlist or user_id in self.allowlist or user_id in self.admin_ids
