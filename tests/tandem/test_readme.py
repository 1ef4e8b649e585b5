"""The README's commands table lists every command the real CLI has."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from tandem.cli import app
from tandem.lazy import LazyGroup

README = Path(__file__).resolve().parents[2] / "README.md"


def _leaves(command: Any, path: list[str]) -> list[list[str]]:
    if isinstance(command, LazyGroup):
        command = command.load()
    subcommands = getattr(command, "commands", {})
    if not subcommands:
        return [path]
    return [leaf for name, sub in subcommands.items() for leaf in _leaves(sub, [*path, name])]


def _documented(words: list[str], rows: list[list[str]]) -> bool:
    """`models promote` matches a row `tandem models list\\|promote\\|rollback NAME`."""
    return any(
        len(row) >= len(words) and all(w in row[i].split("|") for i, w in enumerate(words)) for row in rows
    )


def test_every_command_is_in_the_readme_commands_table() -> None:
    table = re.findall(r"^\| `tandem ([^`]*)`", README.read_text(), re.MULTILINE)
    rows = [row.replace("\\|", "|").split() for row in table]
    leaves = _leaves(typer.main.get_command(app), [])
    assert len(leaves) > 25
    missing = [" ".join(words) for words in leaves if not _documented(words, rows)]
    assert missing == []
