"""Settings: config/default.toml < --config TOML < .env < environment, one frozen model.

Environment variables use the prefix ``GOQUANT_`` and ``__`` between nested keys, e.g.
``GOQUANT_TELEGRAM__BOT_TOKEN`` or ``GOQUANT_ARBITRAGE__DEFAULT_MIN_EDGE_PCT``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from goquant_bot.config_report import format_validation_error
from goquant_bot.config_sources import (
    ENV_NESTED,
    ENV_PREFIX,
    deep_merge,
    env_problems,
    read_dotenv,
    read_toml,
)
from goquant_bot.errors import ConfigError
from goquant_bot.settings_sections import (
    AppSettings,
    ArbitrageSettings,
    BotSettings,
    CcxtSettings,
    GoMarketSettings,
    LogSettings,
    MarketDataSettings,
    ObservabilitySettings,
    SupervisorSettings,
    TelegramSettings,
    VenuesSettings,
)

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "default.toml"


class Settings(BaseSettings):
    """Every setting of the program; frozen once loaded."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED,
        extra="forbid",
        frozen=True,
    )

    app: AppSettings = AppSettings()
    logging: LogSettings = LogSettings()
    telegram: TelegramSettings = TelegramSettings()
    supervisor: SupervisorSettings = SupervisorSettings()
    venues: VenuesSettings = VenuesSettings()
    marketdata: MarketDataSettings = MarketDataSettings()
    gomarket: GoMarketSettings = GoMarketSettings()
    ccxt: CcxtSettings = CcxtSettings()
    arbitrage: ArbitrageSettings = ArbitrageSettings()
    bot: BotSettings = BotSettings()
    observability: ObservabilitySettings = ObservabilitySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: the environment beats .env, which beats the TOML files (passed as init).
        return env_settings, dotenv_settings, init_settings

    @model_validator(mode="after")
    def _token_when_required(self) -> Settings:
        if self.app.mode == "telegram" and self.telegram.bot_token is None:
            msg = (
                "telegram.bot_token is required when app.mode = 'telegram' "
                f"(set {ENV_PREFIX}TELEGRAM{ENV_NESTED}BOT_TOKEN, or use mode 'auto'/'console')"
            )
            raise ValueError(msg)
        return self

    @property
    def effective_mode(self) -> Literal["telegram", "console", "headless"]:
        """'auto' means Telegram when a token is configured, the console otherwise."""
        if self.app.mode == "auto":
            return "telegram" if self.telegram.bot_token is not None else "console"
        return self.app.mode


def load_settings(
    config_path: Path | None = None,
    *,
    env_file: Path | None = Path(".env"),
    default_config: Path | None = DEFAULT_CONFIG_PATH,
) -> Settings:
    """Load and validate; raise ConfigError with a readable message on any problem."""
    data: dict[str, Any] = {}
    if default_config is not None and default_config.exists():
        deep_merge(data, read_toml(default_config))
    if config_path is not None:
        if not config_path.is_file():
            msg = f"config file {config_path} does not exist"
            raise ConfigError(msg)
        deep_merge(data, read_toml(config_path))
    problems = env_problems(Settings, os.environ, "the environment")
    if env_file is not None and env_file.is_file():
        problems += env_problems(
            Settings, read_dotenv(env_file), str(env_file), only_prefixed=False
        )
    if problems:
        lines = [f"invalid settings ({len(problems)} problem(s)):", *problems]
        raise ConfigError("\n".join(lines))
    try:
        return Settings(_env_file=env_file, **data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, Settings)) from None
    except SettingsError as exc:  # a value the checks above did not foresee
        msg = f"invalid settings: {exc}"
        raise ConfigError(msg) from None
