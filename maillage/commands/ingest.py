"""`maillage ingest …` (sources, files, quarantine, expiry sweep) and `maillage worker`."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from psycopg.types.json import Jsonb
from tqdm import tqdm

app = typer.Typer(help="Offer ingestion: partner sources, files, quarantine, expiry.", no_args_is_help=True)

UPSERT_SOURCE_CONFIG = """
INSERT INTO sources (id, kind, label, config, priority) VALUES (%(id)s, %(kind)s, %(label)s, %(config)s, %(priority)s)
ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, label = EXCLUDED.label, config = EXCLUDED.config,
    priority = EXCLUDED.priority
"""
LIST_QUARANTINE = """
SELECT q.id, q.source_id, q.external_id, q.step, q.reason_code, q.reason, q.created_at,
       left(COALESCE(q.payload::text, q.payload_text), 160) AS excerpt
FROM quarantine q
WHERE q.resolved_at IS NULL AND (%(source)s::text IS NULL OR q.source_id = %(source)s)
ORDER BY q.created_at DESC, q.id DESC
LIMIT %(limit)s
"""
COUNT_QUARANTINE = """
SELECT source_id, step, reason_code, count(*) AS n FROM quarantine WHERE resolved_at IS NULL
GROUP BY source_id, step, reason_code ORDER BY n DESC
"""


def _settings():
    from matching.config import ConfigError, get_settings

    try:
        return get_settings()
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@contextmanager
def _connection(settings):
    from matching.storage.database import connect
    from matching.storage.server import resolve_database

    target = resolve_database(settings)
    with connect(target.url) as conn:
        yield conn


def _progress(description: str):
    bar = tqdm(desc=description, unit="offer")

    def update(done: int, total: int | None) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def _engines(settings, conn, predict: bool):
    from ingestion.rome_prediction import load_rome_index
    from matching.embeddings import load_embedder

    embedder = load_embedder(settings)
    index = load_rome_index(conn, embedder if predict else None, settings.home / "cache") if predict else None
    return embedder, index


def _print_report(report) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
    typer.echo(f"run {report.run_id}: {counts} ({report.duration_s:.1f} s)")


@app.command("add-source")
def add_source(
    name: Annotated[str, typer.Argument(help="Source id, e.g. lee or eq2030-marseille")],
    kind: Annotated[str, typer.Option(help="lee or eq2030")],
    label: Annotated[str, typer.Option(help="Label shown to operators")],
    url: Annotated[str | None, typer.Option(help="Feed or export URL")] = None,
    roster_url: Annotated[str | None, typer.Option(help="LEE member roster URL")] = None,
    path: Annotated[Path | None, typer.Option(help="Export file instead of a URL (EQ2030)")] = None,
    export_format: Annotated[str, typer.Option("--format", help="EQ2030 export: csv or json")] = "csv",
    schedule_minutes: Annotated[int, typer.Option(min=5, help="Minutes between worker runs")] = 60,
    priority: Annotated[int, typer.Option(help="Rank in duplicate clusters (lower wins)")] = 50,
) -> None:
    """Declare or update a partner source (run by `maillage worker` on its schedule)."""
    if kind not in ("lee", "eq2030"):
        raise typer.BadParameter("kind must be lee or eq2030")
    if not url and not path:
        raise typer.BadParameter("give --url or --path")
    config = {"schedule_minutes": schedule_minutes, "format": export_format}
    config.update({k: v for k, v in (("url", url), ("roster_url", roster_url)) if v})
    if path:
        config["path"] = str(path.resolve())
    with _connection(_settings()) as conn:
        conn.execute(UPSERT_SOURCE_CONFIG, {"id": name, "kind": kind, "label": label, "config": Jsonb(config),
                                            "priority": priority})  # fmt: skip
        conn.commit()
    typer.echo(f"source {name} ({kind}) saved")


@app.command("source")
def source(
    name: Annotated[str, typer.Argument(help="Source id")],
    predict_rome: Annotated[bool, typer.Option(help="Check and predict ROME codes")] = True,
) -> None:
    """Run one source now (resuming an interrupted run), with a progress bar."""
    from ingestion.runner import SourceBusy, UnknownSource, run_source

    settings = _settings()
    with _connection(settings) as conn:
        embedder, index = _engines(settings, conn, predict_rome)
        bar, update = _progress(name)
        try:
            with bar:
                report = run_source(conn, name, embedder, index, progress=update)
        except UnknownSource:
            typer.secho(f"unknown source {name!r}: declare it with `maillage ingest add-source`", err=True)
            raise typer.Exit(1) from None
        except SourceBusy as exc:
            typer.secho(str(exc), err=True)
            raise typer.Exit(3) from None
    _print_report(report)


@app.command("file")
def file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="File to ingest")],
    file_format: Annotated[str, typer.Option("--format", help="francetravail, csv or jsonl")] = "francetravail",
    source_id: Annotated[str, typer.Option("--source", help="Source id the offers belong to")] = "file",
    snapshot: Annotated[bool, typer.Option(help="The file lists every live offer: unpublish the others")] = False,
    predict_rome: Annotated[bool, typer.Option(help="Check and predict ROME codes")] = True,
) -> None:
    """Ingest a coordinator's export or a dump (FT JSON array or {"resultats": [...]}, CSV, JSON lines)."""
    from ingestion.connectors.file import FORMATS
    from ingestion.runner import run_source

    if file_format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    settings = _settings()
    with _connection(settings) as conn:
        config = {"path": str(path.resolve()), "format": file_format, "snapshot": snapshot}
        conn.execute(UPSERT_SOURCE_CONFIG, {"id": source_id, "kind": "file", "label": f"Fichier {path.name}",
                                            "config": Jsonb(config), "priority": 100})  # fmt: skip
        conn.commit()
        embedder, index = _engines(settings, conn, predict_rome)
        bar, update = _progress(path.name)
        with bar:
            report = run_source(conn, source_id, embedder, index, progress=update)
    _print_report(report)


