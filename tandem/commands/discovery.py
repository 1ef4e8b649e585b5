"""`tandem discovery ...`: import creator ranking files into the discovery catalogue."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

NAME = "discovery"
app = typer.Typer(help="Creator catalogue: import ranking files.", no_args_is_help=True)
BATCH = 2000


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist")
    return [path]


@app.command("import")
def import_files(
    path: Annotated[Path, typer.Argument(help="A ranking CSV, or a folder of them.")],
    org: Annotated[str, typer.Option(help="Organisation that owns the imported creators.")] = "demo",
    database_url: Annotated[
        str | None,
        typer.Option(help="Discovery database (default: TANDEM_DISCOVERY_DATABASE_URL or SQLite)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Parse and report; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON report per file.")] = False,
) -> None:
    """Import creators; report rows read, imported and rejected (each rejected row with its reason).

    Writes go through the same idempotent upsert as POST /v1/creators/bulk, so importing a file twice
    changes nothing the second time, and every new or changed creator is announced for fraud scoring.
    """
    from services.discovery import bulk
    from services.discovery.config import DiscoverySettings
    from services.discovery.importing import read_ranking_file
    from services.discovery.migrations import __file__ as migrations_init
    from shared.bus.outbox import Outbox
    from shared.db import Database, migrate

    url = database_url or DiscoverySettings().effective_database_url
    db = None
    if not dry_run:
        migrate(url, Path(migrations_init).parent)
        db = Database(url)
    for file in _files(path):
        result = read_ranking_file(file)
        written: Counter[str] = Counter()
        for start in range(0, len(result.creators), BATCH) if db else ():
            with db.transaction() as session:  # type: ignore[union-attr]
                done = bulk.upsert(session, org, result.creators[start : start + BATCH], Outbox("discovery"))
            written.update(done.model_dump(exclude={"received"}))
        report = {
            "file": str(file),
            "platform": result.platform,
            "rows": result.rows,
            "imported": len(result.creators),
            "rejected": len(result.rejected),
            "written": dict(written),
            "rejections": [{"line": r.line, "reason": r.reason} for r in result.rejected],
            "notes": dict(result.notes.most_common()),
        }
        typer.echo(json.dumps(report, ensure_ascii=False) if as_json else _text(report))
    if db:
        db.close()


def _text(report: dict[str, object]) -> str:
    lines = [
        f"{report['file']} ({report['platform']}): {report['rows']} rows, {report['imported']} imported, "
        f"{report['rejected']} rejected; written {report['written'] or '(dry run)'}"
    ]
    lines += [f"  rejected line {r['line']}: {r['reason']}" for r in report["rejections"]]  # type: ignore[attr-defined]
    lines += [f"  note ({n}x): {what}" for what, n in report["notes"].items()]  # type: ignore[attr-defined]
    return "\n".join(lines)
