from __future__ import annotations

import pytest

from goquant_bot.cli import apply_cli_overrides, build_parser, main
from goquant_bot.settings import Settings


def test_help_documents_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for word in (
        "--demo",
        "--console",
        "--config",
        "--log-level",
        "run",
        "record",
        "replay",
        "export",
    ):
        assert word in out
    assert "GOQUANT_TELEGRAM__BOT_TOKEN" in out


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--dmeo"])
    assert info.value.code == 2
    assert "unrecognized arguments: --dmeo" in capsys.readouterr().err


def test_flags_override_settings() -> None:
    settings = Settings(_env_file=None)
    args = build_parser().parse_args(["--console", "--demo", "--log-level", "debug"])
    result = apply_cli_overrides(settings, args)
    assert result.app.mode == "console"
    assert result.app.demo is True
    assert result.logging.level == "DEBUG"
    assert settings.app.demo is False


def test_no_flags_keep_settings() -> None:
    settings = Settings(_env_file=None)
    assert apply_cli_overrides(settings, build_parser().parse_args([])) is settings
