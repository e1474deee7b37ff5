"""Reading the settings' sources: TOML files and the environment (real or from a .env file).

Everything here turns a problem into a ConfigError, or a message line, that names the file or
the variable, the bad value and what is allowed.
"""

from __future__ import annotations

import json
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel

from goquant_bot.errors import ConfigError

ENV_PREFIX = "GOQUANT_"
ENV_NESTED = "__"
SECRET_HINTS = ("token", "secret", "key", "password")
_BOM = b"\xef\xbb\xbf"


def read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror}"
        raise ConfigError(msg) from None
    try:
        # Editors on Windows often start UTF-8 files with a byte order mark: harmless, skip it.
        text = raw.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = (
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
            "TOML files must be UTF-8: save it again as UTF-8"
        )
        raise ConfigError(msg) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: invalid TOML: {exc}"
        raise ConfigError(msg) from None


def read_dotenv(path: Path) -> dict[str, str]:
    try:
        values = dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot read as UTF-8 text: {exc}"
        raise ConfigError(msg) from None
    return {k: v for k, v in values.items() if v is not None}


def env_problems(
    root: type[BaseModel], environ: Mapping[str, str], source: str, *, only_prefixed: bool = True
) -> list[str]:
    """What pydantic-settings would ignore or fail on without naming the setting: a variable
    outside every section, or a list that is not JSON."""
    problems: list[str] = []
    sections = ", ".join(root.model_fields)
    for name, value in environ.items():
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX):
            if not only_prefixed:
                problems.append(
                    f"  - {name} in {source}: not a setting; settings are named "
                    f"{ENV_PREFIX}<SECTION>{ENV_NESTED}<KEY> with a section among {sections}"
                )
            continue
        parts = upper.removeprefix(ENV_PREFIX).lower().split(ENV_NESTED)
        field = root.model_fields.get(parts[0])
        if field is None:
            problems.append(
                f"  - {name} in {source}: unknown section {parts[0]!r}; "
                f"sections: {sections} ({ENV_PREFIX}<SECTION>{ENV_NESTED}<KEY>)"
            )
            continue
        annotation = _leaf_annotation(field.annotation, parts[1:])
        expected = _json_shape(annotation) if annotation is not None else None
        if expected is None:
            continue
        try:
            json.loads(value)
        except ValueError:
            dotted = ".".join(parts)
            shown = "<hidden>" if any(h in dotted for h in SECRET_HINTS) else repr(value)
            problems.append(
                f"  - {dotted} (env {upper}) = {shown} in {source}: not JSON; expected {expected}"
            )
    return problems


def _leaf_annotation(annotation: Any, keys: list[str]) -> Any:
    """The type of the setting ``keys`` lead to inside ``annotation``; None when unknown
    (pydantic reports an unknown key with the keys allowed)."""
    for key in keys:
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        field = annotation.model_fields.get(key)
        if field is None:
            return None
        annotation = field.annotation
    return annotation


def _json_shape(annotation: Any) -> str | None:
    """What an environment value of this type must look like, when it must be JSON."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return 'a JSON object, e.g. {"enabled": true} (or set its keys one by one)'
    if typing.get_origin(annotation) not in (tuple, list):
        return None
    item = next(iter(typing.get_args(annotation)), str)
    example = {int: "[123456789, 987654321]", float: "[100, 500, 1000]"}.get(
        item, '["BTC-USDT", "ETH-USDT"]'
    )
    kind = {int: "whole numbers", float: "numbers"}.get(item, "strings")
    return f"a JSON list of {kind}, e.g. {example} ([] for none)"


def deep_merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        else:
            into[key] = value
