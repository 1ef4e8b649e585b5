"""A/B test REST routes: define, ingest exposures and outcomes, report (JSON) and plot (PNG)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response, status

from services.forecast.experiments import store
from services.forecast.experiments.plot import plot_over_time
from services.forecast.schemas import ExperimentIn, ExperimentOut, ObservationsIn
from shared.errors import Invalid
from shared.orgs import INGEST, PLAN, OrgDep
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=PLAN)
def create_experiment(body: ExperimentIn, runtime: RuntimeDep, org_id: OrgDep) -> ExperimentOut:
    with runtime.db.transaction() as session:
        return ExperimentOut.model_validate(store.create(session, org_id, body), from_attributes=True)


@router.get("/{experiment_id}")
def get_experiment(experiment_id: str, runtime: RuntimeDep, org_id: OrgDep) -> ExperimentOut:
    with runtime.db.transaction() as session:
        return ExperimentOut.model_validate(store.get(session, org_id, experiment_id), from_attributes=True)


@router.post("/{experiment_id}/observations", status_code=status.HTTP_202_ACCEPTED, dependencies=INGEST)
def add_observations(
    experiment_id: str, body: ObservationsIn, runtime: RuntimeDep, org_id: OrgDep
) -> dict[str, int]:
    with runtime.db.transaction() as session:
        exp = store.get(session, org_id, experiment_id)
        return {"accepted": store.ingest(session, exp, body.items, datetime.now(UTC))}


@router.get("/{experiment_id}/report")
def experiment_report(experiment_id: str, runtime: RuntimeDep, org_id: OrgDep) -> dict[str, Any]:
    with runtime.db.transaction() as session:
        return store.report(session, store.get(session, org_id, experiment_id))


@router.get("/{experiment_id}/plot.png", response_class=Response)
def experiment_plot(experiment_id: str, runtime: RuntimeDep, org_id: OrgDep) -> Response:
    with runtime.db.transaction() as session:
        exp = store.get(session, org_id, experiment_id)
        data, _ = store.groups(session, exp)
    if any(len(v) < 2 for v in data.values()):
        raise Invalid("every arm needs at least two outcomes to plot", field="experiment_id")
    with tempfile.TemporaryDirectory() as tmp:
        path = plot_over_time(data, exp.metric_type == "binary", exp.metric, Path(tmp) / "plot.png")
        return Response(path.read_bytes(), media_type="image/png")
