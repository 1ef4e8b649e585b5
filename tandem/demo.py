"""`tandem demo`: the whole platform on the embedded default, driven through its public APIs."""

from __future__ import annotations

import secrets
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import typer

from shared.broker import Broker, free_port, make_broker, preferred_kind
from shared.settings import REPO_ROOT
from tandem import campaign_tour as tour
from tandem import synthetic
from tandem.supervisor import Suite

T = TypeVar("T")
DEFAULT_PORTS = {"discovery": 8001, "fraud": 8002, "forecast": 8003, "review": 8004}
DEMO_BRIEFS: list[dict[str, Any]] = [
    {
        "name": "Spring skincare launch (volume)",
        "brand": "SolBright",
        "objective": "awareness",
        "product": "SPF 50 daily moisturiser",
        "category": "beauty",
        "target_markets": ["US", "GB", "CA"],
        "platforms": ["instagram", "tiktok", "youtube"],
        "budget_usd": 60_000,
        "tier": "volume",
        "brand_values": ["clean ingredients"],
        "keywords": ["sunscreen", "skincare"],
        "shortlist_size": 20,
    },
    {
        "name": "Winter fitness app (strategic)",
        "brand": "FitNow",
        "objective": "engagement",
        "product": "home workout app",
        "category": "fitness",
        "target_markets": ["RU", "KZ"],
        "platforms": ["vk", "telegram", "youtube"],
        "budget_usd": 30_000,
        "tier": "strategic",
        "brand_values": ["health", "consistency"],
        "shortlist_size": 5,
    },
]


DEMO_REVIEWERS = ["demo.reviewer@tandem", "demo.second@tandem"]
DEMO_MANAGER = tour.MANAGER
DEMO_MARKETS = sorted({m for b in DEMO_BRIEFS for m in b["target_markets"]})
# The brief after the first campaign's retrospective: same brand and market, so its lesson shows.
NEXT_BRIEF: dict[str, Any] = {
    **DEMO_BRIEFS[0],
    "name": "Summer sun care follow-up (volume)",
    "shortlist_size": 10,
}


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def person_name(reviewer_id: str) -> str:
    """How the web app greets a demo person: demo.second@tandem -> Demo Second."""
    return reviewer_id.split("@")[0].replace(".", " ").title()


