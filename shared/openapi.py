"""What every operation's OpenAPI document says about the edge all services share: the errors it answers
(RFC 9457 problem details), the API key security scheme, the Idempotency-Key and webhook signature headers.

FastAPI documents what a route declares; the middlewares and exception handlers (shared/http.py,
shared/limits.py, shared/idempotency.py, shared/errors.py, shared/orgs.py) answer before or around it, so
their answers are added here, once, to every operation that can get them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.errors import PROBLEM_JSON

# shared.orgs.INBOUND_PREFIX (not imported: orgs imports the runtime, which imports this module).
INBOUND = "/v1/inbound/"


# RFC 9457 problem details as shared/errors.problem writes them; every error answer of every service.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ProblemDetails",
    "type": "object",
    "description": "An error (RFC 9457 problem details, media type application/problem+json). Branch on "
    "`code`, not on `title` or `detail`, which are for people and may be reworded.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem; ends in `code`.",
                 "examples": ["https://tandem.example/problems/validation_error"]},
        "title": {"type": "string", "description": "A short human summary of the kind of problem.",
                  "examples": ["Request failed validation"]},
        "status": {"type": "integer", "description": "The HTTP status code, repeated for convenience.",
                   "examples": [422]},
        "detail": {"type": "string", "description": "What went wrong with this request, in plain words.",
                   "examples": ["min_followers: Input should be greater than or equal to 0"]},
        "code": {"type": "string", "description": "Machine-readable kind of problem, stable across releases "
                 "(e.g. validation_error, not_found, conflict, unauthorized, forbidden, too_large, "
                 "rate_limited, idempotency_in_progress).", "examples": ["validation_error"]},
        "errors": {"type": "array", "description": "One entry per offending field, when the problem is "
                   "about fields.", "items": {"$ref": "#/components/schemas/ProblemField"}},
        "correlation_id": {"type": "string", "description": "The request's X-Correlation-Id: quote it "
                           "when you report a problem; the service logs carry it.",
                           "examples": ["5f0c1d2e9a7b4c3d"]},
    },
}  # fmt: skip
PROBLEM_FIELD_SCHEMA: dict[str, Any] = {
    "title": "ProblemField",
    "type": "object",
    "description": "One field a request got wrong.",
    "required": ["field", "reason"],
    "properties": {
        "field": {"type": "string", "description": "Dotted path of the field in the body, query, path or "
                  "header (e.g. `engagement.min_rate`, `limit`).", "examples": ["min_followers"]},
        "reason": {"type": "string", "description": "What is wrong with it.",
                   "examples": ["Input should be greater than or equal to 0"]},
    },
}  # fmt: skip

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}
_RATE_HEADERS = {
    **_RETRY_AFTER,
    "RateLimit-Limit": {"description": "Requests allowed per minute for this caller.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the current window.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the quota is full again.", "schema": {"type": "integer"}},
}  # fmt: skip
# What each documented error status means for a caller of any route that can return it.
ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Malformed Idempotency-Key header (code `bad_idempotency_key`).", {}),
    401: ("No API key, or the key is unknown, expired or revoked (code `unauthorized`); on /v1/inbound "
          "routes, a webhook whose signature does not verify.", {}),
    403: ("The key's role may not call this route (code `forbidden`).", {}),
    404: ("The resource named in the path does not exist in your organisation (code `not_found`).", {}),
    405: ("The path names another route that does not accept this method (e.g. an id containing `/`); "
          "the `Allow` header lists the methods it accepts.",
          {"Allow": {"description": "Methods the path accepts.", "schema": {"type": "string"}}}),
    409: ("A request with the same Idempotency-Key is still running (code `idempotency_in_progress`, retry "
          "after Retry-After), or the change conflicts with the resource's current state (code `conflict`).",
          _RETRY_AFTER),
    413: ("The request body is larger than the service's limit (code `too_large`).", {}),
    422: ("The request failed validation (code `validation_error` or `invalid`); `errors` names each field. "
          "Also: an Idempotency-Key reused with another body (code `idempotency_key_reused`).", {}),
    431: ("A request header is over 8 KiB, or all headers together over 32 KiB (code `headers_too_large`).", {}),
    429: ("Too many requests for this caller (code `rate_limited`); wait Retry-After seconds.", _RATE_HEADERS),
    500: ("An unexpected error (the request's transaction is rolled back); quote `correlation_id` when you "
          "report it. A retry with the same Idempotency-Key runs again: errors are never replayed.", {}),
    503: ("A dependency (database, broker, model) is unavailable for now; retry later (after Retry-After "
          "seconds when given).", _RETRY_AFTER),
}  # fmt: skip
SECURITY_SCHEMES: dict[str, Any] = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key (`tandem keys create`); it alone decides your organisation and role."},
    "Bearer": {"type": "http", "scheme": "bearer",
               "description": "The same API key sent as `Authorization: Bearer <key>`."},
}  # fmt: skip
IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any unique string (1-255 characters, e.g. a UUID) you choose per logical request. A retry "
    "with the same key within 24 h replays the first answer instead of acting twice; the same key with "
    "another body is refused with 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255}, "example": "3f6c1a52-7a4e-4b8e-9a61-0d2b9c1e7f10",
}  # fmt: skip
# Standard Webhooks headers a partner signs an inbound webhook with (shared/webhooks/inbound.py).
WEBHOOK_PARAMETERS: list[dict[str, Any]] = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 200},
     "description": "Unique id of this message; a retry of the same message keeps it (replays are ignored)."},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unix seconds when the message was signed; more than 5 minutes off the service's clock is refused."},
    {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the source's secret; several "
     "space-separated signatures are allowed while rotating secrets."},
]  # fmt: skip


def problems(why: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=problems({404: "No such campaign"})` on a route: errors its own logic can answer beyond
    the ones every route of its kind gets (error_statuses), in its words; documented as problem details."""
    return {status: {"description": text} for status, text in why.items()}


