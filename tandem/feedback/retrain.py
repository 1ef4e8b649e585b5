"""One champion/challenger round for a served model on the outcomes its service stored (CLI back end).

ranking learns from discovery's shortlist outcomes, forecast from forecast's campaign results, fraud from
the fraud service's anomaly verdicts; each reads its own service's database and stages `model.promoted`
in that service's outbox (its relay publishes it once the service runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.model_registry import ModelRegistry
from shared.retraining import Outcome, Policy
from shared.settings import REPO_ROOT

Retrain = Callable[[Database, Outbox, ModelRegistry, Policy], Outcome]
RETRAINABLE = ("ranking", "forecast", "fraud")


class RetrainSettings(Protocol):
    """What the command needs of a service's settings (ServiceSettings + shared.retraining.RetrainSettings)."""

    def retrain_policy(self) -> Policy: ...

    @property
    def effective_database_url(self) -> str: ...


@dataclass(frozen=True)
class Target:
    service: str  # whose database holds the outcomes and whose outbox announces a promotion
    settings: RetrainSettings
    retrain: Retrain


def target(model: str) -> Target:
    """The service and retrain function of one model (imported lazily: each pulls in its service)."""
    if model == "ranking":
        from services.discovery import retraining as ranking
        from services.discovery.config import DiscoverySettings

        return Target(
            "discovery", DiscoverySettings(), lambda db, o, r, p: ranking.retrain(db, o, r, p, "cli")
        )
    if model == "forecast":
        from services.forecast import retraining as forecast
        from services.forecast.config import ForecastSettings

        f = ForecastSettings()
        return Target(
            "forecast",
            f,
            lambda db, o, r, p: forecast.retrain(db, o, r, p, "cli", opted_in=f.shared_learning_orgs),
        )
    if model == "fraud":
        from services.fraud import retraining as fraud
        from services.fraud.config import FraudSettings

        s = FraudSettings()
        return Target(
            "fraud", s, lambda db, o, r, p: fraud.retrain(db, o, r, p, "cli", s.retrain_label_weight)
        )
    raise ValueError(f"no retraining from outcomes for {model!r}; choose one of {', '.join(RETRAINABLE)}")


def run(model: str, database_url: str, models_dir: Path, margin: float | None = None,
        holdout_share: float | None = None, min_rows: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Migrate the service's database, run one round and return the verdict; unset policy fields come
    from the service's settings (TANDEM_<SERVICE>_RETRAIN_*)."""
    t = target(model)
    p = t.settings.retrain_policy()
    policy = Policy(margin=p.margin if margin is None else margin,
                    holdout_share=p.holdout_share if holdout_share is None else holdout_share,
                    min_rows=p.min_rows if min_rows is None else min_rows)  # fmt: skip
    db = Database(database_url or t.settings.effective_database_url)
    try:
        migrate(db.url, REPO_ROOT / "services" / t.service / "migrations")
        outcome = t.retrain(db, Outbox(t.service), ModelRegistry(models_dir), policy)
    finally:
        db.close()
    r = outcome.run
    return {"model": r.model_name, "run_id": r.run_id, "champion_before": r.champion_version,
            "challenger": r.challenger_version, "promoted": r.promoted, "train_rows": r.train_rows,
            "holdout_rows": r.holdout_rows, "report": r.report}  # fmt: skip
