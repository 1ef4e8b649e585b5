"""Input files checked before a command reads them: there, not empty, text (plain or gzip) rather than binary.

Used as a typer callback (`typer.Argument(callback=text_file)`), so a bad file is refused as a usage error
naming the file and the problem, before any parser gets to raise something cryptic about it.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import typer

SNIFF_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        start = fh.read(SNIFF_BYTES)
    if not start.startswith(GZIP_MAGIC):
        return start
    try:
        with gzip.open(path, "rb") as gz:
            return gz.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise typer.BadParameter(f"{path} looks gzip-compressed but cannot be read ({exc})") from exc


def _is_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3 and len(head) == SNIFF_BYTES
    return True


def check_text_file(path: Path) -> Path:
    """The path, if it names a readable, non-empty UTF-8 text file (or gzip of one); else BadParameter."""
    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist")
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a folder; give a file")
    try:
        head = _head(path)
    except PermissionError as exc:
        raise typer.BadParameter(f"{path} cannot be read (permission denied)") from exc
    if not head.strip():
        raise typer.BadParameter(f"{path} is empty")
    if not _is_text(head):
        raise typer.BadParameter(f"{path} is not a text file (binary content); a CSV file is expected")
    return path


def text_file(path: Path | None) -> Path | None:
    """typer callback for a file argument or option (None passes: the option was not given)."""
    return None if path is None else check_text_file(path)


def text_file_or_folder(path: Path) -> Path:
    """typer callback: a folder passes (its files are checked one by one), a file is checked now."""
    if path.is_dir():
        return path
    return check_text_file(path)
