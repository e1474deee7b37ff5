"""Settings problems and secrets, read off the settings models: one line per bad setting
(its name, environment name, value and what is allowed) and the secret values to redact."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pydantic import BaseModel, SecretStr, ValidationError

from goquant_bot.config_sources import ENV_NESTED, ENV_PREFIX, SECRET_HINTS


def format_validation_error(exc: ValidationError, root: type[BaseModel]) -> str:
    """One line per problem: the setting, its env name, the bad value and what is allowed
    (``root``: the settings model the error locations start from)."""
    lines = [f"invalid settings ({exc.error_count()} problem(s)):"]
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        name = ".".join(loc)
        reason = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = f"unknown setting; allowed here: {', '.join(_allowed_keys(root, loc[:-1]))}"
        if not name:
            lines.append(f"  - {reason}")
            continue
        if err["type"] == "value_error" and isinstance(err["input"], Mapping | BaseModel):
            # Settings that contradict each other: the reason names them with their values.
            lines.append(f"  - {reason}")
            continue
        shown = "<hidden>" if any(h in name.lower() for h in SECRET_HINTS) else repr(err["input"])
        env_name = ENV_PREFIX + ENV_NESTED.join(loc).upper()
        lines.append(f"  - {name} (env {env_name}) = {shown}: {reason}")
    return "\n".join(lines)


def secret_values(model: BaseModel) -> list[str]:
    """Every secret string in the settings, for the log redactor."""
    return [s for s in _walk_secrets(model) if s]


def _walk_secrets(model: BaseModel) -> Iterator[str]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            yield value.get_secret_value()
        elif isinstance(value, BaseModel):
            yield from _walk_secrets(value)


def _allowed_keys(root: type[BaseModel], loc: list[str]) -> list[str]:
    model = root
    for part in loc:
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
