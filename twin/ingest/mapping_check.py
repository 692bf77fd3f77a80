"""Typed reading of raw TOML tables that collects every problem instead of stopping at the first.

:class:`Checker` is what :mod:`twin.ingest.mapping` uses to read a mapping
file: each getter returns the value (or a fallback) and records a problem
``KEY: what is wrong`` when the value is absent, of the wrong TOML type, or
not one of the allowed choices. Unknown keys get a "did you mean"::

    chk = Checker()
    chk.keys("source", table, {"separator", "decimal"})   # 'seperator' -> did you mean 'separator'?
    sep = chk.string("source.separator", table.get("separator"), default=",")
    if chk.problems: raise MappingError(chk.problems, path)

Type rules follow :mod:`twin.config_field`: a number accepts a TOML integer
or float (never a boolean), an integer only an integer.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from twin.config_field import suggest_key, toml_type_name

__all__ = ["Checker", "MISSING"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: Marker for "key not given" (``None`` cannot be written in TOML, but keep them apart anyway).
MISSING: Any = _Missing()


class Checker:
    """Collects problems while reading a mapping; see the module docstring."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, key: str, problem: str) -> None:
        """Record one problem about ``key``."""
        self.problems.append(f"{key}: {problem}")

    # -- tables ----------------------------------------------------------------
    def keys(self, key: str, table: dict, allowed: Iterable[str]) -> None:
        """Record each key of ``table`` that is not in ``allowed``, with a did-you-mean."""
        allowed = list(allowed)
        for k in table:
            if k not in allowed:
                name = f"{key}.{k}" if key else k
                self.add(name, f"unknown key{suggest_key(k, allowed)} (allowed here: {', '.join(sorted(allowed))})")

    def table(self, key: str, value: Any, required: bool = False) -> dict | None:
        """A TOML table, or None (a problem when required or of another type)."""
        if value is MISSING or value is None:
            if required:
                self.add(key, "missing table")
            return None
        if not isinstance(value, dict):
            self.add(key, f"expected a table, got {toml_type_name(value)} {_short(value)}")
            return None
        return value

    # -- scalars ---------------------------------------------------------------
    def string(self, key: str, value: Any, default: Any = None, *, required: bool = False,
               choices: tuple[str, ...] | None = None, nonempty: bool = False) -> Any:
        """A string (or ``default`` when absent)."""
        if value is MISSING or value is None:
            if required:
                self.add(key, "missing (expected a string)")
            return default
        if not isinstance(value, str):
            self.add(key, f"expected a string, got {toml_type_name(value)} {_short(value)}")
            return default
        if nonempty and not value:
            self.add(key, "must not be empty")
            return default
        if choices is not None and value not in choices:
            self.add(key, f"{value!r} is not allowed{suggest_key(value, choices)} (allowed: "
                          f"{', '.join(repr(c) for c in choices)})")
            return default
        return value

    def number(self, key: str, value: Any, default: Any = None, *, required: bool = False,
               positive: bool = False) -> Any:
        """A finite number as float (or ``default`` when absent)."""
        if value is MISSING or value is None:
            if required:
                self.add(key, "missing (expected a number)")
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(key, f"expected a number, got {toml_type_name(value)} {_short(value)}")
            return default
        if not math.isfinite(value):
            self.add(key, f"expected a finite number, got {value!r}")
            return default
        if positive and value <= 0:
            self.add(key, f"must be > 0, got {value!r}")
            return default
        return float(value)

    def integer(self, key: str, value: Any, default: Any = None, *, minimum: int | None = None) -> Any:
        """An integer (or ``default`` when absent)."""
        if value is MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(key, f"expected an integer, got {toml_type_name(value)} {_short(value)}")
            return default
        if minimum is not None and value < minimum:
            self.add(key, f"must be >= {minimum}, got {value}")
            return default
        return value

    def boolean(self, key: str, value: Any, default: Any = None) -> Any:
        """``true`` / ``false`` (or ``default`` when absent)."""
        if value is MISSING or value is None:
            return default
        if not isinstance(value, bool):
            self.add(key, f"expected true or false, got {toml_type_name(value)} {_short(value)}")
            return default
        return value

    def scalar(self, key: str, value: Any, default: Any = None) -> Any:
        """A string or a number (or ``default`` when absent)."""
        if value is MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.add(key, f"expected a string or a number, got {toml_type_name(value)} {_short(value)}")
            return default
        if isinstance(value, float) and not math.isfinite(value):
            self.add(key, f"expected a finite number, got {value!r}")
            return default
        return value

    # -- lists -----------------------------------------------------------------
    def scalars(self, key: str, value: Any) -> list[str | int | float]:
        """An array of strings and numbers (markers such as ``missing = [0, "", "NA"]``); ``[]`` when absent."""
        if value is MISSING or value is None:
            return []
        if not isinstance(value, list):
            value = [value]  # a single marker is a list of one
        out = []
        for i, item in enumerate(value):
            checked = self.scalar(f"{key}[{i}]", item, default=MISSING)
            if checked is not MISSING:
                out.append(checked)
        return out

    def strings(self, key: str, value: Any, *, required: bool = False) -> list[str]:
        """An array of non-empty strings; ``[]`` when absent."""
        if value is MISSING or value is None:
            if required:
                self.add(key, "missing (expected an array of strings)")
            return []
        if not isinstance(value, list):
            self.add(key, f"expected an array of strings, got {toml_type_name(value)} {_short(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            checked = self.string(f"{key}[{i}]", item, default=MISSING, nonempty=True)
            if checked is not MISSING:
                out.append(checked)
        return out


def _short(value: Any, limit: int = 40) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
