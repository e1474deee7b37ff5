"""The command layer's settings, taken from the program's settings."""

from __future__ import annotations

from goquant_bot.alerts.delivery import DeliveryConfig
from goquant_bot.app.market import read_venues
from goquant_bot.bot.config import BotConfig
from goquant_bot.settings import Settings


def bot_config(settings: Settings) -> BotConfig:
    """What the commands need to know of the settings: venues, limits, defaults."""
    bot, arb = settings.bot, settings.arbitrage
    return BotConfig(
        venues=read_venues(settings),
        admin_ids=frozenset(settings.telegram.admin_ids),
        allowlist=frozenset(settings.telegram.allowlist),
        max_arb_per_user=bot.max_arb_per_user,
        max_views_per_user=bot.max_views_per_user,
        max_monitors_total=bot.max_monitors_total,
        max_symbols_per_monitor=bot.max_symbols_per_monitor,
        default_threshold_pct=arb.default_min_edge_pct,
        default_notional=arb.default_notional,
        popular=bot.popular,
        flow_timeout_s=bot.flow_timeout_s,
        view_throttle_s=bot.view_throttle_s,
        edit_interval_s=bot.edit_interval_s,
        view_refresh_s=DeliveryConfig().refresh_s,
        view_alert_cooldown_s=bot.view_alert_cooldown_s,
        max_skew_s=arb.max_skew_s,
        sanity_cap_pct=arb.sanity_cap_pct,
    )
