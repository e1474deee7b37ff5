from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from goquant_bot.app.preflight import check_health_port, check_startup
from goquant_bot.cli import apply_cli_overrides, build_parser, main
from goquant_bot.settings import Settings
from tests.helpers import REPO_ROOT


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


def _run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.usefixtures("restore_logging")
def test_a_list_setting_that_is_not_json_exits_2_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOQUANT_TELEGRAM__ALLOWLIST", "1,2")
    code, err = _run_main(["export", "--out", "-"], capsys)
    assert code == 2
    assert "telegram.allowlist (env GOQUANT_TELEGRAM__ALLOWLIST) = '1,2'" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("restore_logging")
def test_a_log_file_that_is_a_directory_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOQUANT_LOGGING__FILE", str(tmp_path))
    code, err = _run_main(["export", "--out", "-"], capsys)
    assert code == 2
    assert f"logging.file (env GOQUANT_LOGGING__FILE) = '{tmp_path}': is a directory" in err
    assert "an empty value to write no log file" in err


@pytest.mark.usefixtures("restore_logging")
def test_a_log_file_under_a_regular_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    monkeypatch.setenv("GOQUANT_LOGGING__FILE", str(tmp_path / "plain" / "bot.log"))
    code, err = _run_main(["export", "--out", "-"], capsys)
    assert code == 2
    assert f"cannot be written ({tmp_path / 'plain'} is a file, not a directory)" in err


@pytest.mark.usefixtures("restore_logging")
def test_a_data_directory_that_cannot_be_written_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    monkeypatch.setenv("GOQUANT_LOGGING__FILE", "")
    monkeypatch.setenv("GOQUANT_APP__DATA_DIR", str(tmp_path / "plain" / "data"))
    code, err = _run_main(["--console"], capsys)
    assert code == 2
    assert "app.data_dir (env GOQUANT_APP__DATA_DIR)" in err
    assert "cannot be written (Not a directory)" in err


@pytest.mark.usefixtures("restore_logging")
def test_a_busy_health_port_stops_start_up_naming_the_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("GOQUANT_LOGGING__FILE", "")
        monkeypatch.setenv("GOQUANT_APP__DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("GOQUANT_OBSERVABILITY__PORT", str(port))
        code, err = _run_main(["--console"], capsys)
    assert code == 2
    assert f"observability.port (env GOQUANT_OBSERVABILITY__PORT) = {port}" in err
    assert f"127.0.0.1:{port} cannot be used" in err


def test_port_0_is_never_busy(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        app={"data_dir": tmp_path / "data"},  # type: ignore[arg-type]
        observability={"port": 0},  # type: ignore[arg-type]
    )
    check_startup(settings)
    check_health_port(settings)
    assert (tmp_path / "data").is_dir()


def test_critical_is_accepted_by_log_level() -> None:
    settings = Settings(_env_file=None)
    args = build_parser().parse_args(["--log-level", "critical"])
    assert apply_cli_overrides(settings, args).logging.level == "CRITICAL"


def test_main_py_outside_the_virtual_environment_says_to_run_make_run(tmp_path: Path) -> None:
    # -S: no site-packages (as with a system Python without the dependencies); -E: no PYTHON*.
    result = subprocess.run(
        [sys.executable, "-S", "-E", str(REPO_ROOT / "main.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "run `make run`" in result.stderr
    assert "Traceback" not in result.stderr
