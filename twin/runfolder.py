"""Atomic output folders and atomic file writes.

A run writes many files (config, Parquet tables, metrics, report). A reader
must never see half of them, and a crashed or interrupted run must not
leave a folder that looks like a result. :class:`RunFolder` writes
everything into a sibling temporary folder ``<out>.partial-<random>`` and
renames it to ``<out>`` only when the ``with`` block ends without an
exception::

    with RunFolder(Path("runs/r1")) as run:
        run.write_json("metrics.json", {"f1": 0.93})
        sink = ParquetSink(run.path, "cycles", CYCLES_SCHEMA)
        ...
        sink.close()            # sinks must be closed inside the block
    # now runs/r1 exists, complete

On an exception (including KeyboardInterrupt) the partial folder is removed
and ``<out>`` is left as it was. An existing non-empty ``<out>`` is an error
raised *before* anything is created, unless ``overwrite=True``: then the old
folder is replaced only at the very end, after the new one is complete (it
is renamed aside, the new one renamed in, and the old one deleted).

Single files are written with :func:`atomic_write_bytes`: to a temporary
name in the same directory, flushed and fsynced, then ``os.replace``-d.
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["RunFolder", "RunFolderExistsError", "atomic_write_bytes", "finite_json", "json_text"]

log = logging.getLogger(__name__)


class RunFolderExistsError(FileExistsError):
    """The output folder exists and is not empty, and overwrite was not requested."""


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, ``os.replace``.

    A reader sees either the old file or the complete new one, never a part.
    Returns the path.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def json_text(obj: Any) -> str:
    """Deterministic JSON: sorted keys, indent 2, trailing newline; numpy scalars and arrays, Paths allowed.

    NaN and infinity are rejected (they are not JSON): store None instead.
    """
    return json.dumps(obj, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False, default=_json_default) + "\n"


def finite_json(obj: Any) -> Any:
    """``obj`` with NaN/inf as None and numpy scalars as Python ones, ready for :func:`json_text`.

    A metric that could not be computed (an AUC on a window with one class,
    a detector's rate on an empty subset) is NaN in the code and ``null``
    in ``metrics.json``: JSON has no NaN, and a reader should see "missing",
    not a number.
    """
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


class RunFolder:
    """Context manager for an atomic output folder; see the module docstring."""

    def __init__(self, out: Path | str, overwrite: bool = False):
        self.out = Path(out)
        self.overwrite = overwrite
        self._tmp: Path | None = None
        self._done = False

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> "RunFolder":
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False

    def open(self) -> "RunFolder":
        """Check the target and create the partial folder (``with`` calls this)."""
        if self._tmp is not None:
            raise RuntimeError(f"run folder {self.out} is already open")
        self.check_target()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f"{self.out.name}.partial-", dir=self.out.parent))
        os.chmod(self._tmp, 0o777 & ~_umask())
        log.debug("writing run folder %s via %s", self.out, self._tmp)
        return self

    def commit(self) -> Path:
        """Rename the complete partial folder to the target; returns the target."""
        tmp = self._require_open()
        leftovers = sorted(p.name for p in tmp.rglob("*.tmp"))
        if leftovers:
            log.warning("run folder %s: unfinished temporary files %s (a sink not closed?)", self.out, leftovers)
        try:
            self.check_target()
            if self.out.exists() and (self.out.is_file() or any(self.out.iterdir())):  # overwrite=True
                old = Path(tempfile.mkdtemp(prefix=f"{self.out.name}.old-", dir=self.out.parent))
                os.replace(self.out, old / "run")
                try:
                    os.replace(tmp, self.out)
                except BaseException:
                    os.replace(old / "run", self.out)  # put the old run back
                    old.rmdir()
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                if self.out.is_dir():
                    self.out.rmdir()  # empty
                os.replace(tmp, self.out)
        except BaseException:
            self.abort()
            raise
        self._tmp = None
        self._done = True
        return self.out

    def abort(self) -> None:
        """Remove the partial folder; the target is left untouched."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            log.debug("removed partial run folder %s", self._tmp)
            self._tmp = None

    # -- writing -----------------------------------------------------------
    @property
    def root(self) -> Path:
        """The folder being written (the partial one while open, the target after commit)."""
        return self.out if self._done else self._require_open()

    def path(self, name: str) -> Path:
        """Path of ``name`` (may contain ``/``) inside the folder being written; parents are created."""
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"run folder {self.out}: file name {name!r} must be relative and stay inside")
        p = self._require_open() / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` to ``name`` atomically; returns the path."""
        return atomic_write_bytes(self.path(name), data)

    def write_text(self, name: str, text: str) -> Path:
        """Write UTF-8 ``text`` to ``name`` atomically; returns the path."""
        return self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as deterministic JSON (see :func:`json_text`); returns the path."""
        try:
            text = json_text(obj)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"run folder {self.out}: cannot write {name} as JSON: {exc}") from exc
        return self.write_text(name, text)

    # -- helpers -----------------------------------------------------------
    def _require_open(self) -> Path:
        if self._tmp is None:
            raise RuntimeError(f"run folder {self.out} is not open (use it as a context manager)")
        return self._tmp

    def check_target(self) -> None:
        """Raise :class:`RunFolderExistsError` if the target is a non-empty folder (or a file) and not overwrite."""
        if self.overwrite or not self.out.exists():
            return
        if self.out.is_dir() and not any(self.out.iterdir()):
            return
        raise RunFolderExistsError(
            f"output folder {self.out} already exists and is not empty; "
            "choose another folder or pass overwrite=True (--overwrite)"
        )


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process umask, read once (reading it means setting it, which is not thread-safe).
_UMASK = _read_umask()


def _umask() -> int:
    return _UMASK


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")
