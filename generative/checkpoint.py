"""Checkpoint files of the generative models: a checked envelope around a torch state.

Layout (written atomically: temporary file in the same folder, fsync,
``os.replace``)::

    b"TWINLOOP-GAN\\n"           magic line
    8 bytes, little-endian       length of the JSON header
    JSON header                  {"format": 1, "class": "generative.sensor_texture.SensorTextureGAN",
                                  "step": 1200, "size": n, "sha256": "...", "versions": {...}}
    payload                      n bytes: ``torch.save`` of the state dict

Reading checks, in order, and raises :class:`CheckpointError` naming the
file: it exists; the magic line; the header parses; the format version;
the class is the one asked for (a stamp cGAN is not loaded as a sensor
GAN); the payload size (truncated copy) and SHA-256 (corrupted copy); then
``torch.load(weights_only=True)`` (tensors and plain containers only, no
code runs).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import struct
import tempfile
from pathlib import Path

import torch

__all__ = ["CheckpointError", "write_checkpoint", "read_checkpoint", "FORMAT_VERSION", "MAGIC"]

MAGIC = b"TWINLOOP-GAN\n"
FORMAT_VERSION = 1
_LEN = struct.Struct("<Q")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""


def _atomic_write(path: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp makes the file private (0600); give it the usual permissions of a new file.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_checkpoint(path: Path | str, cls_name: str, step: int, state: dict, extra: dict | None = None) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise CheckpointError(f"{path}: folder {path.parent} does not exist")
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    header = {"format": FORMAT_VERSION, "class": cls_name, "step": int(step), "size": len(payload),
              "sha256": hashlib.sha256(payload).hexdigest(), "extra": extra or {},
              "versions": {"python": platform.python_version(), "torch": torch.__version__}}
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    return _atomic_write(path, MAGIC + _LEN.pack(len(head)) + head + payload)


def read_checkpoint(path: Path | str, expected_class: str | None = None) -> tuple[dict, dict]:
    """``(header, state)`` of a checked checkpoint (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise CheckpointError(f"{path}: not a twinloop GAN checkpoint (it does not start with {MAGIC!r})")
    pos = len(MAGIC)
    if len(data) < pos + _LEN.size:
        raise CheckpointError(f"{path}: corrupt checkpoint: truncated header")
    (n,) = _LEN.unpack_from(data, pos)
    pos += _LEN.size
    try:
        header = json.loads(data[pos:pos + n].decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("header is not an object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt checkpoint: unreadable header ({exc})") from None
    pos += n
    if header.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: incompatible checkpoint: format {header.get('format')!r}, this version "
                              f"reads {FORMAT_VERSION}")
    if expected_class is not None and header.get("class") != expected_class:
        raise CheckpointError(f"{path}: incompatible checkpoint: it holds a {header.get('class')}, "
                              f"not a {expected_class}")
    payload = data[pos:]
    if len(payload) != header.get("size"):
        raise CheckpointError(f"{path}: corrupt checkpoint: payload of {len(payload)} bytes, header says "
                              f"{header.get('size')} (truncated?)")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise CheckpointError(f"{path}: corrupt checkpoint: payload checksum (SHA-256) does not match")
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure here is a file problem
        raise CheckpointError(f"{path}: incompatible checkpoint: cannot read its torch state ({exc})") from exc
    return header, state
