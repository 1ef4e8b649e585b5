"""A service's composition root: settings -> database -> models -> bus, started and stopped by the lifespan."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import Depends, FastAPI, Request

from shared.api_docs import describe, install_docs, tag_list
from shared.bus.admin import ensure_topics
from shared.bus.consumer import BatchHandler, ConsumerLoop, EventDispatcher, Handler
from shared.bus.health import BrokerProbe, BrokerWatch, LagReader
from shared.bus.outbox import Outbox, OutboxRelay
from shared.bus.producer import BusProducer
from shared.bus.security import client_options
from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.events import DriftDetected, WebhookEndpointDisabled
from shared.fastlane import FastHandler, ServiceApp
from shared.http import install_common
from shared.idempotency import IdempotencyMiddleware, IdempotencyStore
from shared.identity.keys import KeyStore
from shared.identity.revocation import RevocationVersion
from shared.input_limits import ColumnLimits, check_input
from shared.model_registry import ModelRegistry, ModelWatcher
from shared.observability import configure_logging
from shared.onnx_model import ModelSlot, OnnxModel
from shared.openapi import install_openapi
from shared.security import InsecureSettings
from shared.settings import ServiceSettings
from shared.topics import MODELS_PROMOTED, PRODUCERS
from shared.webhooks import hub as webhook_hub
from shared.webhooks import vault
from shared.webhooks.models import WebhookEndpoint

log = logging.getLogger(__name__)
IDENTITY_MIGRATIONS = Path(__file__).parent / "identity" / "migrations"


@dataclass
class ServiceSpec:
    """What makes one service different from another; everything else is this module's job."""

    name: str
    title: str
    migrations: Path
    consumes: list[str]
    model_names: list[str]
    handlers: Callable[[Runtime], dict[str, Handler]]
    routers: list[Any]
    on_start: Callable[[Runtime], None] | None = None
    # Optional: event types a service applies many at a time (one transaction per poll batch).
    batch_handlers: Callable[[Runtime], dict[str, BatchHandler]] | None = None
    # Optional: POST paths whose plain success case skips the framework stack (see shared.fastlane).
    fast_routes: dict[str, FastHandler] = field(default_factory=dict)
    # What the service does for a partner developer: the first thing /docs and /redoc show (markdown).
    description: str = ""
    # Its routers' tags and what each group of routes is for (the docs' sections).
    tags: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Stoppable(Protocol):
    """A background worker an `on_start` hook keeps in `Runtime.extras` (a retrain trigger, the error-drift
    watch): Runtime.close() stops it before the database goes."""

    def stop(self) -> None: ...