def png_response(what: str) -> dict[int | str, dict[str, Any]]:
    """`responses=png_response("The plot")` on a route that answers a PNG image instead of JSON."""
    image = {"image/png": {"schema": {"type": "string", "format": "binary"}}}
    return {200: {"description": f"{what}, as a PNG image.", "content": image}}


def error_statuses(path: str, method: str, operation: dict[str, Any], keys_mode: bool) -> list[int]:
    """The error statuses a caller of this operation can get, given how every service's edge behaves."""
    statuses = [431, 500, 503]
    params = operation.get("parameters", [])
    body = "requestBody" in operation
    if params or body:
        statuses.append(422)
    if body:
        statuses.append(413)
    if any(p["in"] == "path" for p in params):
        statuses += [404, 405]
    if method == "post":
        statuses += [400, 422]
    if method in ("post", "put", "patch", "delete"):
        statuses.append(409)
    if path.startswith("/v1"):
        statuses.append(429)
        if path.startswith(INBOUND):
            statuses.append(401)
        elif keys_mode:
            statuses += [401, 403]
    return sorted(set(statuses))


def _problem_response(status: int) -> dict[str, Any]:
    description, headers = ERRORS[status]
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    answer: dict[str, Any] = {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}
    return {**answer, "headers": headers} if headers else answer


def document_edge(doc: dict[str, Any], keys_mode: bool) -> dict[str, Any]:
    """Add what the shared edge does to every operation: errors, the security scheme, idempotency and
    webhook signature headers. FastAPI cannot see these: middlewares and handlers answer them."""
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ProblemDetails"], schemas["ProblemField"] = PROBLEM_SCHEMA, PROBLEM_FIELD_SCHEMA
    if keys_mode:
        components["securitySchemes"] = SECURITY_SCHEMES
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            _document_operation(path, method, operation, keys_mode)
    # FastAPI's own 422 body is replaced by ProblemDetails everywhere.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def _document_operation(path: str, method: str, operation: dict[str, Any], keys_mode: bool) -> None:
    inbound = path.startswith(INBOUND)
    _document_parameters(operation, method == "post", inbound)
    if keys_mode and path.startswith("/v1") and not inbound:
        operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
    _document_errors(operation, set(error_statuses(path, method, operation, keys_mode)))


