"""The file-system model registry: versions, champion pointer, promotion and rollback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shared.model_registry import REGISTRY_FILE, ModelNotFound, ModelRegistry
from shared.onnx_model import CARD_FILE

REPO = Path(__file__).resolve().parents[2]
NAME = "ranking"


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    """A copy of the shipped ranking model folder, so promotions never touch the repository."""
    shutil.copytree(REPO / "models" / NAME, tmp_path / NAME)
    return ModelRegistry(tmp_path)


def _add_version(registry: ModelRegistry, version: str) -> Path:
    folder = registry.root / NAME / version
    shutil.copytree(registry.root / NAME / "1", folder)
    card = json.loads((folder / CARD_FILE).read_text())
    card["version"], card["parent_version"] = version, "1"
    (folder / CARD_FILE).write_text(json.dumps(card))
    return folder


def test_champion_of_shipped_model_is_version_one(registry: ModelRegistry) -> None:
    assert registry.champion_version(NAME) == "1"
    assert registry.champion_folder(NAME) == registry.root / NAME / "1"


def test_next_version_is_one_more_than_highest(registry: ModelRegistry) -> None:
    assert registry.next_version(NAME) == "2"
    _add_version(registry, "2")
    _add_version(registry, "10")
    assert registry.next_version(NAME) == "11"


def test_next_version_ignores_non_numeric_folders(registry: ModelRegistry) -> None:
    (registry.root / NAME / "staging").mkdir()
    (registry.root / NAME / "99.tmp").mkdir()
    assert registry.next_version(NAME) == "2"


def test_next_version_of_new_model_is_one(registry: ModelRegistry) -> None:
    assert registry.next_version("brand_new") == "1"


def test_promote_moves_champion_and_returns_previous(registry: ModelRegistry) -> None:
    _add_version(registry, "2")
    assert registry.promote(NAME, "2") == "1"
    assert registry.champion_version(NAME) == "2"
    state = json.loads((registry.root / NAME / REGISTRY_FILE).read_text())
    assert [h["version"] for h in state["history"]] == ["1", "2"]
    assert registry.load_champion(NAME).version == "2"


def test_promote_back_is_a_rollback(registry: ModelRegistry) -> None:
    _add_version(registry, "2")
    registry.promote(NAME, "2")
    assert registry.promote(NAME, "1") == "2"
    assert registry.champion_version(NAME) == "1"


def test_promote_first_version_without_registry_returns_none(tmp_path: Path) -> None:
    shutil.copytree(REPO / "models" / NAME / "1", tmp_path / NAME / "1")
    registry = ModelRegistry(tmp_path)
    assert registry.promote(NAME, "1") is None
    assert registry.champion_version(NAME) == "1"


def test_promote_missing_version_raises_model_not_found(registry: ModelRegistry) -> None:
    before = (registry.root / NAME / REGISTRY_FILE).read_text()
    with pytest.raises(ModelNotFound, match="ranking version 9"):
        registry.promote(NAME, "9")
    assert (registry.root / NAME / REGISTRY_FILE).read_text() == before


def test_champion_of_unknown_model_raises_model_not_found(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFound, match="nope"):
        registry.champion_version("nope")


def test_versions_are_sorted_numerically(registry: ModelRegistry) -> None:
    _add_version(registry, "10")
    _add_version(registry, "2")
    assert [c.version for c in registry.versions(NAME)] == ["1", "2", "10"]