@dataclass
class Runtime:
    """Resources owned by one service process."""

    settings: ServiceSettings
    db: Database
    outbox: Outbox
    models: dict[str, ModelSlot] = field(default_factory=dict)
    producer: BusProducer | None = None
    relay: OutboxRelay | None = None
    consumer: ConsumerLoop | None = None
    broker_watch: BrokerWatch | None = None
    watcher: ModelWatcher | None = None
    keys: KeyStore | None = None
    idempotency: IdempotencyStore | None = None
    webhooks: webhook_hub.DeliveryWorker | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _recovering: threading.Lock = field(default_factory=threading.Lock)

    def model(self, name: str) -> ModelSlot:
        return self.models[name]

    def readiness(self) -> dict[str, bool]:
        checks = {
            "database": self.db.ping(),
            # Connected once, and answering now with the service's topics (a round trip every couple of
            # seconds): a broker outage turns this 503 until it is back.
            "broker": self.producer is not None
            and self.broker_watch is not None
            and self.broker_watch.reachable,
            "models": all(slot.current is not None for slot in self.models.values()),
        }
        if self.settings.consumer_enabled:
            checks["consumer"] = self.consumer is not None and self.consumer.is_alive()
            # No partition stuck behind a message (shared.bus.progress).
            checks["partitions"] = self.consumer is not None and not self.consumer.progress.stuck()
        return checks

    def report_drift(self, model: OnnxModel, psi: dict[str, float]) -> None:
        """Announce drift as an event (through the outbox, like every other event)."""
        event = DriftDetected(
            model_name=model.name, model_version=model.version, service=self.settings.service_name,
            psi={k: round(v, 4) for k, v in psi.items()}, rows=model.drift.rows if model.drift else 0,
            detected_at=datetime.now(UTC),
        )  # fmt: skip
        with self.db.transaction() as session:
            self.outbox.stage(session, event, org_id="system")
        log.warning("feature drift", extra={"fields": {"model": model.name, "psi": event.psi}})

    def report_disabled_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Tell the endpoint's owner (an event they can watch; their webhook itself is what failed)."""
        event = WebhookEndpointDisabled(endpoint_id=endpoint.endpoint_id, url=endpoint.url,
                                        reason=endpoint.disabled_reason, disabled_at=datetime.now(UTC))  # fmt: skip
        with self.db.transaction() as session:
            self.outbox.stage(session, event, org_id=endpoint.org_id)
        log.warning("webhook endpoint disabled", extra={"fields": {"endpoint": endpoint.endpoint_id}})

    def connect_bus(self, spec: ServiceSpec) -> None:
        """Connect to the broker, retrying until it answers; then start the relay and the consumer."""
        while not self._stopping.is_set():
            try:
                self.producer = BusProducer(
                    self.settings.kafka_bootstrap,
                    client_id=self.settings.service_name,
                    max_block_ms=self.settings.kafka_max_block_ms,
                    security=client_options(self.settings),
                    max_request_size=self.settings.kafka_max_message_bytes,
                )
                break
            except Exception as exc:
                log.warning("broker not reachable yet", extra={"fields": {"error": str(exc)}})
                self._stopping.wait(1.0)
        if self.producer is None:
            return
        s = self.settings
        fan_out = None
        if self.idempotency is not None:
            edge = self.idempotency.db
            fan_out = lambda rows: webhook_hub.fan_out(edge, rows)  # noqa: E731
        self.relay = OutboxRelay(
            self.db,
            self.producer,
            self.outbox,
            s.service_name,
            s.outbox_poll_interval_s,
            after_publish=fan_out,
            max_idle_interval=s.outbox_idle_poll_max_s,
            recover=self.recover_bus,
        )
        self.relay.start()
        if s.consumer_enabled and spec.consumes:
            dispatcher = EventDispatcher(
                self.db,
                spec.handlers(self),
                self.producer,
                s.service_name,
                s.handler_retries,
                batch_handlers=spec.batch_handlers(self) if spec.batch_handlers else None,
                after_publish=fan_out,
                group=s.effective_consumer_group,
                max_message_bytes=s.kafka_max_message_bytes,
                dead_letter_attempts=s.dead_letter_attempts,
            )
            self.consumer = ConsumerLoop(s, spec.consumes, dispatcher)
            self.consumer.start()

    def watch_broker(self, spec: ServiceSpec) -> None:
        """Readiness's broker check (re-creating lost topics), and the consumer group's lag."""
        s = self.settings
        lag = None
        if s.consumer_enabled and spec.consumes:
            lag = LagReader(s.kafka_bootstrap, s.effective_consumer_group, spec.consumes)
        produced = [topic for topic, names in PRODUCERS.items() if s.service_name in names]
        probe = BrokerProbe(
            s.kafka_bootstrap, {MODELS_PROMOTED, *spec.consumes, *produced}, client_options(s)
        )
        repair = self.create_topics if s.kafka_create_missing_topics else None
        self.broker_watch = BrokerWatch(s.service_name, probe, lag, s.broker_check_interval_s, s.lag_interval_s,
                                        repair=repair, on_back=self.broker_back)  # fmt: skip
        self.broker_watch.start()

    def create_topics(self, missing: set[str]) -> None:
        """Create every topic the broker lacks (all of them: a broker that lost some lost them all)."""
        s = self.settings
        created = ensure_topics(s.kafka_bootstrap, timeout_s=10, security=client_options(s))
        log.warning("topics re-created", extra={"fields": {"missing": len(missing), "created": len(created)}})

    def recover_bus(self) -> None:
        """A new producer, after the broker came back or the relay found the old one past retrying (one
        rebuild at a time)."""
        with self._recovering:
            if self.producer is not None:
                self.producer.rebuild()

    def broker_back(self) -> None:
        """The broker answers again after an outage: a new producer, the consumer joins afresh, and the
        relay tries at once instead of at the end of its back-off."""
        if self.consumer is not None:
            self.consumer.reconnect()
        self.recover_bus()
        if self.relay is not None:
            self.relay.retry_now()

    def close(self) -> None:
        self._stopping.set()
        if self.broker_watch:
            self.broker_watch.stop()
        if self.watcher:
            self.watcher.stop()
        if self.keys:
            self.keys.revocations.close()
        if self.webhooks:
            self.webhooks.stop()
        if self.consumer:
            self.consumer.stop()
        if self.relay:
            self.relay.stop()
        # Left running, a stopped service's workers went on waking against a closed (or dropped) database:
        # in one process that starts and stops apps (the tests), they outlived it and logged failures.
        for extra in self.extras.values():
            if isinstance(extra, Stoppable):
                extra.stop()
        if self.producer:
            self.producer.close()
        self.db.close()
        if self.idempotency:
            self.idempotency.db.close()


