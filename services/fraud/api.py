"""Fraud REST routes: scores (one, batch, columnar bulk), audience quality, anomalies and their review."""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from services.fraud import anomaly_records, bulk
from services.fraud.anomalies import history_findings
from services.fraud.audience_report import audience_findings, audience_report, checked_event
from services.fraud.config import FraudSettings
from services.fraud.explanations import confidence
from services.fraud.models import FraudScore
from services.fraud.schemas import (
    SCORE_COLUMNS_BODY,
    AnomalyOut,
    AnomalyReviewIn,
    AudienceOut,
    AudienceRequest,
    BatchScoreOut,
    BatchScoreRequest,
    HistoryRequest,
    ScoreColumnsOut,
    ScoreOut,
    ScoreRequest,
    StoredScoreOut,
)
from services.fraud.scoring import Assessment, assess
from shared.errors import NotFound
from shared.events import Reason
from shared.identity.keys import Principal
from shared.input_limits import json_body, validated
from shared.orgs import COMPUTE, INGEST, JUDGE, OrgDep, PrincipalDep, judged_as
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/v1/fraud", tags=["fraud"])
Body = TypeVar("Body", bound=BaseModel)


def _settings(runtime: Runtime) -> FraudSettings:
    settings = runtime.settings
    assert isinstance(settings, FraudSettings)
    return settings


def _assess(runtime: Runtime, items: list[ScoreRequest]) -> list[Assessment]:
    settings = _settings(runtime)
    model = runtime.model("fraud_risk").current
    return assess(model, [i.account for i in items], settings.medium_risk_from, settings.high_risk_from)


def _out(creator_id: str | None, a: Assessment) -> ScoreOut:
    return ScoreOut(
        creator_id=creator_id,
        risk=a.risk,
        level=a.level,
        reasons=a.reasons,
        confidence=a.confidence,
        model_name=a.model_name,
        model_version=a.model_version,
    )


def parse_body(model: type[Body], raw: Any) -> Body:
    """Validate a JSON body (bytes, or the document the input limits parsed from them) in one pydantic
    pass; errors become the usual 422 naming each field."""
    try:
        return validated(model, raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc


def score_one_fast(runtime: Runtime, _: Principal, raw: bytes) -> bytes | None:
    """Score one account on the fast lane (shared.fastlane): one pydantic pass over the body, one
    serialisation of the answer; ONNX takes microseconds, so it stays on the event loop. A body that
    does not validate goes to the documented route below, whose 422 names each field."""
    try:
        body = ScoreRequest.model_validate_json(raw)
    except ValidationError:
        return None
    return _score_json(runtime, body)


def _score_json(runtime: Runtime, body: ScoreRequest) -> bytes:
    return _out(body.creator_id, _assess(runtime, [body])[0]).model_dump_json().encode()


@router.post(
    "/score",
    response_model=ScoreOut,
    dependencies=COMPUTE,
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": ScoreRequest.model_json_schema()}},
            "required": True,
        }
    },
    summary="Score one account",
)
async def score_one(request: Request, runtime: RuntimeDep, _: PrincipalDep) -> Response:
    """Score one account: risk 0-1, level, reasons with comparisons, model name and version."""
    body = parse_body(ScoreRequest, await json_body(request))
    return Response(_score_json(runtime, body), media_type="application/json")


@router.post("/score/batch", dependencies=COMPUTE, summary="Score up to 10,000 accounts")
async def score_batch(body: BatchScoreRequest, runtime: RuntimeDep, _: PrincipalDep) -> BatchScoreOut:
    """Score many accounts in one call; the answer keeps the request's order. Nothing is stored."""
    assessments = _assess(runtime, body.items)
    return BatchScoreOut(scores=[_out(i.creator_id, a) for i, a in zip(body.items, assessments, strict=True)])


@router.get("/creators/{creator_id}", summary="Get a creator's stored fraud score")
def stored_score(creator_id: str, runtime: RuntimeDep, org_id: OrgDep) -> StoredScoreOut:
    """The latest fraud score stored for a catalogue creator (the service scores each creator discovery
    announces, and again when its figures change); 404 until it has been scored."""
    with runtime.db.transaction() as session:
        row = session.get(FraudScore, (org_id, creator_id))
        if row is None:
            raise NotFound(f"no fraud score for creator {creator_id!r}", field="creator_id")
        return StoredScoreOut(
            creator_id=row.creator_id,
            risk=row.risk,
            level=row.level,
            reasons=(reasons := [Reason.model_validate(r) for r in row.reasons]),
            confidence=confidence(reasons),
            model_name=row.model_name,
            model_version=row.model_version,
            scored_at=row.scored_at,
        )


