"""Flat YAML configs loaded into dataclasses, with ``key=value`` overrides from the command line.

YAML holds data only (no object construction). An unknown or mistyped key, in the file or in an override, is an
error naming it and listing the valid keys; values are converted to the field's type. Every numeric field has a
declared valid :class:`Range` (a config class's ``RANGES``), checked when the config is built, before any work.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import yaml

from gatescope.errors import ConfigError, GatescopeError, InputError

T = TypeVar("T")


class Range(NamedTuple):
    """The valid values of a numeric setting: ``low`` to ``high`` inclusive, ``low`` excluded when ``low_open``."""

    low: float
    high: float = float("inf")
    low_open: bool = False

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int | float) or value != value:  # NaN is in no range
            return False
        return (value > self.low if self.low_open else value >= self.low) and value <= self.high

    def __str__(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"


POSITIVE = Range(0.0, low_open=True)
NONNEGATIVE = Range(0.0)
PROBABILITY = Range(0.0, 1.0)
COUNT = Range(1)


def check_ranges(config: Any) -> None:
    """ConfigError naming the first numeric field of ``config`` outside its class's declared ``RANGES``."""
    for name, valid in type(config).RANGES.items():
        value = getattr(config, name)
        for item in value if isinstance(value, tuple) else (value,):
            if item not in valid:
                raise ConfigError(f"{name} must be in {valid}, got {item!r}")


def _convert(owner: str, name: str, hint: Any, value: Any, source: str) -> Any:
    """``value`` as the field's type: int, float, str, bool or a tuple of them ("a,b" from the command line)."""
    if typing.get_origin(hint) is tuple:
        items = value.split(",") if isinstance(value, str) else value
        args = typing.get_args(hint)
        element = args[0] if args else str
        return tuple(_convert(owner, name, element, item, source) for item in items)
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return str(value).lower() in ("true", "1", "yes")
        if hint in (int, float, str):
            if hint is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return hint(value)
    except (TypeError, ValueError):
        raise InputError(f"{source}: {owner}.{name} expects {hint.__name__}, got {value!r}") from None
    return value


def build(cls: type[T], values: dict[str, Any], source: str) -> T:
    """``cls(**values)`` with unknown keys refused and values converted to the field types."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise InputError(f"{source}: unknown key(s) {unknown} for {cls.__name__}; valid keys: {sorted(names)}")
    converted = {k: _convert(cls.__name__, k, hints[k], v, source) for k, v in values.items()}
    try:
        return cls(**converted)
    except GatescopeError as err:
        raise type(err)(f"{source}: {err}") from None


def parse_overrides(overrides: list[str]) -> dict[str, str]:
    """``["num_mel_bins=80", ...]`` -> ``{"num_mel_bins": "80"}``."""
    out = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"override {item!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out


def load_config(cls: type[T], path: Path | None = None, overrides: list[str] | None = None) -> T:
    """A ``cls`` from its dataclass defaults, then the YAML file, then the overrides (later wins)."""
    values: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise InputError(f"{path}: no such config file")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise InputError(f"{path}: invalid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(loaded, dict):
            raise InputError(f"{path}: expected a mapping of key: value at the top level")
        build(cls, loaded, str(path))  # reports unknown keys against the file
        values.update(loaded)
    if overrides:
        parsed = parse_overrides(overrides)
        build(cls, parsed, "command line")
        values.update(parsed)
    return build(cls, values, str(path) if path else "config")
