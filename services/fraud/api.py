"""Fraud REST routes: score one account or a batch, read a creator's stored score."""

from __future__ import annotations

from fastapi import APIRouter

from services.fraud.config import FraudSettings
from services.fraud.models import FraudScore
from services.fraud.schemas import BatchScoreOut, BatchScoreRequest, ScoreOut, ScoreRequest, StoredScoreOut
from services.fraud.scoring import Assessment, assess
from shared.errors import NotFound
from shared.events import Reason
from shared.orgs import OrgDep
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/v1/fraud", tags=["fraud"])


def _assess(runtime: Runtime, items: list[ScoreRequest]) -> list[Assessment]:
    settings = runtime.settings
    assert isinstance(settings, FraudSettings)
    model = runtime.model("fraud_risk").current
    return assess(model, [i.account for i in items], settings.medium_risk_from, settings.high_risk_from)


def _out(creator_id: str | None, a: Assessment) -> ScoreOut:
    return ScoreOut(
        creator_id=creator_id,
        risk=a.risk,
        level=a.level,
        reasons=a.reasons,
        model_name=a.model_name,
        model_version=a.model_version,
    )


@router.post("/score")
async def score_one(body: ScoreRequest, runtime: RuntimeDep) -> ScoreOut:
    """Score one account (ONNX scoring takes microseconds, so this stays on the event loop)."""
    return _out(body.creator_id, _assess(runtime, [body])[0])


@router.post("/score/batch")
async def score_batch(body: BatchScoreRequest, runtime: RuntimeDep) -> BatchScoreOut:
    assessments = _assess(runtime, body.items)
    return BatchScoreOut(scores=[_out(i.creator_id, a) for i, a in zip(body.items, assessments, strict=True)])


@router.get("/creators/{creator_id}")
def stored_score(creator_id: str, runtime: RuntimeDep, org_id: OrgDep) -> StoredScoreOut:
    with runtime.db.transaction() as session:
        row = session.get(FraudScore, (org_id, creator_id))
        if row is None:
            raise NotFound(f"no fraud score for creator {creator_id!r}", field="creator_id")
        return StoredScoreOut(
            creator_id=row.creator_id,
            risk=row.risk,
            level=row.level,
            reasons=[Reason.model_validate(r) for r in row.reasons],
            model_name=row.model_name,
            model_version=row.model_version,
            scored_at=row.scored_at,
        )
