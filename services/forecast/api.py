"""Forecast REST routes: forecasts (one, batch, per campaign, detail), plans, and human adjustments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response, status
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from services.forecast import adjustments, bulk, feedback, learnt_cache, page_posts, results
from services.forecast.forecasting import forecast_shifted
from services.forecast.learning import variant_key
from services.forecast.models import ForecastOutcome, ForecastRecord
from services.forecast.planning import content_from_request
from services.forecast.report_schemas import (
    AdjustmentReportRow,
    ForecastColumnsOut,
    InsightReportRow,
    PagePostsOut,
)
from services.forecast.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    BatchForecastIn,
    ForecastColumnsIn,
    ForecastDetailOut,
    ForecastIn,
    ForecastOut,
    PagePostsIn,
    PlanIn,
    PlanOut,
    ResultsAccepted,
    ResultsIn,
    StoredForecastOut,
)
from services.forecast.sequencing import plan
from shared.errors import NotFound
from shared.input_limits import json_body
from shared.orgs import COMPUTE, INGEST, JUDGE, OrgDep, PrincipalDep, checked_webhook, judged_as
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/v1", tags=["forecast"])


@router.post("/forecasts/predict", dependencies=COMPUTE, summary="Forecast one post")
async def predict_one(body: ForecastIn, runtime: RuntimeDep, org_id: OrgDep) -> ForecastOut:
    """Forecast reach, engagements, clicks and conversions of one planned post as p10/p50/p90 ranges, with
    each metric's definition: the pooled model moved by your organisation's own results (and the creator's,
    when `creator_id` is given, and the message variant's, when `campaign_id` and `variant_id` are), as
    `learning` says. Nothing is stored."""
    return (await _predict(runtime, org_id, [body]))[0]


@router.post("/forecasts/predict/batch", dependencies=COMPUTE, summary="Forecast up to 10,000 posts")
async def predict_batch(body: BatchForecastIn, runtime: RuntimeDep, org_id: OrgDep) -> list[ForecastOut]:
    """The same forecast for many posts in one call, in the request's order. Nothing is stored."""
    return await _predict(runtime, org_id, body.items)


async def _predict(runtime: Runtime, org_id: str, items: list[ForecastIn]) -> list[ForecastOut]:
    model = runtime.model("forecast").current
    taught = await learnt_cache.learnt_for(runtime, org_id, model)
    contents = [content_from_request(i) for i in items]
    if not taught.results:  # the pooled model as is: nothing to add per row
        return [ForecastOut(metrics=m, model_name=model.name, model_version=model.version)
                for m in forecast_shifted(model, contents, None)]  # fmt: skip
    creators = [i.creator_id for i in items]
    variants = [variant_key(i.campaign_id, i.variant_id) for i in items]
    asked = set(zip(creators, variants, strict=True))  # one description per distinct creator and message
    told = {(c, v): learnt_cache.described(taught, org_id, c, v) for c, v in asked}
    shifted = forecast_shifted(model, contents, taught.shifts(creators, len(items), variants))
    return [ForecastOut(metrics=m, model_name=model.name, model_version=model.version, learning=told[(c, v)])
            for m, c, v in zip(shifted, creators, variants, strict=True)]  # fmt: skip


@router.post(
    "/forecasts/predict/columns",
    dependencies=COMPUTE,
    summary="Forecast posts in columns (bulk)",
    # Documented, not validated: the hot path writes orjson straight from numpy (no per-row pydantic pass).
    responses={200: {"model": ForecastColumnsOut}},
)
async def predict_columns(body: ForecastColumnsIn, runtime: RuntimeDep, org_id: OrgDep) -> Response:
    """Many posts as columns (one list per field, equal lengths, up to 200,000 rows). The answer has `rows`,
    and `metrics`: for each of reach, engagements, clicks, conversions and engagement_rate, its p10, p50 and
    p90 as lists in row order; the model's name and version; and `learning`: null for the pooled model as
    is, else what your organisation's results changed (as in /v1/forecasts/predict, the organisation's
    part), with `creator_offsets` per named creator who has a baseline of their own.
    \f
    The bulk path: columns in, columns out (orjson), one ONNX batch per head."""
    model = runtime.model("forecast").current
    taught = await learnt_cache.learnt_for(runtime, org_id, model)
    result = bulk.score_columns(model, body, taught if taught.results else None)
    result["learning"] = learnt_cache.described_columns(
        taught, org_id, body.creator_id or [], bulk.variants_of(body)
    )
    return Response(orjson.dumps(result), media_type="application/json")


@router.post("/page-posts/forecast", dependencies=COMPUTE, response_model=PagePostsOut,
             summary="Forecast brand-page posts")  # fmt: skip
async def page_posts_forecast(body: PagePostsIn, runtime: RuntimeDep) -> dict[str, Any]:
    """Lifetime metrics of brand-page posts (the page_posts model, trained on UCI Facebook metrics)."""
    model = runtime.model(page_posts.MODEL_NAME).current
    rows = [{"Page total likes": i.page_total_likes, "Type": i.type, "Category": i.category,
             "Post Month": i.post_month, "Post Weekday": i.post_weekday, "Post Hour": i.post_hour,
             "Paid": None if i.paid is None else int(i.paid)} for i in body.items]  # fmt: skip
    return {"forecasts": page_posts.forecast_rows(model, rows), "model_name": model.name,
            "model_version": model.version}  # fmt: skip


@router.get("/campaigns/{campaign_id}/forecasts", summary="List a campaign's stored forecasts")
def campaign_forecasts(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> list[StoredForecastOut]:
    """The forecasts stored for a campaign's approved creators (one per creator, made when review approved
    them), oldest first."""
    with runtime.db.transaction() as session:
        stmt = (
            select(ForecastRecord)
            .where(ForecastRecord.org_id == org_id, ForecastRecord.campaign_id == campaign_id)
            .order_by(col(ForecastRecord.created_at))
        )
        return [StoredForecastOut.model_validate(r, from_attributes=True) for r in session.exec(stmt)]


@router.get("/forecasts/{forecast_id}", summary="Get a stored forecast")
def forecast_detail(forecast_id: str, runtime: RuntimeDep, org_id: OrgDep) -> ForecastDetailOut:
    """A stored forecast with every adjustment (model and adjusted figures) and the outcomes scored so far."""
    with runtime.db.transaction() as session:
        record = session.get(ForecastRecord, forecast_id)
        if record is None or record.org_id != org_id:
            raise NotFound(f"no forecast {forecast_id}", field="forecast_id")
        adjusted = [AdjustmentOut.model_validate(a, from_attributes=True)
                    for a in adjustments.for_forecast(session, org_id, forecast_id)]  # fmt: skip
        outcomes = session.exec(
            select(ForecastOutcome).where(
                ForecastOutcome.org_id == org_id, ForecastOutcome.forecast_id == forecast_id
            )
        ).all()
        base = StoredForecastOut.model_validate(record, from_attributes=True)
        return ForecastDetailOut(**base.model_dump(), adjustments=adjusted,
                                 outcomes=[{"result_id": o.result_id, "errors": o.errors} for o in outcomes])  # fmt: skip


@router.post(
    "/forecasts/{forecast_id}/adjustments",
    status_code=status.HTTP_201_CREATED,
    dependencies=JUDGE,
    summary="Adjust a stored forecast",
)
def adjust(
    forecast_id: str, body: AdjustmentIn, runtime: RuntimeDep, principal: PrincipalDep
) -> AdjustmentOut:
    """A person's adjustment, recorded as the caller; `author` may be left out, another name is a 422."""
    author = judged_as(principal, body.author, "author")
    spec = adjustments.AdjustmentSpec(adjustment_id=f"adj-{uuid.uuid4().hex[:12]}", forecast_id=forecast_id,
                                      proposed_at=datetime.now(UTC), **{**body.model_dump(), "author": author})  # fmt: skip
    with runtime.db.transaction() as session:
        row = adjustments.record(session, principal.org_id, spec, source="rest")
        return AdjustmentOut.model_validate(row, from_attributes=True)


@router.post("/plans", dependencies=COMPUTE, summary="Optimise a posting schedule")
async def propose_plan(body: PlanIn, runtime: RuntimeDep) -> PlanOut:
    """A schedule that maximises the forecast objective under the constraints, explained, vs the naive plan."""
    return plan(runtime.model("forecast").current, body)


@router.post(
    "/results", status_code=status.HTTP_202_ACCEPTED, dependencies=INGEST, summary="Report campaign results"
)
def report_results(body: ResultsIn, runtime: RuntimeDep, org_id: OrgDep) -> ResultsAccepted:
    """Campaign results in; each new result_id becomes one campaign.result_reported event, repeats are no-ops."""
    with runtime.db.transaction() as session:
        return results.ingest(session, runtime.outbox, org_id, body.results, source="rest")


@router.post(
    "/inbound/{source_id}/results",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=INGEST,
    summary="Receive results from a partner (signed webhook)",
)
async def inbound_results(source_id: str, request: Request, runtime: RuntimeDep) -> ResultsAccepted:
    """A partner's signed webhook (Standard Webhooks headers) with the /v1/results payload; the org is the
    source's."""
    body, document = await request.body(), await json_body(request)
    return await run_in_threadpool(
        results.receive_webhook,
        runtime,
        source_id,
        dict(request.headers),
        body,
        document,
        checked_webhook(request),
    )


@router.get("/feedback/adjustments", response_model=list[AdjustmentReportRow],
            summary="Report whose forecast adjustments help")  # fmt: skip
def adjustment_report(runtime: RuntimeDep, org_id: OrgDep) -> list[dict[str, Any]]:
    """Per author, market and metric: the adjusted figures' error against results next to the raw model's."""
    with runtime.db.transaction() as session:
        return feedback.adjustment_report(session, org_id)


@router.get("/feedback/insights", response_model=list[InsightReportRow],
            summary="Report which applied insights paid off")  # fmt: skip
def insight_report(runtime: RuntimeDep, org_id: OrgDep) -> list[dict[str, Any]]:
    """Per lesson or trend call applied: whether following it paid off against the results."""
    with runtime.db.transaction() as session:
        return feedback.insight_report(session, org_id)
