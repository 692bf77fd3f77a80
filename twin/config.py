"""Load, validate, hash and print a line's configuration (molding cell or billet line).

Each line is a *kind* of configuration (:data:`KINDS`): its embedded
defaults file, its key spec and its cross-field checks. ``kind="molding"``
(the default) is the molding cell (:mod:`twin.config_spec`),
``kind="billets"`` the billet line (:mod:`twin.billet_line.config_spec`).

Resolution order (later wins), each layer may give any subset of keys:

1. the embedded defaults ``twin/defaults/<kind>.toml`` (read through
   :mod:`importlib.resources`, so it works from an installed wheel);
2. the user's TOML file, deep-merged key by key;
3. ``--set key=value`` overrides: a dotted key, and a value parsed as a TOML
   value (``30``, ``30.0``, ``true``, ``"PP_579S"``, ``[...]``), falling back
   to the bare text (``material.grade=ABS_F332`` needs no quotes).

Everything is checked before anything is written: unknown keys (with a
"did you mean"), types, physical ranges (:mod:`twin.config_spec`), the
cross-field rules and the schedule. All problems are collected and raised
together as one :class:`ConfigError`, one line per problem::

    setpoints.hold_time_s: -1.0 s is below the minimum (allowed: [0, 60] s) [in my.toml]

The result is a plain nested dict (TOML tables -> dicts) with every key
present, floats as floats, and schedule events sorted by ``at_h``.
"""
from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import tomli_w

from twin.config_field import Issue, check_value, toml_type_name
from twin.config_spec import SECTIONS, SPEC, normalize_events, suggest_key, validate_cross

__all__ = [
    "ConfigError",
    "load_config",
    "load_defaults",
    "parse_override",
    "config_hash",
    "dump_toml",
    "get",
    "apply_changes",
    "KINDS",
]

#: Keys that identify a run rather than configure it: left out of :func:`config_hash`.
IDENTITY_KEYS: tuple[str, ...] = ("run.seed", "run.run_id")


class ConfigError(ValueError):
    """An invalid configuration; ``errors`` holds one message per problem."""

    def __init__(self, errors: list[str], config_file: Path | str | None = None):
        self.errors = list(errors)
        self.config_file = config_file
        super().__init__(self.errors)

    def __str__(self) -> str:
        where = f" ({self.config_file})" if self.config_file else ""
        n = len(self.errors)
        head = f"invalid configuration{where}: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head] + [f"  - {e}" for e in self.errors])


@dataclass(frozen=True)
class ConfigKind:
    """What a kind of configuration is made of: defaults file, key spec, checks."""

    defaults_file: str                      # under the ``twin`` package
    spec: dict                              # dotted key -> config_field.Field
    sections: frozenset
    cross: Callable[[dict], list[Issue]]    # cross-field checks on the nested dict
    finish: Callable[[dict], dict]          # normalisation after validation


def _molding_kind() -> ConfigKind:
    def finish(cfg: dict) -> dict:
        cfg["schedule"]["events"] = normalize_events(cfg["schedule"]["events"])
        return cfg

    return ConfigKind("defaults/molding.toml", SPEC, SECTIONS, validate_cross, finish)


def _billets_kind() -> ConfigKind:
    from twin.billet_line import config_spec as bspec

    return ConfigKind("defaults/billets.toml", bspec.SPEC, bspec.SECTIONS, bspec.validate_cross, lambda c: c)


#: The kinds of configuration, by name (built on first use).
KINDS: dict[str, Callable[[], ConfigKind]] = {"molding": _molding_kind, "billets": _billets_kind}


def _get_kind(kind: str) -> ConfigKind:
    if kind not in KINDS:
        raise ValueError(f"unknown configuration kind {kind!r}; known: {', '.join(KINDS)}")
    return KINDS[kind]()


