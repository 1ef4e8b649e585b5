"""The campaign's content plan: approved creators -> PlanIn -> the existing greedy planner -> plan lines,
each with its forecast interval, message variant and a reason in words.

A version's state (stored as JSON) is the whole plan: settings, variants, lines, dropped pairs and the
people's adjustments. Re-optimising keeps fixed lines (locked by a person, or already posted) exactly as
they are and re-plans the rest around them with the same greedy planner, seeded with the fixed lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.forecast.adjustments import adjusted
from services.forecast.campaigns import messaging
from services.forecast.features import PlannedContent
from services.forecast.forecasting import forecast
from services.forecast.learning import Learnt, variant_key
from services.forecast.learnt_cache import described
from services.forecast.models import Campaign, CampaignCreator
from services.forecast.planning import about
from services.forecast.scheduling import Slot, forecast_table, validate
from services.forecast.schemas import PlanAccount, PlanContent, PlanCreator, PlanIn
from services.forecast.sequencing import WEEKDAYS, State, optimise
from shared.onnx_model import OnnxModel
from shared.vocabulary import MARKETS, SHORT_VIDEO_PLATFORMS

# USD per post per 1,000 followers: round market rates (an assumption, shown in every line's reason until
# a person sets the agreed fee with a cost edit).
FEE_PER_1K_FOLLOWERS = {"instagram": 10.0, "tiktok": 6.0, "youtube": 20.0, "vk": 5.0, "telegram": 8.0}
MIN_FEE_USD = 50.0
# The metric a campaign's objective is judged on, and the model head the planner maximises for it
# (conversions are derived from engagements, so engagements order conversion posts the same way).
OBJECTIVE_METRIC = {"awareness": "reach", "engagement": "engagements", "conversions": "conversions"}
PLANNER_HEAD = {"reach": "reach", "engagements": "engagements", "conversions": "engagements"}
# Three posts per creator over a four-week window (stories carry links best, so conversions lean on them).
DEFAULT_FORMATS = {"awareness": ["reel", "post", "reel"], "engagement": ["reel", "post", "reel"],
                   "conversions": ["story", "post", "story"]}  # fmt: skip
METRICS = ("reach", "engagements", "clicks", "conversions")

Line = dict[str, Any]


@dataclass
class Account:
    creator_id: str
    name: str
    platform: str
    followers: int
    engagement_rate: float
    market: str
    market_share: float
    category: str | None = None  # the brief's (the campaign's), whatever the model knows of it
    categories: list[str] = field(default_factory=list)  # the creator's own, as review's decision carried


@dataclass
class PlanSettings:
    objective: str
    metric: str
    window_start: date
    window_end: date
    budget_usd: float | None
    min_spacing_days: int
    max_posts_per_week: int
    formats: list[str]
    post_hour: int = 19

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat()}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PlanSettings:
        return cls(**{**d, "window_start": date.fromisoformat(d["window_start"]),
                      "window_end": date.fromisoformat(d["window_end"])})  # fmt: skip


@dataclass
class PlanState:
    settings: PlanSettings
    variants: list[dict[str, str]]
    lines: list[Line] = field(default_factory=list)
    dropped: list[list[str]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    fees: dict[str, float] = field(default_factory=dict, metadata={"doc": "'creator|platform' -> agreed fee"})
    next_line: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"settings": self.settings.to_json(), "variants": self.variants, "lines": self.lines,
                "dropped": self.dropped, "adjustments": self.adjustments, "fees": self.fees,
                "next_line": self.next_line}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PlanState:
        return cls(settings=PlanSettings.from_json(d["settings"]), variants=d["variants"], lines=d["lines"],
                   dropped=d["dropped"], adjustments=d["adjustments"], fees=d["fees"], next_line=d["next_line"])  # fmt: skip

    def variant_ids(self) -> list[str]:
        return [v["variant_id"] for v in self.variants]

    def kinds(self) -> dict[str, str | None]:
        """Variant id -> the kind of message it declared (None: not declared, or a plan stored before kinds)."""
        return {v["variant_id"]: v.get("kind") for v in self.variants}


def fee(platform: str, followers: int) -> float:
    return round(max(MIN_FEE_USD, followers / 1000 * FEE_PER_1K_FOLLOWERS.get(platform, 10.0)), 2)


def fee_of(fees: dict[str, float], a: Account) -> float:
    """The agreed fee a person entered for the account, else the rule-of-thumb fee."""
    return fees.get(f"{a.creator_id}|{a.platform}", fee(a.platform, a.followers))


def accounts_of(campaign: Campaign, approved: list[CampaignCreator]) -> list[Account]:
    """One account per approved (creator, platform) on the campaign's platforms, in its best target market."""
    out = []
    for row in approved:
        s = row.snapshot
        if campaign.platforms and row.platform not in campaign.platforms:
            continue
        targets = set(campaign.markets or row.target_markets)
        audience = [a for a in s.get("audience", []) if a["market"] in targets and a["market"] in MARKETS]
        best = max(audience, key=lambda a: a["audience_share"], default=None)
        market = best["market"] if best else s["home_market"]
        if market not in MARKETS:
            continue  # the model knows no such market; such a creator cannot be forecast
        out.append(Account(row.creator_id, s.get("name", ""), row.platform, int(s["followers"]),
                           float(s["engagement_rate"]), market, best["audience_share"] if best else 0.5,
                           campaign.category, list(s.get("categories", []))))  # fmt: skip
    return out


