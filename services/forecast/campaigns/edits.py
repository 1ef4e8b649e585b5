"""The plan made together: the AI proposes, people edit; every edit re-forecasts and re-optimises the
unlocked rest around the fixed lines, or is refused with the reason and leaves the stored plan unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from services.forecast import learning
from services.forecast.campaigns import constraints, messaging, planned, store
from services.forecast.campaigns.planner import (
    DEFAULT_FORMATS,
    OBJECTIVE_METRIC,
    Account,
    Line,
    PlanSettings,
    PlanState,
    accounts_of,
    allocator,
    fee_of,
    replan,
)
from services.forecast.models import Campaign, PlanVersion
from shared.bus.outbox import Outbox
from shared.errors import Conflict, Invalid, NotFound
from shared.onnx_model import OnnxModel


@dataclass
class Context:
    """Everything an edit needs: the campaign, its approved accounts, what has been posted, the plan."""

    campaign: Campaign
    accounts: list[Account]
    actuals: dict[str, dict[str, float]]
    row: PlanVersion | None
    state: PlanState | None
    taught: learning.Learnt = field(default_factory=learning.Learnt)

    def fixed(self, state: PlanState) -> list[Line]:
        """Lines the optimiser must not move: locked by a person, or already posted."""
        return [x for x in state.lines if x["locked"] or x["line_id"] in self.actuals]


def context(session: Session, org_id: str, campaign_id: str, model: OnnxModel | None = None) -> Context:
    """The campaign's plan and what it needs; with `model`, what the organisation's results taught it too."""
    campaign = store.campaign(session, org_id, campaign_id)
    accounts = accounts_of(campaign, store.approved(session, org_id, campaign_id))
    actuals = {k: r.metrics for k, r in store.results_by_line(session, org_id, campaign_id).items()}
    row = store.latest(session, org_id, campaign_id)
    taught = learning.learnt(session, model, org_id) if model is not None else learning.Learnt()
    return Context(campaign, accounts, actuals, row, PlanState.from_json(row.state) if row else None, taught)


def _reoptimise(ctx: Context, model: OnnxModel, state: PlanState, version: int) -> PlanState:
    if not ctx.accounts:
        raise Conflict(f"campaign {ctx.campaign.campaign_id} has no approved creators on its platforms",
                       field="campaign_id")  # fmt: skip
    fixed = ctx.fixed(state)
    constraints.check_fixed(state, fixed, ctx.accounts, set(ctx.actuals))
    obs = messaging.observations(state.lines, ctx.actuals, state.settings.metric)
    allocate = allocator(ctx.campaign.campaign_id, str(version), state, obs, ctx.accounts)
    return replan(
        model, state, fixed, ctx.accounts, allocate, set(ctx.actuals), ctx.taught, ctx.campaign.campaign_id
    )


def propose(session: Session, outbox: Outbox, model: OnnxModel, org_id: str, campaign_id: str,
            body: Any, actor: str) -> PlanVersion:  # fmt: skip
    """The AI's first proposal from the approved creators (or a fresh one, replacing the plan, if asked)."""
    ctx = context(session, org_id, campaign_id, model)
    store.ensure_open(session, org_id, campaign_id)
    if ctx.row is not None and not body.replace:
        raise Conflict(f"campaign {campaign_id} already has a plan (version {ctx.row.version}); edit it, "
                       "or send replace=true for a fresh proposal", field="replace")  # fmt: skip
    if not ctx.accounts:
        raise Conflict(f"campaign {campaign_id} has no approved creators on its platforms yet",
                       field="campaign_id")  # fmt: skip
    c = ctx.campaign
    start = body.window_start or c.starts_on or datetime.now(UTC).date() + timedelta(days=1)
    end = body.window_end or c.ends_on or start + timedelta(days=27)
    settings = PlanSettings(
        objective=c.objective, metric=OBJECTIVE_METRIC[c.objective], window_start=start, window_end=end,
        budget_usd=body.budget_usd if body.budget_usd is not None else c.budget_usd,
        min_spacing_days=body.min_spacing_days, max_posts_per_week=body.max_posts_per_creator_per_week,
        formats=list(body.formats or DEFAULT_FORMATS[c.objective]), post_hour=body.post_hour,
    )  # fmt: skip
    state = PlanState(settings=settings, variants=[v.model_dump() for v in body.variants])
    if ctx.state is not None:  # a fresh proposal keeps what already went out, and the line ids stay unique
        state.lines = [x for x in ctx.state.lines if x["line_id"] in ctx.actuals]
        state.next_line = ctx.state.next_line
        state.variants += [v for v in ctx.state.variants if v["variant_id"] in {x["variant_id"] for x in state.lines}
                           and v["variant_id"] not in {w["variant_id"] for w in state.variants}]  # fmt: skip
    version = ctx.row.version + 1 if ctx.row else 1
    state = _reoptimise(ctx, model, state, version)
    # The proposal is the AI's (changed_by 'system'); who asked for it stays in the record of the change.
    change = f"proposed at the request of {actor}" if ctx.row is None else (
        f"proposed afresh at the request of {actor}, replacing version {ctx.row.version}")  # fmt: skip
    return store.save(session, outbox, org_id, campaign_id, state, changed_by=actor if ctx.row else "system",
                      change=f"{change}: {len(state.lines)} posts by {len({x['creator_id'] for x in state.lines})} creators",
                      why=body.why)  # fmt: skip


