"""Outbound webhooks: fan published events out to subscribed endpoints, deliver them with retries.

Every service delivers the events it produces: its outbox relay calls `fan_out` after the broker has
acknowledged the events and before it marks them published, so a crash repeats the fan-out, which the
unique (endpoint, event) key turns into a no-op. A `DeliveryWorker` per process sends what is due, with
a few sender threads, each claiming one delivery at a time (shared.webhooks.claims).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import orjson
from sqlmodel import col, select

from shared.bus.outbox import Message, PendingMessage
from shared.db import Database
from shared.webhooks import retry
from shared.webhooks.claims import Claim, claim_next, held, in_flight
from shared.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shared.webhooks.signing import new_secret, sign_headers
from shared.webhooks.targets import Target, UnsafeTarget, resolve_target

log = logging.getLogger(__name__)
WILDCARD = "*"


@dataclass(frozen=True)
class DeliveryPolicy:
    allow_loopback: bool = False
    allow_private: bool = False
    base_delay_s: float = retry.BASE_DELAY_S
    max_attempts: int = retry.MAX_ATTEMPTS
    # Disable only after a long run of failures over a long time: a burst of events during a short
    # outage fails many attempts quickly, and must not switch a partner off.
    disable_after_failures: int = 50
    disable_after_s: float = 3 * 86400
    timeout_s: float = 10.0
    senders: int = 4  # deliveries in flight per process: one slow partner must not hold up the others

    @property
    def claim_lease(self) -> timedelta:
        """Longer than one send can take: connect, write and the wait for the answer are each bounded by
        `timeout_s`, and only the first chunk of the answer is read; 5 s of margin for the database."""
        return timedelta(seconds=3 * self.timeout_s + 5)


def active_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    out = []
    for s in endpoint.secrets:
        expires = s.get("expires_at")
        if expires is None or datetime.fromisoformat(expires) > now:
            out.append(str(s["secret"]))
    return out


def webhook_body(envelope: dict[str, object]) -> bytes:
    """What partners receive: the event's type, time and data (the Standard Webhooks payload shape)."""
    return orjson.dumps(
        {"type": envelope["type"], "timestamp": envelope["occurred_at"], "event_id": envelope["event_id"],
         "data": envelope["payload"]}
    )  # fmt: skip


def fan_out(edge: Database, rows: Sequence[Message | PendingMessage]) -> int:
    """Create a pending delivery per subscribed endpoint for each published event; returns how many."""
    created = 0
    by_org: dict[str, list[Message | PendingMessage]] = {}
    for row in rows:  # the headers name the organisation: no need to parse every event
        by_org.setdefault(str(row.headers.get("org_id", "")), []).append(row)
    now = datetime.now(UTC)
    with edge.transaction() as s:
        for org_id, pending in by_org.items():
            endpoints = list(s.exec(select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id,
                                                                  col(WebhookEndpoint.enabled).is_(True))))  # fmt: skip
            envs = [orjson.loads(row.value) for row in pending] if endpoints else []
            for ep in endpoints:
                for env in envs:
                    if WILDCARD not in ep.event_types and env["type"] not in ep.event_types:
                        continue
                    exists = s.exec(select(WebhookDelivery.delivery_id).where(
                        WebhookDelivery.endpoint_id == ep.endpoint_id, WebhookDelivery.event_id == str(env["event_id"])
                    )).first()  # fmt: skip
                    if exists:
                        continue
                    s.add(WebhookDelivery(delivery_id=f"msg_{secrets.token_hex(12)}", endpoint_id=ep.endpoint_id,
                                          org_id=org_id, event_id=str(env["event_id"]), event_type=str(env["type"]),
                                          body=webhook_body(env), next_attempt_at=now, created_at=now))  # fmt: skip
                    created += 1
    return created


EXCERPT_BYTES = 2000  # enough for the 500 characters an attempt keeps


def _excerpt(first: bytes, encoding: str | None) -> str:
    return first.decode(encoding or "utf-8", errors="replace")[:500]


