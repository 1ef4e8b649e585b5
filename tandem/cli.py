"""`tandem`: the entry point for people and scripts."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shared.settings import REPO_ROOT
from tandem.commands import feedback
from tandem.lazy import TandemGroup
from tandem.output import JsonFlag, counter, emit, figures, table

if TYPE_CHECKING:
    from tandem.services import ServiceEntry

# TandemGroup adds the command groups of tandem/commands/ (imported only when used) and turns errors
# into a line or two; locals stay out of --verbose tracebacks because they can hold keys and passwords.
app = typer.Typer(
    cls=TandemGroup,
    help="Tandem: AI and people run influencer marketing together.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


@app.callback()
def _options(
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        envvar="TANDEM_VERBOSE",
        help="Show the full traceback when a command fails.",
    ),
) -> None:
    """Tandem: AI and people run influencer marketing together."""


ServiceName = Annotated[str, typer.Argument(help="discovery | fraud | review | forecast")]


def _entry(name: str) -> ServiceEntry:
    from tandem.services import SERVICES

    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; choose one of {', '.join(SERVICES)}")
    return SERVICES[name]


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


@app.command()
def broker(port: int = typer.Option(9092, help="Loopback port; 0 picks a free one.")) -> None:
    """Run the local Kafka-protocol broker (tansu) with every topic created, until Ctrl-C."""
    from shared.broker import LocalBroker

    with LocalBroker(port=port or None) as b:
        typer.echo(f"broker ready at {b.bootstrap}  (export TANDEM_KAFKA_BOOTSTRAP={b.bootstrap})")
        _wait_for_signal()


@topics_app.command("create")
def topics_create(
    bootstrap: str = typer.Option(
        "127.0.0.1:9092", envvar="TANDEM_KAFKA_BOOTSTRAP", help="Bootstrap servers."
    ),
    replication_factor: int = typer.Option(
        1,
        envvar="TANDEM_KAFKA_REPLICATION_FACTOR",
        help="Replicas per partition (3 on a production cluster).",
    ),
) -> None:
    """Create every missing topic (and its dead-letter topic); existing topics are left as they are."""
    from shared.bus.admin import ensure_topics

    created = ensure_topics(bootstrap, timeout_s=120, replication_factor=replication_factor)
    typer.echo(json.dumps({"created": created}))


@app.command()
def serve(name: ServiceName) -> None:
    """Run one service (HTTP API + Kafka consumer) with settings from its environment."""
    import uvicorn

    entry = _entry(name)
    settings = entry.settings()
    uvicorn.run(
        entry.factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


@app.command()
def migrate(name: ServiceName) -> None:
    """Apply a service's database migrations and the identity database's, and exit."""
    from shared.db import migrate as run_migrations
    from shared.runtime import IDENTITY_MIGRATIONS

    entry = _entry(name)
    settings = entry.settings()
    run_migrations(settings.effective_database_url, entry.spec.migrations)
    run_migrations(settings.effective_auth_database_url, IDENTITY_MIGRATIONS)
    typer.echo(f"{name}: schema at head")


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="fraud | ranking | forecast | all")] = "all",
    creators: int = typer.Option(20_000, help="Size of the generated world to learn from."),
    models_dir: Path = typer.Option(REPO_ROOT / "models", help="Model registry root."),
    from_results: bool = typer.Option(
        False,
        "--from-results",
        help="Retrain one model from the outcomes its service stored (champion/challenger, JSON verdict) "
        "instead of from the generated world.",
    ),
    database_url: feedback.DatabaseUrl = "",
    margin: feedback.Margin = None,
    holdout_share: feedback.HoldoutShare = None,
    min_rows: feedback.MinRows = None,
    as_json: JsonFlag = False,
) -> None:
    """Train models, export them to ONNX with their cards, and promote them in the registry.

    With --from-results: one champion/challenger round on stored outcomes; promoted only if better.
    """
    from shared.model_registry import ModelRegistry
    from tandem.training import MODELS, planned_steps
    from tandem.training import train as run_training

    if from_results:
        feedback.print_retrain(model, database_url, models_dir, margin, holdout_share, min_rows, as_json)
        return
    if model not in (*MODELS, "all"):
        raise typer.BadParameter(f"unknown model {model!r}; choose one of {', '.join(MODELS)}, all")
    registry = ModelRegistry(models_dir)
    trained = run_training(registry, model, creators, on_step=counter(planned_steps(registry, model)))
    report = [{"model": m.name, "version": m.version, "metrics": m.card.metrics} for m in trained]
    emit(report, as_json, _trained_table)


def _trained_table(report: list[dict[str, Any]]) -> str:
    """One line per model: version and its held-out figures (nested ones as `holdout reach mape`)."""
    rows = [[r["model"], r["version"], figures(r["metrics"])] for r in report]
    return table(rows, ["model", "version (promoted)", "held-out metrics"])


@app.command()
def demo(
    once: bool = typer.Option(False, "--once", help="Run the flow once and exit 0 (for scripts)."),
    creators: int = typer.Option(800, help="Creators in the demo catalogue."),
) -> None:
    """Broker + SQLite + all four services + demo catalogue, then a demo campaign end to end."""
    from tandem.demo import run_demo

    sys.exit(run_demo(once=once, creators=creators))


def main() -> None:
    app(prog_name="tandem")  # also under `python -m tandem.cli`, so hints name the command people type


if __name__ == "__main__":
    main()
