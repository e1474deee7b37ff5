"""Command line: run the bot (default), or record / replay / export."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from goquant_bot import __version__
from goquant_bot.app import build
from goquant_bot.errors import ConfigError
from goquant_bot.logging import configure_logging, get_logger
from goquant_bot.settings import Settings, load_settings, secret_values

EXIT_OK = 0
EXIT_CRASH = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
GoQuant Bot: cross-venue crypto arbitrage alerts and a consolidated market view (CBBO)
for Telegram. Without a sub-command it runs the bot: on Telegram when a bot token is
configured (GOQUANT_TELEGRAM__BOT_TOKEN), otherwise in the terminal.
"""
_EPILOG = """\
settings are read from config/default.toml, then --config, then .env, then the
environment (GOQUANT_<SECTION>__<KEY>); see .env.example.
"""
_RESERVED = {
    "record": "capture live venue traffic to JSON Lines files",
    "replay": "feed captured files through the protocols and print a JSON report",
    "export": "write opportunity history as CSV",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"goquant-bot {__version__}")
    parser.add_argument(
        "--config", type=Path, metavar="PATH", help="a TOML file overriding config/default.toml"
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="override logging.level",
    )
    parser.add_argument(
        "--demo", action="store_true", help="simulated venues instead of live market data"
    )
    parser.add_argument(
        "--console", action="store_true", help="use the terminal instead of Telegram"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (the default)")
    for name, text in _RESERVED.items():
        sub.add_parser(name, help=f"{text} (not available yet in this version)")
    return parser


def apply_cli_overrides(settings: Settings, args: argparse.Namespace) -> Settings:
    """Command-line flags win over every other source."""
    app_update: dict[str, object] = {}
    if args.console:
        app_update["mode"] = "console"
    if args.demo:
        app_update["demo"] = True
    update: dict[str, object] = {}
    if app_update:
        update["app"] = settings.app.model_copy(update=app_update)
    if args.log_level:
        update["logging"] = settings.logging.model_copy(update={"level": args.log_level})
    return settings.model_copy(update=update) if update else settings


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in _RESERVED:
        print(f"main.py {args.command}: not available yet in this version", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = apply_cli_overrides(load_settings(args.config), args)
    except ConfigError as exc:
        print(f"goquant-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.logging, secret_values(settings))
    return run_app(settings)


def run_app(settings: Settings) -> int:
    """Run until stopped; never wait forever for a task that ignores cancellation."""
    log = get_logger("goquant_bot.cli")
    runner = asyncio.Runner()
    try:
        code = runner.run(build(settings).run())
    except Exception:
        log.exception("app_crashed")
        code = EXIT_CRASH
    hung = [t.get_name() for t in asyncio.all_tasks(runner.get_loop()) if not t.done()]
    if hung:
        log.error("exiting_with_hung_tasks", tasks=hung)
        logging.shutdown()
        os._exit(code)
    runner.close()
    return code
