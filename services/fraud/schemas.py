"""Fraud request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import AccountStats, AudienceBreakdown, Reason
from shared.plausibility import Plausible
from shared.vocabulary import Platform, RiskLevel


class FiniteAccount(AccountStats):
    """An account as a request carries it: NaN and infinity are refused, naming the field."""

    model_config = ConfigDict(allow_inf_nan=False)


class ScoreRequest(BaseModel):
    """One account to score for fake followers and bought engagement."""

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
    account: FiniteAccount = Field(
        description="The account's public figures; leave out (or null) what you do not know and the answer says so in `reasons` and `confidence`."
    )


BATCH_SCORE_REQUEST_EXAMPLE = {"items": ScoreRequest.model_config["json_schema_extra"]["examples"]}  # type: ignore[index]


class BatchScoreRequest(BaseModel, json_schema_extra={"examples": [BATCH_SCORE_REQUEST_EXAMPLE]}):
    """Up to 10,000 accounts scored in one call, answered in the same order."""

    model_config = ConfigDict(extra="forbid")

    items: list[ScoreRequest] = Field(
        min_length=1, max_length=10_000, description="The accounts, 1 to 10,000."
    )


class ScoreOut(BaseModel):
    """A fraud risk score for one account, with the reasons behind it."""

    creator_id: str | None = Field(description="The `creator_id` you sent, or null when you sent none.")
    risk: float = Field(
        description="Probability-like risk that the account's audience or engagement is not genuine, 0 (clean) to 1."
    )
    level: RiskLevel = Field(
        description="The risk in words: low below 0.3, medium from 0.3, high from 0.6 (the service's default thresholds); unknown when it could not be scored."
    )
    reasons: list[Reason] = Field(description="What moved this score most, first; missing inputs last.")
    confidence: float = Field(1.0, description="1.0 with every input given; a quarter less per missing one.")
    model_name: str = Field(description="Name of the model that produced this answer.")
    model_version: str = Field(
        description="Version of that model (models/<name>/<version>); quote it when you question a result."
    )


class RowError(BaseModel):
    """Why one row of a columnar request was not scored."""

    row: int = Field(description="The row's position, from 0.")
    field: str = Field(description="The column with the bad value.")
    reason: str = Field(description="What is wrong with it.")


class ScoreColumnsOut(BaseModel):
    """Columnar scores: one list per field, in the request's row order; bad rows have a null risk."""

    model_name: str = Field(description="Name of the model that produced this answer.")
    model_version: str = Field(
        description="Version of that model (models/<name>/<version>); quote it when you question a result."
    )
    rows: int = Field(description="Rows in the request (the length of `risk` and `level`).")
    scored: int = Field(description="Rows scored.")
    rejected: int = Field(description="Rows not scored because a value was bad (listed in `errors`).")
    risk: list[float | None] = Field(
        description="Per row: risk 0 (clean) to 1, rounded to 4 decimals; null for a rejected row."
    )
    level: list[RiskLevel] = Field(
        description="Per row: low, medium or high by the service's thresholds; unknown for a rejected row."
    )
    errors: list[RowError] = Field(description="The bad values, first 1,000 at most.")


class StoredScoreOut(ScoreOut):
    """The latest stored fraud score of a creator (scored when the creator entered the catalogue or changed)."""

    scored_at: datetime = Field(description="When this score was computed (UTC).")


class BatchScoreOut(BaseModel):
    """Scores for a batch, in the order of the request's items."""

    scores: list[ScoreOut] = Field(description="One score per requested item, same order.")


