"""The request examples shown in the OpenAPI documents are valid requests."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from services.discovery.schemas import BriefIn, SearchIn
from services.fraud.schemas import ScoreRequest
from shared.webhooks.api import EndpointIn


@pytest.mark.parametrize("model", [BriefIn, SearchIn, ScoreRequest, EndpointIn])
def test_documented_examples_validate(model: type[BaseModel]) -> None:
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)
