"""Checks before start-up: what would otherwise fail later, or quietly, stops the bot now."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from pathlib import Path

from goquant_bot.errors import ConfigError
from goquant_bot.settings import ENV_NESTED, ENV_PREFIX, Settings


def check_startup(settings: Settings) -> None:
    """Raise ConfigError naming the setting when the data directory cannot be written."""
    check_data_dir(settings.app.data_dir)


def check_health_port(settings: Settings) -> None:
    """Raise ConfigError naming the setting when the health port is taken (checked once this
    process holds the data directory, so a second bot on it is named as such first)."""
    obs = settings.observability
    if obs.enabled and obs.port != 0:
        check_port_free(obs.host, obs.port)


def check_data_dir(path: Path) -> None:
    """The state is saved there within a second of a change: it must take a new file."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        msg = (
            f"app.data_dir (env {_env('app', 'data_dir')}) = '{path}': cannot be written "
            f"({exc.strerror}); allowed: a directory the bot's user can create files in"
        )
        raise ConfigError(msg) from None


def check_port_free(host: str, port: int) -> None:
    """Bind and release the health port as the server will (address reuse, like aiohttp)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        msg = f"observability.host (env {_env('observability', 'host')}) = '{host}': {exc}"
        raise ConfigError(msg) from None
    family, kind, proto, _, address = infos[0]
    with contextlib.closing(socket.socket(family, kind, proto)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            msg = (
                f"observability.port (env {_env('observability', 'port')}) = {port}: "
                f"{host}:{port} cannot be used ({exc.strerror}); allowed: a free port, "
                "0 for any free port, or observability.enabled = false"
            )
            raise ConfigError(msg) from None


def _env(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}{ENV_NESTED}{key.upper()}"
