"""Scenario files: defaults merged with the user's TOML, unknown sections and keys rejected."""
from __future__ import annotations


def merge_spec(defaults: dict, spec: dict, scenario: str) -> dict:
    """``defaults`` with each section updated from ``spec``; a typo is an error that names it.

    Top-level keys ``scenario`` and ``description`` are allowed; every other
    top-level key must be a section of ``defaults``, and every key inside a
    section must be one of that section's keys.
    """
    unknown = set(spec) - set(defaults) - {"scenario", "description"}
    if unknown:
        raise KeyError(f"{scenario}: unknown section(s) {sorted(unknown)}; known: {sorted(defaults)}")
    out = {}
    for sec, default in defaults.items():
        given = spec.get(sec, {})
        if isinstance(default, dict):
            if not isinstance(given, dict):
                raise KeyError(f"{scenario}: [{sec}] must be a table")
            extra = set(given) - set(default)
            if extra:
                raise KeyError(f"{scenario}: unknown key(s) {sorted(extra)} in [{sec}]; known: {sorted(default)}")
            out[sec] = {**default, **given}
        else:
            out[sec] = given if sec in spec else default
    return out