def _document_parameters(operation: dict[str, Any], post: bool, inbound: bool) -> None:
    # The credential headers are the security scheme's (keys mode) or ignored (open mode).
    params = [
        p for p in operation.get("parameters", []) if p["name"].lower() not in ("x-api-key", "authorization")
    ]
    for p in params:
        if not p.get("description") and (p["in"], p["name"]) in PARAMETER_DESCRIPTIONS:
            p["description"] = PARAMETER_DESCRIPTIONS[(p["in"], p["name"])]
    params += [IDEMPOTENCY_PARAMETER] if post else []
    params += WEBHOOK_PARAMETERS if inbound else []
    if params:
        operation["parameters"] = params
    else:
        operation.pop("parameters", None)


def _document_errors(operation: dict[str, Any], edge: set[int]) -> None:
    """The edge's errors plus those the route declares itself (problems()), all as problem details."""
    responses = operation.setdefault("responses", {})
    declared = {int(code) for code in responses if code.isdigit() and int(code) in ERRORS}
    for status in sorted(declared | edge):
        own = responses.get(str(status), {}) if status in declared and status != 422 else {}
        if "content" in own:  # the route answers this status with a body of its own (e.g. readiness)
            continue
        answer = _problem_response(status)
        if own.get("description"):  # the route's own reasons, after the edge's when both apply
            generic = f"{answer['description']} Also: " if status in edge else ""
            answer["description"] = generic + own["description"]
        responses[str(status)] = answer
    operation["responses"] = dict(sorted(responses.items()))  # success first, then errors by status


# Parameters with one meaning on every route and in every service: the credential headers shared/orgs.py
# reads, and the ids in paths (a route's own parameters are described where the route declares them).
PARAMETER_DESCRIPTIONS = {
    ("header", "X-Org-Id"): "Open mode (`make run`) only: the organisation to act for (default `demo`). "
    "Ignored with an API key, whose organisation always wins.",
    ("header", "X-Person"): "Open mode only: the person the call acts as (their judgements are recorded "
    "under this name). With an API key, the key's person is used.",
    ("path", "creator_id"): "Your id for the creator, as sent to discovery (POST /v1/creators/bulk).",
    ("path", "campaign_id"): "The campaign's id, given when its brief was posted (POST /v1/briefs).",
    ("path", "person_id"): "A person's id: `person.person_id` on a creator, search hit or shortlist entry.",
    ("path", "task_id"): "A review task's id (GET /v1/tasks).",
    ("path", "reviewer_id"): "A reviewer's id (GET /v1/reviewers).",
    ("path", "anomaly_id"): "An anomaly's id (GET /v1/fraud/anomalies).",
    ("path", "forecast_id"): "A stored forecast's id (GET /v1/campaigns/{campaign_id}/forecasts).",
    ("path", "experiment_id"): "An experiment's id, from POST /v1/experiments.",
    ("path", "line_id"): "A line of the campaign's current plan (`lines[].line_id`).",
    ("path", "insight_id"): "A lesson's or trend call's id (`lesson_id` / `trend_id` in the review service).",
    ("path", "endpoint_id"): "A webhook endpoint's id (GET /v1/webhooks/endpoints).",
    ("path", "delivery_id"): "A webhook delivery's id (GET /v1/webhooks/endpoints/{endpoint_id}/deliveries).",
    ("path", "source_id"): "Your inbound source's id, given when Tandem registered your source and its "
    "signing secret (`tandem webhooks add-source ORG NAME`).",
}


def install_openapi(app: FastAPI, keys_mode: bool) -> None:
    """Make the app's OpenAPI document describe the shared edge as well (computed once, then cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_edge(generate(), keys_mode)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
