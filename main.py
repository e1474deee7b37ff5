"""Entry point: ``python main.py --help``."""

from __future__ import annotations

import sys

# Before anything slow is imported: a SIGTERM during start-up is a clean stop.
from goquant_bot import early_signals

early_signals.install()


def _missing_dependency() -> str | None:
    """The first third-party package the bot needs that this Python cannot import."""
    from importlib.util import find_spec

    needed = ("pydantic", "pydantic_settings", "structlog", "telegram", "aiohttp", "orjson")
    return next((name for name in needed if find_spec(name) is None), None)


if __name__ == "__main__":
    if sys.version_info < (3, 11):  # noqa: UP036 (an older python3 gets here first)
        sys.exit("GoQuant Bot needs Python 3.11 or newer: run `make run` (see README).")
    if (missing := _missing_dependency()) is not None:
        sys.exit(
            f"GoQuant Bot's dependencies are not installed for {sys.executable} "
            f"(no module {missing!r}): run `make run`, which installs them into .venv and "
            "starts the bot, or use .venv/bin/python main.py."
        )
    from goquant_bot.cli import main

    sys.exit(main())
