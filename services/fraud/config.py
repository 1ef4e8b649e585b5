"""Fraud settings (env prefix TANDEM_FRAUD_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class FraudSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_FRAUD_", extra="ignore", env_file=".env")

    service_name: str = "fraud"
    port: int = 8002
    medium_risk_from: float = Field(
        0.3, ge=0, le=1, description="Risk at or above which the level is medium."
    )
    high_risk_from: float = Field(0.6, ge=0, le=1, description="Risk at or above which the level is high.")
    kafka_max_poll_records: int = Field(
        1000,
        ge=1,
        description="Records per poll; fraud applies a poll's CreatorUpserted events in one transaction, "
        "so bigger polls amortise the commit (~150 us per event, so a full poll is well inside the session timeout).",
    )
