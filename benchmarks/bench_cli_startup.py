"""CLI start-up: `tandem --help` against `python -c "import typer"`, measured in the same run.

Each command runs as a fresh process, ROUNDS times, interleaved (one of each per round) so a noisy
neighbour on the shared machine slows all of them alike. Also timed: `tandem fraud --help` (one command
module loaded) and importing every command module, which is what `tandem --help` did before the modules
were loaded lazily. Target: `tandem --help` under 1 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from shared.settings import REPO_ROOT

ROUNDS = 15
TARGET_S = 1.0
TANDEM = str(Path(sys.executable).parent / "tandem")
EVERY_MODULE = "import tandem.cli, importlib, tandem.commands as c; [importlib.import_module(f'tandem.commands.{n}') for n in c.GROUPS]"
COMMANDS: dict[str, list[str]] = {
    "python -c 'import typer' (baseline)": [sys.executable, "-c", "import typer"],
    "tandem --help": [TANDEM, "--help"],
    "tandem fraud --help": [TANDEM, "fraud", "--help"],
    "every command module imported (the old eager start)": [sys.executable, "-c", EVERY_MODULE],
}


def _once(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "100"})
    return time.perf_counter() - t0


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_s": round(statistics.median(ordered), 4),
        "min_s": round(ordered[0], 4),
        "p90_s": round(ordered[int(0.9 * (len(ordered) - 1))], 4),
    }


def run(results_dir: Path) -> dict[str, Any]:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for argv in COMMANDS.values():  # warm the file cache once, untimed
        _once(argv)
    for _ in range(ROUNDS):
        for name, argv in COMMANDS.items():
            times[name].append(_once(argv))
    figures = {name: _summary(t) for name, t in times.items()}
    base = figures["python -c 'import typer' (baseline)"]["median_s"]
    help_s = figures["tandem --help"]["median_s"]
    result = {
        "setup": {"rounds": ROUNDS, "interleaved": True, "python": sys.version.split()[0]},
        "commands": figures,
        "help_vs_import_typer": round(help_s / base, 2),
        "help_vs_eager_start": round(
            help_s / figures["every command module imported (the old eager start)"]["median_s"], 3
        ),
        "target_s": TARGET_S,
        "met": help_s < TARGET_S,
    }
    (results_dir / "cli_startup.json").write_text(json.dumps(result, indent=2) + "\n")
    (results_dir / "cli_startup.md").write_text(_markdown(result))
    return result


def _markdown(r: dict[str, Any]) -> str:
    rows = "".join(
        f"| `{name}` | {f['median_s']} | {f['min_s']} | {f['p90_s']} |\n" for name, f in r["commands"].items()
    )
    return (
        "# CLI start-up\n\n"
        f"{r['setup']['rounds']} fresh processes of each, interleaved, on the shared 2-core machine.\n\n"
        "| command | median s | min s | p90 s |\n|---|---|---|---|\n"
        f"{rows}\n"
        f"`tandem --help` takes {r['help_vs_import_typer']}x the time of importing typer alone and "
        f"{r['help_vs_eager_start']}x the eager start; target < {r['target_s']} s: "
        f"{'met' if r['met'] else 'NOT met'}.\n"
    )
