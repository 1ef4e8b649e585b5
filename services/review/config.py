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
        description="Share of a campaign's auto-decisions also sent to people as an audit (deterministic; "
        "rounded half up, at least one when anything was auto-decided).",
    )
    # On by default (issue 14: a creator we never worked with is a judgement for people). Until a brand's
    # history fills up most creators are first-time, so the volume tier decides little at first; a brand
    # that accepts that risk switches it off per brand or campaign (PUT /v1/settings).
    first_time_to_people: bool = Field(
        True,
        description="Volume tier: send creators we never worked with to people instead of auto-approving.",
    )
    fraud_max_age_days: int = Field(
        30, ge=1, description="A fraud score older than this is stale: the finalist goes to people."
    )
    strategic_due_hours: int = Field(48, ge=1, description="Due time of a strategic review task.")
    volume_due_hours: int = Field(24, ge=1, description="Due time of a volume review task.")
    audit_due_hours: int = Field(72, ge=1, description="Due time of an audit task.")
    escalation_due_hours: int = Field(24, ge=1, description="Due time of an escalated task.")
    strategic_reviewers: int = Field(
        2, ge=1, le=3, description="People who must agree on a strategic finalist."
    )
    sweep_interval_s: float = Field(
        60.0, gt=0, description="How often overdue tasks are looked for and escalated (off the request path)."
    )
    session_secret: str = Field(
        "",
        description="Key that signs the web app's session cookies; empty means a random key per process "
        "(sessions end on restart). Set it in production.",
    )
    session_hours: int = Field(12, ge=1, description="How long a web sign-in lasts.")
