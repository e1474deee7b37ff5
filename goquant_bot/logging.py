"""structlog set-up: one pipeline for our events and the libraries' stdlib logs.

Console rendering on a terminal, JSON lines otherwise; a rotating JSON file under logs/.
Every rendered line passes through the redactor, so a secret never reaches a log,
whether it sits in an event, a library's URL or a traceback.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from collections.abc import Iterable
from typing import IO, Any

import structlog

from goquant_bot.settings import LogSettings

# A Telegram bot token wherever it appears (e.g. in the Bot API URL a library logs).
_TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
REDACTED = "***"
# Libraries whose INFO logs are per-request noise.
_QUIET_LIBRARIES = ("httpx", "httpcore", "websockets", "telegram.ext.Updater", "aiohttp.access")


class Redactor:
    """Replaces known secrets and anything shaped like a bot token in a rendered line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _TOKEN_PATTERN.sub(REDACTED, text)

    def __call__(self, _logger: Any, _method: str, rendered: Any) -> Any:
        """structlog processor placed after the renderer."""
        return self.redact(rendered) if isinstance(rendered, str) else rendered


def configure_logging(
    settings: LogSettings,
    secrets: Iterable[str] = (),
    *,
    stream: IO[str] | None = None,
    stream_level: str | None = None,
) -> Redactor:
    """Configure structlog and the stdlib root logger once; returns the redactor in use.

    ``stream_level`` raises the level of the terminal output only (the console UI shares the
    terminal); the file keeps ``settings.level``.
    """
    stream = stream if stream is not None else sys.stderr
    redactor = Redactor(secrets)
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    pre_chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        timestamper,
    ]
    use_console = settings.format == "console" or (settings.format == "auto" and _is_tty(stream))
    stream_handler = logging.StreamHandler(stream)
    if stream_level is not None:
        stream_handler.setLevel(stream_level)
    stream_handler.setFormatter(
        _formatter(redactor, pre_chain, console=use_console, colors=_is_tty(stream))
    )
    handlers: list[logging.Handler] = [stream_handler]
    if settings.file is not None:
        settings.file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            settings.file,
            maxBytes=settings.file_max_bytes,
            backupCount=settings.file_backup_count,
            encoding="utf-8",
        )
        file_handler.setFormatter(_formatter(redactor, pre_chain, console=False, colors=False))
        handlers.append(file_handler)

    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(settings.level)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            timestamper,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return redactor


def _is_tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _formatter(
    redactor: Redactor, pre_chain: list[Any], *, console: bool, colors: bool
) -> structlog.stdlib.ProcessorFormatter:
    renderer: list[Any]
    if console:
        renderer = [
            structlog.dev.ConsoleRenderer(
                colors=colors, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    else:
        renderer = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *renderer,
            redactor,
        ],
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A named logger; events are snake_case facts with key/values."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