def _line(state: PlanState, ctx: Context, line_id: str) -> Line:
    line = next((x for x in state.lines if x["line_id"] == line_id), None)
    if line is None:
        raise NotFound(f"the plan has no line {line_id}", field="line_id")
    if line_id in ctx.actuals:
        raise Conflict(f"line {line_id} is already posted; its results are in", field="line_id")
    return line


def _account(ctx: Context, creator_id: str, platform: str | None) -> Account:
    mine = [a for a in ctx.accounts if a.creator_id == creator_id]
    if not mine:
        known = ", ".join(sorted({a.creator_id for a in ctx.accounts}))
        raise Invalid(f"creator {creator_id} is not approved for this campaign (approved: {known})",
                      field="creator_id")  # fmt: skip
    chosen = next((a for a in mine if a.platform == platform), None) if platform else mine[0]
    if chosen is None:
        raise Invalid(f"creator {creator_id} is approved on {', '.join(a.platform for a in mine)}, not {platform}",
                      field="platform")  # fmt: skip
    return chosen


def edit_line(session: Session, outbox: Outbox, model: OnnxModel, org_id: str, campaign_id: str,
              line_id: str, patch: Any, actor: str) -> PlanVersion:  # fmt: skip
    """Swap the creator, change platform, move the date, change the message or fee, lock or unlock a line.
    Any change but an unlock also locks the line: the optimiser never undoes a person's decision."""
    ctx = _editable(session, org_id, campaign_id, model)
    assert ctx.state is not None and ctx.row is not None
    state, line = ctx.state, _line(ctx.state, ctx, line_id)
    changes: list[str] = []
    if patch.creator_id is not None or patch.platform is not None:
        a = _account(ctx, patch.creator_id or line["creator_id"], patch.platform or
                     (line["platform"] if patch.creator_id is None else None))  # fmt: skip
        if (a.creator_id, a.platform) != (line["creator_id"], line["platform"]):
            changes.append(
                f"{line_id}: {line['creator_id']} on {line['platform']} -> {a.creator_id} on {a.platform}"
            )
            line.update(creator_id=a.creator_id, creator_name=a.name, platform=a.platform, market=a.market,
                        cost_usd=fee_of(state.fees, a))  # fmt: skip
    if patch.scheduled_on is not None and patch.scheduled_on.isoformat() != line["scheduled_on"]:
        changes.append(f"moved {line_id} from {line['scheduled_on']} to {patch.scheduled_on}")
        line["scheduled_on"] = patch.scheduled_on.isoformat()
    if patch.variant_id is not None and patch.variant_id != line["variant_id"]:
        if patch.variant_id not in state.variant_ids():
            raise Invalid(f"no message variant {patch.variant_id} (have: {', '.join(state.variant_ids())})",
                          field="variant_id")  # fmt: skip
        changes.append(f"message of {line_id}: {line['variant_id']} -> {patch.variant_id}")
        line["variant_id"] = patch.variant_id
    if patch.cost_usd is not None and patch.cost_usd != line["cost_usd"]:
        changes.append(
            f"fee of {line['creator_id']} on {line['platform']}: {line['cost_usd']} -> {patch.cost_usd}"
        )
        state.fees[f"{line['creator_id']}|{line['platform']}"] = patch.cost_usd
        for x in state.lines:  # what was posted keeps the fee it went out with
            if (x["creator_id"], x["platform"]) == (line["creator_id"], line["platform"]) and x[
                "line_id"
            ] not in ctx.actuals:
                x["cost_usd"] = patch.cost_usd
    lock = patch.locked if patch.locked is not None else (True if changes else line["locked"])
    if lock != line["locked"]:
        changes.append(f"{'locked' if lock else 'unlocked'} {line_id}")
        line["locked"] = lock
    if not changes:
        raise Invalid("the edit changes nothing in the line", field="body")
    if any(not c.startswith(("locked", "unlocked")) for c in changes):
        line["reason"] = f"set by {actor}: " + "; ".join(changes) + (f" ({patch.why})" if patch.why else "")
    new = _reoptimise(ctx, model, state, ctx.row.version + 1)
    return store.save(session, outbox, org_id, campaign_id, new, changed_by=actor, change="; ".join(changes),
                      why=patch.why)  # fmt: skip


def drop_line(session: Session, outbox: Outbox, model: OnnxModel, org_id: str, campaign_id: str,
              line_id: str, why: str, actor: str) -> PlanVersion:  # fmt: skip
    """Take a post out of the plan for good (the optimiser will not put that creator's content back)."""
    ctx = _editable(session, org_id, campaign_id, model)
    assert ctx.state is not None and ctx.row is not None
    line = _line(ctx.state, ctx, line_id)
    ctx.state.lines = [x for x in ctx.state.lines if x["line_id"] != line_id]
    ctx.state.dropped.append([line["creator_id"], line["content_id"]])
    new = _reoptimise(ctx, model, ctx.state, ctx.row.version + 1)
    change = f"dropped {line_id} ({line['creator_id']} on {line['platform']}, {line['scheduled_on']})"
    return store.save(session, outbox, org_id, campaign_id, new, changed_by=actor, change=change, why=why)


