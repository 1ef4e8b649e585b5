"""How commands talk: tables for people on stdout, JSON for programs (`--json`), progress on stderr.

Progress goes to stderr so `--json` output stays one parseable document on stdout; on a terminal it is a
bar, elsewhere (logs, CI) the counted steps are plain lines.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer

NUMBER = re.compile(r"^(-|[-+]?[\d,.]+(e[-+]?\d+)?%?)$")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document (for programs) instead.")]


def fmt(value: Any) -> str:
    """A cell: floats to 4 significant places, thousands separated; None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1_000 else f"{value:.4g}"
    if isinstance(value, Mapping | list):
        return json.dumps(value, default=str)
    return str(value)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """An aligned plain-text table; numbers right-aligned, text left-aligned."""
    cells = [[fmt(v) for v in row] for row in rows]
    numeric = [all(NUMBER.match(r[i]) for r in cells) for i in range(len(headers))]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def percent(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}%}"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level: `{"model": {"mdape": 1}}` -> `{"model mdape": 1}`."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix} {key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def figures(metrics: Mapping[str, Any]) -> str:
    """A model card's metrics on one line: `holdout roc_auc 0.97, precision_at_5 0.44` (counts left out)."""
    return ", ".join(f"{k} {fmt(v)}" for k, v in flatten(metrics).items() if isinstance(v, float))


def pairs(data: Mapping[str, Any], title: str = "") -> str:
    """A mapping as aligned `key  value` lines (nested mappings flattened)."""
    flat = flatten(data)
    width = max((len(k) for k in flat), default=0)
    body = "\n".join(f"{k.ljust(width)}  {fmt(v)}" for k, v in flat.items())
    return f"{title}\n{body}" if title else body


def records(rows: Sequence[Mapping[str, Any]]) -> str:
    """A list of like mappings as a table, one column per (flattened) key of the first."""
    flat = [flatten(r) for r in rows]
    headers = list(flat[0]) if flat else []
    return table([[r.get(h) for h in headers] for r in flat], headers)


def emit(data: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    """Print `data` as JSON for programs or rendered for people."""
    typer.echo(json.dumps(data, default=str) if as_json else render(data))


def step(n: int, total: int, text: str) -> None:
    """A counted step of long work, on stderr: `[2/4] training ranking ...`."""
    typer.echo(f"[{n}/{total}] {text}", err=True)


def counter(total: int) -> Callable[[str], None]:
    """A `log` callback that numbers each call as the next of `total` steps."""
    done = iter(range(1, total + 1_000))
    return lambda text: step(next(done), total, text)


def note(text: str) -> None:
    """A remark for the person (where data went, what was assumed), on stderr."""
    typer.echo(text, err=True)


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields `advance(n)`."""
    with typer.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update