class FollowerProfile(BaseModel):
    """One account in the fake-account feature schema; leave out what the source does not show."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    followers: int = Field(ge=0, description="Followers of this follower account.")
    following: int = Field(ge=0, description="Accounts this follower account follows.")
    posts: int = Field(ge=0, description="Posts this follower account has published.")
    bio_length: int | None = Field(None, ge=0, description="Characters in the biography.")
    has_profile_pic: bool | None = Field(
        None, description="Whether it has a profile picture; null when unknown."
    )
    is_private: bool | None = Field(None, description="Whether the account is private; null when unknown.")
    username: str | None = Field(None, max_length=100, description="Used for digit share and length.")
    username_digit_share: float | None = Field(None, ge=0, le=1, description="When the name is not given.")
    username_length: int | None = Field(
        None, ge=0, description="Characters in the username, when `username` is not given."
    )
    has_external_url: bool | None = Field(
        None, description="Whether the profile links to an outside site; null when unknown."
    )
    full_name: str | None = Field(
        None, max_length=200, description="The display name, if shown (only its presence and shape are used)."
    )
    # Demographics where the source shows them: not classifier inputs, they make the audience breakdown.
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    language: str | None = Field(None, min_length=2, max_length=8, description="ISO 639-1 code.")
    age: int | None = Field(None, ge=13, le=120, description="Age in years, where the source shows it.")
    gender: Literal["female", "male", "other"] | None = Field(
        None, description="Gender, where the source shows it."
    )


AUDIENCE_REQUEST_EXAMPLE = {
    "creator_id": "cr-0000042",
    "followers": [
        {
            "followers": 210,
            "following": 380,
            "posts": 34,
            "has_profile_pic": True,
            "username": "anna.k",
        },
        {
            "followers": 3,
            "following": 7450,
            "posts": 0,
            "has_profile_pic": False,
            "username": "user83920174",
        },
    ],
}


class AudienceRequest(BaseModel, json_schema_extra={"examples": [AUDIENCE_REQUEST_EXAMPLE]}):
    """A sample of a creator's followers; the creator's own account adds engagement and growth."""

    model_config = ConfigDict(extra="forbid")

    creator_id: str | None = Field(
        None,
        max_length=64,
        description="Your id for the creator; with it, a confident fake share above 25% is stored and published as an anomaly.",
    )
    followers: list[FollowerProfile] = Field(
        min_length=1,
        max_length=20_000,
        description="A random sample of the creator's followers, 1 to 20,000 (below 100 the answer is low_confidence, without a score).",
    )
    account: FiniteAccount | None = Field(None, description="The creator's account, for the engagement part.")
    sampled_at: AwareDatetime | None = Field(None, description="When the sample was taken (default: now).")


class FakeShareOut(BaseModel):
    """Share of fake accounts in the follower sample, corrected for the classifier's own error rates."""

    apparent: float = Field(description="Share the classifier flags, before correcting for its errors.")
    estimate: float | None = Field(description="Corrected share (Rogan-Gladen); null when low confidence.")
    low: float = Field(description="95% interval, sampling and classifier-rate uncertainty together.")
    high: float = Field(description="Upper end of the 95% interval (fraction 0-1); `low` is the lower end.")


class AudienceOut(BaseModel):
    """Audience quality of a creator from a follower sample."""

    creator_id: str | None = Field(description="The `creator_id` you sent, or null.")
    breakdowns: list[AudienceBreakdown] = Field(
        default_factory=list, description="Countries, languages, age bands, gender of the sample's followers."
    )
    state: str = Field(description="ready | low_confidence (too few followers, or the interval too wide)")
    sample_size: int = Field(description="Followers in the sample that were scored.")
    fake_share: FakeShareOut = Field(description="Estimated share of fake followers with its 95% interval.")
    follower_types: dict[str, float] = Field(
        description="Share (0-1) of the sample in each type: real, influencers, mass_followers (follow very many accounts), suspicious; they sum to 1."
    )
    audience_quality_score: int | None = Field(description="0-100; null when low confidence.")
    reasons: list[Reason] = Field(description="What drove the quality score, most important first.")
    correction: dict[str, float] = Field(
        description="The classifier's measured error rates used for the correction: sensitivity, specificity, and the validation counts behind them (validation_fakes, validation_real)."
    )
    model_name: str = Field(description="Name of the model that produced this answer.")
    model_version: str = Field(
        description="Version of that model (models/<name>/<version>); quote it when you question a result."
    )


class CommentIn(BaseModel):
    """One comment under the creator's recent posts."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=2000, description="The comment text (up to 2,000 characters).")
    author: str | None = Field(
        None,
        max_length=100,
        description="The commenter's handle, when known (repeated authors are a signal).",
    )


HISTORY_REQUEST_EXAMPLE = {
    "monthly_followers": [40100, 41200, 42050, 96000, 97100],
    "comments": [{"text": "Nice!", "author": "bot_1"}, {"text": "Nice!", "author": "bot_2"}],
}


class HistoryRequest(Plausible, json_schema_extra={"examples": [HISTORY_REQUEST_EXAMPLE]}):
    """A creator's history: month-end follower counts, recent comments, optional campaign hourly clicks."""

    model_config = ConfigDict(extra="forbid")

    monthly_followers: list[int] = Field(
        default_factory=list,
        max_length=240,
        description="Follower count at each month end, oldest first (up to 240 months); spikes are looked for here.",
    )
    comments: list[CommentIn] = Field(
        default_factory=list,
        max_length=20_000,
        description="Recent comments (up to 20,000); duplicated and generic comments are looked for here.",
    )
    account: FiniteAccount | None = Field(
        None, description="The creator's current account figures, for the engagement checks."
    )
    campaign_id: str | None = Field(
        None,
        max_length=64,
        description="The campaign the `hourly_clicks` belong to, stored with any anomaly found.",
    )
    hourly_clicks: list[float] = Field(
        default_factory=list,
        max_length=24 * 90,
        description="Clicks per hour of a campaign, oldest first (up to 90 days); bursts are looked for here.",
    )


