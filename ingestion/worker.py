"""The background worker on procrastinate (PostgreSQL-backed jobs, psycopg 3, periodic tasks, no extra server).

Periodic tasks are deferred once per tick however many workers run (procrastinate records each tick), and
each source sync carries a queueing lock plus the source's advisory lock, so workers on several machines
share the work without running a source twice. Re-training and re-embedding jobs register on the same app.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import procrastinate

from matching.config import Settings, get_settings

logger = logging.getLogger(__name__)
tasks = procrastinate.Blueprint()

DUE_SOURCES = """
SELECT id, config FROM sources
WHERE kind IN ('lee', 'eq2030') AND (config ? 'url' OR config ? 'path')
"""
DEFAULT_SCHEDULE_MINUTES = 60


@lru_cache(maxsize=1)
def _embedder():
    from matching.embeddings import load_embedder

    return load_embedder(get_settings())


@lru_cache(maxsize=1)
def _rome_index():
    from ingestion.rome_prediction import load_rome_index
    from matching.storage.database import connect

    settings = get_settings()
    with connect(_database_url(settings)) as conn:
        return load_rome_index(conn, _embedder(), settings.home / "cache")


def _database_url(settings: Settings) -> str:
    from matching.storage.server import resolve_database

    return resolve_database(settings).url


def due(last_run_at: datetime | None, schedule_minutes: int, now: datetime) -> bool:
    """Whether a source whose last run ended at `last_run_at` is due again."""
    return last_run_at is None or now - last_run_at >= timedelta(minutes=schedule_minutes)


@tasks.task(name="ingest_source", queue="ingestion", retry=procrastinate.RetryStrategy(max_attempts=3, wait=60))
def ingest_source(source_id: str) -> dict:
    """Run one source now (a no-op if another worker holds it)."""
    from ingestion.runner import SourceBusy, run_source
    from matching.storage.database import connect

    with connect(_database_url(get_settings())) as conn:
        try:
            report = run_source(conn, source_id, _embedder(), _rome_index())
        except SourceBusy:
            logger.info("source %s busy, skipped", source_id)
            return {}
    logger.info("source %s: %s", source_id, report.counts())
    return report.counts()


@tasks.periodic(cron="*/5 * * * *", periodic_id="dispatch_sources")
@tasks.task(name="dispatch_sources", queue="ingestion")
def dispatch_sources(timestamp: int) -> list[str]:
    """Defer a sync of every source whose schedule (config `schedule_minutes`) has come."""
    from matching.storage.database import connect

    now = datetime.fromtimestamp(timestamp, UTC)
    deferred = []
    with connect(_database_url(get_settings())) as conn:
        rows = conn.execute(DUE_SOURCES).fetchall()
        last = {r["source_id"]: r["at"] for r in conn.execute(
            "SELECT source_id, max(started_at) AS at FROM ingestion_runs GROUP BY source_id")}  # fmt: skip
    for row in rows:
        minutes = int((row["config"] or {}).get("schedule_minutes", DEFAULT_SCHEDULE_MINUTES))
        if due(last.get(row["id"]), minutes, now):
            try:
                ingest_source.configure(queueing_lock=f"ingest:{row['id']}").defer(source_id=row["id"])
                deferred.append(row["id"])
            except procrastinate.exceptions.AlreadyEnqueued:
                pass
    return deferred


@tasks.periodic(cron="7 * * * *", periodic_id="expiry_sweep")
@tasks.task(name="expiry_sweep", queue="ingestion")
def expiry_sweep(timestamp: int) -> int:
    """Close offers past their expiry date."""
    from ingestion.runner import sweep_expired
    from matching.storage.database import connect

    with connect(_database_url(get_settings())) as conn:
        return sweep_expired(conn)


@tasks.periodic(cron="*/10 * * * *", periodic_id="embed_pending")
@tasks.task(name="embed_pending", queue="embedding")
def embed_pending(timestamp: int) -> int:
    """Embed offers and candidates still lacking a vector of the current model."""
    from matching.indexing import embed_pending_candidates, embed_pending_offers
    from matching.storage.database import connect

    with connect(_database_url(get_settings())) as conn:
        return embed_pending_offers(conn, _embedder()) + embed_pending_candidates(conn, _embedder())


@tasks.periodic(cron="3-59/10 * * * *", periodic_id="place_counts")
@tasks.task(name="refresh_place_counts", queue="ingestion")
def refresh_place_counts(timestamp: int) -> None:
    """Recount the active offers per place cell, those posted through the API included (retrieval plan choice)."""
    from matching.storage.database import connect
    from matching.storage.offers import refresh_place_counts as refresh

    with connect(_database_url(get_settings())) as conn:
        refresh(conn)
        conn.commit()


def create_app(conninfo: str) -> procrastinate.App:
    """The procrastinate app on Maillage's database, with the ingestion tasks."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    app.add_tasks_from(tasks, namespace="maillage")
    return app
