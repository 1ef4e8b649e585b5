"""Importing the messy ranking files: most rows in, every rejected row explained."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from services.discovery.importing import measured_on_of, number, read_ranking_file, topics
from shared.countries import country_code
from shared.vocabulary import MARKETS

MESSY = (
    's.no,Name,Instagram Name,Category-1,Followers,Followers,"\nCountry",Eng. (Auth.),Eng. (Auth.)\n'
    ",,,,,,,,\n"
    "1,cristiano,Cristiano Ronaldo,Sports with a ball,483.1M,483100000,India,4.5M,4500000\n"
    "2,kremlin_cat,Кот,Humor & Fun & Happiness,6.2M,N/A,Russia,#VALOR!,120K\n"
    "3,,Nobody,Beauty,1M,1000000,Spain,10K,10000\n"
    "4,ghost,Ghost,Beauty,N/A',#VALOR!,Spain,10K,10000\n"
    "5,atlantis,Atlantis,Cinema & Actors/actresses,2M,2000000,Atlantis,50K,50000\n"
    "6,cristiano,Cristiano again,Sports,483.1M,483100000,India,4.5M,4500000\n"
)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("6.2M", 6.2e6), ("477.9K", 477_900), ("1.1B", 1.1e9), ("1,234", 1234), ("N/A'", None), ("#VALOR!", None),
     ("-", None), ("", None), ("12", 12)],
)  # fmt: skip
def test_number_reads_abbreviations_and_missing_markers(cell: str, value: float | None) -> None:
    assert number(cell) == (pytest.approx(value) if value is not None else None)


def test_messy_file_imports_good_rows_and_explains_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "instagram_2022-11.csv"
    path.write_text(MESSY, encoding="utf-8")
    result = read_ranking_file(path)
    assert [c.creator_id for c in result.creators] == ["in-cristiano", "in-kremlin_cat", "in-atlantis"]
    cat = result.creators[1]
    assert (cat.top_audience_market, cat.categories, cat.accounts[0].followers) == (
        "RU",
        ["humor"],
        6_200_000,
    )
    assert cat.home_market == "", "the file's country is the audience's, not where the creator lives"
    assert cat.audience == [], "the share of the top audience country is not measured"
    assert cat.measured_on == date(2022, 11, 1), "the ranking's month, from the file name"
    assert cat.accounts[0].engagement_rate == pytest.approx(120_000 / 6.2e6, rel=1e-4)
    atlantis = result.creators[2]
    assert atlantis.top_audience_market == "", "a name that is no country imports without a market"
    assert atlantis.tags == ["cinema & actors/actresses"], "a topic without a category is kept as a tag"
    reasons = {r.line: r.reason for r in result.rejected}
    assert reasons[2] == "empty row"
    assert reasons[5] == "no account handle"
    assert reasons[6].startswith("followers unreadable")
    assert reasons[8].startswith("repeats in-cristiano")
    assert result.rows == len(result.creators) + len(result.rejected)
    assert any("Atlantis" in note for note in result.notes)


def test_each_real_ranking_file_imports_most_rows(shared_data: Path) -> None:
    files = sorted((shared_data / "social_media_influencers_2022").glob("*.csv"))
    assert len(files) == 12
    for path in files:
        result = read_ranking_file(path)
        assert result.rows == len(result.creators) + len(result.rejected), path.name
        assert len(result.creators) >= 0.9 * result.rows, path.name
        assert all(r.reason for r in result.rejected)
    ru = [c for c in read_ranking_file(files[2]).creators if c.top_audience_market == "RU"]
    assert ru, "the Instagram ranking names Russian audiences"


@pytest.mark.parametrize(
    ("name", "code"),
    [("Portugal", "PT"), ("Chile", "CL"), ("United States", "US"), ("USA", "US"), ("south  korea", "KR"),
     ("Türkiye", "TR"), ("Atlantis", None), ("10.2M", None)],
)  # fmt: skip
def test_every_iso_country_is_a_market(name: str, code: str | None) -> None:
    assert country_code(name) == code
    assert code is None or code in MARKETS
    assert len(MARKETS) == len(set(MARKETS)) == 249


def test_categories_map_through_synonyms_and_unknown_topics_stay_tags() -> None:
    notes: Counter[str] = Counter()
    categories, tags = topics(
        ["Sports with a ball", "Food & Cooking", "ASMR", "Quantum knitting", "N/A"], notes
    )
    assert categories == ["sports", "food"]
    assert tags == ["asmr", "quantum knitting"]
    assert sum(notes.values()) == 2


def test_measurement_date_comes_from_the_file_name_or_the_caller(tmp_path: Path) -> None:
    assert measured_on_of(Path("youtube_2022-06.csv")) == date(2022, 6, 1)
    assert measured_on_of(Path("youtube_undated.csv")) is None
    path = tmp_path / "instagram_undated.csv"
    path.write_text(MESSY, encoding="utf-8")
    assert read_ranking_file(path).creators[0].measured_on is None
    given = read_ranking_file(path, measured_on=date(2022, 12, 15))
    assert {c.measured_on for c in given.creators} == {date(2022, 12, 15)}
