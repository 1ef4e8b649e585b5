"""Experiments in the database: define (with sample size), ingest exposures and outcomes, report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from services.forecast.experiments.report import analyze
from services.forecast.experiments.stats import sample_size_per_arm
from services.forecast.models import Experiment, ExperimentObservation
from services.forecast.schemas import ExperimentIn, ObservationIn
from shared.errors import Invalid, NotFound

# Beyond a billion users per arm the design is a typo (an mde of 1e-9), not an experiment.
MAX_SAMPLE_SIZE = 10**9


def create(session: Session, org_id: str, body: ExperimentIn) -> Experiment:
    if len(set(body.variants)) != len(body.variants):
        raise Invalid("variant names must be unique", field="variants")
    control = body.control or body.variants[0]
    if control not in body.variants:
        raise Invalid(f"control {control!r} is not one of the variants", field="control")
    if body.metric_type == "continuous" and body.sd is None:
        raise Invalid("a continuous metric needs sd to size the test", field="sd")
    if body.metric_type == "binary" and not 0 < body.baseline < 1:
        raise Invalid("a binary metric's baseline is a rate in (0, 1)", field="baseline")
    try:
        # Sized for how the report reads it: each variant against control at alpha / (arms - 1).
        n = sample_size_per_arm(body.baseline, body.mde, body.alpha, body.power,
                                body.sd if body.metric_type == "continuous" else None, arms=len(body.variants))  # fmt: skip
    except (OverflowError, ZeroDivisionError):
        n = MAX_SAMPLE_SIZE + 1
    if n > MAX_SAMPLE_SIZE:
        raise Invalid(
            f"this design needs more than {MAX_SAMPLE_SIZE:,} per arm; raise mde or lower sd", field="mde"
        )
    row = Experiment(experiment_id=f"exp-{uuid.uuid4().hex[:12]}", org_id=org_id, control=control,
                     sample_size_per_arm=n, created_at=datetime.now(UTC),
                     **body.model_dump(exclude={"control"}))  # fmt: skip
    session.add(row)
    return row


def get(session: Session, org_id: str, experiment_id: str) -> Experiment:
    row = session.get(Experiment, experiment_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"no experiment {experiment_id}", field="experiment_id")
    return row


def ingest(session: Session, exp: Experiment, items: list[ObservationIn], now: datetime) -> int:
    """Upsert by unit: an exposure first, its outcome later; a unit may not switch variants."""
    if unknown := {i.variant for i in items} - set(exp.variants):
        raise Invalid(
            f"unknown variants {sorted(unknown)} (experiment has {exp.variants})", field="items.variant"
        )
    ids = [i.unit_id for i in items]
    stored = {o.unit_id: o for o in session.exec(select(ExperimentObservation).where(
        ExperimentObservation.experiment_id == exp.experiment_id, col(ExperimentObservation.unit_id).in_(ids)))}  # fmt: skip
    for item in items:
        row = stored.get(item.unit_id)
        if row is None:
            row = ExperimentObservation(org_id=exp.org_id, experiment_id=exp.experiment_id, unit_id=item.unit_id,
                                        variant=item.variant, value=item.value, observed_at=now)  # fmt: skip
            stored[item.unit_id] = row
        elif row.variant != item.variant:
            raise Invalid(
                f"unit {item.unit_id} was exposed to {row.variant}, not {item.variant}", field="items.variant"
            )
        elif item.value is not None:
            row.value, row.observed_at = item.value, now
        session.add(row)
    return len(items)


def groups(session: Session, exp: Experiment) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Outcomes per arm in arrival order, and exposures per arm (with or without an outcome yet)."""
    rows = session.exec(select(ExperimentObservation.variant, ExperimentObservation.value).where(
        ExperimentObservation.experiment_id == exp.experiment_id).order_by(col(ExperimentObservation.id))).all()  # fmt: skip
    exposures = {v: 0 for v in exp.variants}
    values: dict[str, list[float]] = {v: [] for v in exp.variants}
    for variant, value in rows:
        exposures[variant] += 1
        if value is not None:
            values[variant].append(value)
    return {v: np.asarray(x, dtype=np.float64) for v, x in values.items()}, exposures


def report(session: Session, exp: Experiment) -> dict[str, Any]:
    data, exposures = groups(session, exp)
    if short := [v for v, x in data.items() if len(x) < 2]:
        raise Invalid(f"arms {short} have fewer than two outcomes yet", field="experiment_id")
    out = analyze(data, control=exp.control, alpha=exp.alpha, mde=exp.mde)
    for name, arm in out["arms"].items():
        arm["exposures"] = exposures[name]
        arm["progress"] = round(arm["n"] / exp.sample_size_per_arm, 4)
    out["sample_size_per_arm"] = exp.sample_size_per_arm
    return out