class Steps:
    """Counted steps, so a person sees the demo move during its slow parts."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def __call__(self, text: str) -> None:
        self.done += 1
        typer.echo(f"[{self.done}/{self.total}] {text}")


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = 90) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.25)
    raise TimeoutError(f"timed out waiting for {what}")


class DemoClient:
    """Talks to the running services only through their REST APIs, as any internal tool would."""

    def __init__(self, suite: Suite, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(timeout=30, headers=headers)
        self.urls = {name: p.url for name, p in suite.processes.items()}

    def get(self, service: str, path: str) -> Any:
        r = self.http.get(self.urls[service] + path)
        return r.json() if r.status_code == 200 else None

    def post(self, service: str, path: str, body: dict[str, Any]) -> Any:
        r = self.http.post(self.urls[service] + path, json=body)
        r.raise_for_status()
        return r.json()

    def add_person(self, reviewer_id: str, password: str, *, manager: bool = False) -> None:
        """A demo person who can sign in to the web app, created through the API as `tandem review
        add-reviewer --password` does."""
        body = {"name": person_name(reviewer_id), "markets": DEMO_MARKETS, "daily_capacity": 500, "is_manager": manager,
                "password": password}  # fmt: skip
        self.http.put(self.urls["review"] + f"/v1/reviewers/{reviewer_id}", json=body).raise_for_status()

    def load_catalogue(self, world: synthetic.World) -> None:
        payloads = world.payloads()
        for i in range(0, len(payloads), 500):
            self.post("discovery", "/v1/creators/bulk", {"creators": payloads[i : i + 500]})
        n = len(payloads)

        shown = [time.monotonic()]

        def scored() -> dict[str, Any] | None:
            stats = self.get("discovery", "/v1/catalog/stats")
            done = stats["fraud_scored"] if stats else 0
            if time.monotonic() - shown[0] >= 5 and done < n:  # a line every 5 s, so a slow start shows
                shown[0] = time.monotonic()
                typer.echo(f"      {done} of {n} creators scored for fraud ...")
            return stats if stats and done >= n else None

        wait_for("fraud scores for the whole catalogue", scored)
        self.record_history(world)

    def record_history(self, world: synthetic.World, per_campaign: int = 20) -> int:
        """The brand's past collaborations with about half the creators (synthetic past campaigns). The
        policy never auto-approves a creator we have not worked with, so this is what lets the volume tier
        decide anything at all; returns how many creators now have a history."""
        n_campaigns = max(1, len(world.creators) // (2 * per_campaign))
        rows = synthetic.past_campaigns(world, n_campaigns, min(per_campaign, len(world.creators)))
        for i, row in enumerate(rows):
            went = "beat its goal" if row["success"] else "missed its goal"
            entry = {"campaign_id": f"past-{i // per_campaign + 1}", "status": "completed",
                     "notes": f"past campaign ({row['brief']['category']}): {went}"}  # fmt: skip
            self.http.post(
                self.urls["review"] + f"/v1/creators/{row['creator'].creator_id}/relationship",
                json=entry,
                headers={"X-Person": DEMO_REVIEWERS[0]},  # open mode; a key's own person otherwise
            ).raise_for_status()
        return len({row["creator"].creator_id for row in rows})

    def run_campaign(self, brief: dict[str, Any]) -> dict[str, Any]:
        shortlist = self.post("discovery", "/v1/briefs", brief)
        cid = shortlist["campaign_id"]
        entries = len(shortlist["entries"])

        def summary() -> dict[str, Any] | None:
            s = self.get("review", f"/v1/campaigns/{cid}/summary")
            return s if s and s["tasks"] - s["audits"] >= entries else None

        wait_for("review tasks", summary)
        # People take the first task in the queue and approve it, as reviewers would. Decisions are only
        # accepted from registered reviewers who cover the task's market, and a strategic finalist needs
        # two of them to agree, so the demo team covers every demo market and has two people.
        open_tasks = self.get("review", f"/v1/tasks?campaign_id={cid}&status=open") or []
        human = next((t for t in open_tasks if t["route"] == "human"), None)
        if human:
            markets = sorted(
                {m for b in [*DEMO_BRIEFS, brief] for m in b["target_markets"]} | {human["market"]}
            )
            # Those the task is assigned to decide it (someone else would be refused), then others.
            team = [*human.get("assignees", []), *DEMO_REVIEWERS]
            for reviewer in list(dict.fromkeys(team))[: human.get("required_reviews", 1)]:
                person = {"name": person_name(reviewer), "markets": markets, "daily_capacity": 500}
                self.http.put(
                    self.urls["review"] + f"/v1/reviewers/{reviewer}", json=person
                ).raise_for_status()
                # A decision is the caller's: in open mode the person is named in X-Person; with API
                # keys, each reviewer would use their own key bound to them (tandem keys create --person).
                self.http.post(
                    self.urls["review"] + f"/v1/tasks/{human['task_id']}/decision",
                    json={"decision": "approve", "notes": "audience and tone fit the brief"},
                    headers={"X-Person": reviewer},
                ).raise_for_status()
        final = wait_for("review summary", lambda: self.get("review", f"/v1/campaigns/{cid}/summary"))
        approvals = final["decisions"].get("approve", 0)

        def forecasts() -> list[dict[str, Any]] | None:
            f = self.get("forecast", f"/v1/campaigns/{cid}/forecasts")
            return f if f is not None and len(f) >= approvals else None

        fc = wait_for("forecasts for approved creators", forecasts)
        tasks = self.get("review", f"/v1/tasks?campaign_id={cid}&limit=1000") or []
        return {"shortlist": shortlist, "summary": final, "tasks": tasks, "forecasts": fc}

    def run_cycle(self, cid: str) -> dict[str, Any]:
        """The rest of the campaign's life: plan with people, results, close, retrospective, a lesson, and
        the lesson on the next matching brief (tandem/campaign_tour.py)."""
        typer.echo(f"\n== {DEMO_BRIEFS[0]['name']}: the whole cycle (results are simulated) ...")
        approved = tour.approve_finalists(self, cid, DEMO_REVIEWERS[0])
        typer.echo(
            f"   the demo reviewers approved {approved} more finalists (each the one it is assigned to)"
        )
        plan = tour.propose_plan(self, cid, wait_for)
        edits = tour.edit_plan(self, cid, plan)
        tour.print_plan(plan, edits)
        campaign = tour.run_and_close(self, cid, plan, wait_for)
        lesson = tour.record_lesson(self, cid, campaign)
        next_sl = tour.next_brief_shows(self, NEXT_BRIEF, lesson["lesson_id"], wait_for)
        tour.print_outcome(campaign, plan, lesson, next_sl)
        return {"plan": plan, "edits": edits, "campaign": campaign, "lesson": lesson, "next": next_sl}


def _routing_words(task: dict[str, Any]) -> str:
    """Where a finalist went and why, in words, and who decided it (or who it waits for)."""
    if not task:
        return "not routed yet"
    decision = task.get("decision") or {}
    if decision:
        who = decision.get("decided_by") or ""
        outcome = f"{decision['decision']} by {'the policy' if who.startswith('policy') or not who else who}"
    else:
        outcome = f"waiting for {', '.join(task.get('assignees') or []) or 'a reviewer to claim it'}"
    where = "auto" if task["route"] == "auto" else "people"
    return f"{where} ({task['route_reason']}) -> {outcome}"


def _print_campaign(brief: dict[str, Any], result: dict[str, Any]) -> None:
    sl, summary = result["shortlist"], result["summary"]
    echo = typer.echo
    echo("")
    echo(f"== {brief['name']}: {brief['category']} in {'/'.join(brief['target_markets'])} [{brief['tier']}]")
    echo(
        f"   campaign {sl['campaign_id']} | ranking model {sl['model_name']} v{sl['model_version']} | "
        f"{sl['candidates_considered']} candidates considered"
    )
    routes = {t["creator_id"]: t for t in result["tasks"] if t["route"] != "audit"}
    names = {e["creator"]["creator_id"]: e["creator"]["name"] for e in sl["entries"]}
    for e in sl["entries"]:
        c = e["creator"]
        echo(
            f"  #{e['rank']:<2} {c['name']:<22} {c['platform']:<9} {c['followers']:>11,} followers  "
            f"match {e['match_score']:.2f}  fraud {e['fraud_level']}"
        )
        for r in e["reasons"]:
            sign = {1: "+", -1: "-"}.get(r["direction"], "·")
            echo(f"        {sign} {r['text']}")
        echo(f"        -> {_routing_words(routes.get(c['creator_id'], {}))}")
    echo(
        f"   routing: {summary['auto_decided']} decided by the policy, {summary['sent_to_people']} sent to "
        f"people, {summary['audits']} audit sample(s); decisions so far: "
        + (", ".join(f"{n} {d}" for d, n in sorted(summary["decisions"].items())) or "none")
    )
    for t in (t for t in result["tasks"] if t["route"] == "audit"):
        echo(
            f"   audit sample: {names.get(t['creator_id'], t['creator_id'])}, decided by the policy; a person "
            f"checks it ({_routing_words(t).split(' -> ')[-1]})"
        )
    for f in result["forecasts"]:
        reach = next(m for m in f["metrics"] if m["metric"] == "reach")
        eng = next(m for m in f["metrics"] if m["metric"] == "engagements")
        echo(
            f"   forecast for {names.get(f['creator_id'], f['creator_id'])} ({f['platform']}/{f['format']} in "
            f"{f['market']}): reach {reach['p50']:,.0f} (80%: {reach['p10']:,.0f}-{reach['p90']:,.0f}), "
            f"engagements {eng['p50']:,.0f} (80%: {eng['p10']:,.0f}-{eng['p90']:,.0f})"
        )


def open_work(client: DemoClient, people: list[str]) -> tuple[int, list[str]]:
    """How many open tasks the demo leaves, and those no sign-in-able demo person holds a place on."""
    tasks = client.get("review", "/v1/tasks?status=open&limit=1000") or []
    orphans = [t["task_id"] for t in tasks if not set(t.get("assignees") or []) & set(people)]
    return len(tasks), orphans


def _print_sign_in(review_url: str, passwords: dict[str, str], open_tasks: int) -> None:
    echo = typer.echo
    echo(f"\nReviewer web app: {review_url}/app/login   ({open_tasks} tasks are open for the demo team)")
    roles = {DEMO_REVIEWERS[0]: "reviewer (their queue has work)",
             DEMO_REVIEWERS[1]: "second reviewer (strategic finalists need two to agree)",
             DEMO_MANAGER: "manager (portfolio, manager view, feedback)"}  # fmt: skip
    for person, password in passwords.items():
        echo(f"   sign in as {person:<22} password {password}   {roles.get(person, '')}")
    echo("   (passwords are new on every run; to add yourself: tandem review add-reviewer YOU --name NAME "
         f"--market US --password --url {review_url})")  # fmt: skip


def check(results: list[dict[str, Any]], orphans: list[str] | None = None) -> list[str]:
    """What a successful demo must show; returned as a list of failures. `orphans`: open tasks no demo
    person who can sign in holds (the web app would show that work to nobody)."""
    entries = [e for r in results for e in r["shortlist"]["entries"]]
    failures = []
    if not entries or any(not e["reasons"] for e in entries):
        failures.append("every shortlist entry must carry reasons")
    if sum(r["summary"]["auto_decided"] for r in results) < 1:
        failures.append("no candidate was auto-decided")
    if sum(r["summary"]["sent_to_people"] for r in results) < 1:
        failures.append("no candidate went to people")
    if sum(len(r["forecasts"]) for r in results) < 1:
        failures.append("no forecast was made")
    cycles = [r["cycle"] for r in results if "cycle" in r]
    if not cycles or not cycles[0]["campaign"]["retrospective"]["contributions"]:
        failures.append("no campaign went through results to a retrospective")
    if orphans:
        failures.append(f"{len(orphans)} open tasks are held by no one who can sign in, e.g. {orphans[0]}")
    return failures


def start_broker(kind: str, workdir: Path) -> Broker:
    """Apache Kafka where Java is there (or when asked for), else tansu; says which, and falls back to
    tansu with the reason if Kafka does not start on `auto`."""
    chosen = preferred_kind() if kind == "auto" else kind
    if chosen == "kafka":
        typer.echo("Broker: Apache Kafka (KRaft, one node; the first run fetches its jars with Maven) ...")
        kafka = make_broker("kafka", log_path=workdir / "broker.log")
        try:
            return kafka.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            kafka.close()
            if kind == "kafka":
                raise
            typer.echo(f"Apache Kafka did not start ({str(exc).splitlines()[0]}); using tansu instead.")
    else:
        typer.echo("Broker: tansu (in memory; no Java here, so not Apache Kafka) ...")
    return make_broker("tansu", log_path=workdir / "broker.log").start()


def run_demo(once: bool, creators: int, broker_kind: str = "auto") -> int:
    # SIGTERM (e.g. from a process manager) must stop the services too, as Ctrl-C does: exiting through
    # SystemExit runs the `finally` below, while the default handler would orphan them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = REPO_ROOT / "var" / f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"
    workdir.mkdir(parents=True, exist_ok=True)
    step = Steps(7)
    step(f"Starting the local broker (logs and SQLite databases in {workdir}) ...")
    broker = start_broker(broker_kind, workdir)
    suite = Suite(bootstrap=broker.bootstrap, workdir=workdir)
    try:
        step("Starting the four services (discovery, fraud, forecast, review) ...")
        suite.start(ports={n: _port(p) for n, p in DEFAULT_PORTS.items()})
        review = suite.processes["review"].url
        typer.echo(f"      the reviewer web app will be at {review}/app/login")
        client = DemoClient(suite)
        # The reviewers sign up before the briefs come in, so the tasks are assigned to people who can
        # sign in; the manager joins after the campaigns (a manager would otherwise take a share).
        passwords = {p: secrets.token_urlsafe(9) for p in [*DEMO_REVIEWERS, DEMO_MANAGER]}
        for person in DEMO_REVIEWERS:
            client.add_person(person, passwords[person])
        step(f"Loading {creators} demo creators; the fraud service scores each from the catalogue events ...")
        client.load_catalogue(synthetic.generate_world(creators, seed=42))
        results = []
        for brief in DEMO_BRIEFS:
            step(
                f"Running the brief '{brief['name']}': shortlist, routing, people's decisions, forecasts ..."
            )
            results.append(client.run_campaign(brief))
            _print_campaign(brief, results[-1])
        step("The first campaign's whole cycle ...")
        results[0]["cycle"] = client.run_cycle(results[0]["shortlist"]["campaign_id"])
        step("Adding the demo manager (after the campaigns, so the reviewers hold the open tasks) ...")
        client.add_person(DEMO_MANAGER, passwords[DEMO_MANAGER], manager=True)
        open_tasks, orphans = open_work(client, [*DEMO_REVIEWERS, DEMO_MANAGER])  # all three can sign in
        typer.echo("")
        for name, proc in suite.processes.items():
            typer.echo(
                f"   {name:<10} {proc.url}/docs   (ready: {proc.url}/health/ready, metrics: {proc.url}/metrics)"
            )
        typer.echo(f"   broker     {broker.bootstrap} ({broker.kind})   logs: {workdir}")
        typer.echo(
            f"   portfolio  {review}/app/portfolio   campaign: {review}/app/campaigns/{results[0]['shortlist']['campaign_id']}"
        )
        _print_sign_in(review, passwords, open_tasks)
        failures = check(results, orphans)
        for f in failures:
            typer.echo(f"DEMO CHECK FAILED: {f}", err=True)
        if once or failures:
            return 1 if failures else 0
        typer.echo("\nThe services keep running; press Ctrl-C to stop.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            return 0
    finally:
        shut_down(suite, broker)


def shut_down(suite: Suite, broker: Broker) -> None:
    """Stops every process of the demo. Another Ctrl-C while stopping only makes it faster (SIGKILL to
    the services): raising KeyboardInterrupt here would skip the rest and leave them running."""
    typer.echo("Stopping the services and the broker ...")
    previous = signal.signal(signal.SIGINT, lambda *_: suite.hurry())
    try:
        suite.stop()
        broker.close()
    finally:
        signal.signal(signal.SIGINT, previous)
