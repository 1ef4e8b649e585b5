"""Fraud settings (env prefix TANDEM_FRAUD_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.retraining import RetrainSettings
from shared.settings import ServiceSettings


class FraudSettings(ServiceSettings, RetrainSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_FRAUD_", extra="ignore", env_file=".env")

    service_name: str = "fraud"
    port: int = 8002
    medium_risk_from: float = Field(
        0.3, ge=0, le=1, description="Risk at or above which the level is medium."
    )
    high_risk_from: float = Field(0.6, ge=0, le=1, description="Risk at or above which the level is high.")
    kafka_max_poll_records: int = Field(
        4000,
        ge=1,
        description="Records per poll; fraud applies a poll's CreatorUpserted events in one transaction, "
        "so bigger polls amortise its round trips and wake-ups (on a busy 2-core host 4,000 drained a backlog "
        "~35% faster than 1,000; ~150 us per event, so a full poll is well inside the session timeout).",
    )
    retrain_every_labels: int = Field(
        100,
        ge=0,
        description="Retrain the fraud risk model after this many new verdicts on creator-level anomalies "
        "(0 = never).",
    )
    retrain_min_rows: int = Field(
        50, ge=2, description="Fewest labelled account snapshots worth training a challenger on."
    )
    retrain_label_weight: float = Field(
        20.0,
        gt=0,
        description="How many base training rows one reviewed label weighs in a challenger's fit.",
    )
