"""Anomaly detectors: plain, fast rules on a creator's stats, history and campaign results.

Each detector compares a figure with a reference a reviewer can check (the tier norm, the account's own
typical month, a typical rate), and returns a finding with a severity in [0, 1]. Rules cost
microseconds, so they run on every event and request; a learned detector (e.g. IsolationForest, ~1 ms
per ONNX call) would belong in a batch job, off the request path.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from services.fraud.features import engagement_vs_norm
from services.fraud.schemas import HistoryRequest
from shared.events import AccountStats, CampaignResultReported, Reason
from shared.vocabulary import follower_tier

SPIKE_MIN_GROWTH = 0.15  # a month under +15% is not worth a person's time whatever the ratio
SPIKE_RATIO = 5.0
ROBUST_Z = 4.0  # |growth - median| / (1.4826 * MAD): ~4 sigma
LOW_ER_RATIO, HIGH_ER_RATIO = 0.3, 3.0
# Comments are 2-6% of interactions on typical feed posts; likes with almost no comments is the
# signature of bought likes, comments above 15% that of pods and comment bots.
COMMENT_SHARE_LOW, COMMENT_SHARE_HIGH = 0.005, 0.15
GENERIC_SHARE = 0.3
POD_DISTINCT_RATIO = 0.2  # fewer than 1 distinct commenter per 5 comments
CLICKS_WITHOUT_CONVERSIONS = 200
TYPICAL_CTR, CTR_BURST = 0.01, 0.10
GENERIC_COMMENTS = frozenset(
    {"nice", "great", "nice pic", "great post", "love it", "amazing", "awesome", "wow", "cool", "beautiful",
     "so cool", "great shot", "love this", "nice post", "follow me", "check my page", "dm me"}
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: float
    reasons: list[Reason]
    # The account stats the finding was raised on, when known: stored with the anomaly so its label later
    # trains the risk model on the account as it was then (see training_sets.py).
    account: AccountStats | None = None


def _severity(ratio: float, at_threshold: float = 0.3) -> float:
    """0.3 at the threshold, rising with the log of how far past it a figure is."""
    return round(min(1.0, at_threshold + 0.35 * math.log(max(ratio, 1.0))), 3)


def growth_spike(account: AccountStats) -> Finding | None:
    typical = max(account.median_monthly_growth, 0.005)
    ratio = account.max_monthly_growth / typical
    if account.max_monthly_growth < SPIKE_MIN_GROWTH or ratio < SPIKE_RATIO:
        return None
    text = f"followers grew {account.max_monthly_growth:.0%} in one month vs a typical {account.median_monthly_growth:.1%} (bought followers?)"
    reason = Reason(
        code="growth_spike", text=text, value=account.max_monthly_growth, reference=typical, direction=-1
    )
    return Finding("growth_spike", _severity(ratio / SPIKE_RATIO), [reason])


def engagement_vs_tier(account: AccountStats) -> Finding | None:
    er, norm = engagement_vs_norm(account)
    ratio = er / norm
    tier = follower_tier(account.followers)
    basis = "per view" if account.engagement_basis == "per_view" else "per follower"
    if ratio < LOW_ER_RATIO:
        text = f"engagement {er:.2%} {basis} vs {norm:.2%} median for {tier} {account.platform} creators (fake audience?)"
        reason = Reason(code="engagement_too_low", text=text, value=er, reference=norm, direction=-1)
        return Finding("low_engagement", _severity(LOW_ER_RATIO / max(ratio, 1e-3)), [reason])
    if ratio > HIGH_ER_RATIO:
        text = f"engagement {er:.2%} {basis} is {ratio:.1f}x the {norm:.2%} median for {tier} {account.platform} (pod?)"
        reason = Reason(code="engagement_too_high", text=text, value=er, reference=norm, direction=-1)
        return Finding("high_engagement", _severity(ratio / HIGH_ER_RATIO), [reason])
    return None


def like_comment_ratio(account: AccountStats) -> Finding | None:
    interactions = account.avg_likes + account.avg_comments
    if interactions < 50:  # too few interactions for a share to mean anything
        return None
    share = account.avg_comments / interactions
    if share > COMMENT_SHARE_HIGH:
        text = f"comments are {share:.0%} of interactions vs 2-6% typical (pod or comment bots?)"
        reason = Reason(code="comment_heavy", text=text, value=share, reference=0.04, direction=-1)
        return Finding("like_comment_ratio", _severity(share / COMMENT_SHARE_HIGH), [reason])
    if share < COMMENT_SHARE_LOW:
        text = f"{account.avg_likes:,.0f} likes but {account.avg_comments:,.1f} comments per post: {share:.2%} vs 2-6% typical (bought likes?)"
        reason = Reason(code="likes_without_comments", text=text, value=share, reference=0.04, direction=-1)
        return Finding("like_comment_ratio", _severity(COMMENT_SHARE_LOW / max(share, 1e-4)), [reason])
    return None


def account_anomalies(account: AccountStats) -> list[Finding]:
    """Every rule that fires on one account's current stats."""
    found = [growth_spike(account), engagement_vs_tier(account), like_comment_ratio(account)]
    return [replace(f, account=account) for f in found if f is not None]


