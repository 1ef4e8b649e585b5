"""Discovery settings (env prefix TANDEM_DISCOVERY_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.retraining import RetrainSettings
from shared.settings import ServiceSettings


class DiscoverySettings(ServiceSettings, RetrainSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_DISCOVERY_", extra="ignore", env_file=".env")

    service_name: str = "discovery"
    port: int = 8001
    shortlist_size: int = Field(20, ge=1, le=200, description="Default shortlist length for a brief.")
    candidate_pool: int = Field(
        1000,
        ge=10,
        description="Filtered candidates the ranking model scores per brief (pre-selected in SQL by "
        "category, then audience share in the target markets).",
    )
    max_per_market: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Largest share of a shortlist one home market may take (market diversity).",
    )
    ranking_success_at: float = Field(
        1.0,
        gt=0,
        description="outcome_vs_forecast (actual / forecast of the main metric) at or above which a shortlisted "
        "collaboration counts as a success for the ranking model.",
    )
    retrain_every_outcomes: int = Field(
        200, ge=0, description="Retrain the ranking model after this many new outcomes (0 = never)."
    )
