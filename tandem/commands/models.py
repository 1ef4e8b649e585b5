"""`tandem models ...`: the model registry: list versions, promote, roll back."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from shared.model_registry import ModelRegistry
from shared.settings import REPO_ROOT

NAME = "models"
app = typer.Typer(help="Model registry: versions, promotion, rollback.", no_args_is_help=True)
ModelsDir = typer.Option(REPO_ROOT / "models", envvar="TANDEM_MODELS_DIR", help="Model registry root.")


@app.command("list")
def list_versions(name: str, models_dir: Path = ModelsDir) -> None:
    """Every version of a model with its metrics; the champion is marked."""
    registry = ModelRegistry(models_dir)
    champion = registry.champion_version(name)
    for card in registry.versions(name):
        mark = "*" if card.version == champion else " "
        typer.echo(f"{mark} {name} v{card.version}  trained {card.trained_at}  {json.dumps(card.metrics)}")


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
