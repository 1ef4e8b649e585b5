"""Typed settings: one pydantic-settings class per service, composed from the shared fields below."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.security import secret_problem

REPO_ROOT = Path(__file__).resolve().parent.parent

# One size limit for a message, end to end (issue 15: a dead letter over the producer's limit stopped a
# partition for good). Producers refuse a larger record before sending it (kafka-python checks the
# uncompressed size, so no sequence number is spent on a record the broker would reject); dead letters
# are cut to fit it; consumers dead-letter anything bigger as `too_large`. 1 MiB is Kafka's own default.
MAX_MESSAGE_BYTES = 1024 * 1024
# What a broker must accept beyond that so everything a producer lets through is stored: lz4 grows
# incompressible data by up to ~0.4% (4 KiB per MiB) and a record batch adds its framing. The local
# Apache Kafka gets `message.max.bytes` = limit + headroom (shared.broker_kafka), and so must a deployed
# one (docker-compose.yml, deploy/k8s); tansu has no limit at all (measured: it stores 10 MB records).
BROKER_HEADROOM_BYTES = 16 * 1024


# Settings every service reads from one cluster-wide variable unless its own prefix overrides it.
CLUSTER_WIDE = (
    "KAFKA_BOOTSTRAP",
    "MODELS_DIR",
    "DATA_DIR",
    "LOG_LEVEL",
    "AUTH_MODE",
    "AUTH_DATABASE_URL",
    "SECRETS_KEY",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SSL_CAFILE",
)


def _cluster_default(name: str, fallback: str) -> str:
    """Cluster-wide values (`TANDEM_<NAME>`) are the default that a service's own prefix can override."""
    assert name in CLUSTER_WIDE, name
    return os.environ.get(f"TANDEM_{name}", fallback)


