"""structlog set-up: one pipeline for our events and the libraries' stdlib logs.

Console rendering on a terminal, JSON lines otherwise; a rotating JSON file under logs/.
Every line says where it was logged (module and function) and, in demo mode, that its data is
simulated. Every rendered line passes through the redactor, so a secret never reaches a log,
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

from goquant_bot.errors import ConfigError
from goquant_bot.settings import ENV_NESTED, ENV_PREFIX
from goquant_bot.settings_sections import LogSettings

# A Telegram bot token wherever it appears (e.g. in the Bot API URL a library logs).
_TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
REDACTED = "***"
# Libraries whose INFO logs are per-request noise.
_QUIET_LIBRARIES = ("httpx", "httpcore", "websockets", "telegram.ext.Updater", "aiohttp.access")
_CALLSITE = (
    structlog.processors.CallsiteParameter.MODULE,
    structlog.processors.CallsiteParameter.FUNC_NAME,
)


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
    terminal: bool = True,
    simulated: bool = False,
) -> Redactor:
    """Configure structlog and the stdlib root logger once; returns the redactor in use.

    ``terminal=False`` writes nothing to ``stream`` (the console UI owns the terminal: a log
    line there would land in the conversation); the file still gets everything.
    ``simulated`` adds ``simulated=true`` to every line (demo mode).
    Raises ConfigError when the log file cannot be opened for writing.
    """
    stream = stream if stream is not None else sys.stderr
    redactor = Redactor(secrets)
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    marks: list[Any] = [_mark_simulated] if simulated else []
    pre_chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        # A library's record: its own module and function.
        structlog.processors.CallsiteParameterAdder(_CALLSITE),
        *marks,
        timestamper,
    ]
    handlers: list[logging.Handler] = []
    if terminal:
        use_console = settings.format == "console" or (
            settings.format == "auto" and _is_tty(stream)
        )
        stream_handler = logging.StreamHandler(stream)
        stream_handler.setFormatter(
            _formatter(redactor, pre_chain, console=use_console, colors=_is_tty(stream))
        )
        handlers.append(stream_handler)
    if settings.file is not None:
        file_handler = _open_file(settings)
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
            structlog.processors.CallsiteParameterAdder(_CALLSITE),
            *marks,
            timestamper,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return redactor


def _open_file(settings: LogSettings) -> logging.Handler:
    path = settings.file
    assert path is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return logging.handlers.RotatingFileHandler(
            path,
            maxBytes=settings.file_max_bytes,
            backupCount=settings.file_backup_count,
            encoding="utf-8",
        )
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists()), None)
        if path.is_dir():
            reason = "is a directory"
        elif blocker is not None and not blocker.is_dir():
            reason = f"cannot be written ({blocker} is a file, not a directory)"
        else:
            reason = f"cannot be written ({exc.strerror})"
        msg = (
            f"logging.file (env {ENV_PREFIX}LOGGING{ENV_NESTED}FILE) = '{path}': {reason}; "
            "allowed: a writable file path, or an empty value to write no log file"
        )
        raise ConfigError(msg) from None


def _mark_simulated(_logger: Any, _method: str, event_dict: Any) -> Any:
    """Demo mode: no line about data can be taken for the real market."""
    event_dict["simulated"] = True
    return event_dict


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
