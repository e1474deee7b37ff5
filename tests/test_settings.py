from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from goquant_bot.config_report import secret_values
from goquant_bot.errors import ConfigError
from goquant_bot.settings import Settings, load_settings
from tests.helpers import BOT_TOKEN, REPO_ROOT


def _toml(tmp_path: Path, text: str, name: str = "user.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(_toml(tmp_path, text), env_file=None)
    return str(info.value)


def test_shipped_default_toml_matches_model_defaults() -> None:
    from_file = load_settings(None, env_file=None)
    from_model = load_settings(None, env_file=None, default_config=None)
    assert from_file.model_dump() == from_model.model_dump()


def test_user_toml_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = _toml(
        tmp_path, "[arbitrage]\ndefault_min_edge_pct = 0.5\n[venues.okx]\ntaker_fee_pct = 0.08\n"
    )
    settings = load_settings(path, env_file=None)
    assert settings.arbitrage.default_min_edge_pct == 0.5
    assert settings.venues.okx.taker_fee_pct == 0.08
    assert settings.venues.okx.enabled is True
    assert settings.arbitrage.default_notional == 1000.0


def test_precedence_toml_then_dotenv_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _toml(tmp_path, "[arbitrage]\ndefault_min_edge_pct = 0.5\n")
    env_file = tmp_path / ".env"
    env_file.write_text("GOQUANT_ARBITRAGE__DEFAULT_MIN_EDGE_PCT=0.6\n", encoding="utf-8")
    assert load_settings(path, env_file=env_file).arbitrage.default_min_edge_pct == 0.6
    monkeypatch.setenv("GOQUANT_ARBITRAGE__DEFAULT_MIN_EDGE_PCT", "0.7")
    assert load_settings(path, env_file=env_file).arbitrage.default_min_edge_pct == 0.7


def test_unknown_key_is_rejected_with_the_allowed_keys(tmp_path: Path) -> None:
    message = _error(tmp_path, "[arbitrage]\ndefault_min_edge = 0.5\n")
    assert "arbitrage.default_min_edge" in message
    assert "unknown setting" in message
    assert "default_min_edge_pct" in message


def test_unknown_section_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, "[telegarm]\nbot_token = 'x'\n")
    assert "telegarm" in message
    assert "allowed here: app, logging, telegram" in message


def test_wrong_type_names_setting_value_and_env_name(tmp_path: Path) -> None:
    message = _error(tmp_path, "[app]\nshutdown_timeout_s = 'soon'\n")
    assert "app.shutdown_timeout_s" in message
    assert "GOQUANT_APP__SHUTDOWN_TIMEOUT_S" in message
    assert "'soon'" in message
    assert "valid number" in message


def test_threshold_out_of_range_says_what_is_allowed(tmp_path: Path) -> None:
    message = _error(tmp_path, "[arbitrage]\ndefault_min_edge_pct = 500\n")
    assert "arbitrage.default_min_edge_pct" in message
    assert "500" in message
    assert "less than or equal to 50" in message


def test_bad_choice_lists_the_choices(tmp_path: Path) -> None:
    message = _error(tmp_path, "[app]\nmode = 'webhook'\n")
    assert "'auto', 'telegram', 'console' or 'headless'" in message


def test_telegram_mode_requires_a_token(tmp_path: Path) -> None:
    message = _error(tmp_path, "[app]\nmode = 'telegram'\n")
    assert "telegram.bot_token is required" in message
    assert "GOQUANT_TELEGRAM__BOT_TOKEN" in message


def test_malformed_token_is_rejected_without_echoing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOQUANT_TELEGRAM__BOT_TOKEN", "not-a-token-but-secret")
    with pytest.raises(ConfigError) as info:
        load_settings(None, env_file=None)
    message = str(info.value)
    assert "telegram.bot_token" in message
    assert "not a bot token" in message
    assert "not-a-token-but-secret" not in message


def test_token_is_secret_and_selects_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOQUANT_TELEGRAM__BOT_TOKEN", BOT_TOKEN)
    settings = load_settings(None, env_file=None)
    assert settings.effective_mode == "telegram"
    assert BOT_TOKEN not in repr(settings)
    assert BOT_TOKEN not in str(settings.model_dump())
    assert secret_values(settings) == [BOT_TOKEN]


def test_empty_token_means_console_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOQUANT_TELEGRAM__BOT_TOKEN", "")
    settings = load_settings(None, env_file=None)
    assert settings.telegram.bot_token is None
    assert settings.effective_mode == "console"


def test_empty_log_file_disables_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOQUANT_LOGGING__FILE", "")
    assert load_settings(None, env_file=None).logging.file is None


def test_settings_are_frozen() -> None:
    settings = load_settings(None, env_file=None)
    with pytest.raises(ValidationError):
        settings.app.demo = True  # type: ignore[misc]
    with pytest.raises(ValidationError):
        settings.app = settings.app  # type: ignore[misc]


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    message = _error(tmp_path, "[app\nmode = 1\n")
    assert "user.toml" in message
    assert "invalid TOML" in message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env_file=None)


