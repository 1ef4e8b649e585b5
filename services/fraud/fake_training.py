"""Train the fake-account classifier on the three real labelled data sets; evaluate and score files.

One model over `FAKE_FEATURES` for all three formats, exported as one ONNX graph; each data set is
weighted equally, so the 2,255 Twitter rows do not drown the 576 Kaggle rows. The model is chosen by
cross-validation per format on the training rows only (`fake_selection`); the held-out rows (a seeded
hash per row, see `datasets.holdout_mask`) are scored once, by the exported ONNX graph, for the card,
next to the chosen model's cross-validated figures and the published ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from services.fraud import datasets as ds_
from services.fraud import fake_selection as selection
from services.fraud.profiles import FAKE_FEATURES
from shared.metrics import classification_metrics
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel, write_card
from shared.training import data_sha256, register_version, to_onnx_bytes

MODEL_NAME = "fake_account"
TRAIN_STEPS = 3 + len(selection.CANDIDATES)  # read, one CV per candidate, fit, export
THRESHOLD = 0.5
# Audience samples are Instagram profiles, so the error rates used to correct them come from the
# Instagram sets' held-out rows.
INSTAGRAM_SETS = ("instafake", "instagram_fake_spammer_kaggle")
INSTAGRAM_FOLDERS = tuple(ds.folder for ds in ds_.DATASETS if ds.name in INSTAGRAM_SETS)


@dataclass(frozen=True)
class Part:
    """One data set's file, features, labels and held-out mask."""

    ds: ds_.DataSet
    path: Path
    x: np.ndarray
    y: np.ndarray
    holdout: np.ndarray


def load_part(path: Path) -> Part:
    df = ds_.read_table(path)
    ds = ds_.detect(df.columns)
    y = ds_.labels(df, ds)
    if y is None:
        raise ValueError(f"{path} has no label column {ds.label!r}")
    return Part(ds, path, ds_.features(df, ds), y, ds_.holdout_mask(df, ds))


def load_parts(root: Path, exclude: Collection[str] = ()) -> list[Part]:
    """The data sets under `root` that are present and not excluded (commercial use leaves out InstaFake).

    At least one Instagram set must remain: the audience correction uses its validation error rates.
    """
    chosen = [ds for ds in ds_.DATASETS if ds.name not in exclude and (root / ds.folder).is_dir()]
    if not {ds.name for ds in chosen} & set(INSTAGRAM_SETS):
        raise FileNotFoundError(
            f"no Instagram data set to train on in {root} (need {' or '.join(f'{n}/' for n in INSTAGRAM_FOLDERS)})"
        )
    return [load_part(ds_.data_file(root, ds)) for ds in chosen]


