"""Forecast REST routes: one forecast, a batch, and the stored forecasts of a campaign."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import col, select

from services.forecast.forecasting import forecast
from services.forecast.models import ForecastRecord
from services.forecast.planning import content_from_request
from services.forecast.schemas import BatchForecastIn, ForecastIn, ForecastOut, StoredForecastOut
from shared.orgs import OrgDep
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["forecast"])


@router.post("/forecasts/predict")
async def predict_one(body: ForecastIn, runtime: RuntimeDep) -> ForecastOut:
    model = runtime.model("forecast").current
    metrics = forecast(model, [content_from_request(body)])[0]
    return ForecastOut(metrics=metrics, model_name=model.name, model_version=model.version)


@router.post("/forecasts/predict/batch")
async def predict_batch(body: BatchForecastIn, runtime: RuntimeDep) -> list[ForecastOut]:
    model = runtime.model("forecast").current
    results = forecast(model, [content_from_request(i) for i in body.items])
    return [ForecastOut(metrics=m, model_name=model.name, model_version=model.version) for m in results]


@router.get("/campaigns/{campaign_id}/forecasts")
def campaign_forecasts(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> list[StoredForecastOut]:
    with runtime.db.transaction() as session:
        stmt = (
            select(ForecastRecord)
            .where(ForecastRecord.org_id == org_id, ForecastRecord.campaign_id == campaign_id)
            .order_by(col(ForecastRecord.created_at))
        )
        return [StoredForecastOut.model_validate(r, from_attributes=True) for r in session.exec(stmt)]
