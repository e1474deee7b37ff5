from __future__ import annotations

import configparser
import tomllib

from tests.helpers import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(DEPLOY / "goquant-bot.service", encoding="utf-8")
    return unit


def test_the_start_limit_is_in_the_unit_section_where_systemd_reads_it() -> None:
    unit = _unit()
    assert unit["Unit"]["StartLimitIntervalSec"] == "300"
    assert unit["Unit"]["StartLimitBurst"] == "10"
    for key in ("StartLimitIntervalSec", "StartLimitBurst", "StartLimitInterval"):
        assert key not in unit["Service"]
    assert unit["Service"]["Restart"] == "on-failure"


def test_the_unit_stops_within_the_bot_shutdown_bound() -> None:
    service = _unit()["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 10  # app.shutdown_timeout_s by default


def test_compose_reads_the_shipped_env_template() -> None:
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "env_file:\n      - bot.env" in compose
    assert (DEPLOY / "bot.env").is_file()


def test_dev_tools_whose_output_ci_checks_are_pinned_exactly() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dev = project["project"]["optional-dependencies"]["dev"]
    pins = {spec.split("==")[0]: spec for spec in dev if "==" in spec}
    assert set(pins) >= {"ruff", "mypy", "import-linter"}
