"""Swagger UI (/docs) and ReDoc (/redoc) served from the installed package, never from a CDN.

FastAPI's own pages load their JavaScript and CSS from a CDN, so on a machine without internet they are
blank. The `fastapi-offline` package ships the same Swagger UI and ReDoc bundles; we serve its files under
DOCS_ASSETS and point both pages at them. Swagger UI's online validator badge is switched off too: it
would send the API description to an outside host.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = "/docs-assets"
# No external requests from the page: no validator, no Google fonts.
SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True, "displayRequestDuration": True}


# The edge every service shares (shared/orgs.py, shared/idempotency.py, shared/errors.py, shared/webhooks/).
CALLING = (
    "\n\n**Calling it.** Every `/v1` route takes and answers JSON; errors are RFC 9457 problem details with "
    "a machine-readable `code` and the failing `field`. Locally (`make run`) name your organisation in "
    "`X-Org-Id` (default `demo`); in production send an API key (`X-API-Key` or `Authorization: Bearer`), "
    "which alone decides the organisation and role. A POST may carry an `Idempotency-Key` header: a retry "
    "with the same key replays the first answer. Every service also has `/health/live`, `/health/ready`, "
    "Prometheus `/metrics` and signed partner webhooks under `/v1/webhooks`."
)


# The sections every service shares (a service adds its own: ServiceSpec.tags).
SHARED_TAGS = {
    "webhooks": "Your endpoints for Tandem's events (signed with Standard Webhooks), their deliveries and replays.",
    "health": "Probes for orchestrators (liveness, readiness); no API key needed.",
    "admin": "Operators only (admin role): re-publish this service's current state to the bus after a broker lost events (`tandem replay`).",
}


def tag_list(service_tags: dict[str, str]) -> list[dict[str, str]]:
    """The docs' sections, the service's own first, each with what it is for."""
    return [{"name": name, "description": text} for name, text in {**service_tags, **SHARED_TAGS}.items()]


def describe(service: str) -> str:
    """A service's own description followed by how to call any Tandem service."""
    return service + CALLING


def install_docs(app: FastAPI) -> None:
    """Mount the bundled assets and add /docs and /redoc; create the app with docs_url=redoc_url=None."""
    assets = str(files("fastapi_offline") / "static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    def urls(request: Request) -> tuple[str, str]:
        """The OpenAPI document and the assets folder, behind any proxy prefix (root_path)."""
        root = str(request.scope.get("root_path", ""))
        return f"{root}{app.openapi_url}", f"{root}{DOCS_ASSETS}"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        openapi, assets = urls(request)
        return get_swagger_ui_html(openapi_url=openapi, title=f"{app.title}: Swagger UI",
                                   swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{assets}/swagger-ui.css",
                                   swagger_favicon_url=f"{assets}/favicon.png",
                                   swagger_ui_parameters=SWAGGER_PARAMETERS)  # fmt: skip

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        openapi, assets = urls(request)
        return get_redoc_html(openapi_url=openapi, title=f"{app.title}: ReDoc",
                              redoc_js_url=f"{assets}/redoc.standalone.js", redoc_favicon_url=f"{assets}/favicon.png",
                              with_google_fonts=False)  # fmt: skip