def _training_rows(parts: list[Part]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, ws = [], [], []
    for p in parts:
        keep = ~p.holdout
        xs.append(p.x[keep])
        ys.append(p.y[keep])
        ws.append(np.full(int(keep.sum()), 1.0 / keep.sum()))
    w = np.concatenate(ws)
    return np.vstack(xs), np.concatenate(ys), w / w.mean()


def confusion(y: np.ndarray, proba: np.ndarray, threshold: float = THRESHOLD) -> dict[str, float]:
    """Counts and rates at the serving threshold (fake = positive): the audience correction needs them."""
    pred = proba >= threshold
    tp, fn = int(np.sum(pred & (y == 1))), int(np.sum(~pred & (y == 1)))
    tn, fp = int(np.sum(~pred & (y == 0))), int(np.sum(pred & (y == 0)))
    return {
        "tp": tp,
        "fn": fn,
        "tn": tn,
        "fp": fp,
        "sensitivity": round(tp / max(tp + fn, 1), 4),
        "specificity": round(tn / max(tn + fp, 1), 4),
    }


def _evaluate(parts: list[Part], model: OnnxModel, cv: dict[str, Any]) -> dict[str, Any]:
    holdout: dict[str, Any] = {}
    ig_y, ig_p = [], []
    for p in parts:
        proba = model.run("model", p.x[p.holdout], count=False)
        holdout[p.ds.name] = {**classification_metrics(p.y[p.holdout], proba), "published": p.ds.published}
        if p.ds.name in INSTAGRAM_SETS:
            ig_y.append(p.y[p.holdout])
            ig_p.append(proba)
    return {
        "holdout": holdout,
        **cv,
        "threshold": THRESHOLD,
        "validation_instagram": confusion(np.concatenate(ig_y), np.concatenate(ig_p)),
    }


def _cv_metrics(parts: list[Part], chosen: selection.Candidate, figures: dict[str, Any]) -> dict[str, Any]:
    """The chosen model's per-format CV figures next to the published ones, and every candidate's mean."""
    cross_validated = {
        p.ds.name: {
            **figures[chosen.name][p.ds.name],
            "rows": int((~p.holdout).sum()),
            "published": p.ds.published,
        }
        for p in parts
    }
    candidates = {
        name: {
            "mean_log_loss": round(float(np.mean([m["log_loss"] for m in per_set.values()])), 4),
            "accuracy": {ds: m["accuracy"] for ds, m in per_set.items()},
        }
        for name, per_set in figures.items()
    }
    rule = "lowest mean over formats of the per-format CV log loss"
    return {
        "cross_validated": cross_validated,
        "selection": {"chosen": chosen.name, "rule": rule, "candidates": candidates},
    }


def _notes(chosen: selection.Candidate, candidates: int) -> str:
    return (
        f"{chosen.describe()}; chosen among {candidates} candidates (version 1's model is hgb_depth4) by "
        f"{selection.FOLDS}-fold CV per format on training rows only: lowest mean log loss over the formats "
        f"(metrics.selection). metrics.cross_validated are the chosen candidate's folds in the run that chose "
        f"it, so slightly optimistic. Data sets weighted equally. Held-out split: SHA-256 of each row's "
        f"content salted with {ds_.HOLDOUT_SEED!r}, {ds_.HOLDOUT_PER_MILLE / 10:.0f}% of rows, never used "
        f"to choose. Fake = positive class, threshold {THRESHOLD}. Published numbers use their own "
        f"protocols (see each entry)."
    )


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(root: Path, registry: ModelRegistry, seed: int = 0, exclude: Collection[str] = (),
          log: Callable[[str], None] = lambda _: None) -> OnnxModel:  # fmt: skip
    """Fit on every data set's training rows, register, and promote; the card holds per-set metrics.

    `log` hears each of the TRAIN_STEPS steps as it starts (the CLI shows them as progress)."""
    log(f"reading the data sets in {root}" + (f" (leaving out {', '.join(exclude)})" if exclude else ""))
    parts = load_parts(root, exclude)
    x, y, w = _training_rows(parts)
    sets = [(p.ds.name, p.x[~p.holdout], p.y[~p.holdout]) for p in parts]
    chosen, figures = selection.choose(sets, seed, log)
    log(f"fitting {chosen.name} on {', '.join(p.ds.name for p in parts)}")
    clf = selection.fit(chosen, x, y, w, seed)
    log("exporting to ONNX, scoring the held-out rows, promoting")
    described = [
        {
            "name": p.ds.name,
            "file": f"../shared/data/{p.ds.folder}/{p.path.name}",
            "sha256": _file_sha(p.path),
            "rows": len(p.y),
            "train_rows": int((~p.holdout).sum()),
            "holdout_rows": int(p.holdout.sum()),
            "licence": p.ds.licence,
        }
        for p in parts
    ]
    licence = "; ".join(f"{s['name']}: {s['licence']}" for s in described)
    model = register_version(
        registry,
        MODEL_NAME,
        {"model": to_onnx_bytes(clf, len(FAKE_FEATURES))},
        task="classification",
        features=FAKE_FEATURES,
        data=DataRef(
            source=", ".join(str(s["file"]) for s in described),
            sha256=data_sha256(x, y),
            rows=len(y),
            licence=licence,
        ),
        evaluate=lambda m: _evaluate(parts, m, _cv_metrics(parts, chosen, figures)),
        reference_rows=x,
        notes=_notes(chosen, len(figures)),
    )
    card = model.card.model_copy(update={"training_sets": described})
    write_card(model.folder, card)
    model.card = card
    return model


def _metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Held-out metrics; ROC AUC is null (not NaN, which is not JSON) when the file has one class only."""
    if len(np.unique(y)) < 2:
        return _one_class(y, proba)
    return classification_metrics(y, proba, THRESHOLD)


def _one_class(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    pred = proba >= THRESHOLD
    tp = int(np.sum(pred & (y == 1)))
    precision = tp / max(int(pred.sum()), 1)
    recall = tp / max(int((y == 1).sum()), 1)
    return {
        "accuracy": round(float(np.mean(pred == (y == 1))), 4) if len(y) else None,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "roc_auc": None,
        "rows": len(y),
    }


def _trained_on(model: OnnxModel, path: Path) -> bool:
    """Whether the model's training sets include this very file (same SHA-256)."""
    return _file_sha(path) in {s["sha256"] for s in getattr(model.card, "training_sets", [])}


def resolve_split(model: OnnxModel, path: Path, split: str) -> str:
    """`auto`: the held-out rows of a file the model was trained on, else every row."""
    if split != "auto":
        return split
    return "holdout" if _trained_on(model, path) else "all"


def evaluate_file(model: OnnxModel, path: Path, split: str = "auto") -> dict[str, Any]:
    """Metrics of the model on a labelled file of any known format; `split` = auto | all | holdout | train.

    `in_sample_rows` counts the scored rows that trained the model: figures with any are not held out."""
    part = load_part(path)
    split = resolve_split(model, path, split)
    rows = {"all": np.ones(len(part.y), bool), "holdout": part.holdout, "train": ~part.holdout}[split]
    proba = model.run("model", part.x[rows], count=False)
    cv = model.card.metrics.get("cross_validated", {}).get(part.ds.name)
    return {
        "dataset": part.ds.name,
        "split": split,
        **_metrics(part.y[rows], proba),
        "in_sample_rows": int((rows & ~part.holdout).sum()) if _trained_on(model, path) else 0,
        # What to read the figures against: the card's CV on the training rows (None for a card without
        # them) and the published accuracy, with its protocol.
        "cross_validated": {k: cv[k] for k in ("accuracy", "accuracy_sd", "roc_auc", "folds")}
        if cv
        else None,
        "published": part.ds.published,
        "model_name": model.name,
        "model_version": model.version,
    }


def evaluate_formats(model: OnnxModel, root: Path) -> list[dict[str, Any]]:
    """`evaluate_file` on each data set present under `root` (its held-out rows when the model trained on it)."""
    present = [ds for ds in ds_.DATASETS if (root / ds.folder).is_dir()]
    if not present:
        raise FileNotFoundError(f"none of {', '.join(ds.folder for ds in ds_.DATASETS)} is in {root}")
    return [evaluate_file(model, ds_.data_file(root, ds)) for ds in present]


def score_file(model: OnnxModel, path: Path, out: Path) -> dict[str, Any]:
    """Write one row per input row: its position, fake probability and predicted label (CSV)."""
    df = ds_.read_table(path)
    ds = ds_.detect(df.columns)
    proba = model.run("model", ds_.features(df, ds), count=False) if len(df) else np.zeros(0)
    result = pd.DataFrame(
        {
            "row": np.arange(len(df)),
            "fake_probability": np.round(proba, 6),
            "is_fake": (proba >= THRESHOLD).astype(int),
        }
    )
    if "row_id" in df:
        result.insert(1, "row_id", df["row_id"].to_numpy())
    result.to_csv(out, index=False)
    return {
        "dataset": ds.name,
        "rows": len(df),
        "out": str(out),
        "model_name": model.name,
        "model_version": model.version,
    }
