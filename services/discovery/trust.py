"""What fraud found reaches discovery's ranking: audience checks and open anomalies (fraud.anomalies.v1).

Fraud's risk model scores a creator's public figures; an audience check (a classified follower sample)
and the anomaly detectors are stronger evidence, so they are kept on the creator row and change three
things: the ranking model's fraud-risk input (never lower than what the evidence says), the match score
(a brief is about reaching real people, so it counts only the real share of the audience), and the
reasons and confidence notes a shortlist carries to review.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.discovery.catalog import PoolRow
from services.discovery.models import Creator, CreatorAnomaly
from shared.events import AnomalyDetected, AnomalyReviewed, AudienceChecked, FraudScored, Reason

# Modash's avoid level (fraud's audience_report.AVOID_FAKE_SHARE): above it a creator's audience is suspect.
AVOID_FAKE_SHARE = 0.25
# An open anomaly of severity 1 halves the match: a person has to look before the creator is worth it.
ANOMALY_WEIGHT = 0.5
FAKE_CODES = ("fake_followers", "fake_share")
QUALITY_CODES = ("audience_quality", "audience_quality_score")


# The creator columns trust reads: an ORM row or the cheap row a brief's candidate pool is loaded as.
Evidence = Creator | PoolRow


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _reason_value(reasons: list[Reason], codes: tuple[str, ...]) -> float | None:
    return next((r.value for r in reasons if r.code in codes and r.value is not None), None)


def apply_check(row: Creator, fake: float | None, quality: float | None, checked_at: datetime) -> bool:
    """Keep the newest audience check on the row; False when this one is older than the stored one."""
    if fake is None and quality is None:
        return False
    stored = _aware(row.audience_checked_at)
    if stored is not None and stored > checked_at:
        return False
    if fake is not None:
        row.fake_share = fake
    if quality is not None:
        row.audience_quality = quality
    row.audience_checked_at = checked_at
    return True


def apply_scored_check(session: Session, org_id: str, event: FraudScored) -> None:
    """A score whose reasons carry an audience check's fake share or quality updates the check."""
    fake = _reason_value(event.reasons, FAKE_CODES)
    quality = _reason_value(event.reasons, QUALITY_CODES)
    if fake is None and quality is None:  # most scores: no audience check behind them
        return
    row = session.get(Creator, (org_id, event.creator_id))
    if row is not None and apply_check(row, fake, quality, event.scored_at):
        session.add(row)


def apply_audience_check(session: Session, org_id: str, event: AudienceChecked) -> None:
    """A confident check's fake share and quality become the creator's ranking evidence."""
    row = session.get(Creator, (org_id, event.creator_id))
    quality = float(event.audience_quality_score) if event.audience_quality_score is not None else None
    if row is not None and apply_check(row, event.fake_share, quality, event.measured_at):
        session.add(row)


def record_anomaly(session: Session, org_id: str, event: AnomalyDetected) -> None:
    """Keep the anomaly (idempotent by its id); a fake-follower finding is also an audience check."""
    if session.get(CreatorAnomaly, (org_id, event.anomaly_id)) is not None:
        return
    text = "; ".join(r.text for r in event.reasons)[:1000]
    session.add(
        CreatorAnomaly(org_id=org_id, anomaly_id=event.anomaly_id, creator_id=event.creator_id,
                       kind=event.kind, severity=event.severity, text=text, detected_at=event.detected_at)
    )  # fmt: skip
    session.flush()
    row = session.get(Creator, (org_id, event.creator_id))
    if row is None:
        return
    fake = _reason_value(event.reasons, FAKE_CODES) if event.kind in FAKE_CODES else None
    apply_check(row, fake, _reason_value(event.reasons, QUALITY_CODES), event.detected_at)
    refresh_severity(session, row)


def review_anomaly(session: Session, org_id: str, event: AnomalyReviewed) -> None:
    """A person's verdict: a dismissed anomaly stops counting, a confirmed one keeps counting."""
    found = session.get(CreatorAnomaly, (org_id, event.anomaly_id))
    if found is None:
        return
    found.status = "dismissed" if event.verdict == "dismissed" else "confirmed"
    session.add(found)
    session.flush()
    row = session.get(Creator, (org_id, found.creator_id))
    if row is not None:
        refresh_severity(session, row)


