"""The constraints a person's edit must keep: approved creators, the campaign window, spacing between a
creator's posts and the weekly cap. A breach is a 422 naming the field; nothing is stored."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import pairwise

from services.forecast.campaigns.planner import Account, Line, PlanSettings, PlanState
from shared.errors import Invalid


def check_fixed(state: PlanState, fixed: list[Line], accounts: list[Account], posted: set[str]) -> None:
    """Refuse fixed lines that break a constraint: approved creator and window (unposted lines only: what
    went out is history, even if its creator was rejected later), spacing, weekly cap and budget (all)."""
    approved = {(a.creator_id, a.platform) for a in accounts}
    s = state.settings
    by_creator: dict[str, list[Line]] = defaultdict(list)
    for x in fixed:
        by_creator[x["creator_id"]].append(x)
        if x["line_id"] in posted:
            continue
        if (x["creator_id"], x["platform"]) not in approved:
            raise Invalid(f"line {x['line_id']}: creator {x['creator_id']} is not approved on {x['platform']} "
                          "for this campaign", field="creator_id")  # fmt: skip
        day = date.fromisoformat(x["scheduled_on"])
        if not s.window_start <= day <= s.window_end:
            raise Invalid(f"line {x['line_id']}: {day} is outside the campaign window {s.window_start} to "
                          f"{s.window_end}", field="scheduled_on")  # fmt: skip
    for creator, lines in by_creator.items():
        _check_spacing(s, creator, sorted(lines, key=lambda x: x["scheduled_on"]))
    cost = sum(x["cost_usd"] for x in fixed)
    if s.budget_usd is not None and cost > s.budget_usd + 1e-6:
        raise Invalid(f"locked and posted lines cost {cost:,.2f} USD, over the budget of {s.budget_usd:,.2f}",
                      field="cost_usd")  # fmt: skip


def _check_spacing(s: PlanSettings, creator: str, lines: list[Line]) -> None:
    days = [date.fromisoformat(x["scheduled_on"]) for x in lines]
    for (a, da), (b, db) in pairwise(zip(lines, days, strict=True)):
        if (db - da).days < s.min_spacing_days:
            raise Invalid(f"{creator}'s lines {a['line_id']} ({da}) and {b['line_id']} ({db}) are "
                          f"{(db - da).days} day(s) apart; the plan needs {s.min_spacing_days}", field="scheduled_on")  # fmt: skip
    weeks: dict[int, int] = defaultdict(int)
    for d in days:
        weeks[(d - s.window_start).days // 7] += 1
    if (week := max(weeks, key=lambda w: weeks[w])) is not None and weeks[week] > s.max_posts_per_week:
        raise Invalid(f"{creator} would post {weeks[week]} times in week {week + 1}; the plan allows "
                      f"{s.max_posts_per_week}", field="scheduled_on")  # fmt: skip
