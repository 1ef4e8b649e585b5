"""`tandem`: the entry point for people and scripts."""

from __future__ import annotations

import contextlib
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


BootstrapOption = Annotated[str, typer.Option(envvar="TANDEM_KAFKA_BOOTSTRAP", help="Bootstrap servers.")]
AdminUser = Annotated[
    str, typer.Option(envvar="TANDEM_KAFKA_ADMIN_USERNAME", help="Kafka admin user (SASL clusters).")
]
AdminPassword = Annotated[
    str, typer.Option(envvar="TANDEM_KAFKA_ADMIN_PASSWORD", help="Kafka admin password (SASL clusters).")
]
AdminMechanism = Annotated[
    str,
    typer.Option(
        envvar="TANDEM_KAFKA_ADMIN_MECHANISM", help="The admin's SASL mechanism; empty = the services' one."
    ),
]


def _admin_security(user: str, password: str, mechanism: str) -> dict[str, object]:
    """The admin's client options: the cluster's protocol (TANDEM_KAFKA_SECURITY_PROTOCOL) as this user."""
    from shared.bus.security import client_options
    from shared.settings import ServiceSettings

    settings = ServiceSettings(service_name="tandem-admin")
    if mechanism:
        settings = settings.model_copy(update={"kafka_sasl_mechanism": mechanism})
    return client_options(settings, username=user, password=password)


@topics_app.command("create")
def topics_create(
    bootstrap: BootstrapOption = "127.0.0.1:9092",
    replication_factor: int = typer.Option(
        1,
        envvar="TANDEM_KAFKA_REPLICATION_FACTOR",
        help="Replicas per partition (3 on a production cluster).",
    ),
    admin_user: AdminUser = "admin",
    admin_password: AdminPassword = "",
    admin_mechanism: AdminMechanism = "",
    as_json: JsonFlag = False,
) -> None:
    """Create every missing topic (and its dead-letter topic); existing topics are left as they are."""
    from shared.bus.admin import ensure_topics

    security = _admin_security(admin_user, admin_password, admin_mechanism)
    created = ensure_topics(
        bootstrap, timeout_s=120, replication_factor=replication_factor, security=security
    )
    emit({"created": created}, as_json, _created_topics)


def _created_topics(result: dict[str, list[str]]) -> str:
    created = result["created"]
    if not created:
        return "Every topic exists already; nothing to create."
    return "\n".join([f"Created {len(created)} topic(s):", *(f"  {name}" for name in created)])


@topics_app.command("grant")
def topics_grant(
    bootstrap: BootstrapOption = "127.0.0.1:9092",
    admin_user: AdminUser = "admin",
    admin_password: AdminPassword = "",
    admin_mechanism: AdminMechanism = "",
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the ACLs and change nothing."),
    as_json: JsonFlag = False,
) -> None:
    """Give each service its own Kafka user (SCRAM, password from TANDEM_<SERVICE>_KAFKA_SASL_PASSWORD) and
    only the access it needs: WRITE on the topics it owns, READ on what it consumes."""
    from kafka.admin import KafkaAdminClient

    from shared.bus.security import apply_grants, grants
    from tandem.services import SERVICES

    plan, passwords, mechanism = [], {}, ""
    for name, entry in SERVICES.items():
        s = entry.settings()
        user, mechanism = s.kafka_sasl_username or name, s.kafka_sasl_mechanism
        plan += grants(name, entry.spec.consumes, s.effective_consumer_group, user)
        if s.kafka_sasl_password:
            passwords[user] = s.kafka_sasl_password
    if dry_run:
        acls = [vars(g) for g in plan]
        emit(acls, as_json, lambda rows: table([[r["user"], r["operation"], r["resource"], r["name"]] for r in rows],
                                               ["user", "may", "on", "name"]))  # fmt: skip
        return
    security = _admin_security(admin_user, admin_password, admin_mechanism)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="tandem-admin", **security)
    try:
        apply_grants(admin, plan, passwords, mechanism)
    finally:
        admin.close()
    granted = {"users": sorted(passwords), "acls": len(plan)}
    emit(granted, as_json, lambda d: f"Granted {d['acls']} ACLs; Kafka users with a password set: "
                                     f"{', '.join(d['users']) or 'none'}.")  # fmt: skip


@app.command()
def serve(name: ServiceName) -> None:
    """Run one service (HTTP API + Kafka consumer) with settings from its environment."""
    import uvicorn

    from shared.runtime import refuse_insecure
    from shared.security import InsecureSettings

    entry = _entry(name)
    settings = entry.settings()
    try:
        refuse_insecure(settings)
    except InsecureSettings as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        entry.factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        # X-Forwarded-Proto/-For only from the proxies named in the settings (Secure cookies, HSTS).
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


@app.command()
def migrate(name: ServiceName) -> None:
    """Apply a service's database migrations and the identity database's, and exit."""
    from shared.db import Database
    from shared.db import migrate as run_migrations
    from shared.runtime import IDENTITY_MIGRATIONS

    entry = _entry(name)
    settings = entry.settings()
    run_migrations(settings.effective_database_url, entry.spec.migrations)
    run_migrations(settings.effective_auth_database_url, IDENTITY_MIGRATIONS)
    from shared.security import InsecureSettings
    from shared.webhooks import vault

    try:
        vault.configure_from(settings)
    except InsecureSettings as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    sealed = vault.seal_existing(Database(settings.effective_auth_database_url))
    typer.echo(
        f"{name}: schema at head" + (f"; {sealed} rows of webhook secrets encrypted" if sealed else "")
    )


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


def main() -> None:
    app(prog_name="tandem")  # also under `python -m tandem.cli`, so hints name the command people type


if __name__ == "__main__":
    main()