def refresh_severity(session: Session, row: Creator) -> None:
    severities = session.exec(
        select(CreatorAnomaly.severity).where(
            CreatorAnomaly.org_id == row.org_id,
            CreatorAnomaly.creator_id == row.creator_id,
            CreatorAnomaly.status != "dismissed",
        )
    ).all()
    row.anomaly_severity = max(severities, default=None)
    session.add(row)


def anomalies(session: Session, org_id: str, ids: list[str]) -> dict[str, list[CreatorAnomaly]]:
    """The anomalies not dismissed of the given creators, most severe first."""
    out: dict[str, list[CreatorAnomaly]] = defaultdict(list)
    if ids:
        stmt = select(CreatorAnomaly).where(
            CreatorAnomaly.org_id == org_id,
            col(CreatorAnomaly.creator_id).in_(ids),
            CreatorAnomaly.status != "dismissed",
        )
        for a in sorted(session.exec(stmt), key=lambda a: -a.severity):
            out[a.creator_id].append(a)
    return out


def ranking_risk(row: Evidence) -> float | None:
    """The fraud-risk input of the ranking model: the risk score, raised to what the evidence says (a
    fake share at the avoid level counts as 0.5, twice that as 1; an open anomaly as its severity)."""
    evidence = [
        r
        for r in (
            row.fraud_risk,
            min(1.0, row.fake_share / (2 * AVOID_FAKE_SHARE)) if row.fake_share is not None else None,
            row.anomaly_severity,
        )
        if r is not None
    ]
    return max(evidence) if evidence else None


def score_factor(row: Evidence) -> float:
    """What the match keeps: only the real share of the audience, less for an open anomaly."""
    real = 1.0 - (row.fake_share or 0.0)
    return real * (1.0 - ANOMALY_WEIGHT * (row.anomaly_severity or 0.0))


def fraud_reason(row: Evidence, max_fraud_risk: float, scored_at: datetime | None) -> Reason:
    """The fraud line of a shortlist entry: the risk score and, where there is one, the audience check."""
    if row.fraud_risk is None and row.fake_share is None:
        return Reason(code="fraud_unscored", text="not yet scored for fraud", direction=-1)
    risk = f"{row.fraud_level} fraud risk ({row.fraud_risk:.2f})" if row.fraud_risk is not None else ""
    if row.fake_share is None:
        return Reason(code="fraud_risk", text=f"{risk}; audience not checked yet", value=row.fraud_risk,
                      reference=max_fraud_risk, direction=1 if row.fraud_level == "low" else -1,
                      as_of=_aware(scored_at))  # fmt: skip
    quality = f", audience quality {row.audience_quality:.0f}" if row.audience_quality is not None else ""
    check = f"audience check: {row.fake_share:.0%} fake followers{quality}"
    bad = row.fake_share > AVOID_FAKE_SHARE
    return Reason(
        code="audience_check",
        text="; ".join(t for t in (risk, check) if t)
        + (f" (avoid above {AVOID_FAKE_SHARE:.0%})" if bad else ""),
        value=round(row.fake_share, 4),
        reference=AVOID_FAKE_SHARE,
        direction=-1 if bad or row.fraud_level != "low" else 1,
        as_of=_aware(row.audience_checked_at),
    )


def anomaly_reasons(found: list[CreatorAnomaly]) -> list[Reason]:
    return [
        Reason(
            code="open_anomaly",
            text=f"{a.status} anomaly {a.kind} (severity {a.severity:.2f})"
            + (f": {a.text}" if a.text else ""),
            value=a.severity,
            reference=0.0,
            direction=-1,
            as_of=_aware(a.detected_at),
        )
        for a in found[:3]
    ]


def notes(row: Evidence, found: list[CreatorAnomaly]) -> list[str]:
    """Why fraud evidence makes the creator doubtful: carried as confidence notes so review routes the
    entry to people."""
    out = []
    if row.fake_share is not None and row.fake_share > AVOID_FAKE_SHARE:
        out.append(
            f"audience check found {row.fake_share:.0%} fake followers (avoid above {AVOID_FAKE_SHARE:.0%})"
        )
    out += [f"{a.status} fraud anomaly: {a.kind} (severity {a.severity:.2f})" for a in found[:3]]
    return out
