"""The worker's composition root: the ingestion tasks plus the nightly re-training of the ranking model.

Ingestion must not depend on `modeles`, so the re-training task is added here, where the layers are wired.
The periodic tick is deferred once however many workers run, the task carries a queueing lock, and the run
itself takes the re-training advisory lock: two workers never train at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import procrastinate

from ingestion.worker import create_app as create_ingestion_app
from matching.config import get_settings

logger = logging.getLogger(__name__)
learning = procrastinate.Blueprint()

# Nightly, after the day's feedback; `maillage retrain` runs the same thing on demand (cron, CronJob).
RETRAIN_CRON = "17 3 * * *"
RETRAIN_SEED = 42


@learning.periodic(cron=RETRAIN_CRON, periodic_id="retrain")
@learning.task(name="retrain", queue="learning", queueing_lock="retrain")
def retrain(timestamp: int) -> dict:
    """Re-train on the feedback up to the tick, if new feedback came since the last run; gate and promote."""
    from matching.storage.database import connect
    from matching.storage.server import resolve_database
    from modeles.retrain import run_retrain

    settings = get_settings()
    now = datetime.fromtimestamp(timestamp, UTC) if timestamp else None
    with connect(resolve_database(settings).url) as conn:
        outcome = run_retrain(conn, settings, seed=RETRAIN_SEED, now=now, only_if_new_feedback=True)
    logger.info("retrain: %s", outcome.message)
    return {"status": outcome.status, "message": outcome.message, "version": outcome.version}


def create_app(conninfo: str) -> procrastinate.App:
    """The procrastinate app: ingestion tasks and the re-training task."""
    app = create_ingestion_app(conninfo)
    app.add_tasks_from(learning, namespace="maillage")
    return app
