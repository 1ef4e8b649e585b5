"""Promotion, rollback and hot swap: a promoted version is served without a restart or a failed call."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from shared.model_registry import ModelNotFound, ModelRegistry, ModelWatcher
from shared.onnx_model import ModelSlot

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    """A registry with fraud_risk v1 and a copy of it as v2 (same graph, new version number)."""
    src = MODELS / "fraud_risk" / "1"
    for version in ("1", "2"):
        dest = tmp_path / "fraud_risk" / version
        shutil.copytree(src, dest)
        card = (dest / "card.json").read_text().replace('"version": "1"', f'"version": "{version}"')
        (dest / "card.json").write_text(card)
    reg = ModelRegistry(tmp_path)
    reg.promote("fraud_risk", "1")
    return reg


def test_watcher_swaps_to_a_promoted_version(registry: ModelRegistry) -> None:
    slot = ModelSlot(registry.load_champion("fraud_risk"))
    watcher = ModelWatcher(registry, {"fraud_risk": slot})
    assert watcher.check_once() == []
    registry.promote("fraud_risk", "2")
    assert watcher.check_once() == ["fraud_risk"]
    assert slot.current.version == "2"


def test_rollback_restores_the_previous_champion(registry: ModelRegistry) -> None:
    registry.promote("fraud_risk", "2")
    assert registry.rollback("fraud_risk") == ("2", "1")
    assert registry.champion_version("fraud_risk") == "1"


def test_rollback_without_history_is_refused(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFound):
        registry.rollback("fraud_risk")


def test_scoring_during_swaps_never_fails(registry: ModelRegistry) -> None:
    slot = ModelSlot(registry.load_champion("fraud_risk"))
    watcher = ModelWatcher(registry, {"fraud_risk": slot})
    rows = np.zeros((8, len(slot.current.features)), dtype=np.float32)
    errors: list[Exception] = []
    done = threading.Event()

    def score() -> None:
        while not done.is_set():
            try:
                assert len(slot.current.run("model", rows)) == 8
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=score) for _ in range(3)]
    for t in threads:
        t.start()
    for version in ("2", "1", "2", "1"):
        registry.promote("fraud_risk", version)
        watcher.check_once()
    done.set()
    for t in threads:
        t.join()
    assert errors == []
    assert slot.current.version == "1"
