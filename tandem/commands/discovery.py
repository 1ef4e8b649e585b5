"""`tandem discovery ...`: import creator ranking files into the discovery catalogue.

By default the creators go to the running discovery service over its REST API (POST /v1/creators/bulk),
so they land in the catalogue that service (and `make run`'s demo) reads. `--direct` or `--database-url`
writes straight into a database instead, for loading a catalogue before any service runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tandem.errors import CliError
from tandem.inputs import check_text_file, text_file_or_folder
from tandem.output import emit, note, progress

if TYPE_CHECKING:
    from services.discovery.importing import FileImport
    from services.discovery.schemas import CreatorIn

NAME = "discovery"
app = typer.Typer(help="Creator catalogue: import ranking files.", no_args_is_help=True)
BATCH = 500  # creators per request or transaction: a few MB of JSON, well under the body limit
DEFAULT_URL = "http://127.0.0.1:8001"

Writer = Callable[[list["CreatorIn"]], dict[str, int]]
Linker = Callable[[], dict[str, int]]  # runs the people linker over the catalogue (POST /v1/people/link-run)


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.name.lower().endswith((".csv", ".csv.gz")))
    if not files:
        raise CliError(f"{path} holds no .csv files", "Give a ranking CSV or a folder of them.")
    return [check_text_file(f) for f in files]


def _rest_writer(url: str, org: str, api_key: str | None) -> tuple[Writer, Callable[[], None], Linker]:
    """Posts batches to a running discovery service; refuses at once if none answers at `url`."""
    import httpx

    headers = {"X-API-Key": api_key} if api_key else {"X-Org-Id": org}
    client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=60)
    try:
        client.get("/health/live").raise_for_status()
    except httpx.HTTPError as exc:
        client.close()
        raise CliError(
            f"no discovery service answers at {url} ({exc.__class__.__name__}: {exc})",
            "Start it with `make run` (pass the discovery URL it prints with --url), or write straight "
            "into a database with --direct (var/discovery.db, what `tandem serve discovery` reads) or "
            "--database-url URL.",
        ) from None

    def write(creators: list[CreatorIn]) -> dict[str, int]:
        body = {"creators": [c.model_dump(mode="json") for c in creators]}
        r = client.post("/v1/creators/bulk", json=body)
        r.raise_for_status()
        return {k: v for k, v in r.json().items() if k != "received"}

    def link() -> dict[str, int]:
        r = client.post("/v1/people/link-run")
        r.raise_for_status()
        return dict(r.json())

    return write, client.close, link


def _db_writer(database_url: str | None, org: str) -> tuple[Writer, Callable[[], None], str, Linker]:
    """Writes batches through the same idempotent upsert as POST /v1/creators/bulk, in one database."""
    from services.discovery import bulk, linking
    from services.discovery.config import DiscoverySettings
    from services.discovery.migrations import __file__ as migrations_init
    from shared.bus.outbox import Outbox
    from shared.db import Database, migrate

    url = database_url or DiscoverySettings().effective_database_url
    migrate(url, Path(migrations_init).parent)
    db = Database(url)

    def write(creators: list[CreatorIn]) -> dict[str, int]:
        with db.transaction() as session:
            done = bulk.upsert(session, org, creators, Outbox("discovery"))
        return done.model_dump(exclude={"received"})

    def link() -> dict[str, int]:
        with db.transaction() as session:
            return linking.auto_link(session, org).model_dump()

    return write, db.close, url, link


def _import(result: FileImport, write: Writer | None) -> dict[str, int]:
    written: Counter[str] = Counter()
    if write is None or not result.creators:
        return dict(written)
    with progress(len(result.creators), f"importing {result.path.name}") as advance:
        for start in range(0, len(result.creators), BATCH):
            batch = result.creators[start : start + BATCH]
            written.update(write(batch))
            advance(len(batch))
    return dict(written)


@app.command("import")
def import_files(
    path: Annotated[
        Path, typer.Argument(help="A ranking CSV, or a folder of them.", callback=text_file_or_folder)
    ],
    org: Annotated[str, typer.Option(help="Organisation that owns the imported creators.")] = "demo",
    url: Annotated[
        str, typer.Option(envvar="TANDEM_DISCOVERY_URL", help="The running discovery service to import into.")
    ] = DEFAULT_URL,
    api_key: Annotated[
        str | None, typer.Option(envvar="TANDEM_API_KEY", help="API key (when the service requires keys).")
    ] = None,
    direct: Annotated[
        bool, typer.Option(help="Write into the discovery database itself instead of the running service.")
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="With --direct (implied): the database (default: TANDEM_DISCOVERY_DATABASE_URL or var/discovery.db)."
        ),
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option(help="instagram | tiktok | youtube | vk | telegram (default: from the file name)."),
    ] = None,
    measured_on: Annotated[
        str | None,
        typer.Option(
            help="When the figures were measured, YYYY-MM-DD (default: from the file name, e.g. "
            "instagram_2022-11.csv; undated files never replace dated figures)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Parse and report; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON report per file, a line each.")] = False,
) -> None:
    """Import creators; report rows read, imported and rejected (each rejected row with its reason).

    Importing a file twice changes nothing the second time (the upsert is idempotent), and every new or
    changed creator is announced for fraud scoring.
    """
    from services.discovery.importing import read_ranking_file

    files = _files(path)
    measured = _date(measured_on)
    write, close, link, target = None, None, None, "(dry run: nothing written)"
    if not dry_run and (direct or database_url):
        write, close, target, link = _db_writer(database_url, org)
    elif not dry_run:
        write, close, link = _rest_writer(url, org, api_key)
        target = f"the discovery service at {url}"
    try:
        for file in files:
            result = read_ranking_file(file, _platform(file, platform), measured)
            report = _report(result, _import(result, write))
            emit(report, as_json, _text)
        linked = link() if link else None
    finally:
        if close:
            close()
    note(f"creators written to {target}")
    if linked is not None:
        note(
            f"people: {linked['accounts_linked']} accounts newly linked; {linked['persons']} persons hold "
            f"{linked['accounts_in_persons']} accounts (GET /v1/people/{{id}}; a person can unlink any)"
        )


def _date(given: str | None) -> date | None:
    if given is None:
        return None
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise typer.BadParameter(f"--measured-on {given!r} is not a date (YYYY-MM-DD)") from None


def _platform(file: Path, given: str | None) -> str:
    from services.discovery.importing import platform_of
    from shared.vocabulary import PLATFORMS

    if given is not None and given not in PLATFORMS:
        raise typer.BadParameter(f"--platform {given!r} is not one of {', '.join(PLATFORMS)}")
    try:
        return given or platform_of(file)
    except ValueError as exc:
        raise CliError(
            str(exc), "Name the file after its platform (instagram_*.csv) or pass --platform."
        ) from exc


def _report(result: FileImport, written: dict[str, int]) -> dict[str, Any]:
    return {
        "file": str(result.path),
        "platform": result.platform,
        "measured_on": result.measured_on.isoformat() if result.measured_on else None,
        "rows": result.rows,
        "imported": len(result.creators),
        "rejected": len(result.rejected),
        "written": written,
        "rejections": [{"line": r.line, "reason": r.reason} for r in result.rejected],
        "notes": dict(result.notes.most_common()),
    }


def _text(report: dict[str, Any]) -> str:
    written = ", ".join(f"{n} {what}" for what, n in report["written"].items()) or "nothing"
    lines = [
        f"{report['file']} ({report['platform']}, measured {report['measured_on'] or 'on an unknown date'}): "
        f"{report['rows']} rows, {report['imported']} imported, {report['rejected']} rejected; "
        f"written: {written}"
    ]
    if report["written"].get("older"):
        lines.append("  older: undated or measured before the figures already stored, which were kept")
    lines += [f"  rejected line {r['line']}: {r['reason']}" for r in report["rejections"]]
    lines += [f"  note ({n}x): {what}" for what, n in report["notes"].items()]
    return "\n".join(lines)
