"""Error drift: the forecast model's error on recent results per market and platform, on /metrics and as events.

Feature drift (PSI) says the inputs moved; error drift says the forecasts stopped matching what happens,
which is what people notice. A segment is announced once per model version when its median absolute
percentage error over the latest results passes the threshold.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import UTC, datetime

import numpy as np
from prometheus_client import Gauge
from sqlmodel import Session, col, select

from services.forecast.forecasting import TARGETS
from services.forecast.models import ForecastOutcome, ForecastRecord
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.events import ForecastErrorDrifted
from shared.onnx_model import ModelSlot

log = logging.getLogger(__name__)
FORECAST_ERROR = Gauge(
    "tandem_forecast_error_mdape",
    "Median absolute % error of the forecast median on the latest results",
    ["market", "platform", "metric"],
)


def segment_errors(session: Session, window: int) -> dict[tuple[str, str, str], tuple[float, int]]:
    """(market, platform, metric) -> (MdAPE, results) over the latest `window` scored results."""
    stmt = (
        select(ForecastOutcome.errors, ForecastRecord.market, ForecastRecord.platform)
        .join(ForecastRecord, col(ForecastRecord.forecast_id) == col(ForecastOutcome.forecast_id))
        .order_by(col(ForecastOutcome.received_at).desc())
        .limit(window)
    )
    apes: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for errors, market, platform in session.exec(stmt):
        for metric in TARGETS:
            ape = errors.get(metric, {}).get("model", {}).get("ape")
            if ape is not None:
                apes[(market, platform, metric)].append(float(ape))
    return {k: (round(float(np.median(v)), 4), len(v)) for k, v in apes.items()}


class ErrorDriftWatch(threading.Thread):
    """Exports the per-segment error and stages ForecastErrorDrifted for segments past the threshold."""

    def __init__(self, db: Database, outbox: Outbox, slot: ModelSlot, *, window: int, threshold: float,
                 min_results: int, interval_s: float) -> None:  # fmt: skip
        super().__init__(name="error-drift-watch", daemon=True)
        self.db, self.outbox, self.slot = db, outbox, slot
        self.window, self.threshold, self.min_results, self.interval_s = (
            window,
            threshold,
            min_results,
            interval_s,
        )
        self._alerted: set[tuple[str, str, str, str]] = set()
        self._stop_event = threading.Event()

    def check_once(self) -> list[ForecastErrorDrifted]:
        model = self.slot.current
        with self.db.transaction() as session:
            found = segment_errors(session, self.window)
            events = []
            for (market, platform, metric), (mdape, n) in sorted(found.items()):
                FORECAST_ERROR.labels(market, platform, metric).set(mdape)
                key = (model.version, market, platform, metric)
                if n < self.min_results or mdape <= self.threshold or key in self._alerted:
                    continue
                self._alerted.add(key)
                event = ForecastErrorDrifted(model_name=model.name, model_version=model.version, market=market,
                                             platform=platform, metric=metric, mdape=mdape,
                                             threshold=self.threshold, results=n, detected_at=datetime.now(UTC))  # fmt: skip
                self.outbox.stage(session, event, org_id="system")
                events.append(event)
        for e in events:
            log.warning("forecast error drift", extra={"fields": e.model_dump(mode="json")})
        return events

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            try:
                self.check_once()
            except Exception:
                log.exception("error drift check failed")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
