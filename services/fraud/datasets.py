"""The three labelled fake-account data sets: detect a file's format by its columns, map it to features.

Each format maps its own columns onto `FAKE_FEATURES` with vectorised pandas; what a format lacks is NaN.
The held-out split is a seeded hash of each row's content, so it is the same on every machine and for
every copy of a row, without committing any data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from services.fraud.profiles import FAKE_FEATURES

HOLDOUT_SEED = "tandem-fraud-holdout-v1"
HOLDOUT_PER_MILLE = 200  # 20% of rows


@dataclass(frozen=True)
class DataSet:
    """What is known about one source format: how to recognise it, its label column, its provenance."""

    name: str
    folder: str
    required: frozenset[str]
    label: str
    licence: str
    published: dict[str, float | str]


INSTAFAKE = DataSet(
    name="instafake",
    folder="instafake_fake",
    required=frozenset({"userFollowerCount", "userFollowingCount", "userMediaCount", "usernameDigitCount"}),
    label="isFake",
    licence="CC BY-NC 4.0 (non-commercial use only); Akyon & Kalfaoglu 2019, github.com/fcakyon/instafake-dataset",
    published={"accuracy": 0.96, "source": "Akyon & Kalfaoglu, ASYU 2019 (arXiv:1910.03090), own protocol"},
)
KAGGLE = DataSet(
    name="instagram_fake_spammer_kaggle",
    folder="instagram_fake_spammer_kaggle",
    required=frozenset({"profile pic", "nums/length username", "#followers", "#follows", "#posts"}),
    label="fake",
    licence="not stated (Kaggle upload by B. Bakhshandeh, 2019); research/educational use",
    published={
        "accuracy": 0.94,
        "source": "community reports 0.92-0.94 accuracy (XGBoost 94%, RF 92.5%), not peer reviewed",
    },
)
CRESCI = DataSet(
    name="cresci2015_e13_int",
    folder="cresci2015_fake_followers_e13_int",
    required=frozenset({"statuses_count", "followers_count", "friends_count", "screen_name"}),
    label="is_fake",
    licence="research use with citation of Cresci et al. 2015 (MIB); mirror carries CC0 1.0",
    published={
        "accuracy": 0.95,
        "source": "Cresci et al. 2015 Class A classifier >95% on BAS (a harder mix than this E13/INT subset)",
    },
)
DATASETS: tuple[DataSet, ...] = (INSTAFAKE, KAGGLE, CRESCI)
# Never features: row numbers, ids, and Cresci's `dataset` column, which is the label under another name.
IGNORED = frozenset({"row_id", "id", "dataset"})


class UnknownFormat(ValueError):
    pass


def detect(columns: list[str] | pd.Index) -> DataSet:
    """The data set whose required columns a table has."""
    present = set(columns)
    for ds in DATASETS:
        if ds.required <= present:
            return ds
    known = "; ".join(f"{d.name}: {', '.join(sorted(d.required))}" for d in DATASETS)
    raise UnknownFormat(f"columns {sorted(present)[:12]} match no known format ({known})")


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, low_memory=False)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce").astype(float)


def _counts(followers: pd.Series, following: pd.Series, posts: pd.Series) -> dict[str, pd.Series]:
    return {
        "log10_followers": np.log10(1 + followers),
        "log10_following": np.log10(1 + following),
        "log10_posts": np.log10(1 + posts),
        "log_following_per_follower": np.log10((1 + following) / (1 + followers)),
    }


def _digit_share(text: pd.Series) -> pd.Series:
    digits = text.str.count(r"\d")
    length = text.str.len()
    return (digits / length).where(length > 0)


def _instafake(df: pd.DataFrame) -> dict[str, pd.Series]:
    length = _num(df, "usernameLength")
    return {
        **_counts(_num(df, "userFollowerCount"), _num(df, "userFollowingCount"), _num(df, "userMediaCount")),
        "bio_length": _num(df, "userBiographyLength"),
        "has_profile_pic": _num(df, "userHasProfilPic"),
        "is_private": _num(df, "userIsPrivate"),
        "username_digit_share": (_num(df, "usernameDigitCount") / length).where(length > 0),
        "username_length": length,
    }


def _kaggle(df: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        **_counts(_num(df, "#followers"), _num(df, "#follows"), _num(df, "#posts")),
        "bio_length": _num(df, "description length"),
        "has_profile_pic": _num(df, "profile pic"),
        "is_private": _num(df, "private"),
        "username_digit_share": _num(df, "nums/length username"),
        "has_external_url": _num(df, "external URL"),
        "fullname_words": _num(df, "fullname words"),
        "fullname_digit_share": _num(df, "nums/length fullname"),
        "name_equals_username": _num(df, "name==username"),
    }


def _cresci(df: pd.DataFrame) -> dict[str, pd.Series]:
    screen = df["screen_name"].fillna("").astype(str)
    name = df["name"].fillna("").astype(str) if "name" in df else pd.Series("", index=df.index)
    description = df["description"].fillna("").astype(str) if "description" in df else None
    default_image = _num(df, "default_profile_image").fillna(0) if "default_profile_image" in df else None
    return {
        **_counts(_num(df, "followers_count"), _num(df, "friends_count"), _num(df, "statuses_count")),
        "bio_length": description.str.len().astype(float) if description is not None else np.nan,
        # Twitter shows an egg for accounts that never set a picture: default_profile_image = 1.
        "has_profile_pic": 1.0 - default_image if default_image is not None else np.nan,
        "is_private": _num(df, "protected").fillna(0) if "protected" in df else np.nan,
        "username_digit_share": _digit_share(screen),
        "username_length": screen.str.len().astype(float),
        "has_external_url": df["url"].notna().astype(float) if "url" in df else np.nan,
        "fullname_words": name.str.split().str.len().astype(float),
        "fullname_digit_share": _digit_share(name.str.replace(" ", "")),
        "name_equals_username": (name.str.strip().str.lower() == screen.str.lower()).astype(float),
    }


_MAPPERS = {"instafake": _instafake, "instagram_fake_spammer_kaggle": _kaggle, "cresci2015_e13_int": _cresci}


def features(df: pd.DataFrame, ds: DataSet) -> np.ndarray:
    """The table's rows as a float32 [N, len(FAKE_FEATURES)] matrix, NaN where the format lacks a feature."""
    mapped = _MAPPERS[ds.name](df)
    out = pd.DataFrame({f: mapped.get(f, np.nan) for f in FAKE_FEATURES}, index=df.index)
    return out.to_numpy(dtype=np.float32)


