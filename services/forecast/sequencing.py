"""Propose a campaign schedule (greedy under constraints), explain it, and compare it with the naive plan.

Greedy by value (per dollar, under a budget): the most valuable (creator, content) goes first, and its
prerequisites for that creator (teaser before launch) are placed just before it. Each post
takes the best feasible (platform, day): spacing, per-week cap, order, not-before, budget, and room left in
the window for the content that must come after it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.forecast.scheduling import (
    PLATFORM_REPEAT,
    SAME_DAY,
    Slot,
    days,
    forecast_table,
    plan_total,
    validate,
)
from services.forecast.schemas import PlanContent, PlanCreator, PlanIn, PlannedPost, PlanOut
from shared.onnx_model import OnnxModel

Table = dict[tuple[str, str, str, int], float]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class State:
    """What is placed so far, for constraint checks."""

    budget_left: float
    posts: dict[str, list[Slot]] = field(default_factory=lambda: defaultdict(list))
    planned: list[PlannedPost] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def levels(content: list[PlanContent]) -> tuple[dict[str, int], dict[str, int]]:
    """Per content: depth (1 = no prerequisite) and tail (longest chain of content that must follow it)."""
    after = {c.content_id: c.after for c in content}
    depth: dict[str, int] = {}

    def d(cid: str) -> int:
        if cid not in depth:
            depth[cid] = 1 + max((d(p) for p in after[cid]), default=0)
        return depth[cid]

    for c in after:
        d(c)
    followers: dict[str, list[str]] = defaultdict(list)
    for cid, prereqs in after.items():
        for p in prereqs:
            followers[p].append(cid)
    tail: dict[str, int] = {}

    def t(cid: str) -> int:
        if cid not in tail:
            tail[cid] = max((1 + t(f) for f in followers[cid]), default=0)
        return tail[cid]

    return depth, {c: t(c) for c in after}


def _day_ok(req: PlanIn, mine: list[Slot], day: date) -> bool:
    if any(abs((day - s.day).days) < req.min_spacing_days for s in mine):
        return False
    week = (day - req.window_start).days // 7
    return (
        sum((s.day - req.window_start).days // 7 == week for s in mine) < req.max_posts_per_creator_per_week
    )


def _place(req: PlanIn, table: Table, cr: PlanCreator, c: PlanContent, tail: int, st: State) -> str | None:
    """Put one (creator, content) post on its best feasible slot; returns why it could not, if it could not."""
    mine = st.posts[cr.creator_id]
    placed = {s.content_id: s.day for s in mine}
    if missing := [p for p in c.after if p not in placed]:
        return f"prerequisite {', '.join(missing)} not scheduled for this creator"
    earliest = max([req.window_start, *([c.not_before] if c.not_before else []),
                    *(placed[p] for p in c.after)])  # fmt: skip
    free = [d for d in days(earliest, req.window_end) if d > earliest or not c.after]
    free = [d for d in free if (req.window_end - d).days >= tail * req.min_spacing_days]
    free = [d for d in free if _day_ok(req, mine, d)]
    if not free:
        return "no day satisfies spacing, the weekly cap and the order within the window"
    options = []
    for acc in cr.accounts:
        if acc.cost_per_post_usd > st.budget_left:
            continue
        repeat = PLATFORM_REPEAT ** sum(s.platform == acc.platform for s in mine)
        for d in (
            free[:7] if tail else free
        ):  # leave room for what follows: content with successors goes early
            base = table[(cr.creator_id, acc.platform, c.format, d.weekday())]
            options.append((base * repeat, -d.toordinal(), acc.platform, d, base, acc.cost_per_post_usd))
    if not options:
        return "budget exhausted"
    options.sort(reverse=True)
    value, _, platform, day, base, cost = options[0]
    runner_up = next((o for o in options if o[2] != platform), None)
    st.budget_left -= cost
    slot = Slot(cr.creator_id, c.content_id, platform, day)
    mine.append(slot)
    st.planned.append(PlannedPost(creator_id=cr.creator_id, content_id=c.content_id, platform=platform,
                                  format=c.format, day=day, forecast_p50=round(base, 1), value=round(value, 1),
                                  cost_usd=cost, why=_why(req, c, slot, value, runner_up)))  # fmt: skip
    return None


def _why(req: PlanIn, c: PlanContent, slot: Slot, value: float, runner_up: tuple[Any, ...] | None) -> str:
    parts = [f"{slot.platform} on {WEEKDAYS[slot.day.weekday()]} {slot.day} is the best feasible slot "
             f"({req.objective} {value:,.0f})"]  # fmt: skip
    if runner_up:
        parts.append(f"next best platform {runner_up[2]} {runner_up[0]:,.0f}")
    if c.after:
        parts.append(f"after {', '.join(c.after)} as required")
    if c.not_before:
        parts.append(f"not before {c.not_before}")
    return "; ".join(parts)


def _priority(req: PlanIn, table: Table, cr: PlanCreator, c: PlanContent) -> float:
    """Best forecast of a (creator, content); per dollar when a budget binds the plan."""
    per_account = (
        max(table[(cr.creator_id, a.platform, c.format, wd)] for wd in range(7))
        / (max(a.cost_per_post_usd, 1.0) if req.budget_usd is not None else 1.0)
        for a in cr.accounts
    )
    return max(per_account)


def ancestors(content: list[PlanContent], cid: str) -> list[str]:
    """Every content that must come before `cid`, nearest-last (so placing in this order respects the chain)."""
    after = {c.content_id: c.after for c in content}
    out: list[str] = []

    def walk(x: str) -> None:
        for p in after[x]:
            walk(p)
            if p not in out:
                out.append(p)

    walk(cid)
    return out


def optimise(
    req: PlanIn, table: Table, seed: State | None = None, done: set[tuple[str, str]] | None = None
) -> State:
    """Most valuable (creator, content) first; its missing prerequisites for that creator are placed just before.

    `seed` holds posts already fixed (a person locked them, or they went out) with the budget left after
    them, and `done` the (creator, content) pairs not to place again: re-optimising plans around them.
    """
    _, tail = levels(req.content)
    by_id = {c.content_id: c for c in req.content}
    tasks = sorted(((cr, c) for cr in req.creators for c in req.content),
                   key=lambda t: -_priority(req, table, t[0], t[1]))  # fmt: skip
    st = seed or State(budget_left=req.budget_usd if req.budget_usd is not None else float("inf"))
    done = set(done or ())
    for cr, c in tasks:
        for cid in [*ancestors(req.content, c.content_id), c.content_id]:
            if (cr.creator_id, cid) in done:
                continue
            done.add((cr.creator_id, cid))
            if reason := _place(req, table, cr, by_id[cid], tail[cid], st):
                st.skipped.append({"creator_id": cr.creator_id, "content_id": cid, "reason": reason})
                break
    return st


def naive(req: PlanIn, table: Table) -> tuple[list[Slot], list[str]]:
    """Everything on day one, on the single platform with the highest total forecast, within budget; what it breaks."""
    totals: dict[str, float] = defaultdict(float)
    for (_, platform, _, wd), v in table.items():
        if wd == req.window_start.weekday():
            totals[platform] += v
    top = max(totals, key=lambda p: totals[p])
    cost: dict[tuple[str, str], float] = {
        (cr.creator_id, a.platform): a.cost_per_post_usd for cr in req.creators for a in cr.accounts
    }
    left = req.budget_usd if req.budget_usd is not None else float("inf")
    slots = []
    for cr in req.creators:  # in the order given, until the money runs out: the one rule it keeps
        for c in req.content:
            if (cr.creator_id, top) in cost and cost[(cr.creator_id, top)] <= left:
                left -= cost[(cr.creator_id, top)]
                slots.append(Slot(cr.creator_id, c.content_id, top, req.window_start))
    broken = []
    if len(req.content) > 1:
        broken.append(f"min_spacing_days: {len(req.content)} posts per creator on one day")
    if len(req.content) > req.max_posts_per_creator_per_week:
        broken.append("max_posts_per_creator_per_week exceeded")
    if any(c.after for c in req.content):
        broken.append("order: prerequisites posted the same day as what follows them")
    if any(c.not_before and c.not_before > req.window_start for c in req.content):
        broken.append("not_before: content posted before its earliest day")
    return slots, broken


def plan(model: OnnxModel, req: PlanIn) -> PlanOut:
    """Validate, forecast every option in one batch, optimise, and compare with the naive plan."""
    validate(req)
    table = forecast_table(model, req)
    st = optimise(req, table)
    fmt: dict[str, str] = {c.content_id: c.format for c in req.content}
    slots = [Slot(p.creator_id, p.content_id, p.platform, p.day) for p in st.planned]
    total = plan_total(slots, table, fmt)
    naive_slots, broken = naive(req, table)
    naive_total = plan_total(naive_slots, table, fmt)
    uplift = total / naive_total - 1 if naive_total > 0 else None
    spend = sum(p.cost_usd for p in st.planned)
    return PlanOut(
        objective=req.objective, posts=sorted(st.planned, key=lambda p: (p.day, p.creator_id)),
        total=round(total, 1), naive_total=round(naive_total, 1),
        uplift_vs_naive=round(uplift, 4) if uplift is not None else None, naive_violations=broken,
        spend_usd=round(spend, 2), skipped=st.skipped,
        explanation=_explain(req, total, naive_total, spend, st), model_name=model.name, model_version=model.version,
    )  # fmt: skip


def _explain(req: PlanIn, total: float, naive_total: float, spend: float, st: State) -> list[str]:
    lines = [
        f"Objective: forecast p50 {req.objective}, summed over {len(st.planned)} posts: {total:,.0f} "
        f"(naive plan, everything on day one on the best platform: {naive_total:,.0f}).",
        f"Fatigue assumed: a second same-day post by a creator is worth {SAME_DAY}x; each repeat on the same "
        f"platform {PLATFORM_REPEAT}x, so the plan spreads posts over days and platforms.",
        f"Constraints: at most {req.max_posts_per_creator_per_week} posts per creator per week, "
        f"{req.min_spacing_days} day(s) apart, order and not-before dates respected.",
    ]
    if req.budget_usd is not None:
        lines.append(f"Budget: {spend:,.2f} of {req.budget_usd:,.2f} USD spent; "
                     f"posts were chosen by forecast per dollar.")  # fmt: skip
    if st.skipped:
        reasons: dict[str, int] = defaultdict(int)
        for s in st.skipped:
            reasons[s["reason"]] += 1
        lines.append("Not scheduled: " + "; ".join(f"{n} x {r}" for r, n in reasons.items()) + ".")
    return lines
