"""The file a learner is saved to: a small self-describing envelope around its state.

Layout (all of it written atomically: temporary file in the same folder,
fsync, ``os.replace``; :func:`twin.runfolder.atomic_write_bytes`)::

    b"TWINLOOP-LEARNER\\n"        magic line: "this is a twinloop learner file"
    8 bytes, little-endian         length of the JSON header
    JSON header                    {"format": 1, "class": "learners.river_scalar.RiverScalarClassifier",
                                    "payload": "pickle" | "torch", "size": n, "sha256": "...",
                                    "versions": {"python": ..., "river": ..., ...}}
    payload                        n bytes: the learner's state

Reading checks, in order, and raises :class:`LearnerFileError` naming the
file for each failure: the file exists and is a file; the magic line (else
"not a twinloop learner file"); the header parses; ``format`` is one this
code reads (else "incompatible": a newer or older layout); the stored class
is the one asked for (a saved LSTM is not loaded as a River model); the
payload has the stated size (a truncated copy) and SHA-256 (a corrupted
one). Only then is the payload deserialised.

Security: a ``pickle`` payload runs code when loaded, as any pickle does
(River and scikit-learn models are saved that way). Load only files you
wrote or trust. ``torch`` payloads are read with ``weights_only=True``
(tensors and plain containers only).
"""
from __future__ import annotations

import hashlib
import io
import json
import pickle
import platform
import struct
from pathlib import Path
from typing import Any

from twin.runfolder import atomic_write_bytes

__all__ = ["LearnerFileError", "FORMAT_VERSION", "MAGIC", "MODEL_FILE", "write_learner_file", "read_learner_file",
           "pickle_payload", "unpickle_payload", "torch_payload", "untorch_payload"]

MAGIC = b"TWINLOOP-LEARNER\n"
#: Name of the learner file inside a model folder (``twinloop train --out DIR`` writes ``DIR/model.twl``).
MODEL_FILE = "model.twl"
#: Version of the envelope layout; bump when the layout or a payload's meaning changes incompatibly.
FORMAT_VERSION = 1
_LEN = struct.Struct("<Q")


class LearnerFileError(ValueError):
    """A learner file that cannot be read: missing, not a learner file, incompatible or corrupt (names the file)."""


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for mod in ("numpy", "river", "sklearn", "torch"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - an absent library is simply not listed
            pass
    return out


def write_learner_file(path: Path | str, cls_name: str, payload_kind: str, payload: bytes,
                       extra: dict | None = None) -> Path:
    """Write the envelope (see the module docstring) atomically; returns the path.

    ``cls_name`` is the learner's qualified class name (``module.Class``);
    ``extra`` goes into the header as it is (plain JSON types).
    """
    header = {"format": FORMAT_VERSION, "class": cls_name, "payload": payload_kind, "size": len(payload),
              "sha256": hashlib.sha256(payload).hexdigest(), "versions": _versions(), "extra": extra or {}}
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    path = Path(path)
    if path.is_dir():
        raise LearnerFileError(f"{path}: is a folder; give the learner file's path")
    if not path.parent.is_dir():
        raise LearnerFileError(f"{path}: folder {path.parent} does not exist")
    return atomic_write_bytes(path, MAGIC + _LEN.pack(len(head)) + head + payload)


def read_learner_file(path: Path | str, expected_class: str | None = None) -> tuple[dict, bytes]:
    """Check and read a learner file; returns ``(header, payload)``. See the module docstring for the checks."""
    path = Path(path)
    if not path.exists():
        raise LearnerFileError(f"{path}: no such learner file")
    if not path.is_file():
        raise LearnerFileError(f"{path}: is not a file")
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise LearnerFileError(f"{path}: not a twinloop learner file (it does not start with {MAGIC!r}); "
                               "was it written by Learner.save?")
    pos = len(MAGIC)
    if len(data) < pos + _LEN.size:
        raise LearnerFileError(f"{path}: corrupt learner file: truncated header")
    (n_head,) = _LEN.unpack_from(data, pos)
    pos += _LEN.size
    try:
        header = json.loads(data[pos:pos + n_head].decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("header is not an object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise LearnerFileError(f"{path}: corrupt learner file: unreadable header ({exc})") from None
    pos += n_head
    fmt = header.get("format")
    if fmt != FORMAT_VERSION:
        raise LearnerFileError(f"{path}: incompatible learner file: format {fmt!r}, this version of twinloop "
                               f"reads format {FORMAT_VERSION}; retrain or use the version that wrote it")
    stored = header.get("class")
    if expected_class is not None and stored != expected_class:
        raise LearnerFileError(f"{path}: incompatible learner file: it holds a {stored}, not a {expected_class}")
    payload = data[pos:]
    if len(payload) != header.get("size"):
        raise LearnerFileError(f"{path}: corrupt learner file: payload of {len(payload)} bytes, header says "
                               f"{header.get('size')} (truncated or appended to)")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise LearnerFileError(f"{path}: corrupt learner file: payload checksum (SHA-256) does not match")
    return header, payload


def pickle_payload(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def unpickle_payload(payload: bytes, path: Path | str) -> Any:
    try:
        return pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a file problem for the caller
        raise LearnerFileError(f"{path}: incompatible learner file: cannot restore its state ({type(exc).__name__}: "
                               f"{exc}); the installed libraries may differ from the ones that wrote it "
                               "(see the header's 'versions')") from exc


def torch_payload(state: dict) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def untorch_payload(payload: bytes, path: Path | str) -> dict:
    import torch

    try:
        return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise LearnerFileError(f"{path}: incompatible learner file: cannot read its torch state "
                               f"({type(exc).__name__}: {exc})") from exc
