"""A/B test REST routes: define, ingest exposures and outcomes, report (JSON) and plot (PNG)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response, status

from services.forecast.experiments import store
from services.forecast.experiments.plot import plot_over_time
from services.forecast.report_schemas import ExperimentReportOut, ObservationsAccepted
from services.forecast.schemas import ExperimentIn, ExperimentOut, ObservationsIn
from shared.errors import Invalid
from shared.openapi import png_response
from shared.orgs import INGEST, PLAN, OrgDep
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=PLAN, summary="Create a message experiment"
)
def create_experiment(body: ExperimentIn, runtime: RuntimeDep, org_id: OrgDep) -> ExperimentOut:
    """Register an experiment (arms, metric, baseline, minimum detectable effect); the answer says how many
    units each arm needs."""
    with runtime.db.transaction() as session:
        return ExperimentOut.model_validate(store.create(session, org_id, body), from_attributes=True)


@router.get("/{experiment_id}", summary="Get an experiment")
def get_experiment(experiment_id: str, runtime: RuntimeDep, org_id: OrgDep) -> ExperimentOut:
    """The experiment's design and the sample size each arm needs."""
    with runtime.db.transaction() as session:
        return ExperimentOut.model_validate(store.get(session, org_id, experiment_id), from_attributes=True)


@router.post(
    "/{experiment_id}/observations",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=INGEST,
    summary="Add observations to an experiment",
)
def add_observations(
    experiment_id: str, body: ObservationsIn, runtime: RuntimeDep, org_id: OrgDep
) -> ObservationsAccepted:
    """Record units seen in an arm (an exposure), with their outcome when known; a unit is counted once per
    arm and may not switch arms. Answers how many were accepted."""
    with runtime.db.transaction() as session:
        exp = store.get(session, org_id, experiment_id)
        return ObservationsAccepted(accepted=store.ingest(session, exp, body.items, datetime.now(UTC)))


@router.get(
    "/{experiment_id}/report", response_model=ExperimentReportOut, summary="Report an experiment's result"
)
def experiment_report(experiment_id: str, runtime: RuntimeDep, org_id: OrgDep) -> dict[str, Any]:
    """Per arm: units, mean with its 95% interval, chance of being best, exposures and progress towards the
    sample size; each variant against control (fixed-horizon and always-valid sequential p-values,
    Bonferroni-corrected), a verdict and a recommendation. 422 while an arm has fewer than two outcomes."""
    with runtime.db.transaction() as session:
        return store.report(session, store.get(session, org_id, experiment_id))


@router.get(
    "/{experiment_id}/plot.png",
    response_class=Response,
    responses=png_response("The plot"),
    summary="Plot an experiment over time",
)
def experiment_plot(experiment_id: str, runtime: RuntimeDep, org_id: OrgDep) -> Response:
    """A PNG: each arm's running mean with its interval, and each variant's difference from control with its
    95% interval; 422 while an arm has fewer than two outcomes."""
    with runtime.db.transaction() as session:
        exp = store.get(session, org_id, experiment_id)
        data, _ = store.groups(session, exp)
    if any(len(v) < 2 for v in data.values()):
        raise Invalid("every arm needs at least two outcomes to plot", field="experiment_id")
    with tempfile.TemporaryDirectory() as tmp:
        path = plot_over_time(data, exp.metric_type == "binary", exp.metric, Path(tmp) / "plot.png")
        return Response(path.read_bytes(), media_type="image/png")