def plan_request(settings: PlanSettings, accounts: list[Account], fees: dict[str, float]) -> PlanIn:
    """The greedy planner's request: every approved account, one content slot per format in the settings."""
    creators: dict[str, PlanCreator] = {}
    for a in accounts:
        acc = PlanAccount(platform=a.platform, followers=a.followers, engagement_rate=a.engagement_rate,
                          cost_per_post_usd=fee_of(fees, a))  # fmt: skip
        if a.creator_id in creators:
            creators[a.creator_id].accounts.append(acc)
        else:
            creators[a.creator_id] = PlanCreator(creator_id=a.creator_id, market=a.market,
                                                 market_share=a.market_share, accounts=[acc],
                                                 categories=a.categories)  # fmt: skip
    content = [PlanContent(content_id=f"c{i + 1}", format=f) for i, f in enumerate(settings.formats)]
    return PlanIn(window_start=settings.window_start, window_end=settings.window_end,
                  objective=PLANNER_HEAD[settings.metric],
                  budget_usd=settings.budget_usd, max_posts_per_creator_per_week=settings.max_posts_per_week,
                  min_spacing_days=settings.min_spacing_days, post_hour=settings.post_hour,
                  category=about(accounts[0].category, [])[0] if accounts else None,
                  content=content, creators=list(creators.values()))  # fmt: skip


def content_of(line: Line, accounts: dict[tuple[str, str], Account], state: PlanState) -> PlannedContent:
    """The line's planned content: the account, format, day and hour, the brief's category and the kind of
    message its variant declared."""
    a = accounts[(line["creator_id"], line["platform"])]
    category, on_niche = about(a.category, a.categories)
    return PlannedContent(followers=a.followers, engagement_rate=a.engagement_rate,
                          per_view=a.platform in SHORT_VIDEO_PLATFORMS, platform=a.platform, format=line["format"],
                          market=a.market, market_share=a.market_share, hour=state.settings.post_hour,
                          weekday=date.fromisoformat(line["scheduled_on"]).weekday(), paid=False,
                          category=category, on_niche=on_niche,
                          message_kind=state.kinds().get(line["variant_id"]))  # fmt: skip


def line_offsets(taught: Learnt, campaign_id: str, lines: list[Line]) -> list[dict[str, float]]:
    """What the organisation's results taught for each line: its creator's record and its message's."""
    return [taught.offsets(x["creator_id"], variant_key(campaign_id, x["variant_id"])) for x in lines]


