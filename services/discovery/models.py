"""Discovery tables: the creator catalogue, campaigns with their shortlists, and the relationship history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

# The retrain rounds of the ranking model (the table shape every service shares); imported here so the
# discovery migrations see it.
from shared.retraining import RetrainRun as RetrainRun

WALK_INCLUDE = [
    "platform_mask",
    "category_mask",
    "language_mask",
    "fraud_risk",
    "price_usd",
    "max_market_er",
    "past_campaigns",
    "female_share",
]
# Where an unscored creator's fraud risk sorts: after every score, whichever the order (search.sort_expression).
# Written into ix_creator_org_fraud's expression and into the queries as the same literal: a bound value
# matches the index only in a plan made for that value, not in a prepared statement's generic plan.
NULL_SORT_LAST = "1e18"
# The micro tier's floor (shared.vocabulary.TIERS): every tier but nano, the usual floor of a brand's search.
SIZED_FLOOR = 10_000
# The lowest engagement ix_creator_market_er holds on PostgreSQL (migration 0013): about the top quarter of
# market rows (p75 of the benchmark's catalogue). A threshold below it matches most rows of its markets,
# which the share index (engagement included) finds as fast; keeping the rest out of the index took a
# third of the index maintenance of a bulk ingest at 1M creators (measured in the migration).
ENGAGEMENT_INDEXED_FROM = 0.05


class Creator(SQLModel, table=True):
    """One denormalised row per creator: search filters and sorts read this row alone (see search.py)."""

    __tablename__ = "creator"
    __table_args__ = (
        # Every sort order carries the usual filter columns, so a search walks it index-only and visits
        # a creator's row (and its market rows) only when the cheap filters pass.
        Index(
            "ix_creator_org_followers",
            "org_id",
            "followers",
            "creator_id",
            postgresql_include=[*WALK_INCLUDE, "engagement_rate"],
        ),
        Index(
            "ix_creator_org_engagement",
            "org_id",
            "engagement_rate",
            "creator_id",
            postgresql_include=[*WALK_INCLUDE, "followers"],
        ),
        # The same walk over creators of SIZED_FLOOR followers or more (PostgreSQL only, migration 0012):
        # engagement falls with size, so under a size floor the full index's top is accounts it rejects.
        Index(
            "ix_creator_org_engagement_sized",
            "org_id",
            "engagement_rate",
            "creator_id",
            postgresql_include=[*WALK_INCLUDE, "followers"],
            postgresql_where=text(f"followers >= {SIZED_FLOOR}"),
        ),
        Index(
            "ix_creator_org_growth",
            "org_id",
            "growth",
            "creator_id",
            postgresql_include=[*WALK_INCLUDE, "followers", "engagement_rate"],
        ),
        Index(
            "ix_creator_org_price",
            "org_id",
            "price_usd",
            "creator_id",
            postgresql_include=[*WALK_INCLUDE, "followers", "engagement_rate"],
        ),
        # The fraud-risk walk (PostgreSQL only, migration 0014). Key columns only: the walk reads each
        # creator's row to check filters, and stops at a page; a covering copy would cost every ingest more.
        Index(
            "ix_creator_org_fraud",
            "org_id",
            text(f"coalesce(fraud_risk, {NULL_SORT_LAST})"),
            "creator_id",
        ),
    )

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    home_market: str = Field(max_length=2)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    price_usd: float | None = None
    followers: int = Field(description="Followers of the largest account.")
    content_hash: str = Field(
        max_length=64, description="Hash of the ingested payload; unchanged re-ingest is a no-op."
    )
    updated_at: datetime
    fraud_risk: float | None = None
    fraud_level: str = Field(default="unknown", max_length=16)
    fraud_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fraud_model: str | None = Field(default=None, max_length=64)
    fraud_scored_at: datetime | None = None
    # Bit sets over the closed vocabularies (shared.vocabulary): "any of" filters become one `&` that
    # SQLite and PostgreSQL both evaluate, with no join and no JSON parsing per row.
    platform_mask: int = Field(default=0, description="Bit i set: has an account on PLATFORMS[i].")
    category_mask: int = Field(default=0, description="Bit i set: creates CATEGORIES[i] content.")
    language_mask: int = Field(default=0, description="Bit i set: speaks LANGUAGES[i].")
    engagement_rate: float = Field(default=0.0, description="Engagement rate of the largest account.")
    growth: float = Field(default=0.0, description="Median monthly follower growth of the largest account.")
    audience_known: float = Field(default=0.0, description="Sum of known audience shares (0..1).")
    max_market_er: float = Field(
        default=0.0, description="Highest engagement rate over the audience markets (a cheap pre-check)."
    )
    female_share: float | None = Field(default=None, description="Share of the audience that is female.")
    age_shares: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    profile: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="The ingested payload, so a shortlist loads a creator in one row.",
    )
    # What fraud's audience checks and anomaly detectors found (fraud.scores.v1, fraud.anomalies.v1):
    # ranking and reasons read them from the row, so a shortlist needs no extra query (see trust.py).
    fake_share: float | None = Field(default=None, description="Fake-follower share of the last check.")
    audience_quality: float | None = Field(default=None, description="Audience Quality Score 0-100.")
    audience_checked_at: datetime | None = None
    anomaly_severity: float | None = Field(
        default=None, description="Highest severity among the creator's anomalies not dismissed."
    )
    measured_on: date | None = Field(
        default=None, description="When the source measured the figures (freshness shown is this date)."
    )
    past_campaigns: int = Field(default=0, description="Campaigns with us (relationship history).")
    past_outcome: float | None = Field(
        default=None, description="Mean actual/forecast over completed campaigns with us."
    )


class CreatorMarket(SQLModel, table=True):
    __tablename__ = "creator_market"
    __table_args__ = (
        # Covering indexes: "engagement >= X in N of these markets" and "audience share >= x in any of
        # them" become index-only range scans on PostgreSQL. There the engagement index holds only rows
        # of ENGAGEMENT_INDEXED_FROM or more; a lower threshold scans the share index's market ranges.
        Index(
            "ix_creator_market_er",
            "org_id",
            "market",
            "engagement_rate",
            "creator_id",
            postgresql_where=text(f"engagement_rate >= {ENGAGEMENT_INDEXED_FROM}"),
        ),
        # A brief walks this one from the largest share down, filtering on the included columns
        # without touching the table, and stops once it has its candidate pool (see matching.py).
        Index(
            "ix_creator_market_share",
            "org_id",
            "market",
            "audience_share",
            "creator_id",
            postgresql_include=[
                "platform_mask",
                "category_mask",
                "fraud_risk",
                "followers",
                "share_known",
                "engagement_rate",
            ],
        ),
    )

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    market: str = Field(primary_key=True, max_length=2)
    audience_share: float = Field(description="0 where share_known is false.")
    share_known: bool = Field(
        default=True,
        description="False: a source names this the top audience country without measuring its share.",
    )
    engagement_rate: float
    # Copies of the creator's columns a brief filters on, so candidate pre-selection needs one index.
    platform_mask: int = Field(default=0)
    category_mask: int = Field(default=0)
    fraud_risk: float | None = None
    followers: int = Field(default=0)


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"

    campaign_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    tier: str = Field(max_length=16)
    brief: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    brand: str = Field(default="", max_length=200)
    objective: str = Field(default="awareness", max_length=16)
    starts_on: date | None = None
    ends_on: date | None = None
    owner: str = Field(default="", max_length=100, description="The principal who submitted the brief.")


class Shortlist(SQLModel, table=True):
    __tablename__ = "shortlist"

    shortlist_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    org_id: str = Field(max_length=64)
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=32)
    candidates_considered: int
    entries: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime


class ShortlistFeatures(SQLModel, table=True):
    """The ranking model's input row for one shortlisted creator, exactly as it was scored.

    Written with the shortlist and never updated: a later catalogue change (followers, audience, fraud
    score, price) cannot reach the training row of an outcome (point-in-time, see training_sets.py).
    """

    __tablename__ = "shortlist_features"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    shortlist_id: str = Field(max_length=64)
    rank: int
    match_score: float
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=32)
    feature_names: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    features: list[float | None] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="One value per feature name; null where the model saw NaN (JSON has no NaN).",
    )
    created_at: datetime


class RankingOutcome(SQLModel, table=True):
    """How a shortlisted collaboration went, from RelationshipUpdated: the ranking model's label."""

    __tablename__ = "ranking_outcome"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    outcome_vs_forecast: float
    success: bool = Field(description="outcome_vs_forecast >= the success threshold when recorded")
    status: str = Field(max_length=16)
    recorded_at: datetime = Field(
        index=True, description="When the first outcome arrived (orders the hold-out)."
    )
    updated_at: datetime = Field(description="updated_at of the newest RelationshipUpdated applied.")


