"""HTML form fields -> the same request models the REST API validates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ValidationError

from services.review.portfolio import Filters
from services.review.schemas import CHECKLIST_ITEMS, AdjustmentIn, DecisionIn, LessonIn, RelationshipIn
from services.review.simulator import SimulationIn, TeamMember


def _text(form: Mapping[str, Any], name: str) -> str:
    """A field as typed; NUL characters (which no keyboard types and PostgreSQL can't store) are dropped."""
    value = form.get(name)
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def decision_from(form: Mapping[str, Any], reviewer_id: str) -> DecisionIn:
    """The checklist is required in the web app: every item needs a rating (the note is optional)."""
    checklist = {
        key: {"rating": _text(form, f"{key}_rating") or "0", "note": _text(form, f"{key}_note")}
        for key in CHECKLIST_ITEMS
    }
    return DecisionIn.model_validate({
        "reviewer": reviewer_id,
        "decision": _text(form, "decision"),
        "notes": _text(form, "notes"),
        "question": _text(form, "question"),
        "checklist": checklist,
    })  # fmt: skip


def decision_errors(form: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a posted decision form, in plain words, keyed by the field to show it next to.
    Checked before the model so a person sees every problem at once, not the first the model stops on."""
    errors = {
        f"{key}_rating": f"Choose a rating for “{label}” (1 poor to 5 excellent)."
        for key, label in CHECKLIST_ITEMS.items()
        if _text(form, f"{key}_rating") not in {"1", "2", "3", "4", "5"}
    }
    decision = _text(form, "decision")
    if decision not in {"approve", "reject", "needs_info"}:
        errors["decision"] = "Choose approve, reject or needs more information."
    if decision == "needs_info" and not _text(form, "question"):
        errors["question"] = "Say what information you need: the question goes to whoever can answer it."
    return errors


def plain_errors(exc: ValidationError) -> dict[str, str]:
    """A model's validation errors keyed by the form field they belong to, without developer paths."""
    out: dict[str, str] = {}
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        field = (
            f"{loc[1]}_{loc[2]}"
            if loc[:1] == ["checklist"] and len(loc) > 2
            else (loc[-1] if loc else "form")
        )
        message = str(e["msg"]).removeprefix("Value error, ")
        out.setdefault(field, message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
    return out


def adjustment_from(form: Mapping[str, Any], reviewer_id: str) -> AdjustmentIn:
    return AdjustmentIn.model_validate({
        "reviewer": reviewer_id,
        "forecast_id": _text(form, "forecast_id") or None,
        "metric": _text(form, "metric") or "reach",
        "multiplier": _text(form, "multiplier") or None,
        "reason": _text(form, "reason"),
        "market": _text(form, "market") or None,
    })  # fmt: skip


def history_from(form: Mapping[str, Any], reviewer_id: str, campaign_id: str) -> RelationshipIn:
    """A note, or an incident (its text becomes the incident), on the creator's history."""
    status, notes = _text(form, "status") or "active", _text(form, "notes")
    incidents = [notes] if status == "incident" and notes else []
    return RelationshipIn.model_validate(
        {
            "campaign_id": campaign_id,
            "status": status,
            "notes": notes,
            "incidents": incidents,
            "author": reviewer_id,
        }
    )


# The simulator form's fields: (name, label, step); the team's two kinds follow them.
SIM_FIELDS = (
    ("campaigns_per_month", "Campaigns a month", "1"),
    ("finalists_per_campaign", "Finalists per campaign", "1"),
    ("strategic_share", "Strategic share of campaigns", "0.05"),
    ("volume_to_people", "Volume finalists sent to people", "0.05"),
    ("low_confidence_share", "Of the rest, low confidence (always to people)", "0.01"),
    ("audit_sample_rate", "Audit sample rate", "0.01"),
    ("disagreement_rate", "Strategic disagreement rate", "0.01"),
    ("minutes_per_review", "Minutes per review", "1"),
    ("working_days", "Working days a month", "1"),
)
TEAM_KINDS = (("in_house", "In-house"), ("freelance", "Freelance"))
TEAM_FIELDS = {"count": ("count", "reviewers"), "daily_capacity": ("capacity", "daily capacity each")}


def simulation_from(query: Mapping[str, Any]) -> SimulationIn | None:
    """None when the manager has not asked yet (the page then simulates the current team)."""
    if not _text(query, "campaigns_per_month"):
        return None
    fields = {k: _text(query, k) for k in SimulationIn.model_fields if k != "team" and _text(query, k)}
    team = [
        {
            "count": _text(query, f"{kind}_count") or 0,
            "daily_capacity": _text(query, f"{kind}_capacity") or 1,
            "employment": kind,
        }
        for kind, _ in TEAM_KINDS
    ]
    return SimulationIn.model_validate({**fields, "team": team})


def simulation_errors(exc: ValidationError) -> dict[str, str]:
    """The simulator's errors in plain words, keyed by the form field to show each next to."""
    labels = {name: label for name, label, _ in SIM_FIELDS}
    out: dict[str, str] = {}
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        model: type[BaseModel] = SimulationIn
        if loc[:1] == ["team"] and len(loc) == 3 and loc[2] in TEAM_FIELDS:
            (kind, kind_label), (suffix, what) = TEAM_KINDS[int(loc[1])], TEAM_FIELDS[loc[2]]
            field, label, model = f"{kind}_{suffix}", f"{kind_label} {what}", TeamMember
        elif loc and loc[0] in labels:
            field, label = loc[0], labels[loc[0]]
        else:
            continue
        out.setdefault(field, _plain_number_error(label, model, loc[-1], str(e["type"])))
    return out or {"form": "Check the simulator's fields: each takes a number."}


def _plain_number_error(label: str, model: type[BaseModel], name: str, error_type: str) -> str:
    info = model.model_fields[name]
    whole = info.annotation is int
    if error_type.endswith("_parsing") or error_type in {"int_from_float", "finite_number"}:
        return f"Enter a {'whole ' if whole else ''}number for “{label}”."
    low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    above = next((m.gt for m in info.metadata if isinstance(m, Gt)), None)
    high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
    share = " (a share: 0.2 means 20%)" if high == 1 and not whole else ""
    if above is not None:
        return f"“{label}” must be more than {above:,} and at most {high:,}{share}."
    return f"“{label}” must be between {low:,} and {high:,}{share}."


LESSON_FIELDS = ("scope", "scope_value", "market", "text", "rule", "metric", "multiplier")


def lesson_from(form: Mapping[str, Any], campaign_id: str) -> LessonIn:
    """The lesson form; blank optional fields are left out, so the API's rules decide what is missing."""
    fields = {
        k: _text(form, k) for k in ("scope", "scope_value", "market", "text", "rule", "metric", "multiplier")
    }
    return LessonIn.model_validate({"campaign_id": campaign_id, **{k: v for k, v in fields.items() if v}})


# A head of marketing runs ~50 campaigns a month: a quarter's worth fits one page (and one Ctrl+F).
WEB_PAGE_SIZE = 200


def filters_from(query: Mapping[str, Any]) -> tuple[Filters, str]:
    """The portfolio's filters from the query string; a bad page number falls back to the first page."""
    brand, market, tier, stage = (_text(query, k) for k in ("brand", "market", "tier", "stage"))
    try:
        page = max(1, int(_text(query, "page") or 1))
    except ValueError:
        return Filters(
            brand, market, tier, stage, 1, WEB_PAGE_SIZE
        ), "page: not a number; showing the first page"
    return Filters(brand, market, tier, stage, page, WEB_PAGE_SIZE), ""
