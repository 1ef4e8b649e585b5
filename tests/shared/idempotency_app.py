"""A small app behind the Idempotency-Key middleware: in process for most tests, or as a server process
that a test kills mid-request (`python -m tests.shared.idempotency_app URL PORT LEASE_S`)."""

from __future__ import annotations

import itertools
import sys
import time
from datetime import timedelta
from types import SimpleNamespace

from fastapi import FastAPI
from pydantic import BaseModel

from shared.db import Database
from shared.errors import install_error_handlers
from shared.idempotency import IdempotencyMiddleware, IdempotencyStore

SLOW = "slow"  # a thing by this name takes `slow_s` to create (the server process: long enough to kill)


class Thing(BaseModel):
    name: str


def build(url: str, lease: timedelta, slow_s: float = 0.0) -> FastAPI:
    """The app on an identity database at `url` (migrated by the caller), keys held under `lease`."""
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.state.runtime = SimpleNamespace(idempotency=IdempotencyStore(Database(url), lease=lease))
    counter = itertools.count(1)
    app.state.created = []

    @app.post("/things", status_code=201)
    def create(thing: Thing) -> dict[str, object]:
        if thing.name == SLOW:
            time.sleep(slow_s)
        n = next(counter)
        app.state.created.append(n)
        return {"id": n, "name": thing.name}

    @app.post("/boom")
    def boom() -> None:
        raise RuntimeError("server error")

    return app


if __name__ == "__main__":
    import uvicorn

    url, port, lease_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    app = build(url, timedelta(seconds=lease_s), slow_s=60)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
