"""The sections of the settings (``[app]``, ``[venues.NAME]``, ``[arbitrage]``...): their keys,
defaults and ranges, and the checks between keys of one section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from goquant_bot.config_sources import ENV_NESTED, ENV_PREFIX
from goquant_bot.domain.ccxt_venues import CCXT_IDS, CCXT_ONLY, ccxt_unavailable
from goquant_bot.domain.instruments import Symbol, Venue

_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _named(section: str, key: str) -> str:
    """A setting as error messages name it: its dotted name and its environment variable."""
    return f"{section}.{key} (env {ENV_PREFIX}{section.upper()}{ENV_NESTED}{key.upper()})"


def _at_most(section: str, low: tuple[str, float], high: tuple[str, float], why: str) -> None:
    """Refuse two settings of one section that contradict each other (``low`` > ``high``)."""
    if low[1] > high[1]:
        msg = (
            f"{_named(section, low[0])} = {low[1]:g} is above {section}.{high[0]} = {high[1]:g}: "
            f"{why}; lower the first or raise the second"
        )
        raise ValueError(msg)


class AppSettings(_Section):
    mode: Literal["auto", "telegram", "console", "headless"] = "auto"
    demo: bool = False
    data_dir: Path = Path("data")
    shutdown_timeout_s: float = Field(default=10.0, gt=0, le=300)


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["auto", "console", "json"] = "auto"
    file: Path | None = Path("logs/goquant.log")
    file_max_bytes: int = Field(default=10_000_000, ge=10_000, le=10_000_000_000)
    file_backup_count: int = Field(default=5, ge=0, le=1000)

    @field_validator("file", mode="before")
    @classmethod
    def _empty_disables(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class TelegramSettings(_Section):
    bot_token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    admin_ids: tuple[int, ...] = ()
    allowlist: tuple[int, ...] = ()

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if not _TOKEN_RE.match(value.get_secret_value()):
            msg = (
                "not a bot token: expected '<digits>:<35 letters, digits, - or _>' from @BotFather"
            )
            raise ValueError(msg)
        return value

    @field_validator("api_base_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = "must start with http:// or https://"
            raise ValueError(msg)
        return value


class SupervisorSettings(_Section):
    restart_initial_s: float = Field(default=0.5, gt=0, le=60)
    restart_max_s: float = Field(default=60.0, gt=0, le=3600)
    restart_factor: float = Field(default=2.0, ge=1, le=10)
    restart_jitter: float = Field(default=0.2, ge=0, le=1)
    stable_after_s: float = Field(default=60.0, gt=0, le=86_400)

    @model_validator(mode="after")
    def _consistent(self) -> SupervisorSettings:
        _at_most(
            "supervisor",
            ("restart_initial_s", self.restart_initial_s),
            ("restart_max_s", self.restart_max_s),
            "the first restart delay cannot exceed the longest one",
        )
        return self


class VenueSettings(_Section):
    enabled: bool = True
    taker_fee_pct: float = Field(ge=0, le=5)
    # Replace the venue's public addresses (a proxy, a test server); empty: the venue's own.
    ws_url: str = ""
    rest_url: str = ""
    # REST request weight per minute we allow ourselves (well under the venue's own limit).
    rest_weight_per_minute: int = Field(default=1200, ge=1, le=100_000)
    # Reconnect before the venue cuts the connection (Binance: 24 h); 0 disables.
    max_connection_age_s: float = Field(default=0.0, ge=0, le=7 * 86_400)
    # Read natively, through GoMarket or through ccxt's WebSocket module (never two ways); a
    # venue with no native protocol is read through GoMarket (when [gomarket] is enabled) or,
    # where ccxt streams it, through ccxt (books of the "unverified" tier, see [ccxt]).
    source: Literal["native", "gomarket", "ccxt"] = "native"

    @field_validator("ws_url", "rest_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("ws://", "wss://", "http://", "https://")):
            msg = "must be empty or start with ws://, wss://, http:// or https://"
            raise ValueError(msg)
        return value.rstrip("/")


_CCXT_ONLY_NAMES = frozenset(v.value for v in CCXT_ONLY)


class VenuesSettings(_Section):
    binance: VenueSettings = VenueSettings(
        taker_fee_pct=0.10, rest_weight_per_minute=3000, max_connection_age_s=23.5 * 3600
    )
    okx: VenueSettings = VenueSettings(taker_fee_pct=0.10, rest_weight_per_minute=600)
    bybit: VenueSettings = VenueSettings(taker_fee_pct=0.10, rest_weight_per_minute=1200)
    deribit: VenueSettings = VenueSettings(taker_fee_pct=0.0, rest_weight_per_minute=600)
    # Public REST: 10 requests/s per IP (Coinbase), about 1/s (Kraken); we keep well under.
    coinbase: VenueSettings = VenueSettings(taker_fee_pct=1.20, rest_weight_per_minute=300)
    kraken: VenueSettings = VenueSettings(taker_fee_pct=0.40, rest_weight_per_minute=40)
    # Bitfinex public REST allows 10 to 90 requests a minute per endpoint (books: 90).
    bitfinex: VenueSettings = VenueSettings(taker_fee_pct=0.20, rest_weight_per_minute=60)
    # Bitstamp allows 400 requests a second and 10,000 per 10 minutes.
    bitstamp: VenueSettings = VenueSettings(taker_fee_pct=0.40, rest_weight_per_minute=600)
    # Gemini's public REST allows 120 requests a minute (1 a second recommended).
    gemini: VenueSettings = VenueSettings(taker_fee_pct=0.40, rest_weight_per_minute=60)
    # Gate VIP 0 spot taker is 0.10 % (0.09 % paid in GT); public REST allows 200 requests
    # per 10 s per endpoint and IP, we keep well under.
    gateio: VenueSettings = VenueSettings(taker_fee_pct=0.10, rest_weight_per_minute=600)
    # KuCoin LV0 taker on class A pairs (B and C pairs cost more); public REST pool of 2000
    # per 30 s, we keep well under.
    kucoin: VenueSettings = VenueSettings(taker_fee_pct=0.10, rest_weight_per_minute=600)
    # Bitget's public market REST allows 20 requests a second per IP.
    bitget: VenueSettings = VenueSettings(taker_fee_pct=0.10, rest_weight_per_minute=300)
    # Crypto.com public REST allows 100 requests a second per IP (instruments only here).
    cryptocom: VenueSettings = VenueSettings(taker_fee_pct=0.50, rest_weight_per_minute=120)
    # HTX market REST allows 100 requests per 10 s per IP.
    htx: VenueSettings = VenueSettings(taker_fee_pct=0.20, rest_weight_per_minute=120)
    # MEXC spot taker 0.05 %; public REST shares 300 weight per 10 s per IP (a depth snapshot
    # weighs 3); a connection lives at most 24 h.
    mexc: VenueSettings = VenueSettings(
        taker_fee_pct=0.05, rest_weight_per_minute=600, max_connection_age_s=23.5 * 3600
    )
    # Read through GoMarket: base-tier spot taker fees from each venue's fee page.
    bitmex: VenueSettings = VenueSettings(taker_fee_pct=0.10, source="gomarket")
    bitso: VenueSettings = VenueSettings(taker_fee_pct=0.65, source="gomarket")
    blofin: VenueSettings = VenueSettings(taker_fee_pct=0.10, source="gomarket")
    coinbase_intl: VenueSettings = VenueSettings(taker_fee_pct=0.10, source="gomarket")
    hyperliquid: VenueSettings = VenueSettings(taker_fee_pct=0.07, source="gomarket")
    # Read through ccxt only. Upbit's taker fee is 0.25 % on its BTC and USDT markets (0.05 %
    # on KRW ones): the higher one, so that no KRW fee makes an edge look wider than it is.
    upbit: VenueSettings = VenueSettings(enabled=False, taker_fee_pct=0.25, source="ccxt")
    # Long-tail USDT venues read through ccxt only, off by default; base-tier spot takers.
    lbank: VenueSettings = VenueSettings(enabled=False, taker_fee_pct=0.10, source="ccxt")
    phemex: VenueSettings = VenueSettings(enabled=False, taker_fee_pct=0.10, source="ccxt")
    whitebit: VenueSettings = VenueSettings(enabled=False, taker_fee_pct=0.10, source="ccxt")

    @model_validator(mode="before")
    @classmethod
    def _ccxt_only_default(cls, data: Any) -> Any:
        """A venue read only through ccxt is read through ccxt unless its settings name
        another source (which the check below refuses): a section that sets only
        ``enabled`` must not fall back to the field's "native"."""
        if not isinstance(data, dict):
            return data
        return {
            name: {**value, "source": "ccxt"}
            if isinstance(value, dict) and "source" not in value and name in _CCXT_ONLY_NAMES
            else value
            for name, value in data.items()
        }

    @model_validator(mode="after")
    def _ccxt_readable(self) -> VenuesSettings:
        for name in type(self).model_fields:
            venue_settings: VenueSettings = getattr(self, name)
            why = ccxt_unavailable(Venue(name))
            env = f"{ENV_PREFIX}VENUES{ENV_NESTED}{name.upper()}{ENV_NESTED}SOURCE"
            if venue_settings.source == "ccxt" and why is not None:
                msg = (
                    f"venues.{name}.source (env {env}) = 'ccxt': {why}; ccxt reads "
                    f"{', '.join(v.value for v in CCXT_IDS)} (use 'gomarket' or 'native')"
                )
                raise ValueError(msg)
            if (
                venue_settings.enabled
                and venue_settings.source != "ccxt"
                and Venue(name) in CCXT_ONLY
            ):
                msg = (
                    f"venues.{name}.source (env {env}) = {venue_settings.source!r}: {name} is "
                    "read only through ccxt (no native feed, GoMarket does not serve it); "
                    "use 'ccxt'"
                )
                raise ValueError(msg)
        return self


