"""A creator's audience report: what fraud's newest audience check and the catalogue say, each figure
with its source, measurement date and confidence.

Fraud's check (fraud.audience_checked) classifies a follower sample, so its shares carry a sample size
and 95% intervals; the catalogue holds what an import reported (audience markets, age bands, female
share) with no sample size. Per dimension the newer measurement is shown, the check on a tie.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlmodel import Session

from services.discovery.models import AudienceCheck, Creator
from services.discovery.schemas import (
    AudienceReportOut,
    AudienceSectionOut,
    AudienceShareOut,
    FakeShareSectionOut,
)
from shared.errors import NotFound
from shared.events import AudienceChecked

CHECK = "fraud audience check"
CATALOGUE = "catalogue import"
# fraud's audience.py: a share needs 100+ followers and an interval no wider than 25 points to be scored.
MIN_SAMPLE = 100
MAX_INTERVAL_WIDTH = 0.25


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def record_check(session: Session, org_id: str, event: AudienceChecked) -> None:
    """Keep the creator's newest check (by when the sample was taken); an older one is ignored."""
    stored = session.get(AudienceCheck, (org_id, event.creator_id))
    if stored is not None and _aware(stored.measured_at) > event.measured_at:
        return
    row = stored or AudienceCheck(org_id=org_id, creator_id=event.creator_id, check_id=event.check_id,
                                  state=event.state, sample_size=0, fake_share_low=0, fake_share_high=1,
                                  model_name="", model_version="", measured_at=event.measured_at,
                                  checked_at=event.checked_at)  # fmt: skip
    fields = event.model_dump(mode="python", exclude={"creator_id"})
    fields["breakdowns"] = [b.model_dump(mode="json") for b in event.breakdowns]
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)


def _check_section(check: AudienceCheck, dimension: str) -> AudienceSectionOut | None:
    found = next((b for b in check.breakdowns if b["dimension"] == dimension), None)
    if found is None or not found["shares"]:
        return None
    n = found["sample_size"]
    widest = max(s["high"] - s["low"] for s in found["shares"])
    sure = n >= MIN_SAMPLE and widest <= MAX_INTERVAL_WIDTH
    return AudienceSectionOut(
        source=CHECK, measured_at=_aware(check.measured_at), sample_size=n,
        confidence="high" if sure else "low",
        note="" if sure else f"{n} followers with a known {dimension}: intervals up to {widest:.0%} wide",
        shares=[AudienceShareOut(**s) for s in found["shares"]],
    )  # fmt: skip


def _measured(row: Creator) -> tuple[datetime, str]:
    if row.measured_on is not None:
        return datetime.combine(row.measured_on, time(), UTC), ""
    return _aware(row.updated_at), "the source gave no measurement date: this is when it was imported"


def _catalogue_section(row: Creator, shares: list[AudienceShareOut], note: str) -> AudienceSectionOut | None:
    if not shares:
        return None
    when, undated = _measured(row)
    text = "; ".join(t for t in ("reported by the source, no sample size", note, undated) if t)
    return AudienceSectionOut(source=CATALOGUE, measured_at=when, sample_size=None, confidence="unknown",
                              note=text, shares=sorted(shares, key=lambda s: -(s.share or 0)))  # fmt: skip


def _catalogue_countries(row: Creator) -> AudienceSectionOut | None:
    profile: dict[str, Any] = row.profile
    shares = [
        AudienceShareOut(value=m["market"], share=m["audience_share"]) for m in profile.get("audience", [])
    ]
    top = profile.get("top_audience_market")
    note = ""
    if top and all(s.value != top for s in shares):
        shares.append(AudienceShareOut(value=top, share=None))
        note = f"{top} named as the top audience country, its share not measured"
    return _catalogue_section(row, shares, note)


def _catalogue_age(row: Creator) -> AudienceSectionOut | None:
    return _catalogue_section(
        row, [AudienceShareOut(value=b, share=s) for b, s in row.age_shares.items()], ""
    )


def _catalogue_gender(row: Creator) -> AudienceSectionOut | None:
    if row.female_share is None:
        return None
    shares = [AudienceShareOut(value="female", share=row.female_share),
              AudienceShareOut(value="male or other", share=round(1 - row.female_share, 4))]  # fmt: skip
    return _catalogue_section(row, shares, "")


def _newer(a: AudienceSectionOut | None, b: AudienceSectionOut | None, missing: str) -> AudienceSectionOut:
    """The newer of two measurements (`a` on a tie), or an empty section saying what is missing."""
    found = [s for s in (a, b) if s is not None]
    if not found:
        return AudienceSectionOut(source=None, measured_at=None, sample_size=None, confidence="unknown",
                                  note=missing)  # fmt: skip
    return max(found, key=lambda s: s.measured_at or datetime.min.replace(tzinfo=UTC))


def _fake_share(check: AudienceCheck | None) -> FakeShareSectionOut:
    if check is None:
        return FakeShareSectionOut(source=None, measured_at=None, sample_size=None, confidence="unknown",
                                   estimate=None, note="no audience check yet")  # fmt: skip
    ready = check.state == "ready"
    return FakeShareSectionOut(
        source=CHECK, measured_at=_aware(check.measured_at), sample_size=check.sample_size,
        confidence="high" if ready else "low",
        note="" if ready else f"{check.sample_size} followers sampled: too few for a fake share",
        estimate=check.fake_share, low=check.fake_share_low, high=check.fake_share_high,
        audience_quality_score=check.audience_quality_score, model=f"{check.model_name}:{check.model_version}",
    )  # fmt: skip


def _follower_types(check: AudienceCheck | None) -> AudienceSectionOut:
    if check is None:
        return _newer(None, None, "no audience check yet")
    shares = sorted((AudienceShareOut(value=k, share=v) for k, v in check.follower_types.items()),
                    key=lambda s: -(s.share or 0))  # fmt: skip
    sure = check.sample_size >= MIN_SAMPLE
    return AudienceSectionOut(source=CHECK, measured_at=_aware(check.measured_at), sample_size=check.sample_size,
                              confidence="high" if sure else "low", shares=shares)  # fmt: skip


def report(session: Session, org_id: str, creator_id: str) -> AudienceReportOut:
    row = session.get(Creator, (org_id, creator_id))
    if row is None:
        raise NotFound(f"no creator {creator_id!r}", field="creator_id")
    check = session.get(AudienceCheck, (org_id, creator_id))

    def from_check(dimension: str) -> AudienceSectionOut | None:
        return _check_section(check, dimension) if check is not None else None

    content = ", ".join(row.languages)
    no_languages = "no audience check with follower languages yet" + (
        f" (the creator posts in {content}: content languages, not the audience's)" if content else ""
    )
    return AudienceReportOut(
        creator_id=creator_id,
        name=row.name,
        countries=_newer(from_check("country"), _catalogue_countries(row), "no audience countries known"),
        languages=_newer(from_check("language"), None, no_languages),
        age=_newer(from_check("age"), _catalogue_age(row), "no audience ages known"),
        gender=_newer(from_check("gender"), _catalogue_gender(row), "no audience gender known"),
        fake_share=_fake_share(check),
        follower_types=_follower_types(check),
    )