class ServiceSettings(BaseSettings):
    """Fields every service has; subclasses set `env_prefix` (e.g. `TANDEM_FRAUD_`)."""

    model_config = SettingsConfigDict(env_prefix="TANDEM_", extra="ignore", env_file=".env")

    service_name: str = Field("service", description="Name used in logs, metrics and the event `producer`.")
    host: str = Field("127.0.0.1", description="HTTP bind address.")
    port: int = Field(8000, description="HTTP port.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means a SQLite file under `data_dir`.")
    data_dir: Path = Field(
        default_factory=lambda: Path(_cluster_default("DATA_DIR", str(REPO_ROOT / "var"))),
        description="Where the zero-setup SQLite databases live.",
    )
    run_migrations: bool = Field(True, description="Apply Alembic migrations at start-up.")
    kafka_bootstrap: str = Field(
        default_factory=lambda: _cluster_default("KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        description="Kafka bootstrap servers (comma separated); defaults to TANDEM_KAFKA_BOOTSTRAP.",
    )
    # Authentication to the broker (deploy/README.md "Kafka authentication"): each service is its own
    # Kafka user, with WRITE only on the topics it owns (shared.topics.PRODUCERS).
    kafka_security_protocol: str = Field(
        default_factory=lambda: _cluster_default("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
        pattern="^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$",
        description="PLAINTEXT (local broker), SASL_SSL or SASL_PLAINTEXT (SCRAM users), or SSL (mTLS with "
        "kafka_ssl_certfile/keyfile).",
    )
    kafka_sasl_mechanism: str = Field(
        default_factory=lambda: _cluster_default("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        pattern="^(SCRAM-SHA-256|SCRAM-SHA-512|PLAIN)$",
        description="SASL mechanism when the protocol is SASL_*.",
    )
    kafka_sasl_username: str = Field(
        "", description="This service's Kafka user; empty means the service name (discovery, fraud, ...)."
    )
    kafka_sasl_password: str = Field("", description="This service's Kafka password (SASL_*).")
    kafka_ssl_cafile: str = Field(
        default_factory=lambda: _cluster_default("KAFKA_SSL_CAFILE", ""),
        description="CA bundle that signs the brokers' certificates (SSL, SASL_SSL); empty = system CAs.",
    )
    kafka_ssl_certfile: str = Field("", description="This service's client certificate (mTLS).")
    kafka_ssl_keyfile: str = Field("", description="The client certificate's private key (mTLS).")
    # Group join takes about session_timeout/2 (../shared/notes/broker.md): 6 s keeps local runs snappy;
    # raise it for a real cluster with slow rebalances.
    kafka_session_timeout_ms: int = Field(6000, description="Consumer group session timeout.")
    kafka_heartbeat_interval_ms: int = Field(1000, description="Consumer heartbeat interval.")
    kafka_fetch_max_wait_ms: int = Field(100, description="Fetch wait; 100 ms keeps p99 latency ~6 ms.")
    kafka_max_poll_records: int = Field(200, description="Records per poll, handled as one batch.")
    kafka_metadata_max_age_ms: int = Field(
        30_000,
        description="How often a consumer re-reads topic metadata. A consumer that joined before its topics'"
        " partitions were visible gets them assigned at the next refresh (kafka-python's default: 5 minutes).",
    )
    broker_check_interval_s: float = Field(
        2.0,
        description="How often readiness asks the broker for its topics (a real round trip); /health/ready "
        "shows the last answer.",
    )
    kafka_create_missing_topics: bool = Field(
        True,
        description="Create the topics a broker lost (tansu keeps none across a restart) when readiness finds "
        "them missing; off where an operator owns the topics.",
    )
    lag_interval_s: float = Field(
        15.0, description="How often the consumer group's lag per partition is read for /metrics."
    )
    kafka_max_block_ms: int = Field(
        30_000, description="How long a send waits for an absent broker before the work goes to the outbox."
    )
    kafka_max_message_bytes: int = Field(
        MAX_MESSAGE_BYTES,
        gt=4096,
        description="Largest message this service sends (the producer's max_request_size) or applies (a "
        "bigger one is dead-lettered as too_large); the broker's message.max.bytes must be at least this "
        "plus 16 KiB. Dead letters are cut to fit it.",
    )
    dead_letter_attempts: int = Field(
        5,
        ge=1,
        description="Re-reads of a poison message whose dead letter the broker keeps refusing before it is "
        "skipped, with an error log and tandem_dead_letters_failed_total (alert on it).",
    )
    consumer_stuck_after_s: float = Field(
        60.0,
        gt=0,
        description="A partition whose records have been in hand this long without their offset being "
        "committed, or that failed 3 polls in a row at the same offset, is reported stuck (readiness 503, "
        "tandem_consumer_partition_stuck).",
    )
    consumer_enabled: bool = Field(True, description="Run the Kafka consumer loop in this process.")
    consumer_group: str = Field("", description="Consumer group id; empty means `tandem-<service_name>`.")
    handler_retries: int = Field(
        3, description="Attempts for a failing handler before the event is dead-lettered."
    )
    outbox_poll_interval_s: float = Field(0.05, description="How often the outbox relay looks for new rows.")
    outbox_idle_poll_max_s: float = Field(
        1.0,
        description="Longest gap between the relay's looks while idle (rows staged in-process wake it at once).",
    )
    models_dir: Path = Field(
        default_factory=lambda: Path(_cluster_default("MODELS_DIR", str(REPO_ROOT / "models"))),
        description="Model registry root: models/<name>/<version>/{model.onnx,card.json}.",
    )
    model_watch_interval_s: float = Field(
        2.0, gt=0, description="How often the champion pointers are checked."
    )
    log_level: str = Field(
        default_factory=lambda: _cluster_default("LOG_LEVEL", "INFO"), description="Log level."
    )
    max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=0, description="Largest request body (413 above); 0 = no limit."
    )
    rate_limit_per_minute: int = Field(
        0, ge=0, description="Requests per minute per API key (or client address) per replica; 0 = no limit."
    )
    webhooks_enabled: bool = Field(True, description="Deliver partners' webhooks from this process.")
    webhooks_allow_loopback: bool = Field(
        False, description="Allow webhook targets on loopback (tests, local demos)."
    )
    webhooks_allow_private: bool = Field(
        False, description="Allow webhook targets in private address ranges."
    )
    webhook_base_delay_s: float = Field(
        5.0, gt=0, description="First retry delay; doubles per attempt (~3 days in all)."
    )
    webhook_max_attempts: int = Field(20, ge=1, description="Attempts before a delivery is given up.")
    webhook_timeout_s: float = Field(
        10.0, gt=0, description="Connect, send and answer timeout of one delivery attempt (each)."
    )
    webhook_senders: int = Field(4, ge=1, description="Deliveries sent at once by this process.")
    webhook_disable_after: int = Field(
        50, ge=1, description="Consecutive failed attempts that disable an endpoint..."
    )
    webhook_disable_after_hours: float = Field(
        72, ge=0, description="...once it has also been failing this long."
    )
    default_org: str = Field("demo", description="Organisation used when a request names none (open mode).")
    auth_mode: str = Field(
        default_factory=lambda: _cluster_default("AUTH_MODE", "open"),
        pattern="^(open|keys)$",
        description="`keys`: every API call needs an API key, whose organisation it acts for; "
        "`open`: the zero-setup mode, the caller names its organisation in X-Org-Id.",
    )
    key_revocation_poll_s: float = Field(
        1.0,
        gt=0,
        description="Key revocations reach every process as a PostgreSQL notification (milliseconds); "
        "the revocation version is also re-read this often in case one is missed.",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies (comma-separated addresses or CIDRs, `*` for any) whose X-Forwarded-Proto "
        "and X-Forwarded-For are believed: the scheme decides `Secure` cookies and HSTS.",
    )
    auth_database_url: str = Field(
        default_factory=lambda: _cluster_default("AUTH_DATABASE_URL", ""),
        description="Identity database (organisations, API keys); empty means identity.db under data_dir.",
    )

    secrets_key: str = Field(
        default_factory=lambda: _cluster_default("SECRETS_KEY", ""),
        description="Key that encrypts secrets at rest (partners' webhook signing secrets), the same in "
        "every service; at least 32 characters, required in keys mode. Empty (open mode only): a key "
        "file created once under data_dir.",
    )

    def production_problems(self) -> list[str]:
        """What keeps this configuration from running in keys mode (production); empty when fine."""
        problems = [secret_problem("TANDEM_SECRETS_KEY", self.secrets_key)]
        if self.kafka_security_protocol.startswith("SASL") and not self.kafka_sasl_password:
            problems.append(f"{self.service_name}'s kafka_sasl_password is not set")
        return [p for p in problems if p]

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / f'{self.service_name}.db'}"

    @property
    def effective_auth_database_url(self) -> str:
        if self.auth_database_url:
            return self.auth_database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'identity.db'}"

    @property
    def effective_consumer_group(self) -> str:
        return self.consumer_group or f"tandem-{self.service_name}"
