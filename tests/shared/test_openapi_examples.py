"""The request examples shown in the OpenAPI documents are valid requests."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest
from pydantic import BaseModel

from services.discovery import schemas as discovery
from services.forecast import schemas as forecast
from services.forecast.campaigns import schemas as campaigns
from services.fraud import schemas as fraud
from services.review import schemas as review
from services.review import simulator
from shared.webhooks import api as webhooks

MODULES: list[ModuleType] = [discovery, forecast, campaigns, fraud, review, simulator, webhooks]


def _with_examples() -> list[type[BaseModel]]:
    models = [m for module in MODULES for _, m in inspect.getmembers(module, inspect.isclass)
              if issubclass(m, BaseModel) and m.__module__ == module.__name__]  # fmt: skip
    return [m for m in models if m.model_json_schema().get("examples")]


def test_every_request_body_of_note_has_examples() -> None:
    # The bodies a partner sends most; a new request body should come with an example too.
    named = {m.__name__ for m in _with_examples()}
    assert {"BriefIn", "SearchIn", "BulkCreatorsIn", "ScoreRequest", "AudienceRequest", "DecisionIn", "ForecastIn",
            "ResultsIn", "PlanProposeIn", "EndpointIn"} <= named  # fmt: skip


@pytest.mark.parametrize("model", _with_examples(), ids=lambda m: m.__name__)
def test_documented_examples_validate(model: type[BaseModel]) -> None:
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)
