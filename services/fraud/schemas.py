"""Fraud request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import AccountStats, AudienceBreakdown, Reason
from shared.vocabulary import RiskLevel


class FiniteAccount(AccountStats):
    """An account as a request carries it: NaN and infinity are refused, naming the field."""

    model_config = ConfigDict(allow_inf_nan=False)


class ScoreRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "creator_id": "cr-0000042",
                    "account": {"platform": "instagram", "handle": "zoda_42", "followers": 120000, "following": 900,
                                "posts": 640, "engagement_rate": 0.004, "avg_likes": 450, "avg_comments": 30,
                                "max_monthly_growth": 0.45, "median_monthly_growth": 0.02},
                }
            ]
        },
    )  # fmt: skip

    creator_id: str | None = Field(None, max_length=64, description="Stored with the score when given.")
    account: FiniteAccount


class BatchScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ScoreRequest] = Field(min_length=1, max_length=10_000)


class ScoreOut(BaseModel):
    creator_id: str | None
    risk: float
    level: RiskLevel
    reasons: list[Reason] = Field(description="What moved this score most, first; missing inputs last.")
    confidence: float = Field(1.0, description="1.0 with every input given; a quarter less per missing one.")
    model_name: str
    model_version: str


class StoredScoreOut(ScoreOut):
    scored_at: datetime


class BatchScoreOut(BaseModel):
    scores: list[ScoreOut]


class FollowerProfile(BaseModel):
    """One account in the fake-account feature schema; leave out what the source does not show."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    followers: int = Field(ge=0)
    following: int = Field(ge=0)
    posts: int = Field(ge=0)
    bio_length: int | None = Field(None, ge=0, description="Characters in the biography.")
    has_profile_pic: bool | None = None
    is_private: bool | None = None
    username: str | None = Field(None, max_length=100, description="Used for digit share and length.")
    username_digit_share: float | None = Field(None, ge=0, le=1, description="When the name is not given.")
    username_length: int | None = Field(None, ge=0)
    has_external_url: bool | None = None
    full_name: str | None = Field(None, max_length=200)
    # Demographics where the source shows them: not classifier inputs, they make the audience breakdown.
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    language: str | None = Field(None, min_length=2, max_length=8, description="ISO 639-1 code.")
    age: int | None = Field(None, ge=13, le=120)
    gender: Literal["female", "male", "other"] | None = None


class AudienceRequest(BaseModel):
    """A sample of a creator's followers; the creator's own account adds engagement and growth."""

    model_config = ConfigDict(extra="forbid")

    creator_id: str | None = Field(None, max_length=64)
    followers: list[FollowerProfile] = Field(min_length=1, max_length=20_000)
    account: FiniteAccount | None = Field(None, description="The creator's account, for the engagement part.")
    sampled_at: AwareDatetime | None = Field(None, description="When the sample was taken (default: now).")


class FakeShareOut(BaseModel):
    apparent: float = Field(description="Share the classifier flags, before correcting for its errors.")
    estimate: float | None = Field(description="Corrected share (Rogan-Gladen); null when low confidence.")
    low: float = Field(description="95% interval, sampling and classifier-rate uncertainty together.")
    high: float


class AudienceOut(BaseModel):
    creator_id: str | None
    breakdowns: list[AudienceBreakdown] = Field(
        default_factory=list, description="Countries, languages, age bands, gender of the sample's followers."
    )
    state: str = Field(description="ready | low_confidence (too few followers, or the interval too wide)")
    sample_size: int
    fake_share: FakeShareOut
    follower_types: dict[str, float]
    audience_quality_score: int | None = Field(description="0-100; null when low confidence.")
    reasons: list[Reason]
    correction: dict[str, float]
    model_name: str
    model_version: str


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=2000)
    author: str | None = Field(None, max_length=100)


class HistoryRequest(BaseModel):
    """A creator's history: month-end follower counts, recent comments, optional campaign hourly clicks."""

    model_config = ConfigDict(extra="forbid")

    monthly_followers: list[int] = Field(default_factory=list, max_length=240)
    comments: list[CommentIn] = Field(default_factory=list, max_length=20_000)
    account: FiniteAccount | None = None
    campaign_id: str | None = Field(None, max_length=64)
    hourly_clicks: list[float] = Field(default_factory=list, max_length=24 * 90)


class AnomalyOut(BaseModel):
    anomaly_id: str
    creator_id: str
    campaign_id: str | None
    kind: str
    severity: float
    reasons: list[Reason]
    source: str
    status: str
    detected_at: datetime


class AnomalyReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirmed", "dismissed"]
    reviewer: str = Field(
        "",
        max_length=128,
        description="Optional: the verdict is the caller's; another name is refused (422).",
    )
    notes: str = Field("", max_length=2000)
