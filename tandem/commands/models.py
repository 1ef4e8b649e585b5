"""`tandem models ...`: the model registry: list versions, promote, roll back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from shared.model_registry import ModelRegistry
from shared.settings import REPO_ROOT
from tandem.output import JsonFlag, emit, figures, table

NAME = "models"
app = typer.Typer(help="Model registry: versions, promotion, rollback.", no_args_is_help=True)
ModelsDir = typer.Option(REPO_ROOT / "models", envvar="TANDEM_MODELS_DIR", help="Model registry root.")


@app.command("list")
def list_versions(name: str, models_dir: Path = ModelsDir, as_json: JsonFlag = False) -> None:
    """Every version of a model with its metrics; the champion is marked."""
    registry = ModelRegistry(models_dir)
    champion = registry.champion_version(name)
    versions = [{"version": c.version, "champion": c.version == champion, "trained_at": str(c.trained_at),
                 "metrics": c.metrics} for c in registry.versions(name)]  # fmt: skip
    emit(
        versions,
        as_json,
        lambda vs: table([_row(v) for v in vs], ["", "version", "trained", "held-out metrics"]),
    )


def _row(v: dict[str, Any]) -> list[str]:
    return ["*" if v["champion"] else "", v["version"], v["trained_at"][:16], figures(v["metrics"])]


@app.command()
def promote(name: str, version: str, models_dir: Path = ModelsDir) -> None:
    """Make a version the champion; running services swap to it without a restart."""
    previous = ModelRegistry(models_dir).promote(name, version)
    typer.echo(json.dumps({"model": name, "champion": version, "previous": previous}))


@app.command()
def rollback(name: str, models_dir: Path = ModelsDir) -> None:
    """Return to the previous champion in one command."""
    current, restored = ModelRegistry(models_dir).rollback(name)
    typer.echo(json.dumps({"model": name, "from": current, "champion": restored}))