class Collaboration(SQLModel, table=True):
    """What review decided about a creator for one of our campaigns: the relationship history."""

    __tablename__ = "collaboration"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    decision: str = Field(max_length=16)
    automated: bool
    decided_at: datetime


class Relationship(SQLModel, table=True):
    """How a collaboration went, from review's RelationshipUpdated events (newest wins per campaign)."""

    __tablename__ = "relationship"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(max_length=16)
    outcome_vs_forecast: float | None = None
    notes: str = ""
    incidents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class Insight(SQLModel, table=True):
    """A lesson or a trend call recorded in review (campaign.insights.v1), shown on briefs in its scope."""

    __tablename__ = "insight"
    __table_args__ = (Index("ix_insight_org_kind", "org_id", "kind"),)

    insight_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(max_length=64)
    kind: str = Field(max_length=8, description="lesson | trend")
    scope: str = Field(max_length=16, description="A lesson's scope; 'trend' for a trend call.")
    scope_value: str = Field(max_length=100)
    market: str | None = Field(default=None, max_length=2)
    platform: str | None = Field(default=None, max_length=16)
    text: str = Field(max_length=2000)
    rule: str = Field(default="", max_length=500)
    direction: str | None = Field(default=None, max_length=8)
    confidence: float | None = None
    expires_on: date | None = None
    campaign_id: str | None = Field(default=None, max_length=64)
    author: str = Field(max_length=100)
    recorded_at: datetime


