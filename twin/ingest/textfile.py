"""Reading a log file as text, with the errors a wrong encoding deserves.

The whole file is read as bytes first: its SHA-256 names the run
(``run_id``) and a decode error can then say exactly where it is. A
``UnicodeDecodeError`` becomes an :class:`~twin.ingest.errors.IngestError`
naming the encoding that was tried, the byte offset, the line and the bytes
found there, e.g.::

    log.csv: cannot decode as 'utf-8' at byte offset 1234 (line 17): byte 0xe4 (invalid continuation byte);
    set [source] encoding to the file's encoding (e.g. "cp1252", "latin-1", "euc-kr")

A UTF-8 byte-order mark is dropped. An empty file (no bytes, or only
blanks) is an error too: there is nothing to ingest.
"""
from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from twin.ingest.errors import IngestError

__all__ = ["TextFile", "read_text_file"]


@dataclass(frozen=True)
class TextFile:
    """A decoded file: its path, text and SHA-256 of the raw bytes."""

    path: Path
    text: str
    sha256: str
    size_bytes: int


def read_text_file(path: Path | str, encoding: str, *, what: str = "file", separator: str | None = None,
                   header_row: int = 1) -> TextFile:
    """Read ``path`` and decode it with ``encoding``; raise :class:`IngestError` if missing, empty or undecodable.

    With ``separator`` (and ``header_row``) a decode error also names the column it falls in.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise IngestError(f"{path}: is a folder, expected a {what}") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from exc
    if not data.strip():
        raise IngestError(f"{path}: the {what} is empty ({len(data)} bytes): no header and no rows")
    if codecs.lookup(encoding).name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
    else:
        body = data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(data) - len(body))
        line = data.count(b"\n", 0, offset) + 1
        bad = data[offset: offset + 4].hex(" ")
        column = _column_at(data, offset, separator, header_row, encoding) if separator else ""
        raise IngestError(
            f"{path}: cannot decode as {encoding!r} at byte offset {offset} (line {line}{column}): bytes {bad} "
            f"({exc.reason}); set [source] encoding to the file's encoding (e.g. \"cp1252\", \"latin-1\", \"euc-kr\")"
        ) from None
    return TextFile(path=path, text=text, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


def _column_at(data: bytes, offset: int, separator: str, header_row: int, encoding: str) -> str:
    """``, column 'NAME'`` of the byte at ``offset`` (quotes are ignored: a best effort for the message)."""
    sep = separator.encode("ascii", errors="ignore") or b","
    line_start = data.rfind(b"\n", 0, offset) + 1
    index = data.count(sep, line_start, offset)
    lines = data.split(b"\n", header_row)
    header = lines[header_row - 1] if len(lines) >= header_row else b""
    names = header.decode(encoding, errors="replace").strip("\r").split(separator)
    if line_start <= sum(len(x) + 1 for x in lines[: header_row - 1]) or index >= len(names):
        return f", field {index + 1}"
    return f", column {names[index].strip()!r}"
