"""Command line: run the bot (default), or record / replay / export."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from goquant_bot import __version__, early_signals
from goquant_bot.app import (
    HISTORY_FILE,
    arb_config,
    build,
    data_dir,
    open_captures,
    record_market_data,
    record_sources,
)
from goquant_bot.app.preflight import check_health_port, check_startup
from goquant_bot.app.replay import replay_with_signals
from goquant_bot.config_report import secret_values
from goquant_bot.domain.instruments import Symbol, Venue
from goquant_bot.errors import ConfigError, RejectedInput
from goquant_bot.logging import configure_logging, get_logger
from goquant_bot.monitors.schema import load_monitors
from goquant_bot.settings import Settings, load_settings
from goquant_bot.storage.export import Skipped, history_files, read_closed, to_csv
from goquant_bot.storage.instance_lock import AlreadyRunning, InstanceLock
from goquant_bot.venues.replay import replay_files

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
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
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
    record = sub.add_parser(
        "record",
        help="capture live venue traffic to JSON Lines files (one per venue)",
        description="Stream SYMBOLS from VENUES for DURATION seconds and write everything each "
        "connection sent and received, plus REST answers, to DIR/<venue>.jsonl[.zst] "
        "(DIR/<venue>.gomarket.jsonl[.zst] for a venue read through GoMarket).",
    )
    record.add_argument("--venues", required=True, type=_venue_list, help="e.g. binance,okx")
    record.add_argument(
        "--symbols", required=True, type=_symbol_list, help="e.g. BTC-USDT,ETH-USDT"
    )
    record.add_argument("--duration", type=_positive, default=60.0, help="seconds (default 60)")
    record.add_argument("--out", type=Path, required=True, metavar="DIR")
    record.add_argument("--compress", action="store_true", help="write .jsonl.zst files")
    replay = sub.add_parser(
        "replay",
        help="feed captured files through the protocols and print a JSON report",
        description="Replay capture files (plain or .zst, merged by time) through the same venue "
        "protocols with the capture's clock and print a JSON report of the final books.",
    )
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE")
    replay.add_argument("--report", choices=["json"], default="json", help="report format")
    replay.add_argument(
        "--monitors", type=Path, metavar="M.json", help="monitors to evaluate (signal engine)"
    )
    export = sub.add_parser(
        "export",
        help="write the opportunity history as CSV",
        description="Write the closed opportunities recorded in data/opportunities.jsonl "
        "(and its rotated files) as CSV; with --demo, those of the demo (data/demo/).",
    )
    export.add_argument(
        "--demo",
        action="store_true",
        dest="export_demo",
        help="export the demo's simulated history instead of the live one",
    )
    export.add_argument(
        "--since", type=_since, default=0.0, help="2026-11-01, 2026-11-01T12:00, 24h or 7d"
    )
    export.add_argument("--owner", type=int, help="only this chat id's opportunities")
    export.add_argument("--out", type=Path, required=True, metavar="FILE", help="- for stdout")
    return parser


def _venue_list(text: str) -> list[Venue]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    try:
        return list(dict.fromkeys(Venue(n) for n in names)) or _fail("no venue given")
    except ValueError:
        allowed = ", ".join(v.value for v in Venue)
        msg = f"unknown venue in {text!r}; choose from {allowed}"
        raise argparse.ArgumentTypeError(msg) from None


def _symbol_list(text: str) -> list[Symbol]:
    try:
        symbols = [Symbol.parse(t) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return list(dict.fromkeys(symbols)) or _fail("no symbol given")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 7 * 86_400:
        msg = f"{text!r} is not a number of seconds between 0 and 604800"
        raise argparse.ArgumentTypeError(msg)
    return value


def _since(text: str) -> float:
    """An ISO date/time (UTC unless it says otherwise), or a duration back from now: 24h, 7d."""
    units = {"h": 3600, "d": 86_400}
    if text[-1:] in units and text[:-1].isdigit():
        return time.time() - int(text[:-1]) * units[text[-1]]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date (2026-11-01), a date and time, or a duration (24h, 7d)"
        raise argparse.ArgumentTypeError(msg) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _fail(message: str) -> NoReturn:
    raise argparse.ArgumentTypeError(message)


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
    # A stop signal during start-up is acted on once the app runs (main.py installs this
    # before its imports already; this covers the installed ``goquant-bot`` script).
    early_signals.install()
    try:
        return _main(argv)
    finally:
        early_signals.uninstall()


def _main(argv: Sequence[str] | None) -> int:
    # python-telegram-bot 22: durations as timedeltas (its deprecation warning otherwise).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = build_parser().parse_args(argv)
    running = args.command in (None, "run")
    if not running:
        early_signals.uninstall()  # Ctrl-C ends a record, replay or export as usual
    try:
        settings = apply_cli_overrides(load_settings(args.config), args)
        interactive = running and settings.effective_mode == "console"
        configure_logging(
            settings.logging,
            secret_values(settings),
            # The console UI owns the terminal: a log line there would land between the
            # replies. The log file gets everything.
            terminal=not (interactive and sys.stderr.isatty()),
            simulated=settings.app.demo,
        )
        if running:
            check_startup(settings)
    except ConfigError as exc:
        print(f"goquant-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "replay":
        return run_replay(settings, args.files, args.monitors)
    if args.command == "record":
        return run_record(settings, args)
    if args.command == "export":
        if args.export_demo:
            settings = apply_cli_overrides(
                settings, argparse.Namespace(console=False, demo=True, log_level=None)
            )
        return run_export(settings, args.since, args.owner, args.out)
    return run_app(settings)


def run_replay(settings: Settings, files: Sequence[Path], monitors: Path | None) -> int:
    """Print the replay report (and, with monitors, the alerts) as JSON on stdout."""
    try:
        depth, lag = settings.marketdata.book_depth, settings.gomarket.max_message_lag_s
        if monitors is None:
            report = replay_files(files, depth=depth, gomarket_max_lag_s=lag).report()
        else:
            report = replay_with_signals(
                files,
                load_monitors(monitors),
                arb_config(settings),
                book_max_age_s=settings.marketdata.book_max_age_s,
                depth=depth,
                gomarket_max_lag_s=lag,
            )
    except RejectedInput as exc:
        print(f"main.py replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"main.py replay: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    for problem in report.get("problems", []):
        print(f"main.py replay: {problem}", file=sys.stderr)
    if not report.get("records"):
        names = ", ".join(str(f) for f in files)
        print(f"main.py replay: no record could be read from {names}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def run_export(settings: Settings, since: float, owner: int | None, out: Path) -> int:
    history = data_dir(settings) / HISTORY_FILE
    skipped = Skipped()
    try:
        found = read_closed(history_files(history), since=since, owner=owner, skipped=skipped)
        events = [event for _, event in found]
    except OSError as exc:
        print(f"main.py export: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    text = to_csv(events)
    if skipped.count:
        print(
            f"main.py export: skipped {skipped.count} damaged history line"
            f"{'' if skipped.count == 1 else 's'} (first at {skipped.first})",
            file=sys.stderr,
        )
    if str(out) == "-":
        sys.stdout.write(text)
        return EXIT_OK
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"main.py export: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{len(events)} opportunities -> {out}", file=sys.stderr)
    return EXIT_OK


def run_record(settings: Settings, args: argparse.Namespace) -> int:
    config = {"symbols": [str(s) for s in args.symbols], "depth": settings.marketdata.book_depth}
    sources, refused = record_sources(settings, args.venues)
    for venue, why in refused.items():
        print(f"main.py record: cannot record {venue.value}: {why}", file=sys.stderr)
    if refused:
        return EXIT_USAGE
    via_gomarket = [venue for venue, source in sources.items() if source == "gomarket"]
    try:
        writers = open_captures(
            args.out, args.venues, config, compress=args.compress, gomarket=via_gomarket
        )
    except OSError as exc:
        print(f"main.py record: cannot write to {args.out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends early; the files are closed
        asyncio.run(record_market_data(settings, writers, args.symbols, args.duration))
    for venue, writer in writers.items():
        print(f"{venue.value}: {writer.records} records -> {writer.path}", file=sys.stderr)
    return EXIT_OK


def run_app(settings: Settings) -> int:
    """Run until stopped; never wait forever for a task that ignores cancellation."""
    log = get_logger("goquant_bot.cli")
    log.info(
        "app_starting",
        version=__version__,
        mode=settings.effective_mode,
        demo=settings.app.demo,
        data_dir=str(settings.app.data_dir),
    )
    if (sig := early_signals.received()) is not None:
        log.info("stop_requested", signal=sig.name, during="start-up")
        return EXIT_OK  # nothing started yet: nothing to stop
    lock = InstanceLock(data_dir(settings))
    try:
        previous = lock.acquire()  # one bot per data directory
    except AlreadyRunning as exc:
        print(f"goquant-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"goquant-bot: cannot lock {lock.path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_health_port(settings)
    except ConfigError as exc:
        lock.release(clean=True)
        print(f"goquant-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    runner = asyncio.Runner()
    try:
        code = runner.run(build(settings, previous_run=previous).run())
    except Exception:
        log.exception("app_crashed")
        code = EXIT_CRASH
    except KeyboardInterrupt:  # Ctrl-C before the stop handlers were set: not a crash
        lock.release(clean=True)
        raise
    lock.release(clean=code == EXIT_OK)
    if code == EXIT_CRASH and settings.logging.file is not None:
        print(f"goquant-bot: stopped on an error; see {settings.logging.file}", file=sys.stderr)
    hung = [t.get_name() for t in asyncio.all_tasks(runner.get_loop()) if not t.done()]
    if hung:
        log.error("exiting_with_hung_tasks", tasks=hung)
        logging.shutdown()
        os._exit(code)
    runner.close()
    return code
