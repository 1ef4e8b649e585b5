"""Review settings (env prefix TANDEM_REVIEW_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_REVIEW_", extra="ignore", env_file=".env")

    service_name: str = "review"
    port: int = 8004
    auto_approve_min_match: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Volume tier: match score at or above which a low-risk candidate is auto-approved.",
    )
    auto_approve_max_fraud: float = Field(
        0.25, ge=0, le=1, description="Volume tier: fraud risk at or below which auto-approval is allowed."
    )
    auto_reject_min_fraud: float = Field(
        0.7, ge=0, le=1, description="Volume tier: fraud risk at or above which a candidate is auto-rejected."
    )
    audit_sample_rate: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Share of auto-decisions also sent to people as an audit (deterministic).",
    )
    strategic_due_hours: int = Field(48, ge=1, description="Due time of a strategic review task.")
    volume_due_hours: int = Field(24, ge=1, description="Due time of a volume review task.")
