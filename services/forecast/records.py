"""A stored forecast: the model's figures with the inputs exactly as they were at decision time."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from services.forecast.features import PlannedContent
from services.forecast.models import ForecastRecord
from shared.events import MetricForecast
from shared.onnx_model import OnnxModel


def new_record(org_id: str, campaign_id: str | None, creator_id: str | None, decision_id: str | None,
               content: PlannedContent, metrics: list[MetricForecast], model: OnnxModel,
               at: datetime | None = None, line_id: str | None = None) -> ForecastRecord:  # fmt: skip
    """The inputs are copied, not referenced: later catalogue changes must not reach training rows."""
    return ForecastRecord(
        forecast_id=f"fc-{uuid.uuid4().hex[:12]}", org_id=org_id, campaign_id=campaign_id, creator_id=creator_id,
        decision_id=decision_id, line_id=line_id, platform=content.platform, format=content.format, market=content.market,
        inputs=asdict(content), metrics=[m.model_dump() for m in metrics], model_name=model.name,
        model_version=model.version, created_at=at or datetime.now(UTC),
    )  # fmt: skip
