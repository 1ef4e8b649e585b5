"""Command groups of the `tandem` CLI, one module per domain; each defines `NAME` and `app`.

`GROUPS` names each module and the one-line help `tandem --help` shows, so listing the commands imports
none of them (tests/tandem/test_cli_startup.py checks it matches each module's own `app`).
"""

GROUPS: dict[str, str] = {
    "discovery": "Creator catalogue: import ranking files.",
    "docs": "Generated documents.",
    "experiments": "A/B tests: analysis with intervals, P(best) and a peeking-safe verdict.",
    "feedback": "Feedback loop: retrain on stored outcomes, simulate months of it.",
    "forecast": "Content-performance forecasts.",
    "fraud": "Fake-account classifier: train on the real data sets, evaluate, score files.",
    "keys": "API keys: one organisation and one role per key.",
    "models": "Model registry: versions, promotion, rollback.",
    "replay": "Re-publish a service's state after a broker lost events (consumers skip what they have).",
    "review": "Review: reviewers, the policy simulator, the overdue sweep.",
    "webhooks": "Inbound webhook sources (outbound endpoints are managed over /v1/webhooks).",
}
