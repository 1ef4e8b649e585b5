"""Review settings (env prefix TANDEM_REVIEW_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.security import secret_problem
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
        "(sessions end on restart). Required in keys mode: 32+ characters, never a published default.",
    )
    session_hours: int = Field(12, ge=1, description="How long a web sign-in lasts.")
    login_max_failures_per_account: int = Field(
        10, ge=1, description="Failed sign-ins of one account within the window before it must wait."
    )
    login_max_failures_per_address: int = Field(
        50, ge=1, description="Failed sign-ins from one client address (any accounts) within the window."
    )
    login_window_s: int = Field(60, ge=1, description="The login throttling window.")
    session_cookie_secure: bool = Field(
        False,
        description="Always mark the session cookie Secure; otherwise it is Secure when the request came "
        "over HTTPS (directly, or as X-Forwarded-Proto from a proxy in forwarded_allow_ips).",
    )

    def production_problems(self) -> list[str]:
        problem = secret_problem("TANDEM_REVIEW_SESSION_SECRET", self.session_secret)
        return [*super().production_problems(), *([problem] if problem else [])]