def labels(df: pd.DataFrame, ds: DataSet) -> np.ndarray | None:
    """1 = fake; None when the file carries no label column (scoring only)."""
    if ds.label not in df:
        return None
    return _num(df, ds.label).to_numpy().astype(int)


def _row_text(row: tuple[object, ...]) -> str:
    return "\x1f".join("" if pd.isna(v) else str(v) for v in row)


def holdout_mask(df: pd.DataFrame, ds: DataSet) -> np.ndarray:
    """True for held-out rows: seeded SHA-256 of the row's content (label and ids excluded)."""
    cols = [c for c in df.columns if c not in IGNORED and c != ds.label]
    salt = f"{HOLDOUT_SEED}:{ds.name}:"
    buckets = [
        int.from_bytes(hashlib.sha256((salt + _row_text(row)).encode()).digest()[:4], "big") % 1000
        for row in df[cols].itertuples(index=False)
    ]
    return np.asarray(buckets) < HOLDOUT_PER_MILLE


def data_file(root: Path, ds: DataSet) -> Path:
    """The one data file in a data set's folder under ../shared/data."""
    files = sorted(p for p in (root / ds.folder).iterdir() if p.name.endswith((".csv", ".csv.gz")))
    if len(files) != 1:
        raise FileNotFoundError(f"expected one CSV in {root / ds.folder}, found {[f.name for f in files]}")
    return files[0]
