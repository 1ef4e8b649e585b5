"""Campaign schedules: beat the naive plan and respect every constraint; impossible requests name the reason."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from services.forecast.schemas import PlanIn, PlanOut
from services.forecast.sequencing import plan
from shared.errors import Invalid
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel

REPO = Path(__file__).resolve().parents[2]
PLATFORMS = ["instagram", "tiktok", "youtube", "vk", "telegram"]
CONTENT = [
    {"content_id": "teaser", "format": "story"},
    {"content_id": "launch", "format": "reel", "after": ["teaser"], "not_before": "2026-12-10"},
    {"content_id": "review", "format": "long_video", "after": ["launch"]},
    {"content_id": "post", "format": "post"},
]
CHAIN = [{"content_id": "teaser", "format": "story"},
         {"content_id": "launch", "format": "reel", "after": ["teaser"]},
         {"content_id": "review", "format": "long_video", "after": ["launch"]}]  # fmt: skip


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return ModelRegistry(REPO / "models").load_champion("forecast")


def _request(n_creators: int = 12, **overrides: Any) -> PlanIn:
    rng = random.Random(1)
    creators = [{"creator_id": f"c{i}", "market": rng.choice(["US", "RU", "BR"]), "market_share": 0.5,
                 "accounts": [{"platform": p, "followers": rng.randint(5_000, 500_000), "engagement_rate": 0.03,
                               "cost_per_post_usd": rng.randint(100, 1_000)} for p in PLATFORMS]}
                for i in range(n_creators)]  # fmt: skip
    body = {"window_start": "2026-12-01", "window_end": "2026-12-28", "max_posts_per_creator_per_week": 2,
            "min_spacing_days": 2, "content": CONTENT, "creators": creators, **overrides}  # fmt: skip
    return PlanIn.model_validate(body)


@pytest.fixture(scope="module")
def budget_plan(model: OnnxModel) -> tuple[PlanIn, PlanOut]:
    req = _request(budget_usd=15_000)
    return req, plan(model, req)


def test_plan_beats_naive_plan_on_forecast_objective(budget_plan: tuple[PlanIn, PlanOut]) -> None:
    _, out = budget_plan
    assert out.total > out.naive_total
    assert out.uplift_vs_naive is not None and out.uplift_vs_naive > 0
    assert out.naive_violations  # the naive plan breaks what the proposed plan keeps
    assert out.explanation and all(p.why for p in out.posts)


def test_plan_stays_within_budget(budget_plan: tuple[PlanIn, PlanOut]) -> None:
    req, out = budget_plan
    assert req.budget_usd is not None
    assert sum(p.cost_usd for p in out.posts) <= req.budget_usd
    assert any(s["reason"] == "budget exhausted" for s in out.skipped)  # the budget binds in this case


def test_plan_respects_weekly_cap_and_spacing(budget_plan: tuple[PlanIn, PlanOut]) -> None:
    req, out = budget_plan
    weeks = Counter((p.creator_id, (p.day - req.window_start).days // 7) for p in out.posts)
    assert max(weeks.values()) <= req.max_posts_per_creator_per_week
    by_creator: dict[str, list[Any]] = {}
    for p in out.posts:
        by_creator.setdefault(p.creator_id, []).append(p.day)
    for days in by_creator.values():
        days.sort()
        assert all((b - a).days >= req.min_spacing_days for a, b in itertools.pairwise(days))


def test_plan_respects_order_window_and_not_before(budget_plan: tuple[PlanIn, PlanOut]) -> None:
    req, out = budget_plan
    day = {(p.creator_id, p.content_id): p.day for p in out.posts}
    assert all(req.window_start <= p.day <= req.window_end for p in out.posts)
    launches = [p for p in out.posts if p.content_id == "launch"]
    assert launches
    for p in launches:
        assert p.day >= req.content[1].not_before  # type: ignore[operator]
        assert day[(p.creator_id, "teaser")] < p.day
    for p in (p for p in out.posts if p.content_id == "review"):
        assert day[(p.creator_id, "launch")] < p.day


def test_plan_without_budget_schedules_every_post(model: OnnxModel) -> None:
    out = plan(model, _request(n_creators=5))
    assert len(out.posts) == 5 * len(CONTENT)
    assert not out.skipped


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"window_end": "2026-11-20"}, "window_end"),
        ({"window_end": "2026-12-03", "min_spacing_days": 2, "content": CHAIN}, "min_spacing_days"),
        ({"window_end": "2026-12-05", "min_spacing_days": 1, "max_posts_per_creator_per_week": 1, "content": CHAIN},
         "max_posts_per_creator_per_week"),
        ({"budget_usd": 10}, "budget_usd"),
        ({"content": [{"content_id": "a", "format": "post", "after": ["b"]},
                      {"content_id": "b", "format": "post", "after": ["a"]}]}, "content.after"),
        ({"content": [{"content_id": "a", "format": "post", "after": ["zzz"]}]}, "content.after"),
        ({"content": [{"content_id": "a", "format": "post", "not_before": "2027-02-01"}]}, "content.not_before"),
    ],
)  # fmt: skip
def test_plan_infeasible_constraint_is_named(model: OnnxModel, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as err:
        plan(model, _request(n_creators=2, **overrides))
    assert err.value.errors[0]["field"] == field


def test_plan_values_a_creators_posts_higher_on_its_own_niche(model: OnnxModel) -> None:
    """Two creators with the same accounts, one posting about the plan's category: it is forecast higher."""
    account = {
        "platform": "instagram",
        "followers": 80_000,
        "engagement_rate": 0.03,
        "cost_per_post_usd": 500,
    }
    creators = [{"creator_id": c, "market": "US", "market_share": 0.5, "accounts": [account], "categories": cats}
                for c, cats in (("beauty-fan", ["beauty"]), ("car-fan", ["auto"]))]  # fmt: skip
    out = plan(model, _request(category="beauty", creators=creators, content=CONTENT[-1:]))
    p50 = {p.creator_id: p.forecast_p50 for p in out.posts}
    assert p50["beauty-fan"] > 1.05 * p50["car-fan"]
    same = plan(model, _request(creators=creators, content=CONTENT[-1:]))  # no category said: no niche
    assert len({p.forecast_p50 for p in same.posts}) == 1