class CcxtSettings(_Section):
    """Guards on the books of venues read through ccxt's WebSocket module."""

    # A book stamped longer ago than this by the venue (by our clock) is stale and not used.
    max_message_lag_s: float = Field(default=10.0, gt=0, le=3600)
    # A book with no update for this long is stale and its stream is rebuilt.
    silence_s: float = Field(default=30.0, gt=0, le=3600)
    # Each live book's top is compared with a REST order book this often.
    crosscheck_interval_s: float = Field(default=60.0, ge=5, le=86_400)
    # A best bid or ask further than this from REST's marks the book bad until rebuilt.
    crosscheck_tolerance_bps: float = Field(default=50.0, gt=0, le=10_000)
    # REST requests per minute per venue for the cross-checks (ccxt's own pacing applies too).
    rest_requests_per_minute: int = Field(default=30, ge=1, le=6000)


class GoMarketSettings(_Section):
    """GoQuant's GoMarket API: books of many exchanges through one gateway."""

    enabled: bool = False
    base_url: str = "https://gomarket-api.goquant.io"
    # Empty: base_url with ws:// or wss://.
    ws_url: str = ""
    # Sent as a header, never in an address; redacted from every log line.
    api_key: SecretStr | None = None
    # GoMarket's documented limits per key, shared by every venue read through it.
    requests_per_minute: int = Field(default=1000, ge=1, le=100_000)
    ws_connections: int = Field(default=10, ge=0, le=1000)
    # A 429 pauses every GoMarket request this long, doubled on each 429 in a row.
    backoff_initial_s: float = Field(default=2.0, gt=0, le=600)
    backoff_max_s: float = Field(default=300.0, gt=0, le=3600)
    # A book message stamped longer ago than this (by our clock) is not used.
    max_message_lag_s: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("base_url", "ws_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("ws://", "wss://", "http://", "https://")):
            msg = "must start with http://, https://, ws:// or wss://"
            raise ValueError(msg)
        return value.rstrip("/")

    @property
    def ws_base(self) -> str:
        if self.ws_url:
            return self.ws_url
        return re.sub(r"^http", "ws", self.base_url)


class MarketDataSettings(_Section):
    # Levels kept per book side: enough to fill a 100k USD order on BTC at every venue.
    book_depth: int = Field(default=200, ge=5, le=5000)
    # A book not refreshed for this long is stale and excluded from every signal.
    book_max_age_s: float = Field(default=10.0, gt=0, le=3600)
    # A connection silent for this long is dead: its books are rebuilt after a reconnect.
    watchdog_silence_s: float = Field(default=5.0, gt=0, le=600)
    # After this many failed connection attempts in a row, keep books from REST snapshots.
    poll_after_failures: int = Field(default=3, ge=1, le=100)
    poll_interval_s: float = Field(default=2.0, gt=0, le=600)
    rest_timeout_s: float = Field(default=10.0, gt=0, le=120)
    reconnect_initial_s: float = Field(default=0.5, gt=0, le=60)
    reconnect_max_s: float = Field(default=30.0, gt=0, le=3600)
    # The last monitor releasing a book unsubscribes after this grace period.
    unsubscribe_grace_s: float = Field(default=30.0, ge=0, le=86_400)
    # Instrument lists are refreshed from the venues when the disk cache is older than this.
    instruments_ttl_s: float = Field(default=86_400.0, gt=0, le=30 * 86_400)
    # Admins are told when a venue has been down this long (and again when it is back).
    venue_down_notice_s: float = Field(default=300.0, gt=0, le=7 * 86_400)
    # Symbols streamed from every enabled venue listing them, even with no monitor.
    watch: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> MarketDataSettings:
        _at_most(
            "marketdata",
            ("reconnect_initial_s", self.reconnect_initial_s),
            ("reconnect_max_s", self.reconnect_max_s),
            "the first reconnect delay cannot exceed the longest one",
        )
        return self

    @field_validator("watch")
    @classmethod
    def _symbols(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            Symbol.parse(text)  # raises ValueError with the reason
        return value


class ArbitrageSettings(_Section):
    default_min_edge_pct: float = Field(default=0.3, gt=0, le=50)
    default_notional: float = Field(default=1000.0, gt=0, le=100_000_000)
    hysteresis_pct: float = Field(default=20.0, ge=0, lt=100)
    sanity_cap_pct: float = Field(default=5.0, gt=0, le=100)
    # Trade sizes (quote currency) computations are shared at; a monitor's size is rounded
    # up to the next tier (the largest tier at most).
    size_tiers: tuple[float, ...] = (100.0, 500.0, 1_000.0, 5_000.0, 10_000.0, 50_000.0, 100_000.0)
    # The two books of a pair must have been refreshed within this many seconds of each other.
    max_skew_s: float = Field(default=5.0, gt=0, le=600)

    @field_validator("size_tiers")
    @classmethod
    def _tiers(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(t <= 0 for t in value) or list(value) != sorted(set(value)):
            msg = "must be a non-empty list of increasing positive sizes"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ArbitrageSettings:
        # An edge at the cap is already flagged suspect: a default there could never alert.
        if self.default_min_edge_pct >= self.sanity_cap_pct:
            msg = (
                f"{_named('arbitrage', 'default_min_edge_pct')} = {self.default_min_edge_pct:g} "
                f"is not below arbitrage.sanity_cap_pct = {self.sanity_cap_pct:g}: every edge "
                "reaching a new monitor's threshold would be flagged suspect and never alerted; "
                "lower the default or raise the cap"
            )
            raise ValueError(msg)
        return self


class BotSettings(_Section):
    # Per-user and system-wide monitor limits (a user at a limit is told how to free a slot).
    max_arb_per_user: int = Field(default=10, ge=1, le=10_000)
    max_views_per_user: int = Field(default=20, ge=1, le=10_000)
    max_monitors_total: int = Field(default=100, ge=1, le=1_000_000)
    # Symbols one arbitrage monitor may watch (it counts once against the limits).
    max_symbols_per_monitor: int = Field(default=20, ge=1, le=200)
    # Guided set-up flows expire after this much inactivity.
    flow_timeout_s: float = Field(default=600.0, gt=0, le=86_400)
    # A live market view is edited at most this often.
    view_throttle_s: float = Field(default=5.0, ge=1, le=3_600)
    # A market view alerts at most once per this many seconds for each kind of alert (mid
    # move, wide spread, a venue's deviation, crossed book); its live message is not limited.
    view_alert_cooldown_s: float = Field(default=300.0, ge=0, le=86_400)
    # Messages older than this when the bot reads them (sent while it was down) are not
    # executed; the user is asked to resend.
    stale_after_s: float = Field(default=120.0, gt=0, le=86_400)
    # Symbols offered as buttons in the guided set-up.
    popular: tuple[str, ...] = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "BTC-USDC")
    # Minimum interval between two edits of one live message (seconds).
    edit_interval_s: float = Field(default=3.0, ge=1, le=600)
    # New messages a chat gets at most per minute, replies included (edits of live messages
    # do not count); alerts beyond it are combined into the next message, never dropped.
    chat_messages_per_min: int = Field(default=20, ge=1, le=60)

    @model_validator(mode="after")
    def _consistent(self) -> BotSettings:
        for key in ("max_arb_per_user", "max_views_per_user"):
            _at_most(
                "bot",
                (key, getattr(self, key)),
                ("max_monitors_total", self.max_monitors_total),
                "one user could never reach a per-user limit above the total",
            )
        return self

    @field_validator("popular")
    @classmethod
    def _popular(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(Symbol.parse(text)) for text in value)


class ObservabilitySettings(_Section):
    # /healthz, /readyz and /metrics; keep it on localhost unless a firewall protects it.
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=0, le=65_535)