def test_bad_setting_stops_startup_with_exit_code_2_and_no_traceback(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[arbitrage]\nsanity_cap_pct = -1\n")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "arbitrage.sanity_cap_pct" in result.stderr
    assert "greater than 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_values_are_validated_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOQUANT_SUPERVISOR__RESTART_JITTER", "2")
    with pytest.raises(ConfigError, match=r"supervisor\.restart_jitter"):
        load_settings(None, env_file=None)


def test_model_can_be_built_without_any_file() -> None:
    assert Settings(_env_file=None).app.shutdown_timeout_s == 10.0


ENV_TEMPLATES = [REPO_ROOT / ".env.example", REPO_ROOT / "deploy" / "bot.env"]
SECRETS = {"GOQUANT_TELEGRAM__BOT_TOKEN"}


@pytest.mark.parametrize("template", ENV_TEMPLATES, ids=lambda p: p.name)
def test_env_templates_set_only_secrets_and_their_examples_are_the_defaults(
    template: Path, tmp_path: Path
) -> None:
    lines = template.read_text(encoding="utf-8").splitlines()
    active = {line.split("=", 1)[0] for line in lines if line.startswith("GOQUANT_")}
    assert active == SECRETS
    examples = [m[1] for line in lines if (m := re.fullmatch(r"# (GOQUANT_\w+=.*)", line))]
    assert len(examples) >= 8
    uncommented = tmp_path / ".env"
    uncommented.write_text("\n".join(examples) + "\n", encoding="utf-8")
    example = load_settings(None, env_file=uncommented)
    assert example.model_dump() == load_settings(None, env_file=None).model_dump()


def test_a_copied_env_example_leaves_the_config_file_in_effect(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    shutil.copy(REPO_ROOT / ".env.example", env_file)  # the README's first step
    path = _toml(tmp_path, "[bot]\nmax_arb_per_user = 2\n[logging]\nlevel = 'DEBUG'\n")
    settings = load_settings(path, env_file=env_file)
    assert settings.bot.max_arb_per_user == 2
    assert settings.logging.level == "DEBUG"


def _env_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(None, env_file=None)
    return str(info.value)


def test_a_list_that_is_not_json_names_the_setting_the_value_and_the_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = _env_error(monkeypatch, "GOQUANT_TELEGRAM__ALLOWLIST", "1,2")
    assert "telegram.allowlist (env GOQUANT_TELEGRAM__ALLOWLIST) = '1,2'" in message
    assert "a JSON list of whole numbers, e.g. [123456789, 987654321]" in message


def test_a_broken_json_list_of_sizes_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _env_error(monkeypatch, "GOQUANT_ARBITRAGE__SIZE_TIERS", "[1,2,x]")
    assert "arbitrage.size_tiers" in message
    assert "'[1,2,x]'" in message
    assert "a JSON list of numbers" in message


def test_a_json_list_of_the_wrong_items_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _env_error(monkeypatch, "GOQUANT_ARBITRAGE__SIZE_TIERS", '[1, 2, "x"]')
    assert "arbitrage.size_tiers.2" in message
    assert "valid number" in message


def test_an_unknown_environment_section_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _env_error(monkeypatch, "GOQUANT_ARBITRAGES__DEFAULT_MIN_EDGE_PCT", "0.5")
    assert "GOQUANT_ARBITRAGES__DEFAULT_MIN_EDGE_PCT" in message
    assert "unknown section 'arbitrages'" in message
    assert "arbitrage, bot" in message


def test_a_line_of_env_file_that_is_no_setting_is_named(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GOQUANT_TELEGRAM__BOT_TOKEN=\nTELEGRAM_TOKEN=abc\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"TELEGRAM_TOKEN in .*\.env: not a setting"):
        load_settings(None, env_file=env_file)


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[bot]\nmax_arb_per_user = 2\n")
    assert load_settings(path, env_file=None).bot.max_arb_per_user == 2


def test_a_config_file_that_is_not_utf8_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes("[bot]\n# café\nmax_arb_per_user = 2\n".encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_settings(path, env_file=None)
    assert str(info.value) == (
        f"{path}: not UTF-8 text (byte 0xe9 on line 2); TOML files must be UTF-8: "
        "save it again as UTF-8"
    )


def test_a_default_edge_at_or_above_the_sanity_cap_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, "[arbitrage]\ndefault_min_edge_pct = 6\nsanity_cap_pct = 5\n")
    assert (
        "arbitrage.default_min_edge_pct (env GOQUANT_ARBITRAGE__DEFAULT_MIN_EDGE_PCT) = 6"
        in message
    )
    assert "not below arbitrage.sanity_cap_pct = 5" in message
    assert "{" not in message  # the section is not dumped


def test_a_per_user_limit_above_the_total_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, "[bot]\nmax_views_per_user = 50\nmax_monitors_total = 40\n")
    assert "bot.max_views_per_user (env GOQUANT_BOT__MAX_VIEWS_PER_USER) = 50" in message
    assert "above bot.max_monitors_total = 40" in message


def test_a_first_backoff_above_the_longest_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, "[marketdata]\nreconnect_initial_s = 40\n")
    assert "marketdata.reconnect_initial_s" in message
    assert "above marketdata.reconnect_max_s = 30" in message


def test_critical_is_a_log_level() -> None:
    assert Settings(_env_file=None, logging={"level": "critical"}).logging.level == "CRITICAL"  # type: ignore[arg-type]
