"""Discovery request validation: closed vocabularies and consistent ranges, with messages that say what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.discovery.schemas import BriefIn, BulkCreatorsIn, CreatorIn


def _brief(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "spring",
        "category": "beauty",
        "target_markets": ["US"],
        "platforms": ["instagram"],
        **overrides,
    }


def _creator(**overrides: Any) -> dict[str, Any]:
    return {
        "creator_id": "cr-1", "name": "Ann", "home_market": "US", "languages": ["en"], "categories": ["beauty"],
        "accounts": [{"platform": "instagram", "handle": "ann", "followers": 12_000, "engagement_rate": 0.02}],
        "audience": [{"market": "US", "audience_share": 0.6, "engagement_rate": 0.02},
                     {"market": "GB", "audience_share": 0.3, "engagement_rate": 0.02}],
        **overrides,
    }  # fmt: skip


def _error(exc: pytest.ExceptionInfo[ValidationError]) -> tuple[tuple[Any, ...], str]:
    [err] = exc.value.errors()
    return err["loc"], err["msg"]


def test_brief_accepts_valid_brief() -> None:
    brief = BriefIn.model_validate(_brief(min_followers=1000, max_followers=1000))
    assert brief.tier == "volume"
    assert brief.min_target_share == 0.1


def test_brief_rejects_unknown_market_naming_field_and_value() -> None:
    with pytest.raises(ValidationError) as exc:
        BriefIn.model_validate(_brief(target_markets=["US", "XX"]))
    loc, msg = _error(exc)
    assert loc == ("target_markets",)
    assert "unknown market: XX" in msg
    assert "ISO 3166-1 alpha-2" in msg.split("known:")[1], "names the standard, not 249 codes"


def test_brief_rejects_lowercase_market() -> None:
    with pytest.raises(ValidationError, match="unknown market: us"):
        BriefIn.model_validate(_brief(target_markets=["us"]))


def test_brief_rejects_unknown_category_naming_field_and_value() -> None:
    with pytest.raises(ValidationError) as exc:
        BriefIn.model_validate(_brief(category="cooking"))
    loc, msg = _error(exc)
    assert loc == ("category",)
    assert "unknown category: cooking" in msg


def test_brief_rejects_unknown_language() -> None:
    with pytest.raises(ValidationError, match="unknown language: xx"):
        BriefIn.model_validate(_brief(languages=["en", "xx"]))


def test_brief_rejects_min_followers_above_max() -> None:
    with pytest.raises(ValidationError) as exc:
        BriefIn.model_validate(_brief(min_followers=50_000, max_followers=10_000))
    _, msg = _error(exc)
    assert "min_followers is greater than max_followers" in msg


def test_brief_rejects_unknown_field() -> None:
    with pytest.raises(ValidationError) as exc:
        BriefIn.model_validate(_brief(target_market="US"))
    assert ("target_market",) in [e["loc"] for e in exc.value.errors()]


def test_brief_rejects_empty_target_markets_and_unknown_platform() -> None:
    with pytest.raises(ValidationError):
        BriefIn.model_validate(_brief(target_markets=[]))
    with pytest.raises(ValidationError, match="platforms"):
        BriefIn.model_validate(_brief(platforms=["myspace"]))


def test_creator_accepts_shares_summing_to_rounding_tolerance() -> None:
    audience = [{"market": "US", "audience_share": 0.505, "engagement_rate": 0.02},
                {"market": "GB", "audience_share": 0.505, "engagement_rate": 0.02}]  # fmt: skip
    assert len(CreatorIn.model_validate(_creator(audience=audience)).audience) == 2


def test_creator_rejects_audience_shares_summing_over_1_01() -> None:
    audience = [{"market": "US", "audience_share": 0.7, "engagement_rate": 0.02},
                {"market": "GB", "audience_share": 0.32, "engagement_rate": 0.02}]  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        CreatorIn.model_validate(_creator(audience=audience))
    loc, msg = _error(exc)
    assert loc == ("audience",)
    assert "audience shares add up to more than 1" in msg


def test_creator_rejects_unknown_audience_market() -> None:
    audience = [{"market": "ZZ", "audience_share": 0.5, "engagement_rate": 0.02}]
    with pytest.raises(ValidationError, match="unknown market: ZZ"):
        CreatorIn.model_validate(_creator(audience=audience))


def test_creator_rejects_unknown_home_market() -> None:
    with pytest.raises(ValidationError) as exc:
        CreatorIn.model_validate(_creator(home_market="USA"))
    loc, msg = _error(exc)
    assert loc == ("home_market",)
    assert "unknown market: USA" in msg


def test_creator_requires_an_account() -> None:
    with pytest.raises(ValidationError, match="accounts"):
        CreatorIn.model_validate(_creator(accounts=[]))


def test_creator_rejects_negative_price() -> None:
    with pytest.raises(ValidationError, match="price_usd"):
        CreatorIn.model_validate(_creator(price_usd=-1))


def test_bulk_creators_reports_index_of_bad_creator() -> None:
    with pytest.raises(ValidationError) as exc:
        BulkCreatorsIn.model_validate({"creators": [_creator(), _creator(categories=["knitting"])]})
    loc, msg = _error(exc)
    assert loc == ("creators", 1, "categories")
    assert "knitting" in msg


def test_creator_rejects_duplicate_audience_market() -> None:
    audience = [{"market": "US", "audience_share": 0.4, "engagement_rate": 0.02},
                {"market": "US", "audience_share": 0.3, "engagement_rate": 0.02}]  # fmt: skip
    with pytest.raises(ValidationError, match="US"):
        CreatorIn.model_validate(_creator(audience=audience))


def test_creator_rejects_two_accounts_on_one_platform() -> None:
    accounts = [{"platform": "instagram", "handle": "ann", "followers": 12_000, "engagement_rate": 0.02},
                {"platform": "instagram", "handle": "ann2", "followers": 3_000, "engagement_rate": 0.02}]  # fmt: skip
    with pytest.raises(ValidationError, match="instagram"):
        CreatorIn.model_validate(_creator(accounts=accounts))


def test_creator_rejects_a_repeated_audience_market_or_account_platform_naming_it() -> None:
    twice = [{"market": "GB", "audience_share": 0.3, "engagement_rate": 0.02}] * 2
    with pytest.raises(ValidationError) as exc:
        CreatorIn.model_validate(_creator(audience=twice))
    loc, msg = _error(exc)
    assert loc == ("audience",) and "repeated: GB" in msg
    account = {"platform": "tiktok", "handle": "a", "followers": 10, "engagement_rate": 0.02}
    with pytest.raises(ValidationError, match="repeated: tiktok"):
        CreatorIn.model_validate(_creator(accounts=[account, {**account, "handle": "b"}]))
    CreatorIn.model_validate(
        _creator(accounts=[account, {**account, "platform": "youtube"}])
    )  # distinct: fine