def load_defaults(kind: str = "molding") -> dict:
    """The embedded default configuration of ``kind`` as a nested dict (a fresh copy)."""
    text = resources.files("twin").joinpath(_get_kind(kind).defaults_file).read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_config(path: Path | str | None = None, overrides: Iterable[str] = (), *, kind: str = "molding") -> dict:
    """Resolve and validate the configuration; raise :class:`ConfigError` listing every problem.

    ``path``: optional user TOML file (any subset of keys). ``overrides``:
    ``"dotted.key=value"`` strings applied last, in order. ``kind``: which
    line's configuration (:data:`KINDS`).
    """
    k = _get_kind(kind)
    spec, sections = k.spec, k.sections
    flat, issues = _flatten(load_defaults(kind), "in the embedded defaults", spec, sections)
    issues += [Issue(key, f"has no default: add it to twin/{k.defaults_file}") for key in spec if key not in flat]
    origin: dict[str, str] = {}

    if path is not None:
        path = Path(path)
        tree, file_issue = _read_toml_file(path)
        if file_issue is not None:
            issues.append(file_issue)
        else:
            source = f"in {path}"
            user, user_issues = _flatten(tree, source, spec, sections)
            issues += user_issues
            flat.update(user)
            origin.update(dict.fromkeys(user, source))

    for text in overrides:
        source = f"from command line: {text}"
        try:
            key, value = parse_override(text)
        except ValueError as exc:
            issues.append(Issue(f"--set {text!r}", str(exc)))
            continue
        if key in spec:
            flat[key] = value
            origin[key] = source
        elif key in sections:
            example = next(x for x in spec if x.startswith(key + "."))
            issues.append(Issue(key, f"is a section, not a key; set one of its keys, e.g. {example}", source=source))
        else:
            issues.append(Issue(key, f"unknown key{suggest_key(key, spec)}", source=source))

    bad_keys: set[str] = set()
    for key, value in flat.items():
        flat[key], issue = check_value(key, spec[key], value)
        if issue is not None:
            bad_keys.add(key)
            issues.append(_with_source(issue, origin.get(key, "")))

    cfg = _unflatten(flat)
    for issue in k.cross(cfg):
        if issue.key in bad_keys:
            continue  # already reported as out of range / wrong type
        key = "schedule.events" if issue.key.startswith("schedule.events") else issue.key
        issues.append(_with_source(issue, origin.get(key, "")))

    if issues:
        raise ConfigError([str(i) for i in issues], path)
    return k.finish(cfg)


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b=value"`` into the key and the value parsed as TOML (or the bare text).

    Raises ValueError when there is no ``=`` or the key is empty.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError("malformed override, expected KEY=VALUE (e.g. --set setpoints.mold_temp_C=30)")
    raw = raw.strip()
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return key, raw
    if set(parsed) != {"v"}:
        return key, raw
    return key, parsed["v"]


def config_hash(cfg: dict) -> str:
    """16 hex digits of the sha256 of the canonical JSON of ``cfg``.

    ``run.seed`` and ``run.run_id`` are left out: they identify a run, not
    its configuration, so replicates with different seeds share the hash
    (and ``run_id`` may itself be derived from the hash).
    """
    trimmed = copy.deepcopy(cfg)
    for key in IDENTITY_KEYS:
        section, _, name = key.partition(".")
        if isinstance(trimmed.get(section), dict):
            trimmed[section].pop(name, None)
    text = json.dumps(trimmed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def dump_toml(cfg: dict) -> str:
    """The config as TOML text; :func:`load_config` reads it back to an equal dict."""
    return tomli_w.dumps(cfg)


def get(cfg: dict, key: str) -> Any:
    """The value at a dotted key, e.g. ``get(cfg, "setpoints.mold_temp_C")``."""
    node: Any = cfg
    for i, part in enumerate(key.split(".")):
        if not isinstance(node, dict) or part not in node:
            done = ".".join(key.split(".")[:i + 1])
            raise KeyError(f"config key {key!r} not found (no {done!r})")
        node = node[part]
    return node


def apply_changes(cfg: dict, changes: dict[str, Any]) -> dict:
    """A copy of ``cfg`` with ``{"dotted.key": value}`` changes applied (e.g. a setpoint event's ``set``).

    The keys must exist; values are not re-validated (validated events are).
    """
    out = copy.deepcopy(cfg)
    for key, value in changes.items():
        *sections, name = key.split(".")
        node = get(out, ".".join(sections)) if sections else out
        if name not in node:
            raise KeyError(f"config key {key!r} not found")
        node[name] = value
    return out


def _read_toml_file(path: Path) -> tuple[dict, Issue | None]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh), None
    except FileNotFoundError:
        return {}, Issue(str(path), "config file not found")
    except IsADirectoryError:
        return {}, Issue(str(path), "is a directory, expected a TOML file")
    except tomllib.TOMLDecodeError as exc:  # message ends with "(at line L, column C)"
        return {}, Issue(str(path), f"TOML syntax error: {exc}")
    except UnicodeDecodeError as exc:
        return {}, Issue(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return {}, Issue(str(path), f"cannot read: {exc.strerror or exc}")


def _flatten(tree: dict, source: str, spec: dict, sections: frozenset) -> tuple[dict[str, Any], list[Issue]]:
    """Nested TOML tables -> ``{dotted_key: value}``; unknown keys become issues."""
    flat: dict[str, Any] = {}
    issues: list[Issue] = []

    def walk(node: dict, prefix: str) -> None:
        for name, value in node.items():
            key = f"{prefix}{name}"
            if key in spec:
                flat[key] = value
            elif key in sections:
                if isinstance(value, dict):
                    walk(value, key + ".")
                else:
                    issues.append(Issue(key, f"expected a table [{key}], got {toml_type_name(value)}",
                                        source=source))
            else:
                what = "unknown section" if isinstance(value, dict) else "unknown key"
                hint = suggest_key(key, sections if isinstance(value, dict) else spec)
                issues.append(Issue(key, f"{what}{hint}", source=source))

    walk(tree, "")
    return flat, issues


def _unflatten(flat: dict[str, Any]) -> dict:
    tree: dict = {}
    for key, value in flat.items():
        *sections, name = key.split(".")
        node = tree
        for part in sections:
            node = node.setdefault(part, {})
        node[name] = value
    return tree


def _with_source(issue: Issue, source: str) -> Issue:
    if not source or issue.source:
        return issue
    return Issue(issue.key, issue.problem, issue.allowed, source)
