"""A file-system model registry: models/<name>/<version>/ with a champion pointer per model.

Every version stays on disk with its card (metrics, data hash, parent), so promotion and rollback are
pointer moves that any service replica can follow.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from shared.observability import FEATURE_PSI
from shared.onnx_model import CARD_FILE, ModelCard, ModelSlot, OnnxModel

log = logging.getLogger(__name__)

REGISTRY_FILE = "registry.json"


class ModelNotFound(LookupError):
    pass


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _state_path(self, name: str) -> Path:
        return self.root / name / REGISTRY_FILE

    def _state(self, name: str) -> dict[str, object]:
        path = self._state_path(name)
        if not path.exists():
            raise ModelNotFound(f"no model {name!r} under {self.root}")
        state: dict[str, object] = json.loads(path.read_text())
        return state

    def versions(self, name: str) -> list[ModelCard]:
        folder = self.root / name
        cards = [
            ModelCard.model_validate_json((p / CARD_FILE).read_text())
            for p in folder.iterdir()
            if (p / CARD_FILE).exists()
        ]
        return sorted(cards, key=lambda c: int(c.version) if c.version.isdigit() else c.version)

    def champion_version(self, name: str) -> str:
        return str(self._state(name)["champion"])

    def champion_folder(self, name: str) -> Path:
        return self.root / name / self.champion_version(name)

    def load_champion(self, name: str) -> OnnxModel:
        return OnnxModel(self.champion_folder(name))

    def next_version(self, name: str) -> str:
        folder = self.root / name
        numbers = (
            [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()]
            if folder.exists()
            else []
        )
        return str(max(numbers, default=0) + 1)

    def promote(self, name: str, version: str) -> str | None:
        """Make `version` the champion; returns the previous champion."""
        if not (self.root / name / version / CARD_FILE).exists():
            raise ModelNotFound(f"{name} version {version} has no card")
        path = self._state_path(name)
        state: dict[str, object] = json.loads(path.read_text()) if path.exists() else {"history": []}
        previous = state.get("champion")
        entries = state.get("history", [])
        history = list(entries) if isinstance(entries, list) else []
        history.append({"version": version, "promoted_at": datetime.now(UTC).isoformat()})
        # Write then rename: a watcher in another process never reads a half-written pointer.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"champion": version, "history": history}, indent=2) + "\n")
        os.replace(tmp, path)
        return str(previous) if previous is not None else None

    def rollback(self, name: str) -> tuple[str, str]:
        """Make the champion before the current one champion again; returns (from, to)."""
        state = self._state(name)
        entries = state.get("history", [])
        history = [str(h["version"]) for h in entries] if isinstance(entries, list) else []
        current = str(state["champion"])
        earlier = [v for v in history[:-1] if v != current]
        if not earlier:
            raise ModelNotFound(f"{name} has no earlier champion to roll back to")
        self.promote(name, earlier[-1])
        return current, earlier[-1]


class ModelWatcher(threading.Thread):
    """Follows the registry's champion pointers and hot-swaps the served versions.

    Every replica watches for itself: a promotion event on a consumer group would reach only one
    replica, while each process must swap its own sessions.
    """

    def __init__(
        self,
        registry: ModelRegistry,
        slots: dict[str, ModelSlot],
        interval_s: float = 2.0,
        on_drift: Callable[[OnnxModel, dict[str, float]], None] | None = None,
    ) -> None:
        super().__init__(name="model-watcher", daemon=True)
        self.registry, self.slots, self.interval_s, self.on_drift = registry, slots, interval_s, on_drift
        self._stop_event = threading.Event()
        self._alerted: set[tuple[str, str]] = set()

    def check_once(self) -> list[str]:
        """Swap every model whose champion changed; returns the names swapped."""
        swapped = []
        for name, slot in self.slots.items():
            try:
                version = self.registry.champion_version(name)
                if version != slot.current.version:
                    old = slot.swap(self.registry.root / name / version)
                    log.info(
                        "model swapped", extra={"fields": {"model": name, "from": old.version, "to": version}}
                    )
                    swapped.append(name)
            except Exception:
                log.exception("cannot load the new champion; still serving the old one")
        return swapped

    def check_drift(self) -> dict[str, dict[str, float]]:
        """Export PSI per feature; report each model version's drift once (after enough rows)."""
        found = {}
        for slot in self.slots.values():
            model = slot.current
            if model.drift is None:
                continue
            for feature, value in model.drift.psi_by_feature().items():
                FEATURE_PSI.labels(model.name, model.version, feature).set(value)
            drifted = model.drift.drifted()
            if drifted:
                found[model.name] = drifted
                if (model.name, model.version) not in self._alerted and self.on_drift is not None:
                    self._alerted.add((model.name, model.version))
                    self.on_drift(model, drifted)
        return found

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            self.check_once()
            try:
                self.check_drift()
            except Exception:
                log.exception("drift check failed")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
