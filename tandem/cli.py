"""`tandem`: the entry point for people and scripts."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shared.settings import REPO_ROOT
from tandem.commands import feedback

if TYPE_CHECKING:
    from tandem.services import ServiceEntry

app = typer.Typer(help="Tandem: AI and people run influencer marketing together.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")

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
def broker(
    port: int = typer.Option(9092, help="Loopback port; 0 picks a free one."),
    kafka: bool = typer.Option(False, "--kafka", help="Apache Kafka (KRaft, needs Java) instead of tansu."),
    data_dir: Path | None = typer.Option(
        None, help="With --kafka: keep the broker's data here across runs (default: a temp folder)."
    ),
) -> None:
    """Run a local broker with every topic created, until Ctrl-C: tansu, or Apache Kafka with --kafka."""
    from shared.broker import Broker, LocalBroker

    b: Broker
    if kafka:
        from shared.broker_kafka import KafkaBroker, kafka_available

        if not kafka_available():
            typer.echo("Apache Kafka needs Java 17 and Maven (or its jars in the cache); run without --kafka "
                       "for tansu.", err=True)  # fmt: skip
            raise typer.Exit(2)
        typer.echo("Starting Apache Kafka (the first run fetches its jars with Maven) ...")
        b = KafkaBroker(port=port or None, data_dir=data_dir)
    else:
        b = LocalBroker(port=port or None)
    try:
        b.start()
    except (OSError, RuntimeError, TimeoutError) as exc:
        b.close()
        typer.echo(f"the broker did not start: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None
    try:
        typer.echo(f"{b.kind} ready at {b.bootstrap}  (export TANDEM_KAFKA_BOOTSTRAP={b.bootstrap})")
        _wait_for_signal()
    finally:
        b.close()


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
) -> None:
    """Train models, export them to ONNX with their cards, and promote them in the registry.

    With --from-results: one champion/challenger round on stored outcomes; promoted only if better.
    """
    from shared.model_registry import ModelRegistry
    from tandem.training import MODELS
    from tandem.training import train as run_training

    if from_results:
        feedback.print_retrain(model, database_url, models_dir, margin, holdout_share, min_rows)
        return
    if model not in (*MODELS, "all"):
        raise typer.BadParameter(f"unknown model {model!r}; choose one of {', '.join(MODELS)}, all")
    for m in run_training(ModelRegistry(models_dir), model, creators):
        typer.echo(json.dumps({"model": m.name, "version": m.version, "metrics": m.card.metrics}))


@app.command()
def demo(
    once: bool = typer.Option(False, "--once", help="Run the flow once and exit 0 (for scripts)."),
    creators: int = typer.Option(800, help="Creators in the demo catalogue."),
    broker: str = typer.Option(
        "auto", help="auto (Apache Kafka where Java is installed, else tansu) | kafka | tansu."
    ),
) -> None:
    """Broker + SQLite + all four services + demo catalogue, then a demo campaign end to end."""
    from tandem.demo import run_demo

    if broker not in ("auto", "kafka", "tansu"):
        raise typer.BadParameter(
            f"unknown broker {broker!r}; choose auto, kafka or tansu", param_hint="--broker"
        )
    sys.exit(run_demo(once=once, creators=creators, broker_kind=broker))


def _register_command_groups() -> None:
    """Each module in tandem/commands/ contributes one command group (`tandem fraud ...`, ...)."""
    import importlib
    import pkgutil

    from tandem import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"tandem.commands.{info.name}")
        app.add_typer(module.app, name=module.NAME)


_register_command_groups()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
