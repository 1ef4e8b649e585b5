"""Structured JSON logs carrying `correlation_id`, and the Prometheus metrics every service exports."""

from __future__ import annotations

import contextvars
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
from prometheus_client import Counter, Gauge, Histogram

CORRELATION_HEADER = "X-Correlation-ID"
_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

HTTP_REQUESTS = Counter(
    "tandem_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "tandem_http_request_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
EVENTS_CONSUMED = Counter(
    "tandem_events_consumed_total", "Events handled by outcome", ["service", "topic", "outcome"]
)
EVENTS_PUBLISHED = Counter(
    "tandem_events_published_total", "Events published from the outbox", ["service", "topic"]
)
OUTBOX_PENDING = Gauge("tandem_outbox_pending", "Outbox rows not yet published", ["service"])
FEATURE_PSI = Gauge(
    "tandem_feature_psi",
    "Population stability index of live inputs vs training data",
    ["model", "version", "feature"],
)
MODEL_SCORES = Counter(
    "tandem_model_rows_scored_total", "Rows scored per model version", ["model", "version"]
)
OUTBOX_REFUSED = Counter(
    "tandem_outbox_refused_total",
    "Events over the message size limit sent to their dead-letter topic instead of being published",
    ["service", "topic"],
)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def new_correlation_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def correlation(correlation_id: str | None) -> Iterator[str]:
    """Run a block with a correlation id (a fresh one when none is given)."""
    cid = correlation_id or new_correlation_id()
    token = _correlation_id.set(cid)
    try:
        yield cid
    finally:
        _correlation_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for people to grep and for log shippers to parse."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = current_correlation_id()
        if cid:
            doc["correlation_id"] = cid
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            doc.update(extra)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route the root logger to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # kafka-python is chatty at INFO about every connection and rebalance.
    logging.getLogger("kafka").setLevel(logging.WARNING)
