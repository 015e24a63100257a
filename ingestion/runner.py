"""Run one source: fetch its pages, ingest each as a transaction with the resume cursor, close the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

from ingestion.connectors import connector_for
from ingestion.fetch import Fetcher
from ingestion.normalise import DEFAULT_TTL_DAYS
from ingestion.pipeline import IngestionReport, ingest_records
from ingestion.rome_prediction import RomeIndex
from matching.storage.offers import expire_offers, prune_exposure, refresh_place_counts, unpublish_missing

# Advisory-lock class shared by every Maillage process: one run per source at a time.
SOURCE_LOCK_CLASS = 72_361
TRY_LOCK = "SELECT pg_try_advisory_lock(%s, hashtext(%s)) AS locked"
UNLOCK = "SELECT pg_advisory_unlock(%s, hashtext(%s))"
SELECT_SOURCE = "SELECT id, kind, config, cursor_state FROM sources WHERE id = %(id)s"
SELECT_RESUMABLE_RUN = """
SELECT id FROM ingestion_runs WHERE id = %(id)s AND source_id = %(source)s AND status IN ('running', 'interrupted')
"""
START_RUN = "INSERT INTO ingestion_runs (source_id, snapshot) VALUES (%(source)s, %(snapshot)s) RETURNING id"
RESUME_RUN = "UPDATE ingestion_runs SET status = 'running', error = NULL WHERE id = %(id)s"
SAVE_CURSOR = "UPDATE sources SET cursor_state = %(cursor)s WHERE id = %(id)s"
FINISH_RUN = """
UPDATE ingestion_runs SET status = %(status)s, finished_at = now(), unpublished = unpublished + %(unpublished)s,
    error = %(error)s, duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int
WHERE id = %(id)s
"""
CLOSE_SOURCE = "UPDATE sources SET cursor_state = NULL, last_run_at = now() WHERE id = %(id)s"
FORGET_SEEN = "DELETE FROM ingestion_run_seen WHERE run_id = %(id)s"

Progress = Callable[[int, int | None], None]


class SourceBusy(RuntimeError):
    """Another process is running this source."""


class UnknownSource(KeyError):
    """No source of that name."""


def run_source(
    conn: psycopg.Connection,
    source_id: str,
    embedder=None,
    rome_index: RomeIndex | None = None,
    *,
    fetcher: Fetcher | None = None,
    progress: Progress | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> IngestionReport:
    """Run a source to the end (resuming an interrupted run from its cursor) and return the run's counts."""
    source = conn.execute(SELECT_SOURCE, {"id": source_id}).fetchone()
    conn.commit()
    if source is None:
        raise UnknownSource(source_id)
    if not conn.execute(TRY_LOCK, (SOURCE_LOCK_CLASS, source_id)).fetchone()["locked"]:
        conn.commit()
        raise SourceBusy(f"source {source_id!r} is already being ingested")
    conn.commit()
    config = source["config"] or {}
    connector = connector_for(source["kind"])
    parser = connector.parser_for(config) if hasattr(connector, "parser_for") else connector.parser
    snapshot = connector.snapshot(config)
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(rate_per_second=float(config.get("rate_per_second", 10)))
    started = time.perf_counter()
    report = IngestionReport()
    run_id = None
    try:
        cursor = source["cursor_state"] or {}
        resumable = cursor.get("run_id") and conn.execute(
            SELECT_RESUMABLE_RUN, {"id": cursor["run_id"], "source": source_id}).fetchone()  # fmt: skip
        if resumable:
            run_id = cursor["run_id"]
            conn.execute(RESUME_RUN, {"id": run_id})
        else:
            cursor = {}
            run_id = conn.execute(START_RUN, {"source": source_id, "snapshot": snapshot}).fetchone()["id"]
            conn.execute(SAVE_CURSOR, {"id": source_id, "cursor": Jsonb({"run_id": run_id})})
        conn.commit()
        report.run_id = run_id
        done = 0
        for n, page in enumerate(connector.pages(conn, config, cursor if resumable else None, fetcher)):
            batch = ingest_records(
                conn, source_id, page.records, embedder, parser=parser, rome_index=rome_index, run_id=run_id,
                snapshot=snapshot, default_ttl_days=int(config.get("default_ttl_days", DEFAULT_TTL_DAYS)),
                commit=False, on_written=(lambda n=n: on_batch(n)) if on_batch else None,
            )  # fmt: skip
            report.add(batch)
            conn.execute(
                SAVE_CURSOR, {"id": source_id, "cursor": Jsonb({"run_id": run_id, **(page.cursor or {"done": True})})}
            )
            conn.commit()
            done += len(page.records)
            if progress:
                progress(done, page.total)
        report.unpublished = unpublish_missing(conn, source_id, run_id) if snapshot else 0
        conn.execute(FORGET_SEEN, {"id": run_id})
        refresh_place_counts(conn)
        conn.execute(
            FINISH_RUN, {"id": run_id, "status": "succeeded", "unpublished": report.unpublished, "error": None}
        )
        conn.execute(CLOSE_SOURCE, {"id": source_id})
        conn.commit()
    except Exception as exc:
        conn.rollback()
        if run_id is not None:
            # The cursor stays: the next run resumes where this one stopped.
            conn.execute(
                FINISH_RUN, {"id": run_id, "status": "interrupted", "unpublished": 0, "error": str(exc)[:2000]}
            )
            conn.commit()
        raise
    finally:
        if own_fetcher:
            fetcher.close()
        conn.execute(UNLOCK, (SOURCE_LOCK_CLASS, source_id))
        conn.commit()
    report.duration_s = time.perf_counter() - started
    return report


def sweep_expired(conn: psycopg.Connection, now: datetime | None = None) -> int:
    """Expire offers past their date (with history), prune old exposure, recount per place; return the expired."""
    count = expire_offers(conn, now or datetime.now(UTC))
    prune_exposure(conn)
    refresh_place_counts(conn)
    conn.commit()
    return count
