"""A creator's follower and engagement history, with fraud's anomalies marked on it (JSON and SVG).

Every accepted ingest adds one point per account at its measurement date (`creator_metric`); the
anomalies fraud published (fraud.anomalies.v1) sit on the series at the date they were detected.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from sqlmodel import Session, col, select

from services.discovery.models import Creator, CreatorAnomaly, CreatorMetric
from services.discovery.schemas import AnomalyMarkerOut, HistoryOut, HistoryPointOut, HistorySeriesOut
from shared.db import insert_many
from shared.errors import NotFound

METRIC_KEY = ("org_id", "creator_id", "platform", "measured_on")


def metric_rows(org_id: str, payload: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The history points of one accepted payload (catalog.payload): one per account."""
    measured = payload.get("measured_on") or now.date()
    if isinstance(measured, str):
        measured = date.fromisoformat(measured)
    return [
        {"org_id": org_id, "creator_id": payload["creator_id"], "platform": a["platform"],
         "measured_on": measured, "followers": a["followers"], "engagement_rate": a["engagement_rate"]}
        for a in payload["accounts"]
    ]  # fmt: skip


def record(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store history points; a point of the same account and date replaces the stored one."""
    insert_many(session, CreatorMetric, rows, upsert_on=METRIC_KEY)


def history(session: Session, org_id: str, creator_id: str) -> HistoryOut:
    if session.get(Creator, (org_id, creator_id)) is None:
        raise NotFound(f"no creator {creator_id!r}", field="creator_id")
    points = session.exec(
        select(CreatorMetric)
        .where(CreatorMetric.org_id == org_id, CreatorMetric.creator_id == creator_id)
        .order_by(col(CreatorMetric.platform), col(CreatorMetric.measured_on))
    )
    by_platform: dict[str, list[HistoryPointOut]] = defaultdict(list)
    for p in points:
        by_platform[p.platform].append(
            HistoryPointOut(
                measured_on=p.measured_on, followers=p.followers, engagement_rate=p.engagement_rate
            )
        )
    found = session.exec(
        select(CreatorAnomaly)
        .where(CreatorAnomaly.org_id == org_id, CreatorAnomaly.creator_id == creator_id)
        .order_by(col(CreatorAnomaly.detected_at))
    )
    markers = [
        AnomalyMarkerOut(anomaly_id=a.anomaly_id, kind=a.kind, severity=a.severity, status=a.status,
                         detected_on=_day(a.detected_at), text=a.text)
        for a in found
    ]  # fmt: skip
    return HistoryOut(
        creator_id=creator_id,
        series=[
            HistorySeriesOut.model_validate({"platform": k, "points": v}) for k, v in by_platform.items()
        ],
        anomalies=markers,
        chart=f"/v1/creators/{creator_id}/history.svg",
    )


def _day(when: datetime) -> date:
    return (when.replace(tzinfo=UTC) if when.tzinfo is None else when).date()


# --- the chart ------------------------------------------------------------------------------------------

WIDTH, HEIGHT, PAD = 720, 300, 48
COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


class _Scale:
    """Dates to x and values to y of one panel (top: followers, bottom: engagement rate)."""

    def __init__(self, days: list[date], values: list[float], top: float, bottom: float) -> None:
        self.first = min(days).toordinal()
        self.span = max(max(days).toordinal() - self.first, 1)
        self.high = max(max(values), 1e-9)
        self.top, self.bottom = top, bottom

    def x(self, day: date) -> float:
        return PAD + (WIDTH - 2 * PAD) * (day.toordinal() - self.first) / self.span

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.high


def svg(out: HistoryOut) -> str:
    """The history as a self-contained SVG: followers above, engagement rate below, one line per
    platform, a red dashed line per anomaly at its date (its kind and text on hover)."""
    points = [p for s in out.series for p in s.points]
    days = [p.measured_on for p in points] + [a.detected_on for a in out.anomalies]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{PAD}" y="16" font-size="13">{escape(out.creator_id)}: followers and engagement</text>']  # fmt: skip
    if not days:
        parts.append(f'<text x="{PAD}" y="{HEIGHT // 2}">no measurements yet</text></svg>')
        return "".join(parts)
    mid = HEIGHT / 2
    panels = (
        ("followers", _Scale(days, [p.followers for p in points] or [1], 28, mid - 10), "{:,.0f}"),
        ("engagement_rate", _Scale(days, [p.engagement_rate for p in points] or [1], mid + 18, HEIGHT - 28), "{:.2%}"),
    )  # fmt: skip
    for field, scale, fmt in panels:
        parts.append(f'<text x="4" y="{scale.top + 4:.0f}">{fmt.format(scale.high)}</text>'
                     f'<text x="{PAD}" y="{scale.top - 4:.0f}" fill="#555">{field.replace("_", " ")}</text>'
                     f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{scale.bottom}" y2="{scale.bottom}" stroke="#999"/>')  # fmt: skip
        for series, colour in zip(out.series, COLOURS * 2, strict=False):
            xy = " ".join(
                f"{scale.x(p.measured_on):.1f},{scale.y(getattr(p, field)):.1f}" for p in series.points
            )
            parts.append(f'<polyline points="{xy}" fill="none" stroke="{colour}" stroke-width="2">'
                         f"<title>{series.platform}</title></polyline>")  # fmt: skip
    for i, (series, colour) in enumerate(zip(out.series, COLOURS * 2, strict=False)):  # the legend
        parts.append(f'<text x="{WIDTH - PAD - 90 * i}" y="16" fill="{colour}" '
                     f'text-anchor="end">{series.platform}</text>')  # fmt: skip
    scale = panels[0][1]
    for a in out.anomalies:
        x = scale.x(a.detected_on)
        title = escape(f"{a.detected_on} {a.status} anomaly {a.kind} (severity {a.severity:.2f}) {a.text}")
        parts.append(f'<g class="anomaly"><line x1="{x:.1f}" x2="{x:.1f}" y1="24" y2="{HEIGHT - 24}" '
                     f'stroke="#d62728" stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{HEIGHT - 12}" '
                     f'fill="#d62728">{escape(a.kind)}</text><title>{title}</title></g>')  # fmt: skip
    first, last = min(days), max(days)
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 4}">{first}</text>'
                 f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" text-anchor="end">{last}</text></svg>')  # fmt: skip
    return "".join(parts)
