"""Physical plausibility of metrics, stated once and applied wherever figures enter (REST bodies, partner
webhooks, events off the bus, imported files): counts are finite and never negative, a part never exceeds
its whole (conversions <= clicks, engagements <= reach), and nobody clicks on a post nobody saw.

Models mix in `Plausible` (a model validator: a 422 on REST and webhooks, a dead letter on the bus);
code that reads figures from elsewhere calls `problems` itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

# Figures that count something (or money spent on it): never negative, never NaN or infinite.
COUNTS = frozenset({
    "reach", "impressions", "views", "engagements", "clicks", "conversions", "spend_usd", "likes",
    "comments", "shares", "followers", "outcome_vs_forecast",
})  # fmt: skip
# Series of counts (a creator's history): every item is a count.
SERIES = frozenset({"monthly_followers", "hourly_clicks"})
# (part, whole): every part comes from its whole.
PARTS = (("engagements", "reach"), ("conversions", "clicks"))


def problems(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) for every figure no real post or account can have; empty when all are plausible."""
    found = [
        (name, reason) for name, value in figures.items() if name in COUNTS and (reason := _count(value))
    ]
    for name in SERIES & figures.keys():
        found += [(f"{name}.{i}", r) for i, v in enumerate(figures[name] or ()) if (r := _count(v))]
    if found:  # comparisons of impossible figures would only repeat the problem
        return found
    for part, whole in PARTS:
        p, w = figures.get(part), figures.get(whole)
        if p is not None and w is not None and p > w:
            found.append(
                (part, f"{part} ({p:g}) above {whole} ({w:g}): every one of them is among the {whole}")
            )
    clicks, reach = figures.get("clicks"), figures.get("reach")
    if clicks and reach is not None and reach <= 0:
        found.append(("clicks", f"{clicks:g} clicks with no reach: nobody can click a post nobody saw"))
    return found


def _count(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return "must be a finite number (not NaN or infinity)"
    return "cannot be negative" if value < 0 else None


class Plausible(BaseModel):
    """Mixed into a model whose fields carry figures: implausible ones fail validation, each error located
    at its field (`results.0.conversions`), as a field's own constraint would be."""

    @model_validator(mode="after")
    def _plausible(self) -> Any:
        if found := problems(self.__dict__):
            raise ValidationError.from_exception_data(type(self).__name__, [
                InitErrorDetails(type=PydanticCustomError("implausible", reason), input=_at(self, name),
                                 loc=tuple(int(p) if p.isdigit() else p for p in name.split(".")))
                for name, reason in found
            ])  # fmt: skip
        return self


def _at(model: BaseModel, dotted: str) -> Any:
    name, _, index = dotted.partition(".")
    value = getattr(model, name)
    return value[int(index)] if index else value
