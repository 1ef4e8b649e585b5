"""Columnar bulk parsing: the same features as single scoring, bad rows named, the rest kept."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from services.fraud.bulk import features, parse
from services.fraud.features import feature_matrix
from shared.errors import Invalid
from shared.events import AccountStats


def test_bulk_features_equal_account_features() -> None:
    rng = np.random.default_rng(4)
    rows = [
        {
            "platform": str(rng.choice(["instagram", "tiktok", "youtube", "vk", "telegram"])),
            "followers": int(rng.integers(0, 5_000_000)),
            "following": int(rng.integers(0, 8000)),
            "posts": int(rng.integers(0, 3000)),
            "engagement_rate": float(rng.uniform(0, 0.2)),
            "avg_likes": float(rng.uniform(0, 5000)) * (i % 7 != 0),
            "avg_comments": float(rng.uniform(0, 200)) * (i % 7 != 0),
            "max_monthly_growth": float(rng.uniform(0, 1)),
            "median_monthly_growth": float(rng.uniform(0, 0.05)),
        }
        for i in range(200)
    ]
    accounts = [AccountStats.model_validate({**r, "handle": "h"}) for r in rows]
    cols = parse(orjson.dumps({"columns": {k: [r[k] for r in rows] for k in rows[0]}}))
    assert not cols.bad.any()
    np.testing.assert_allclose(features(cols), feature_matrix(accounts), rtol=1e-6, equal_nan=True)


def test_bulk_without_count_columns_scores_them_as_unknown_like_single_scoring() -> None:
    row = {"platform": "instagram", "followers": 40_000, "engagement_rate": 0.02}
    cols = parse(orjson.dumps({"columns": {k: [v] for k, v in row.items()}}))
    assert not cols.bad.any()
    account = AccountStats.model_validate({**row, "handle": "h"})
    assert (account.following, account.posts) == (None, None)
    np.testing.assert_allclose(features(cols), feature_matrix([account]), rtol=1e-6, equal_nan=True)
    zeros = AccountStats.model_validate({**row, "handle": "h", "following": 0, "posts": 0})
    assert not np.allclose(features(cols), feature_matrix([zeros]), equal_nan=True)


def test_parse_marks_nan_null_and_bool_rows_bad() -> None:
    body = b'{"columns": {"platform": ["vk","vk","vk","vk"], "followers": [1, null, true, 5],' \
           b' "engagement_rate": [0.1, 0.1, 0.1, 2.0]}}'  # fmt: skip
    cols = parse(body)
    assert list(np.flatnonzero(cols.bad)) == [1, 2, 3]
    assert {e["field"] for e in cols.errors} == {"followers", "engagement_rate"}


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"columns": {"platform": []}}'])
def test_parse_rejects_malformed_bodies(body: bytes) -> None:
    with pytest.raises(Invalid):
        parse(body)
