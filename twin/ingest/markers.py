"""Sets of cell values written in a mapping: missing markers, pass/fail codes.

A mapping lists values as TOML strings or numbers, e.g.
``missing = [0, "", "NA"]`` or ``good_values = [0]``. A cell matches

* a **string** item when its text, stripped of surrounding blanks, is equal
  to it (case-sensitive: ``"NA"`` does not match ``"na"``);
* a **number** item when the cell reads as a number equal to it, with the
  file's decimal mark (so ``0`` matches ``0``, ``0,0`` and ``0.000``).

An empty cell is always missing: the field readers treat ``""`` as null
whether or not the mapping lists it.
"""
from __future__ import annotations

import math
from typing import Iterable

__all__ = ["ValueSet", "parse_number"]


def parse_number(text: str, decimal: str) -> float | None:
    """``text`` as a finite float with decimal mark ``decimal`` (``"."`` or ``","``), or None if it is not one.

    Blanks around the number are ignored; no thousands separators; ``nan``
    and ``inf`` are not numbers here (a log that writes them for "missing"
    lists them under ``missing``).
    """
    t = text.strip()
    if decimal == ",":
        if "." in t:
            return None
        t = t.replace(",", ".")
    elif "," in t:
        return None
    try:
        value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class ValueSet:
    """Matcher of cells against a list of string and number items (see the module docstring)."""

    def __init__(self, items: Iterable[str | int | float], decimal: str = "."):
        self.texts = frozenset(str(i).strip() for i in items if isinstance(i, str))
        self.numbers = frozenset(float(i) for i in items if not isinstance(i, (str, bool)))
        self.decimal = decimal

    def matches(self, text: str) -> bool:
        """True when the cell ``text`` equals one of the items."""
        t = text.strip()
        if t in self.texts:
            return True
        if self.numbers:
            value = parse_number(t, self.decimal)
            return value is not None and value in self.numbers
        return False

    def matches_number(self, value: float) -> bool:
        """True when an already parsed number equals one of the number items."""
        return value in self.numbers

    def __bool__(self) -> bool:
        return bool(self.texts or self.numbers)

    def __repr__(self) -> str:
        items = sorted(self.texts) + sorted(self.numbers)
        return f"ValueSet({items!r})"
