"""Review REST routes: queues, tasks, decisions, campaign summaries."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status

from services.review import tasks
from services.review.schemas import CampaignSummary, DecisionIn, DecisionOut, TaskOut
from shared.orgs import OrgDep
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["review"])


@router.get("/tasks")
def list_tasks(
    runtime: RuntimeDep,
    org_id: OrgDep,
    campaign_id: str | None = None,
    task_status: Literal["open", "decided"] | None = Query(None, alias="status"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[TaskOut]:
    with runtime.db.transaction() as session:
        return tasks.list_tasks(session, org_id, campaign_id, task_status, limit)


@router.get("/tasks/{task_id}")
def get_task(task_id: str, runtime: RuntimeDep, org_id: OrgDep) -> TaskOut:
    with runtime.db.transaction() as session:
        return tasks.get_task(session, org_id, task_id)


@router.post("/tasks/{task_id}/decision", status_code=status.HTTP_201_CREATED)
def decide(
    task_id: str, body: DecisionIn, runtime: RuntimeDep, org_id: OrgDep, response: Response
) -> DecisionOut:
    with runtime.db.transaction() as session:
        out, created = tasks.decide(session, org_id, task_id, body, runtime.outbox)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/campaigns/{campaign_id}/summary")
def campaign_summary(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> CampaignSummary:
    with runtime.db.transaction() as session:
        return tasks.campaign_summary(session, org_id, campaign_id)
