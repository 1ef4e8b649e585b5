"""Read an experiment file (CSV, optionally gzipped) into one array of metric values per arm, in row order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

TRUE = {"true", "t", "yes", "1"}
FALSE = {"false", "f", "no", "0"}


def _as_number(raw: str) -> float:
    v = raw.strip().lower()
    if v in TRUE:
        return 1.0
    if v in FALSE:
        return 0.0
    return float(v)


def read_groups(path: Path, variant: str, metric: str, order_by: str | None = None) -> dict[str, np.ndarray]:
    """Metric values per variant; rows with a blank metric are dropped; `order_by` sorts by a time column."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in (variant, metric, order_by):
        if col and col not in df.columns:
            raise ValueError(f"column {col!r} not in {path.name} (columns: {', '.join(df.columns)})")
    df = df[df[metric].str.strip() != ""]
    if order_by:
        df = df.sort_values(order_by, key=lambda s: pd.to_numeric(s, errors="coerce"), kind="stable")
    values = df[metric].map(_as_number).to_numpy(dtype=np.float64)
    arms = df[variant].to_numpy()
    return {str(a): values[arms == a] for a in sorted(set(arms))}