class AnomalyOut(BaseModel):
    """Something suspicious found in a creator's data, waiting for (or carrying) a person's verdict."""

    anomaly_id: str = Field(description="Id of the anomaly (use it to review it).")
    creator_id: str = Field(description="The creator it concerns.")
    campaign_id: str | None = Field(description="The campaign whose data showed it, or null.")
    kind: str = Field(
        description="What was found, growth_spike, low_engagement, high_engagement, like_comment_ratio, engagement_pod, generic_comments, traffic_burst or fake_followers."
    )
    severity: float = Field(description="How strong the signal is, 0 (barely over the threshold) to 1.")
    reasons: list[Reason] = Field(description="The figures behind it, compared with what is typical.")
    source: str = Field(
        description="Where it was found: history (POST /v1/creators/{creator_id}/history), audience (POST /v1/audience) or campaign (results from the forecast service)."
    )
    status: str = Field(description="open until a person reviews it, then confirmed or dismissed.")
    detected_at: datetime = Field(description="When it was found (UTC).")


ANOMALY_REVIEW_IN_EXAMPLE = {
    "verdict": "confirmed",
    "notes": "Followers bought in March: 55k in a week from one region.",
}


class AnomalyReviewIn(BaseModel, json_schema_extra={"examples": [ANOMALY_REVIEW_IN_EXAMPLE]}):
    """A person's verdict on an anomaly, recorded as the caller."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirmed", "dismissed"] = Field(
        description="confirmed (it is fraud or fake activity) or dismissed (a false alarm)."
    )
    reviewer: str = Field(
        "",
        max_length=128,
        description="Optional: the verdict is the caller's; another name is refused (422).",
    )
    notes: str = Field(
        "",
        max_length=2000,
        description="Why, in a few words (up to 2,000 characters); kept with the verdict.",
    )


def _column(name: str, items: dict[str, Any]) -> dict[str, Any]:
    """One column of the columnar body, described as the account field it carries."""
    field = FiniteAccount.model_fields[name].description
    return {"type": "array", "items": items, "description": f"One value per row. {field}"}


NUMBER = {"type": "number", "minimum": 0}
# The columnar body of POST /v1/fraud/score/columns (services/fraud/bulk.py parses it with orjson, not pydantic).
SCORE_COLUMNS_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["columns"], "additionalProperties": False,
        "description": "Accounts as columns: one list per field, every list as long as `platform`.",
        "properties": {"columns": {
            "type": "object", "required": ["platform", "followers", "engagement_rate"], "additionalProperties": False,
            "description": "1 to 1,000,000 rows. Left-out optional columns count as unknown (following, posts) or 0.",
            "properties": {
                "creator_id": {"type": "array", "items": {"type": "string"},
                               "description": "One value per row: your id for the creator (not used in scoring)."},
                "platform": _column("platform", {"type": "string", "enum": list(get_args(Platform))}),
                "followers": _column("followers", NUMBER),
                "engagement_rate": _column("engagement_rate", {"type": "number", "minimum": 0, "maximum": 1}),
                "following": _column("following", {"anyOf": [NUMBER, {"type": "null"}]}),
                "posts": _column("posts", {"anyOf": [NUMBER, {"type": "null"}]}),
                "avg_likes": _column("avg_likes", NUMBER),
                "avg_comments": _column("avg_comments", NUMBER),
                "max_monthly_growth": _column("max_monthly_growth", {"type": "number"}),
                "median_monthly_growth": _column("median_monthly_growth", {"type": "number"}),
            },
        }},
        "examples": [{"columns": {"platform": ["instagram", "tiktok"], "followers": [120000, 8500],
                                  "engagement_rate": [0.004, 0.061], "posts": [640, None]}}],
    }}},
}  # fmt: skip
