"""`tandem docs ...`: documents generated from the code (the AsyncAPI description of the topics)."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from shared.asyncapi import document
from shared.settings import REPO_ROOT

NAME = "docs"
app = typer.Typer(help="Generated documents.", no_args_is_help=True)
ASYNCAPI_PATH = REPO_ROOT / "docs" / "asyncapi.yaml"


def render_asyncapi() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True)


@app.command()
def asyncapi(out: Path = typer.Option(ASYNCAPI_PATH, help="Where to write the AsyncAPI YAML.")) -> None:
    """Write the AsyncAPI 3.0 document of every topic, generated from the event schemas."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_asyncapi())
    typer.echo(f"wrote {out}")