def set_variants(session: Session, outbox: Outbox, model: OnnxModel, org_id: str, campaign_id: str,
                 variants: list[dict[str, str]], why: str, actor: str) -> PlanVersion:  # fmt: skip
    """Replace the message variants' texts (add, rename the text, remove one no fixed line uses)."""
    ctx = _editable(session, org_id, campaign_id, model)
    assert ctx.state is not None and ctx.row is not None
    ids = [v["variant_id"] for v in variants]
    if len(set(ids)) != len(ids):
        raise Invalid("variant ids must be unique", field="variants")
    if used := {x["variant_id"] for x in ctx.fixed(ctx.state)} - set(ids):
        raise Invalid(f"variants {sorted(used)} are on locked or posted lines; keep them", field="variants")
    before = {v["variant_id"]: v["text"] for v in ctx.state.variants}
    ctx.state.variants = variants
    for x in ctx.state.lines:
        if x["variant_id"] not in ids:
            x["variant_id"] = ""
    new = _reoptimise(ctx, model, ctx.state, ctx.row.version + 1)
    added, removed = set(ids) - set(before), set(before) - set(ids)
    edited = [
        v
        for v in ids
        if v in before and before[v] != next(x["text"] for x in variants if x["variant_id"] == v)
    ]
    change = "; ".join(p for p in (f"added {sorted(added)}" if added else "", f"removed {sorted(removed)}" if removed else "",
                                   f"new text for {edited}" if edited else "") if p) or "variants unchanged"  # fmt: skip
    return store.save(
        session, outbox, org_id, campaign_id, new, changed_by=actor, change=f"messages: {change}", why=why
    )


def approve(session: Session, outbox: Outbox, model: OnnxModel, org_id: str, campaign_id: str, actor: str,
            why: str) -> PlanVersion:  # fmt: skip
    """A person approves the current version to go live; it is published again, now approved, and each line
    still to post gets a stored forecast of its planned content."""
    row = store.current(session, org_id, campaign_id)
    store.ensure_open(session, org_id, campaign_id)
    if row.approved_by is not None:
        return row  # approving twice changes nothing
    row.approved_by, row.approved_at = actor, datetime.now(UTC)
    if why:
        row.why = f"{row.why}; approved: {why}" if row.why else f"approved: {why}"
    session.add(row)
    ctx = context(session, org_id, campaign_id, model)
    session.add_all(planned.line_forecasts(model, org_id, campaign_id, PlanState.from_json(row.state), ctx))
    outbox.stage(session, store.event(row), org_id=org_id)
    return row


def _editable(session: Session, org_id: str, campaign_id: str, model: OnnxModel) -> Context:
    ctx = context(session, org_id, campaign_id, model)
    store.ensure_open(session, org_id, campaign_id)
    if ctx.row is None:
        raise NotFound(f"campaign {campaign_id} has no plan yet: POST /v1/campaigns/{campaign_id}/plan",
                       field="campaign_id")  # fmt: skip
    return ctx


def reallocate(session: Session, outbox: Outbox, org_id: str, campaign_id: str) -> PlanVersion | None:
    """Results came in: Thompson sampling re-allocates messages of creators with nothing posted or locked
    yet. A new version (by 'system') only when some message changed."""
    ctx = context(session, org_id, campaign_id)
    if ctx.state is None or ctx.row is None or session_closed(session, org_id, campaign_id):
        return None
    state = ctx.state
    fixed_creators = {x["creator_id"] for x in ctx.fixed(state)}
    free = sorted({x["creator_id"] for x in state.lines} - fixed_creators)
    obs = messaging.observations(state.lines, ctx.actuals, state.settings.metric)
    if not free or sum(a.creators >= 2 for a in messaging.summarise(obs, state.variant_ids())) < 2:
        return None
    rng = messaging.rng_for(campaign_id, str(ctx.row.version), str(len(obs)))
    chosen = messaging.thompson(obs, state.variant_ids(), free, rng)
    moved = [
        x for x in state.lines if x["creator_id"] in chosen and x["variant_id"] != chosen[x["creator_id"]]
    ]
    if not moved:
        return None
    for x in moved:
        x["variant_id"] = chosen[x["creator_id"]]
    verdict = messaging.analyse(obs, state.variant_ids())
    change = f"messages re-allocated by Thompson sampling on {len(obs)} results: " + ", ".join(
        f"{x['line_id']} -> {x['variant_id']}" for x in moved
    )
    row = store.save(session, outbox, org_id, campaign_id, state, changed_by="system", change=change,
                     why=verdict.summary, approved_by=ctx.row.approved_by)  # fmt: skip
    return row


def session_closed(session: Session, org_id: str, campaign_id: str) -> bool:
    try:
        store.ensure_open(session, org_id, campaign_id)
    except Conflict:
        return True
    return False