def start_runtime(spec: ServiceSpec, settings: ServiceSettings) -> Runtime:
    """Migrate, load and warm models, then connect the bus in the background (readiness waits for it)."""
    refuse_insecure(settings)
    db = Database(settings.effective_database_url)
    if settings.run_migrations:
        migrate(db.url, spec.migrations)
    identity = Database(settings.effective_auth_database_url)
    if settings.run_migrations:
        migrate(identity.url, IDENTITY_MIGRATIONS)
    vault.configure_from(settings)
    if sealed := vault.seal_existing(identity):
        log.info("webhook secrets encrypted at rest", extra={"fields": {"rows": sealed}})
    registry = ModelRegistry(settings.models_dir)
    runtime = Runtime(settings=settings, db=db, outbox=Outbox(settings.service_name))
    runtime.idempotency = IdempotencyStore(identity)
    if settings.webhooks_enabled:
        policy = webhook_hub.DeliveryPolicy(
            allow_loopback=settings.webhooks_allow_loopback, allow_private=settings.webhooks_allow_private,
            base_delay_s=settings.webhook_base_delay_s, max_attempts=settings.webhook_max_attempts,
            disable_after_failures=settings.webhook_disable_after,
            disable_after_s=settings.webhook_disable_after_hours * 3600,
            timeout_s=settings.webhook_timeout_s, senders=settings.webhook_senders,
        )  # fmt: skip
        runtime.webhooks = webhook_hub.DeliveryWorker(
            identity, policy, on_disabled=runtime.report_disabled_endpoint
        )
        runtime.webhooks.start()
    if settings.auth_mode == "keys":
        revocations = RevocationVersion(identity, settings.key_revocation_poll_s)
        runtime.keys = KeyStore(identity, revocations=revocations)
    runtime.models = {name: ModelSlot(registry.load_champion(name)) for name in spec.model_names}
    if runtime.models:
        runtime.watcher = ModelWatcher(
            registry, runtime.models, settings.model_watch_interval_s, on_drift=runtime.report_drift
        )
        runtime.watcher.start()
    if spec.on_start:
        spec.on_start(runtime)
    runtime.watch_broker(spec)
    threading.Thread(target=runtime.connect_bus, args=(spec,), name="bus-connect", daemon=True).start()
    return runtime


def refuse_insecure(settings: ServiceSettings) -> None:
    """Keys mode is production: refuse to start with a missing, short or published secret."""
    problems = settings.production_problems() if settings.auth_mode == "keys" else []
    if problems:
        raise InsecureSettings(
            f"{settings.service_name} will not start in keys mode: {'; '.join(problems)}. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def create_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    """The FastAPI app of one service: lifespan-owned resources, common routes, the service's routers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        runtime = start_runtime(spec, settings)
        app.state.runtime = runtime
        # Everything loaded so far (modules, schemas, models) lives as long as the process: keep it out
        # of the cyclic collector, whose full passes over it were multi-millisecond request stalls.
        gc.collect()
        gc.freeze()
        log.info("service started", extra={"fields": {"port": settings.port}})
        try:
            yield
        finally:
            runtime.close()

    app = ServiceApp(title=spec.title, version="0.1.0", description=describe(spec.description), lifespan=lifespan,
                     docs_url=None, redoc_url=None, openapi_tags=tag_list(spec.tags))  # fmt: skip
    install_docs(app)  # Swagger UI and ReDoc from the installed package, not a CDN
    install_openapi(app, keys_mode=settings.auth_mode == "keys")  # errors, security, edge headers
    # Late imports: both depend on this module.
    from shared.orgs import authorised, refusal
    from shared.webhooks.api import router as webhooks_router

    for path, handler in spec.fast_routes.items():
        app.add_fast_route(settings.service_name, path, handler)
    install_error_handlers(app, refusal)
    # The limits of the service's own tables and shared's (identity, webhooks), all imported by now.
    app.state.input_limits = ColumnLimits.of_modules(
        spec.handlers.__module__.rsplit(".", 1)[0] + ".", "shared."
    )
    # Innermost of the middlewares (added first): size and rate limits apply before a body is buffered.
    app.add_middleware(IdempotencyMiddleware)
    install_common(
        app,
        settings.service_name,
        lambda: app.state.runtime.readiness(),
        max_body_bytes=settings.max_body_bytes,
        rate_limit_per_minute=settings.rate_limit_per_minute,
    )
    for router in [*spec.routers, webhooks_router]:
        # Every API route needs a key in keys mode, whether or not it reads org data, and the route's role
        # before its input is looked at; pages under /app sign people in with their own session. Every
        # route's input is checked against the columns.
        api = router.prefix.startswith("/v1")
        checks = [Depends(authorised), Depends(check_input)] if api else [Depends(check_input)]
        app.include_router(router, dependencies=checks)
    return app


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