class DeliveryWorker(threading.Thread):
    """Sends due deliveries, records every attempt, backs off, and disables endpoints that keep failing."""

    def __init__(self, edge: Database, policy: DeliveryPolicy, on_disabled: Callable[[WebhookEndpoint], None]
                 | None = None, poll_s: float = 0.5) -> None:  # fmt: skip
        super().__init__(name="webhook-delivery", daemon=True)
        self.edge, self.policy, self.on_disabled, self.poll_s = edge, policy, on_disabled, poll_s
        self._stop_event = threading.Event()
        # No kept-alive connections: they are pooled by address, and two partners behind one address
        # must each get a connection whose TLS name is theirs (requests go to the pinned address).
        self._client = httpx.Client(timeout=policy.timeout_s, follow_redirects=False,
                                    limits=httpx.Limits(max_keepalive_connections=0))  # fmt: skip

    def run(self) -> None:
        senders = [threading.Thread(target=self._send_loop, name=f"webhook-sender-{n}", daemon=True)
                   for n in range(self.policy.senders)]  # fmt: skip
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()

    def _send_loop(self) -> None:
        while not self._stop_event.is_set():
            try:
                if not self.deliver_one():
                    self._stop_event.wait(self.poll_s)
            except Exception:
                log.exception("webhook delivery loop failed; retrying")
                self._stop_event.wait(1.0)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=self.policy.timeout_s + 5)
        self._client.close()

    def deliver_due(self, limit: int = 50) -> int:
        """Send what is due now, one claim at a time, up to `limit`; returns how many were attempted."""
        sent = 0
        while sent < limit and self.deliver_one():
            sent += 1
        return sent

    def deliver_one(self) -> bool:
        """Claim one due delivery and attempt it; False when nothing is due."""
        claim = claim_next(self.edge, self.policy.claim_lease)
        if claim is None:
            return False
        self._attempt(claim)
        return True

    def _attempt(self, claim: Claim) -> None:
        with self.edge.transaction() as s:  # re-checked: still ours, still pending, endpoint still on
            delivery = held(s, claim)
            endpoint = s.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
            if delivery is None or endpoint is None or not endpoint.enabled:
                return
            url, body, keys = endpoint.url, delivery.body, active_secrets(endpoint, datetime.now(UTC))
        started = time.perf_counter()
        code, excerpt, error = None, "", ""
        try:
            target = resolve_target(
                url, allow_loopback=self.policy.allow_loopback, allow_private=self.policy.allow_private
            )
            headers = {**sign_headers(keys, claim.delivery_id, body), "content-type": "application/json",
                       "user-agent": "tandem-webhooks/1"}  # fmt: skip
            code, excerpt = self._post_pinned(target, body, headers)
        except UnsafeTarget as exc:
            error = f"refused target: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        self._record(claim, code, excerpt, error, (time.perf_counter() - started) * 1000)

    def _post_pinned(self, target: Target, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST to the address that was checked, never to a second DNS answer (rebinding); the Host
        header and TLS SNI (and so certificate checks) still name the host. Returns the status and the
        start of the answer: only its first chunk is read, so a partner streaming a long answer cannot
        hold the attempt past its claim."""
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        with self._client.stream("POST", target.pinned_url(), content=body, extensions=extensions,
                                 headers={**headers, "host": target.host_header()}) as response:  # fmt: skip
            first = next(response.iter_bytes(), b"")  # what the first read brought, not a fixed size
            return response.status_code, _excerpt(first[:EXCERPT_BYTES], response.encoding)

    def _record(self, claim: Claim, code: int | None, excerpt: str, error: str, latency_ms: float) -> None:
        ok = code is not None and 200 <= code < 300
        now = datetime.now(UTC)
        disabled: WebhookEndpoint | None = None
        with self.edge.transaction() as s:
            s.add(WebhookAttempt(delivery_id=claim.delivery_id, attempted_at=now, status_code=code,
                                 latency_ms=round(latency_ms, 2), response_excerpt=excerpt, error=error))  # fmt: skip
            delivery = held(s, claim)
            if delivery is None:  # replayed or re-claimed meanwhile: the attempt is kept, the state is theirs
                log.warning(
                    "webhook claim lost during an attempt", extra={"fields": {"delivery": claim.delivery_id}}
                )
                return
            delivery.claimed_until = None
            endpoint = s.get(WebhookEndpoint, delivery.endpoint_id)
            assert endpoint is not None
            delivery.attempts += 1
            delivery.last_status_code = code
            if ok:
                delivery.status, delivery.next_attempt_at = "succeeded", None
                endpoint.consecutive_failures, endpoint.failing_since = 0, None
            else:
                delay = (
                    retry.next_delay(delivery.attempts)
                    if delivery.attempts < self.policy.max_attempts
                    else None
                )
                if delay is None:
                    delivery.status, delivery.next_attempt_at = "failed", None
                else:
                    scale = self.policy.base_delay_s / retry.BASE_DELAY_S
                    delivery.next_attempt_at = now + timedelta(seconds=delay * scale)
                endpoint.consecutive_failures += 1
                endpoint.failing_since = endpoint.failing_since or now
                failing_for = (now - endpoint.failing_since.replace(tzinfo=UTC)).total_seconds()
                if (
                    endpoint.enabled
                    and endpoint.consecutive_failures >= self.policy.disable_after_failures
                    and failing_for >= self.policy.disable_after_s
                ):
                    endpoint.enabled = False
                    endpoint.disabled_reason = (
                        f"{endpoint.consecutive_failures} failed attempts in a row; last: {code or error}"
                    )
                    disabled = endpoint
            s.add(delivery)
            s.add(endpoint)
        if disabled is not None and self.on_disabled is not None:
            self.on_disabled(disabled)


def replay(edge: Database, org_id: str, *, delivery_id: str | None = None, endpoint_id: str | None = None,
           since: datetime | None = None, until: datetime | None = None) -> int:  # fmt: skip
    """Send deliveries again (same webhook-id): one, or an endpoint's within a time range."""
    now = datetime.now(UTC)
    with edge.transaction() as s:
        stmt = select(WebhookDelivery).where(WebhookDelivery.org_id == org_id)
        if delivery_id:
            stmt = stmt.where(WebhookDelivery.delivery_id == delivery_id)
        if endpoint_id:
            stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
        if since:
            stmt = stmt.where(col(WebhookDelivery.created_at) >= since)
        if until:
            stmt = stmt.where(col(WebhookDelivery.created_at) <= until)
        rows = list(s.exec(stmt))
        for d in rows:
            d.status, d.next_attempt_at = "pending", now
            if in_flight(d, now):  # the attempt under way records nothing; sent again when its claim lapses
                d.claim_token = None
            s.add(d)
    return len(rows)


def new_endpoint(
    edge: Database, org_id: str, url: str, event_types: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; its signing secret is returned once."""
    secret = new_secret()
    ep = WebhookEndpoint(endpoint_id=f"ep_{secrets.token_hex(10)}", org_id=org_id, url=url, description=description,
                         event_types=event_types, secrets=[{"secret": secret, "expires_at": None}],
                         created_at=datetime.now(UTC))  # fmt: skip
    with edge.transaction() as s:
        s.add(ep)
    return ep, secret


def rotate_secret(edge: Database, org_id: str, endpoint_id: str, grace: timedelta) -> str:
    """A new secret; the current ones stay valid for `grace`, so receivers can switch without a gap."""
    secret = new_secret()
    expires = (datetime.now(UTC) + grace).isoformat()
    with edge.transaction() as s:
        ep = s.get(WebhookEndpoint, endpoint_id)
        if ep is None or ep.org_id != org_id:
            raise LookupError(endpoint_id)
        kept = [{"secret": x["secret"], "expires_at": x.get("expires_at") or expires} for x in ep.secrets]
        ep.secrets = [*kept, {"secret": secret, "expires_at": None}]
        s.add(ep)
    return secret
