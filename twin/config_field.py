"""One configuration key: its type, unit, physical range, and how a value is checked.

A :class:`Field` is pure data (the declarative spec in :mod:`twin.config_spec`
is a table of them). :func:`check_value` turns a raw TOML value into the
normalized value or an :class:`Issue` that says what is wrong in the form a
process engineer can act on::

    setpoints.hold_time_s: -1.0 is below the minimum (allowed: [0, 60] s)

Type rules (TOML has distinct integer, float and boolean types, and a config
typed by hand mixes them up):

* a ``float`` field accepts a TOML integer (``30`` means ``30.0``, and is
  stored as a float so that the config hash does not depend on the spelling);
  it rejects booleans, strings, ``nan`` and ``inf``;
* an ``int`` field accepts only integers (``2.0`` is rejected: a count is
  never fractional), never booleans;
* a ``bool`` field accepts only ``true`` / ``false``;
* a ``str`` field accepts strings; a TOML date-time is stored as its ISO 8601
  text (so ``start_time = 2024-06-05T06:00:00Z`` works with or without quotes);
* a ``list`` field accepts an array (its items are checked elsewhere).
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
from dataclasses import dataclass
from typing import Any, Callable

#: The Python types a field may have.
FIELD_TYPES: tuple[type, ...] = (float, int, bool, str, list)


@dataclass(frozen=True)
class Field:
    """Spec of one config key.

    ``min`` / ``max`` are inclusive bounds unless ``min_open`` / ``max_open``
    make them exclusive (``min=0, min_open=True`` reads "> 0").
    ``choices`` restricts a string to a set of names. ``check`` is an extra
    test on an already type-checked value that returns a problem text or None.
    """

    type: type
    unit: str
    doc: str
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    choices: tuple[str, ...] | None = None
    check: Callable[[Any], str | None] | None = None
    #: Human text of what ``check`` accepts, shown as the allowed range.
    check_doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise TypeError(f"Field type must be one of {FIELD_TYPES}, got {self.type!r}")

    def allowed(self) -> str:
        """The accepted values as text: ``[0, 60] s``, ``(0, 3000] bar``, ``one of A, B``."""
        if self.choices is not None:
            return "one of " + ", ".join(self.choices)
        if self.type is bool:
            return "true or false"
        if self.check_doc:
            return self.check_doc
        if self.min is None and self.max is None:
            return ""
        unit = "" if self.unit in ("", "-") else f" {self.unit}"
        if self.max is None:
            return f"{'>' if self.min_open else '>='} {_num_text(self.min)}{unit}"
        if self.min is None:
            return f"{'<' if self.max_open else '<='} {_num_text(self.max)}{unit}"
        lo = "(" if self.min_open else "["
        hi = ")" if self.max_open else "]"
        return f"{lo}{_num_text(self.min)}, {_num_text(self.max)}{hi}{unit}"


@dataclass(frozen=True)
class Issue:
    """One problem with a configuration: ``KEY: problem (allowed: RANGE UNIT) [source]``."""

    key: str
    problem: str
    allowed: str = ""
    #: Where the offending value came from, e.g. ``in run.toml`` or ``from command line: a=b``.
    source: str = ""

    def __str__(self) -> str:
        text = f"{self.key}: {self.problem}"
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        if self.source:
            text += f" [{self.source}]"
        return text


def lookup(cfg: dict, dotted_key: str) -> Any:
    """The value at ``dotted_key`` ("setpoints.melt_temp_C") in a nested config dict, None when absent.

    Cross-key checks run on configs that may be partly invalid, so a missing
    section is "no value", never an exception.
    """
    node: Any = cfg
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def finite_number(value: Any) -> float | None:
    """``value`` as a float when it is a finite int or float (not a bool), else None (its own check reports it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def toml_type_name(value: Any) -> str:
    """The TOML name of a value's type, for error messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return "date-time"
    return type(value).__name__


def check_value(key: str, field: Field, value: Any) -> tuple[Any, Issue | None]:
    """Check one raw value against its field.

    Returns ``(normalized_value, None)`` when the value is valid, else
    ``(value, issue)``.
    """
    value, problem = _check_type(field, value)
    if problem is None:
        problem = _check_range(field, value)
    if problem is None and field.choices is not None and value not in field.choices:
        problem = f"{value!r} is not a known choice"
    if problem is None and field.check is not None:
        problem = field.check(value)
    if problem is None:
        return value, None
    return value, Issue(key, problem, field.allowed())


def suggest_key(key: str, candidates: Any) -> str:
    """`` (did you mean 'x'?)`` naming the closest candidate, or an empty string."""
    match = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _check_type(field: Field, value: Any) -> tuple[Any, str | None]:
    got = f"got {toml_type_name(value)} {_short_repr(value)}"
    if field.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value, f"expected a number, {got}"
        if isinstance(value, float) and not math.isfinite(value):
            return value, f"expected a finite number, {got}"
        return float(value), None
    if field.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return value, f"expected an integer, {got}"
        return value, None
    if field.type is bool:
        if not isinstance(value, bool):
            return value, f"expected true or false, {got}"
        return value, None
    if field.type is str:
        if isinstance(value, dt.datetime):
            return value.isoformat(), None
        if not isinstance(value, str):
            return value, f"expected a string, {got}"
        return value, None
    if not isinstance(value, list):  # field.type is list
        return value, f"expected an array, {got}"
    return value, None


def _check_range(field: Field, value: Any) -> str | None:
    if field.type not in (float, int):
        return None
    unit = "" if field.unit in ("", "-") else f" {field.unit}"
    if field.min is not None and (value < field.min or (field.min_open and value == field.min)):
        return f"{_num_text(value)}{unit} is below the minimum"
    if field.max is not None and (value > field.max or (field.max_open and value == field.max)):
        return f"{_num_text(value)}{unit} is above the maximum"
    return None


def _num_text(x: float | int | None) -> str:
    """Numbers as a user typed them: 3000 not 3000.0, 0.002 not 2e-03."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _short_repr(value: Any, limit: int = 40) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