class CreatorAnomaly(SQLModel, table=True):
    """An anomaly fraud detected on a creator (fraud.anomalies.v1), until a person dismisses it."""

    __tablename__ = "creator_anomaly"
    __table_args__ = (Index("ix_creator_anomaly_creator", "org_id", "creator_id"),)

    org_id: str = Field(primary_key=True, max_length=64)
    anomaly_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    severity: float
    text: str = Field(default="", max_length=1000)
    status: str = Field(default="open", max_length=16, description="open | confirmed | dismissed")
    detected_at: datetime


class PersonMember(SQLModel, table=True):
    """One account (a catalogue creator) of a person who has several: linked by the linker (people.py)
    from normalised handles and names or a source's cross-link, or by a person (decided_by)."""

    __tablename__ = "person_member"
    __table_args__ = (Index("ix_person_member_person", "org_id", "person_id"),)

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(max_length=64)
    method: str = Field(max_length=16, description="cross_link | handle | name | manual")
    confidence: float = Field(description="How sure the link is (1.0 when a person made it).")
    evidence: str = Field(default="", max_length=500, description="What matched, in words.")
    decided_by: str = Field(default="", max_length=100, description="The person who linked it; '' = linker.")
    decided_at: datetime


class PersonSplit(SQLModel, table=True):
    """A person's judgement that two accounts are not the same person: the linker never joins them again."""

    __tablename__ = "person_split"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    other_id: str = Field(primary_key=True, max_length=64)
    decided_by: str = Field(max_length=100)
    decided_at: datetime


class CreatorVersion(SQLModel, table=True):
    """Every differing version of a creator's figures that reached us, with its measurement date: when two
    sources disagree, both are kept, and the creator row shows one of them (the newest measured)."""

    __tablename__ = "creator_version"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    content_hash: str = Field(primary_key=True, max_length=64)
    measured_on: date | None = None
    received_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AudienceCheck(SQLModel, table=True):
    """The newest audience check fraud made of a creator (fraud.audience_checked), as the report shows it."""

    __tablename__ = "audience_check"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    check_id: str = Field(max_length=64)
    state: str = Field(max_length=16, description="ready | low_confidence")
    sample_size: int
    fake_share: float | None = None
    fake_share_low: float
    fake_share_high: float
    follower_types: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    audience_quality_score: int | None = None
    breakdowns: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=32)
    measured_at: datetime
    checked_at: datetime


class CreatorMetric(SQLModel, table=True):
    """One measurement of a creator's account (followers, engagement): the history a chart draws.

    Written on every accepted ingest, one row per account and measurement date (the ingest date when the
    source gives none); a re-ingest of the same date replaces its figures."""

    __tablename__ = "creator_metric"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(primary_key=True, max_length=16)
    measured_on: date = Field(primary_key=True)
    followers: int
    engagement_rate: float