def series_spikes(followers: list[int]) -> Finding | None:
    """Month-on-month growth far outside the account's own spread (robust z on median and MAD)."""
    counts = np.asarray(followers, dtype=float)
    if len(counts) < 4 or np.any(counts[:-1] <= 0):
        return None
    growth = np.diff(counts) / counts[:-1]
    median = float(np.median(growth))
    spread = max(1.4826 * float(np.median(np.abs(growth - median))), 0.01)
    z = (growth - median) / spread
    worst = int(np.argmax(z))
    if z[worst] < ROBUST_Z or growth[worst] < SPIKE_MIN_GROWTH:
        return None
    text = f"month {worst + 1}: followers +{growth[worst]:.0%} vs a typical {median:+.1%} ({z[worst]:.0f} robust sd)"
    reason = Reason(
        code="growth_spike", text=text, value=float(growth[worst]), reference=median, direction=-1
    )
    return Finding("growth_spike", _severity(float(z[worst]) / ROBUST_Z), [reason])


def _normalise(comment: str) -> str:
    return re.sub(r"[^\w ]+", "", comment.lower()).strip()


def comment_anomalies(texts: list[str], authors: list[str]) -> list[Finding]:
    """Repeated generic comments, and many comments from few people (engagement pods)."""
    if len(texts) < 20:
        return []
    found: list[Finding] = []
    norm = [_normalise(t) for t in texts]
    generic = sum(1 for t in norm if t in GENERIC_COMMENTS or not t)
    repeated = sum(c for c in Counter(norm).values() if c > 1)
    share = max(generic, repeated) / len(norm)
    if share > GENERIC_SHARE:
        text = f"{share:.0%} of {len(norm)} comments are generic or repeated vs under {GENERIC_SHARE:.0%} on organic posts"
        reason = Reason(
            code="generic_comments", text=text, value=share, reference=GENERIC_SHARE, direction=-1
        )
        found.append(Finding("generic_comments", _severity(share / GENERIC_SHARE), [reason]))
    if authors:
        distinct = len(set(authors)) / len(authors)
        if distinct < POD_DISTINCT_RATIO:
            text = f"{len(authors)} comments from {len(set(authors))} people ({distinct:.0%} distinct) (engagement pod?)"
            reason = Reason(
                code="few_commenters", text=text, value=distinct, reference=POD_DISTINCT_RATIO, direction=-1
            )
            found.append(
                Finding("engagement_pod", _severity(POD_DISTINCT_RATIO / max(distinct, 1e-3)), [reason])
            )
    return found


def traffic_burst(hourly_clicks: list[float]) -> Finding | None:
    """One hour with most of a campaign's clicks: bots or a click farm, not an audience."""
    clicks = np.asarray(hourly_clicks, dtype=float)
    total = float(clicks.sum())
    if len(clicks) < 6 or total < 100:
        return None
    median = float(np.median(clicks))
    peak = float(clicks.max())
    ratio = peak / max(median, 1.0)
    if ratio < 10 or peak / total < 0.3:
        return None
    text = f"{peak:,.0f} clicks in one hour ({peak / total:.0%} of {total:,.0f}) vs a median hour of {median:,.0f}"
    reason = Reason(code="traffic_burst", text=text, value=peak, reference=median, direction=-1)
    return Finding("traffic_burst", _severity(ratio / 10), [reason])


def campaign_anomalies(result: CampaignResultReported) -> list[Finding]:
    """Clicks without conversions, and click-through far above any organic rate."""
    found: list[Finding] = []
    if result.clicks >= CLICKS_WITHOUT_CONVERSIONS and result.conversions == 0:
        text = f"{result.clicks:,.0f} clicks and no conversion (a typical rate of 1-3% would give {0.01 * result.clicks:,.0f}+)"
        reason = Reason(
            code="clicks_without_conversions", text=text, value=result.clicks, reference=0.0, direction=-1
        )
        found.append(
            Finding(
                "clicks_without_conversions", _severity(result.clicks / CLICKS_WITHOUT_CONVERSIONS), [reason]
            )
        )
    if result.reach > 0 and result.clicks / result.reach > CTR_BURST:
        ctr = result.clicks / result.reach
        text = (
            f"click-through {ctr:.1%} of reach vs ~{TYPICAL_CTR:.0%} typical for creator posts (click farm?)"
        )
        reason = Reason(
            code="click_through_too_high", text=text, value=ctr, reference=TYPICAL_CTR, direction=-1
        )
        found.append(Finding("traffic_burst", _severity(ctr / CTR_BURST), [reason]))
    return found


def history_findings(history: HistoryRequest) -> list[Finding]:
    """Every detector that has data in a history request."""
    found: list[Finding | None] = [
        series_spikes(history.monthly_followers),
        traffic_burst(history.hourly_clicks),
    ]
    if history.account is not None:
        found.extend(account_anomalies(history.account))
    texts = [c.text for c in history.comments]
    authors = [c.author for c in history.comments if c.author is not None]
    found.extend(comment_anomalies(texts, authors))
    unique: dict[str, Finding] = {}
    for f in found:  # one anomaly per kind: the most severe
        if f is not None and (f.kind not in unique or f.severity > unique[f.kind].severity):
            unique[f.kind] = f
    # The request's account is the creator's state when every one of these was raised.
    return [replace(f, account=f.account or history.account) for f in unique.values()]
