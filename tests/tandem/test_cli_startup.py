"""`tandem --help` lists every command without importing the command modules (the speed is in benchmarks/)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tandem import commands
from tandem.cli import app
from tandem.commands import GROUPS

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("tandem.commands.", "services.", "pandas", "onnxruntime", "sqlalchemy", "fastapi", "httpx")


def test_every_command_module_is_listed_with_its_own_help() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    assert sorted(GROUPS) == modules
    for name in modules:
        module = importlib.import_module(f"tandem.commands.{name}")
        assert name == module.NAME and module.app.info.help == GROUPS[name]


def test_help_imports_no_command_module_and_no_heavy_library() -> None:
    code = (
        "import sys, json\nfrom typer.testing import CliRunner\nfrom tandem.cli import app\n"
        "out = CliRunner().invoke(app, ['--help'], env={'COLUMNS': '200'}).output\n"
        "print(json.dumps([out, sorted(sys.modules)]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    output, loaded = json.loads(done.stdout)
    # tandem.commands.feedback is the exception: `tandem train` reuses its option types.
    assert [m for m in loaded if m.startswith(HEAVY) and m != "tandem.commands.feedback"] == []
    for name, help in GROUPS.items():
        assert name in output and help.split(":")[0] in output


def test_a_group_runs_its_commands_once_loaded() -> None:
    result = CliRunner().invoke(app, ["review", "simulate", "--in-house", "3"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "finalists ->" in result.output
    result = CliRunner().invoke(app, ["docs", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "asyncapi" in result.output
