"""`tandem experiments analyze` on the shared A/B data sets (skipped without ../shared/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tandem.commands.experiments import app

runner = CliRunner()


def _analyze(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["analyze", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cookie_cats_rates_reproduce_published_figures(shared_data: Path) -> None:
    path = str(shared_data / "cookie_cats_ab" / "cookie_cats_train.csv.gz")
    d1 = _analyze(path, "--variant", "version", "--metric", "retention_1")["arms"]
    d7 = _analyze(path, "--variant", "version", "--metric", "retention_7", "--control", "gate_30")
    assert round(d1["gate_30"]["mean"] * 100, 2) == 44.82
    assert round(d1["gate_40"]["mean"] * 100, 2) == 44.23
    assert round(d7["arms"]["gate_30"]["mean"] * 100, 2) == 19.02
    assert round(d7["arms"]["gate_40"]["mean"] * 100, 2) == 18.20
    # This file is the 80% split, so P(best) is a little less certain than the full-data 96.6% / 99.8%.
    assert 0.93 < d1["gate_30"]["prob_best"] < 0.97
    assert d7["arms"]["gate_30"]["prob_best"] > 0.99
    assert d7["verdict"]["decision"] == "control_better"


def test_fastfood_three_arms_continuous_with_plot(shared_data: Path, tmp_path: Path) -> None:
    path = str(shared_data / "fastfood_promotion_ab" / "WA_Marketing-Campaign_train.csv")
    png = tmp_path / "sales.png"
    out = _analyze(path, "--variant", "Promotion", "--metric", "SalesInThousands", "--order-by", "week",
                   "--plot", str(png))  # fmt: skip
    assert out["metric_type"] == "continuous"
    assert set(out["arms"]) == {"1", "2", "3"}
    assert out["arms"]["1"]["mean"] > out["arms"]["2"]["mean"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_analyze_unknown_column_exits_with_reason(shared_data: Path) -> None:
    path = str(shared_data / "fastfood_promotion_ab" / "WA_Marketing-Campaign_train.csv")
    result = runner.invoke(app, ["analyze", path, "--variant", "Promo", "--metric", "SalesInThousands"])
    assert result.exit_code != 0
    assert "Promo" in result.output


def test_fastfood_repeated_weeks_analysed_per_store(shared_data: Path) -> None:
    path = str(shared_data / "fastfood_promotion_ab" / "WA_Marketing-Campaign_train.csv")
    args = [path, "--variant", "Promotion", "--metric", "SalesInThousands", "--control", "1"]
    rows = _analyze(*args)["verdict"]["comparisons"]["2"]
    stores = _analyze(*args, "--unit", "LocationID")
    per_store = stores["verdict"]["comparisons"]["2"]
    assert rows["p_value"] < 1e-4  # four weekly rows per store read as independent
    assert 0.015 < per_store["p_value"] < 0.035  # one mean per store: ~0.02
    assert stores["unit"] == {"column": "LocationID", "units": 110}
    assert sum(a["n"] for a in stores["arms"].values()) == 110
    assert stores["recommendation"].startswith("Keep 1")


def test_unit_in_two_arms_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ab.csv"
    path.write_text("arm,store,sales\na,s1,1\nb,s1,2\na,s2,3\nb,s3,4\n")
    result = runner.invoke(
        app, ["analyze", str(path), "--variant", "arm", "--metric", "sales", "--unit", "store"]
    )
    assert result.exit_code != 0
    assert "more than one arm" in result.output
    assert "Traceback" not in result.output


def test_sample_size_for_four_arms_prints_the_correction() -> None:
    result = runner.invoke(
        app, ["sample-size", "--baseline", "0.1", "--mde", "0.02", "--arms", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["per_arm"], out["total"]) == (5_120, 20_480)
    assert out["alpha_per_comparison"] == pytest.approx(0.05 / 3)
