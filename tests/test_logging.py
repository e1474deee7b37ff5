from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from goquant_bot.logging import REDACTED, Redactor, configure_logging, get_logger
from goquant_bot.settings_sections import LogSettings
from tests.helpers import BOT_TOKEN

pytestmark = pytest.mark.usefixtures("restore_logging")

API_KEY = "venue-api-key-7d1f0c2b"


def _json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _setup(tmp_path: Path, **overrides: object) -> io.StringIO:
    stream = io.StringIO()
    settings = LogSettings(file=tmp_path / "logs" / "bot.log", format="json", **overrides)  # type: ignore[arg-type]
    configure_logging(settings, [BOT_TOKEN, API_KEY], stream=stream)
    return stream


def test_structlog_event_is_json_with_key_values(tmp_path: Path) -> None:
    stream = _setup(tmp_path)
    get_logger("goquant_bot.test").info("ws_connected", venue="binance", symbol="BTC-USDT")
    (line,) = _json_lines(stream)
    assert line["event"] == "ws_connected"
    assert line["venue"] == "binance"
    assert line["level"] == "info"
    assert line["logger"] == "goquant_bot.test"
    assert "timestamp" in line


def test_secrets_are_redacted_from_events_library_logs_and_tracebacks(tmp_path: Path) -> None:
    stream = _setup(tmp_path)
    log = get_logger("goquant_bot.test")
    log.info("telegram_request", url=f"https://api.telegram.org/bot{BOT_TOKEN}/getMe")
    log.warning("venue_login", api_key=API_KEY)
    logging.getLogger("httpx").warning(
        "HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", BOT_TOKEN
    )
    try:
        raise RuntimeError(f"failed with token {BOT_TOKEN}")
    except RuntimeError:
        log.exception("unexpected_error")
    output = stream.getvalue()
    file_output = (tmp_path / "logs" / "bot.log").read_text(encoding="utf-8")
    for text in (output, file_output):
        assert BOT_TOKEN not in text
        assert API_KEY not in text
        assert REDACTED in text
    assert len(_json_lines(stream)) == 4


def test_unknown_token_shaped_strings_are_redacted_too() -> None:
    other = "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
    assert Redactor([]).redact(f"url /bot{other}/getUpdates") == f"url /bot{REDACTED}/getUpdates"


def test_stdlib_logs_of_libraries_go_through_the_same_pipeline(tmp_path: Path) -> None:
    stream = _setup(tmp_path)
    logging.getLogger("aiohttp.client").warning("connection reset by %s", "peer")
    (line,) = _json_lines(stream)
    assert line["event"] == "connection reset by peer"
    assert line["logger"] == "aiohttp.client"
    assert line["level"] == "warning"


def test_level_filters_events(tmp_path: Path) -> None:
    stream = _setup(tmp_path, level="WARNING")
    log = get_logger("goquant_bot.test")
    log.info("ignored")
    log.warning("kept")
    assert [line["event"] for line in _json_lines(stream)] == ["kept"]


def test_console_format_is_human_readable(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(file=None, format="console"), [BOT_TOKEN], stream=stream)
    get_logger("goquant_bot.test").info("book_resynced", venue="okx", token=BOT_TOKEN)
    text = stream.getvalue()
    assert "book_resynced" in text
    assert "venue=okx" in text
    assert BOT_TOKEN not in text
    assert not text.lstrip().startswith("{")


def test_auto_format_is_json_when_not_a_terminal(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(file=None, format="auto"), [], stream=stream)
    get_logger("x").info("hello")
    assert _json_lines(stream)[0]["event"] == "hello"


def test_log_file_rotates_at_the_configured_size(tmp_path: Path) -> None:
    _setup(tmp_path, file_max_bytes=10_000, file_backup_count=2)
    log = get_logger("goquant_bot.test")
    for i in range(400):
        log.info("filler_event", i=i, pad="x" * 100)
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["bot.log", "bot.log.1", "bot.log.2"]
    assert all((tmp_path / "logs" / f).stat().st_size <= 10_200 for f in files)


def _where_logged() -> None:
    get_logger("goquant_bot.test").warning("placed", venue="okx")


def test_every_line_says_its_module_and_function_in_json_and_in_the_file(
    tmp_path: Path,
) -> None:
    stream = _setup(tmp_path)
    _where_logged()
    logging.getLogger("aiohttp.client").warning("from a library")
    file_lines = (tmp_path / "logs" / "bot.log").read_text(encoding="utf-8").splitlines()
    for lines in (_json_lines(stream), [json.loads(line) for line in file_lines]):
        ours, library = lines
        assert (ours["module"], ours["func_name"]) == ("test_logging", "_where_logged")
        assert library["module"] == "test_logging"
        assert library["func_name"].startswith("test_every_line_says_its_module")


def test_console_lines_say_their_module_and_function() -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(file=None, format="console"), [], stream=stream)
    _where_logged()
    assert "module=test_logging" in stream.getvalue()
    assert "func_name=_where_logged" in stream.getvalue()


def test_critical_lines_pass_a_critical_level(tmp_path: Path) -> None:
    stream = _setup(tmp_path, level="CRITICAL")
    log = get_logger("goquant_bot.test")
    log.error("ignored")
    log.critical("kept")
    assert [(line["event"], line["level"]) for line in _json_lines(stream)] == [
        ("kept", "critical")
    ]


def test_demo_mode_marks_every_line_simulated(tmp_path: Path) -> None:
    stream = io.StringIO()
    settings = LogSettings(file=tmp_path / "bot.log", format="json")
    configure_logging(settings, [], stream=stream, simulated=True)
    get_logger("goquant_bot.test").info("book_live", venue="okx")
    logging.getLogger("websockets.client").warning("frame dropped")
    file_lines = (tmp_path / "bot.log").read_text(encoding="utf-8").splitlines()
    lines = _json_lines(stream) + [json.loads(line) for line in file_lines]
    assert len(lines) == 4
    assert all(line["simulated"] is True for line in lines)


def test_demo_mode_shows_simulated_on_the_console() -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(file=None, format="console"), [], stream=stream, simulated=True)
    get_logger("goquant_bot.test").info("book_live")
    assert "simulated=True" in stream.getvalue()


def test_live_mode_adds_no_simulated_key(tmp_path: Path) -> None:
    stream = _setup(tmp_path)
    get_logger("goquant_bot.test").info("book_live")
    assert "simulated" not in _json_lines(stream)[0]


def test_without_the_terminal_lines_only_reach_the_file(tmp_path: Path) -> None:
    stream = io.StringIO()
    settings = LogSettings(file=tmp_path / "bot.log", format="console")
    configure_logging(settings, [], stream=stream, terminal=False)
    get_logger("goquant_bot.test").error("venue_frame_rejected", frame='{"raw": 1}')
    assert stream.getvalue() == ""
    assert "venue_frame_rejected" in (tmp_path / "bot.log").read_text(encoding="utf-8")