def attrs(line: Line) -> dict[str, str]:
    """What a lesson's or trend call's scope can name about a line."""
    day = date.fromisoformat(line["scheduled_on"])
    return {"market": line["market"], "platform": line["platform"], "format": line["format"],
            "creator": line["creator_id"], "message": line["variant_id"], "weekday": WEEKDAYS[day.weekday()]}  # fmt: skip


def applies(adj: dict[str, Any], have: dict[str, str]) -> bool:
    """Whether an adjustment's scope (`where`: a value, a list of values, or None = any) covers these attributes."""
    return all(k in have and (have[k] in v if isinstance(v, list) else have[k] == v)
               for k, v in adj.get("where", {}).items() if v is not None)  # fmt: skip


def factor_for(adjustments: list[dict[str, Any]], have: dict[str, str], metric: str) -> float:
    return math.prod(a["multiplier"] for a in adjustments if a["metric"] == metric and applies(a, have))


def forecast_lines(model: OnnxModel, state: PlanState, accounts: dict[tuple[str, str], Account],
                   frozen: set[str], taught: Learnt, campaign_id: str) -> None:  # fmt: skip
    """(Re-)forecast the lines in one batch, adapted by what the organisation's results taught; people's
    adjustments scale the matching metrics' intervals. Posted lines (`frozen`) keep the forecast they went
    out with: it is what their results are judged by."""
    todo = [
        x for x in state.lines if x["line_id"] not in frozen and (x["creator_id"], x["platform"]) in accounts
    ]
    contents = [content_of(line, accounts, state) for line in todo]
    metrics = forecast(model, contents, line_offsets(taught, campaign_id, todo))
    for line, ms in zip(todo, metrics, strict=True):
        line["learning"] = (
            described(taught, taught.org_id, line["creator_id"], variant_key(campaign_id, line["variant_id"]))
            .model_dump() if taught.results else None
        )  # fmt: skip
        out = []
        for m in ms:
            f = factor_for(state.adjustments, attrs(line), m.metric)
            p10, p50, p90 = adjusted(m.p10, m.p50, m.p90, f, None) if f != 1 else (m.p10, m.p50, m.p90)
            out.append({**m.model_dump(), "p10": p10, "p50": p50, "p90": p90})
        line["forecast"] = out


def _table(model: OnnxModel, req: PlanIn, state: PlanState, accounts: list[Account]) -> dict[Any, float]:
    """The planner's value table, with people's adjustments of the planned metric applied (a message-scoped
    adjustment cannot steer which creator posts when, so it scales the forecast only)."""
    table = forecast_table(model, req)
    head = PLANNER_HEAD[state.settings.metric]
    relevant = [a for a in state.adjustments if PLANNER_HEAD.get(a["metric"], a["metric"]) == head]
    market = {a.creator_id: a.market for a in accounts}
    for key in table if relevant else ():
        creator, platform, fmt, wd = key
        have = {"market": market[creator], "platform": platform, "format": fmt, "creator": creator,
                "weekday": WEEKDAYS[wd]}  # fmt: skip
        table[key] *= math.prod(a["multiplier"] for a in relevant if applies(a, have))
    return table


