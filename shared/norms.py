"""Published engagement norms every service compares against, with their engagement-rate definition.

Reference data, not logic: discovery and fraud both explain scores as "X vs the tier median", so the
medians live once. Feed platforms are per follower, short video per view (product.md):
- Instagram: nano creators ~2.2% per follower (product.md), falling with size;
- TikTok: ~5.7% per view (Rival IQ 2023 benchmark, per post);
- YouTube ~3.5%, VK ~1.5% per follower, Telegram ~3% per view of a post: orientation values from
  public benchmark reports, to be replaced by medians learned from our own catalogue.
The fall with size follows followers^-0.2, which takes Instagram from 2.2% at 5k to ~0.55% at 5M.
"""

from __future__ import annotations

BASE_ENGAGEMENT_AT_5K: dict[str, float] = {
    "instagram": 0.022,
    "tiktok": 0.057,
    "youtube": 0.035,
    "vk": 0.015,
    "telegram": 0.03,
}
SIZE_EXPONENT = -0.2


def engagement_norm(platform: str, followers: float) -> float:
    """Median engagement rate for an account of this platform and size."""
    return BASE_ENGAGEMENT_AT_5K[platform] * (max(followers, 1000.0) / 5000.0) ** SIZE_EXPONENT