@app.command("quarantine")
def quarantine(
    source_id: Annotated[str | None, typer.Option("--source", help="Only this source")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List quarantined records (newest first) with their step and reason."""
    with _connection(_settings()) as conn:
        rows = conn.execute(LIST_QUARANTINE, {"source": source_id, "limit": limit}).fetchall()
        summary = conn.execute(COUNT_QUARANTINE).fetchall()
    for row in rows:
        if as_json:
            typer.echo(json.dumps({**row, "created_at": row["created_at"].isoformat()}, ensure_ascii=False))
        else:
            typer.echo(f"#{row['id']} {row['source_id']} {row['external_id'] or '-'} [{row['step']}/"
                       f"{row['reason_code']}] {row['reason']}\n    {row['excerpt']}")  # fmt: skip
    if not as_json:
        for row in summary:
            typer.echo(f"{row['source_id']} {row['step']}/{row['reason_code']}: {row['n']}")
        typer.echo(f"{len(rows)} record(s) listed")


@app.command("sweep")
def sweep() -> None:
    """Close offers past their expiry date."""
    from ingestion.runner import sweep_expired

    with _connection(_settings()) as conn:
        count = sweep_expired(conn)
    typer.echo(f"expired {count} offer(s)")


def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Jobs run at once")] = 1,
    queues: Annotated[list[str] | None, typer.Option("--queue", help="Only these queues")] = None,
) -> None:
    """Run scheduled source syncs, the expiry sweep, pending embeddings and the nightly re-training (procrastinate)."""
    from maillage.worker import create_app
    from matching.storage.migrator import upgrade
    from matching.storage.server import resolve_database

    target = resolve_database(_settings())
    upgrade(target.url)
    create_app(target.url).run_worker(concurrency=concurrency, queues=queues or None)
