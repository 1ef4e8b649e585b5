"""Which organisation a request acts for. Every stored resource carries its org_id.

Until API keys land (they will map a key to its organisation), the caller names its organisation in
`X-Org-Id`, falling back to the service's `default_org` for the zero-setup demo.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from shared.runtime import RuntimeDep

ORG_HEADER = "X-Org-Id"


def current_org(
    runtime: RuntimeDep, org: Annotated[str | None, Header(alias=ORG_HEADER, max_length=64)] = None
) -> str:
    return org or runtime.settings.default_org


OrgDep = Annotated[str, Depends(current_org)]