@router.post("/score/columns", dependencies=COMPUTE, summary="Score accounts in columns (bulk)",
             openapi_extra={"requestBody": SCORE_COLUMNS_BODY},
             # Documented, not validated: the hot path writes orjson straight from numpy.
             responses={200: {"model": ScoreColumnsOut}})  # fmt: skip
async def score_columns(request: Request, runtime: RuntimeDep, _: PrincipalDep) -> Response:
    """Bulk scoring, columnar body `{"columns": {"platform": [...], "followers": [...], ...}}`.

    Bad rows are listed in `errors` (row, field, reason) and come back with a null risk; the rest are
    scored.
    \f
    The body is parsed with orjson, never as per-row pydantic models.
    """
    settings = _settings(runtime)
    cols = bulk.parse(await json_body(request))
    model = runtime.model("fraud_risk").current
    body = bulk.score(model, cols, settings.medium_risk_from, settings.high_risk_from)
    return Response(body, media_type="application/json")


@router.post("/audience", dependencies=INGEST, summary="Estimate fake followers from a follower sample")
def audience(body: AudienceRequest, runtime: RuntimeDep, org_id: OrgDep) -> AudienceOut:
    """Fake-follower share with a 95% interval, follower types, demographics and Audience Quality Score
    from a sample.

    With a `creator_id`, the check is published (fraud.audience_checked, for discovery's audience report)
    and a fake share confidently above 25% is also stored and published as an anomaly.
    """
    report = audience_report(runtime.model("fake_account").current, body)
    if body.creator_id is not None:
        key = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        with runtime.db.transaction() as session:
            runtime.outbox.stage(session, checked_event(report, body, key[:32]), org_id=org_id)
            if findings := audience_findings(report):
                anomaly_records.record(
                    session,
                    runtime.outbox,
                    org_id,
                    body.creator_id,
                    findings,
                    source="audience",
                    source_key=key,
                )
    return report


@router.post(
    "/creators/{creator_id}/history", dependencies=INGEST, summary="Look for anomalies in a creator's history"
)
def analyse_history(
    creator_id: str, body: HistoryRequest, runtime: RuntimeDep, org_id: OrgDep
) -> list[AnomalyOut]:
    """Run the anomaly detectors on a creator's history; new anomalies are stored and published."""
    findings = history_findings(body)
    with runtime.db.transaction() as session:
        rows = anomaly_records.record(
            session,
            runtime.outbox,
            org_id,
            creator_id,
            findings,
            source="history",
            source_key=body.model_dump_json(),
            campaign_id=body.campaign_id,
        )
        return [anomaly_records.to_out(r) for r in rows]


@router.get("/anomalies", summary="List anomalies")
def list_anomalies(
    runtime: RuntimeDep,
    org_id: OrgDep,
    creator_id: str | None = Query(None, max_length=64, description="Only this creator's anomalies."),
    status: str | None = Query(
        None,
        pattern="^(open|confirmed|dismissed)$",
        description="Only anomalies in this state: open (waiting for a person), confirmed or dismissed.",
    ),
    limit: int = Query(100, ge=1, le=1000, description="Most anomalies to return (1-1,000), newest first."),
) -> list[AnomalyOut]:
    """Anomalies found for your creators, newest first, optionally of one creator or in one state; open ones
    wait for a person's verdict (POST .../review)."""
    with runtime.db.transaction() as session:
        rows = anomaly_records.find(session, org_id, creator_id, status, limit)
        return [anomaly_records.to_out(r) for r in rows]


@router.post("/anomalies/{anomaly_id}/review", dependencies=JUDGE, summary="Confirm or dismiss an anomaly")
def review_anomaly(
    anomaly_id: str, body: AnomalyReviewIn, runtime: RuntimeDep, principal: PrincipalDep
) -> AnomalyOut:
    """A person confirms or dismisses an anomaly; the verdict is stored as a label and published.

    The verdict is recorded as the caller (its key's person); `reviewer` may be left out, and one naming
    anyone else is refused with a 422."""
    body = body.model_copy(update={"reviewer": judged_as(principal, body.reviewer, "reviewer")})
    with runtime.db.transaction() as session:
        return anomaly_records.to_out(
            anomaly_records.review(session, runtime.outbox, principal.org_id, anomaly_id, body)
        )
