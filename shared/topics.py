"""Topic names, defined once. The version suffix changes only with an incompatible event schema."""

from __future__ import annotations

from dataclasses import dataclass

CATALOG_CREATORS = "catalog.creators.v1"
FRAUD_SCORES = "fraud.scores.v1"
FRAUD_ANOMALIES = "fraud.anomalies.v1"
DISCOVERY_SHORTLISTS = "discovery.shortlists.v1"
REVIEW_TASKS = "review.tasks.v1"
REVIEW_DECISIONS = "review.decisions.v1"
REVIEW_RELATIONSHIPS = "review.relationships.v1"
FORECAST_ADJUSTMENTS = "forecast.adjustments.v1"
FRAUD_ANOMALY_LABELS = "fraud.anomaly_labels.v1"
FORECASTS = "forecast.forecasts.v1"
CAMPAIGN_RESULTS = "campaign.results.v1"
# The campaign across services: opened with its brief (discovery), stages (review's campaign record),
# plan versions and alerts (forecast), close and retrospective. Keyed by campaign id, so one campaign's
# events stay in order.
CAMPAIGN_LIFECYCLE = "campaign.lifecycle.v1"
# People's knowledge that outlives a campaign: lessons from retrospectives and experts' trend calls.
CAMPAIGN_INSIGHTS = "campaign.insights.v1"
EXPERIMENT_OBSERVATIONS = "experiments.observations.v1"
MODELS_PROMOTED = "models.promoted.v1"
MODELS_DRIFT = "models.drift.v1"
INTEGRATIONS_WEBHOOKS = "integrations.webhooks.v1"

DLQ_SUFFIX = ".dlq"


def dlq(topic: str) -> str:
    """Dead-letter topic for `topic`."""
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int


# Partition counts bound how far a consumer group can scale out; keyed topics keep per-aggregate order.
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(CATALOG_CREATORS, 6),
    TopicSpec(FRAUD_SCORES, 6),
    TopicSpec(FRAUD_ANOMALIES, 3),
    TopicSpec(DISCOVERY_SHORTLISTS, 3),
    TopicSpec(REVIEW_TASKS, 3),
    TopicSpec(REVIEW_DECISIONS, 3),
    TopicSpec(REVIEW_RELATIONSHIPS, 3),
    TopicSpec(FORECAST_ADJUSTMENTS, 3),
    TopicSpec(FRAUD_ANOMALY_LABELS, 3),
    TopicSpec(FORECASTS, 3),
    TopicSpec(CAMPAIGN_RESULTS, 3),
    TopicSpec(CAMPAIGN_LIFECYCLE, 3),
    TopicSpec(CAMPAIGN_INSIGHTS, 1),
    TopicSpec(EXPERIMENT_OBSERVATIONS, 3),
    TopicSpec(MODELS_PROMOTED, 1),
    TopicSpec(MODELS_DRIFT, 1),
    TopicSpec(INTEGRATIONS_WEBHOOKS, 1),
)


SERVICES = ("discovery", "fraud", "forecast", "review")
# Which services may publish to each topic (a consumer dead-letters an event whose producer is not one of
# them: shared/bus/provenance.py), and whose Kafka user gets WRITE on it (`tandem topics acls`).
PRODUCERS: dict[str, frozenset[str]] = {
    CATALOG_CREATORS: frozenset({"discovery"}),
    FRAUD_SCORES: frozenset({"fraud"}),
    FRAUD_ANOMALIES: frozenset({"fraud"}),
    DISCOVERY_SHORTLISTS: frozenset({"discovery"}),
    REVIEW_TASKS: frozenset({"review"}),
    REVIEW_DECISIONS: frozenset({"review"}),
    REVIEW_RELATIONSHIPS: frozenset({"review"}),
    FORECAST_ADJUSTMENTS: frozenset({"review"}),  # people push back on forecasts from review tasks
    FRAUD_ANOMALY_LABELS: frozenset({"fraud"}),
    FORECASTS: frozenset({"forecast"}),
    CAMPAIGN_RESULTS: frozenset({"forecast"}),
    CAMPAIGN_LIFECYCLE: frozenset({"discovery", "review", "forecast"}),  # docs/campaigns.md: one part each
    CAMPAIGN_INSIGHTS: frozenset({"review"}),
    EXPERIMENT_OBSERVATIONS: frozenset({"forecast"}),
    # Every service retrains its models, watches their drift and delivers its own webhooks.
    MODELS_PROMOTED: frozenset(SERVICES),
    MODELS_DRIFT: frozenset(SERVICES),
    INTEGRATIONS_WEBHOOKS: frozenset(SERVICES),
}


def may_produce(service: str, topic: str) -> bool:
    return service in PRODUCERS.get(topic, frozenset())


def all_topics() -> list[TopicSpec]:
    """Every topic with its dead-letter twin (one partition is plenty for dead letters)."""
    return [*TOPICS, *(TopicSpec(dlq(t.name), 1) for t in TOPICS)]