def replan(model: OnnxModel, state: PlanState, fixed: list[Line], accounts: list[Account],
           allocate: Any, posted: set[str], taught: Learnt, campaign_id: str) -> PlanState:  # fmt: skip
    """Keep `fixed` lines, re-plan everything else with the greedy planner, allocate messages to the new
    lines (`allocate(creators_needing_a_variant, fixed_lines) -> {creator: variant}`), re-forecast all."""
    req = plan_request(state.settings, accounts, state.fees)
    validate(req)
    table = _table(model, req, state, accounts)
    seed = State(budget_left=(state.settings.budget_usd if state.settings.budget_usd is not None
                              else float("inf")) - sum(line["cost_usd"] for line in fixed))  # fmt: skip
    for line in fixed:
        seed.posts[line["creator_id"]].append(
            Slot(
                line["creator_id"],
                line["content_id"],
                line["platform"],
                date.fromisoformat(line["scheduled_on"]),
            )
        )
    done = {(line["creator_id"], line["content_id"]) for line in fixed} | {(c, k) for c, k in state.dropped}
    placed = optimise(req, table, seed, done).planned
    old_ids = {(line["creator_id"], line["content_id"]): line["line_id"] for line in state.lines}
    by_key = {(a.creator_id, a.platform): a for a in accounts}
    fresh: list[Line] = []
    for post in placed:
        line_id = old_ids.get((post.creator_id, post.content_id))
        if line_id is None or any(f["line_id"] == line_id for f in fixed):
            line_id, state.next_line = f"l-{state.next_line}", state.next_line + 1
        a = by_key[(post.creator_id, post.platform)]
        fresh.append({"line_id": line_id, "creator_id": post.creator_id, "creator_name": a.name,
                      "platform": post.platform, "format": post.format, "market": a.market, "variant_id": "",
                      "scheduled_on": post.day.isoformat(), "cost_usd": post.cost_usd, "locked": False,
                      "content_id": post.content_id, "forecast": [], "reason": _reason(state, post.why, a, post.cost_usd)})  # fmt: skip
    variants, how = allocate(sorted({line["creator_id"] for line in fresh}), fixed)
    for line in fresh:
        line["variant_id"] = variants[line["creator_id"]]
        line["reason"] += f"; message {line['variant_id']}: {how[line['creator_id']]}"
    state.lines = sorted([*fixed, *fresh], key=lambda x: (x["scheduled_on"], x["creator_id"], x["line_id"]))
    forecast_lines(model, state, by_key, posted, taught, campaign_id)
    return state


def _reason(state: PlanState, why: str, a: Account, cost: float) -> str:
    agreed = f"{a.creator_id}|{a.platform}" in state.fees
    fee_note = (
        "agreed fee"
        if agreed
        else f"fee estimated at {FEE_PER_1K_FOLLOWERS.get(a.platform, 10.0):g} USD per 1k followers"
    )
    return (f"{why}; {a.followers:,} followers, audience in {a.market}; objective {state.settings.objective} "
            f"-> {state.settings.metric}; {cost:,.0f} USD ({fee_note})")  # fmt: skip


def allocator(campaign_id: str, version: str, state: PlanState, observations: list[messaging.Observation],
              accounts: list[Account]) -> Any:  # fmt: skip
    """How new lines get their message: a creator keeps the message of its fixed lines (one audience, one
    message); otherwise balanced over strata of similar creators before results, Thompson sampling after."""
    variants = state.variant_ids()
    size = {a.creator_id: (a.platform, -a.followers) for a in accounts}

    def allocate(creators: list[str], fixed: list[Line]) -> tuple[dict[str, str], dict[str, str]]:
        """(creator -> variant, creator -> how it was chosen, in words)."""
        keep = {line["creator_id"]: line["variant_id"] for line in fixed if line["variant_id"] in variants}
        need = [c for c in creators if c not in keep]
        rng = messaging.rng_for(campaign_id, version)
        arms = messaging.summarise(observations, variants) if observations else []
        if sum(a.creators >= 2 for a in arms) >= 2:
            chosen = messaging.thompson(observations, variants, need, rng)
            how = f"Thompson sampling on {len(observations)} results so far"
        else:
            used: dict[str, int] = {}
            for v in keep.values():
                used[v] = used.get(v, 0) + 1
            chosen = messaging.balanced(strata(need, size), variants, rng, used)
            how = "balanced across similar creators (same platform, similar audience size)"
        reasons = {c: "the creator's locked or posted lines carry it" for c in keep} | dict.fromkeys(
            chosen, how
        )
        return {**keep, **chosen}, reasons

    return allocate


def strata(creators: list[str], size: dict[str, tuple[str, int]]) -> list[list[str]]:
    """Similar creators side by side: one stratum per main platform, ordered by audience size, so each
    block of consecutive creators compares like with like."""
    groups: dict[str, list[str]] = {}
    for c in sorted(creators, key=lambda c: size.get(c, ("", 0))):
        groups.setdefault(size.get(c, ("", 0))[0], []).append(c)
    return list(groups.values())
