"""Routing settings: stored per brand and campaign, campaign over brand over config, field by field."""

from __future__ import annotations

from services.review import policies
from services.review.config import ReviewSettings
from services.review.consumers import plan_for
from services.review.schemas import RoutingValues
from shared.db import Database
from tests.review import helpers

SETTINGS = ReviewSettings(audit_sample_rate=0.1, auto_approve_min_match=0.85)


def test_effective_settings_campaign_over_brand_over_config(db: Database) -> None:
    with db.transaction() as session:
        policies.put_setting(session, helpers.ORG, "brand", "glow", RoutingValues(audit_sample_rate=0.3,
                             auto_approve_min_match=0.9), who="max")  # fmt: skip
        policies.put_setting(
            session, helpers.ORG, "campaign", "cmp-1", RoutingValues(audit_sample_rate=0.5), "max"
        )
    with db.transaction() as session:
        both = policies.effective(session, SETTINGS, helpers.ORG, "cmp-1", "glow")
        brand_only = policies.effective(session, SETTINGS, helpers.ORG, "cmp-2", "glow")
        neither = policies.effective(session, SETTINGS, helpers.ORG, "cmp-2", "")
        other_org = policies.effective(session, SETTINGS, "other", "cmp-1", "glow")
    assert (both["audit_sample_rate"], both["auto_approve_min_match"]) == (0.5, 0.9)
    assert (brand_only["audit_sample_rate"], brand_only["auto_approve_min_match"]) == (0.3, 0.9)
    assert (neither["audit_sample_rate"], neither["auto_approve_min_match"]) == (0.1, 0.85)
    assert other_org == neither


def test_put_setting_replaces_the_stored_values(db: Database) -> None:
    with db.transaction() as session:
        policies.put_setting(
            session, helpers.ORG, "campaign", "cmp-1", RoutingValues(audit_sample_rate=0.5), "max"
        )
        out = policies.put_setting(
            session, helpers.ORG, "campaign", "cmp-1", RoutingValues(volume_due_hours=6), "max"
        )
    assert out.values == RoutingValues(volume_due_hours=6)
    with db.transaction() as session:
        values = policies.effective(session, SETTINGS, helpers.ORG, "cmp-1")
    assert (values["audit_sample_rate"], values["volume_due_hours"]) == (0.1, 6)


def test_plan_for_a_shortlist_uses_its_brand_settings(db: Database) -> None:
    with db.transaction() as session:
        policies.put_setting(session, helpers.ORG, "brand", "glow", RoutingValues(audit_sample_rate=1.0,
                             first_time_to_people=True, strategic_due_hours=12), "max")  # fmt: skip
    sl = helpers.shortlist([helpers.entry(1, "cr-1", 0.9, 0.1)]).model_copy(update={"brand": "glow"})
    with db.transaction() as session:
        plan = plan_for(session, SETTINGS, helpers.ORG, sl)
    assert (plan.policy.audit_sample_rate, plan.policy.first_time_to_people) == (1.0, True)
    assert plan.due_hours["strategic"] == 12 and plan.due_hours["volume"] == SETTINGS.volume_due_hours
