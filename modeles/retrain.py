"""One re-training run: build the set, train a challenger, evaluate it against the champion and v0, gate.

Exactly one run at a time: a session advisory lock, tried (not waited for). The run's row in `retrain_runs` is
committed first; the registry (new model, champion change, history) and the row's outcome are written in a
single last transaction, so a run killed at any point leaves the registry as it was.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg.types.range import Range
from threadpoolctl import threadpool_limits

from matching.config import Settings
from matching.scoring import SELECT_CHAMPION_VERSION, ensure_v0_model, load_active_model, v0_model
from modeles.dataset import build_dataset, time_split
from modeles.evaluation import GatePolicy, evaluate_model, evaluation_queries, promotion_decision
from modeles.registry import lock_registry, log_event, promote_in_transaction, store_model
from modeles.training import TRAINERS, Trainer, TrainingData, library_versions

logger = logging.getLogger(__name__)

RETRAIN_LOCK_KEY = 7_236_118_066
TRY_LOCK = "SELECT pg_try_advisory_lock(%(key)s) AS locked"
UNLOCK = "SELECT pg_advisory_unlock(%(key)s)"
INTERRUPT_STALE = """
UPDATE retrain_runs SET status = 'interrupted', finished_at = now(), message = 'run ended before finishing'
WHERE status = 'running'
"""
START_RUN = """
INSERT INTO retrain_runs (seed, trainer, data_window) VALUES (%(seed)s, %(trainer)s, %(window)s) RETURNING id
"""
FINISH_RUN = """
UPDATE retrain_runs SET status = %(status)s, finished_at = now(), counts = %(counts)s, model_version = %(version)s,
       champion_version = %(champion)s, metrics = %(metrics)s, message = %(message)s
WHERE id = %(id)s
"""
LAST_FEEDBACK_ID = "SELECT COALESCE(max(id), 0) AS id FROM feedback"
# The feedback the last completed run saw (counts.last_feedback_id).
LAST_COMPLETED_FEEDBACK_ID = """
SELECT (counts ->> 'last_feedback_id')::bigint AS id FROM retrain_runs
WHERE status IN ('promoted', 'rejected', 'insufficient_data') ORDER BY id DESC LIMIT 1
"""
LAST_RUNS = """
SELECT id, status, started_at, finished_at, trainer, seed, counts, model_version, champion_version, message
FROM retrain_runs ORDER BY id DESC LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class RetrainOutcome:
    """What a run did: 'busy' (another run holds the lock), 'unchanged' (no new feedback, when asked to skip
    then), 'insufficient_data', 'rejected' or 'promoted'."""

    status: str
    message: str
    run_id: int | None = None
    version: str | None = None
    champion: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _finish(conn: psycopg.Connection, run_id: int, status: str, message: str, counts: dict, *,
            version: str | None = None, champion: str | None = None, metrics: dict | None = None) -> None:  # fmt: skip
    conn.execute(FINISH_RUN, {"id": run_id, "status": status, "message": message, "counts": Jsonb(counts),
                              "version": version, "champion": champion, "metrics": Jsonb(metrics or {})})  # fmt: skip


def run_retrain(
    conn: psycopg.Connection, settings: Settings, *, seed: int = 42, trainer: str = "hgb",
    now: datetime | None = None, train_fn: Trainer | None = None, actor: str = "retrain",
    only_if_new_feedback: bool = False,
) -> RetrainOutcome:  # fmt: skip
    """Re-train on the match logs and feedback up to `now`, and promote the challenger if it passes the gate.

    With `only_if_new_feedback` (the scheduled run), nothing is done when no feedback came since the last run.
    The run commits on `conn` (its own transactions): pass a connection with no pending work.
    """
    if trainer not in TRAINERS and train_fn is None:
        raise ValueError(f"unknown trainer {trainer!r} (one of {', '.join(TRAINERS)})")
    conn.commit()
    if not conn.execute(TRY_LOCK, {"key": RETRAIN_LOCK_KEY}).fetchone()["locked"]:
        conn.commit()
        return RetrainOutcome("busy", "another re-training run is in progress: nothing done")
    try:
        if only_if_new_feedback:
            last = conn.execute(LAST_COMPLETED_FEEDBACK_ID).fetchone()
            if last is not None and last["id"] == conn.execute(LAST_FEEDBACK_ID).fetchone()["id"]:
                return RetrainOutcome("unchanged", "no new feedback since the last run: nothing done")
        return _run_locked(conn, settings, seed, trainer, now or datetime.now(UTC), train_fn or TRAINERS[trainer],
                           actor)  # fmt: skip
    finally:
        conn.rollback()
        conn.execute(UNLOCK, {"key": RETRAIN_LOCK_KEY})
        conn.commit()


def _run_locked(conn: psycopg.Connection, settings: Settings, seed: int, trainer: str, until: datetime,
                train_fn: Trainer, actor: str) -> RetrainOutcome:  # fmt: skip
    since = until - timedelta(days=settings.learning_window_days)
    ensure_v0_model(conn)
    conn.execute(INTERRUPT_STALE)
    last_feedback_id = conn.execute(LAST_FEEDBACK_ID).fetchone()["id"]
    run_id = conn.execute(START_RUN, {"seed": seed, "trainer": trainer,
                                      "window": Range(since, until, "[)")}).fetchone()["id"]  # fmt: skip
    conn.commit()
    counts: dict[str, int] = {}
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        dataset = build_dataset(conn, since, until)
        conn.commit()
        timings["dataset_s"] = round(time.perf_counter() - started, 2)
        counts = {**dataset.counts(), "last_feedback_id": last_feedback_id}
        train_q, holdout_q = time_split(dataset, settings.learning_holdout_share)
        eval_q = evaluation_queries(dataset, holdout_q)
        counts |= {"train_requests": len(train_q), "holdout_requests": len(holdout_q), "eval_requests": len(eval_q)}
        if dataset.queries < settings.learning_min_requests or len(eval_q) < settings.learning_min_eval_queries:
            message = (f"not enough feedback yet: {dataset.queries} labelled lists "
                       f"(need {settings.learning_min_requests}), {len(eval_q)} holdout lists with an interested "
                       f"candidate or better (need {settings.learning_min_eval_queries}); champion kept")  # fmt: skip
            _finish(conn, run_id, "insufficient_data", message, counts)
            conn.commit()
            return RetrainOutcome("insufficient_data", message, run_id, counts=counts)

        champion = load_active_model(conn)
        conn.commit()
        # Unique across databases too: serving caches models by version in the process.
        version = f"ltr-{run_id}-{trainer}-{until:%Y%m%d%H%M}-{uuid.uuid4().hex[:6]}"
        rows = dataset.rows_of(train_q)
        # OpenMP threads spinning on a busy host slow training down by several times: the count is configurable.
        with threadpool_limits(limits=settings.learning_threads or None):
            data = TrainingData(dataset.X[rows], dataset.y[rows], dataset.query[rows], dataset.feature_names)
            started = time.perf_counter()
            trained = train_fn(data, seed, version)
            timings["train_s"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            reports = {"challenger": evaluate_model(trained.model, dataset, eval_q),
                       "champion": evaluate_model(champion, dataset, eval_q),
                       "v0": evaluate_model(v0_model(), dataset, eval_q)}  # fmt: skip
            timings["evaluate_s"] = round(time.perf_counter() - started, 2)
        policy = GatePolicy.from_settings(settings)
        decision = promotion_decision(reports["challenger"], reports["champion"], reports["v0"], policy)
        metrics = {"holdout": reports, "champion_version": champion.version, "counts": counts, "seed": seed,
                   "gate": {"promote": decision.promote, "reasons": list(decision.reasons),
                            "policy": {name: getattr(policy, name) for name in policy.__slots__}}}  # fmt: skip
        with conn.transaction():
            lock_registry(conn)
            current = conn.execute(SELECT_CHAMPION_VERSION).fetchone()["version"]
            promote = decision.promote and current == champion.version
            if decision.promote and not promote:
                metrics["gate"]["reasons"].append(f"champion changed during training ({current}): not promoted")
            store_model(conn, version=version, kind=trained.kind, status="candidate" if promote else "rejected",
                        artifact=trained.artifact, artifact_format=trained.artifact_format,
                        feature_names=tuple(trained.model.feature_names), window=dataset.window, metrics=metrics,
                        library_versions=library_versions(), params={**trained.params, "run_id": run_id,
                                                                     "data_until": until.isoformat()})  # fmt: skip
            if promote:
                promote_in_transaction(conn, version, actor, "; ".join(decision.reasons))
            else:
                log_event(conn, "reject", version, current, actor, "; ".join(metrics["gate"]["reasons"]))
            status = "promoted" if promote else "rejected"
            headline = {k: v["overall"]["ndcg_at_10"] for k, v in reports.items()}
            message = (f"{version} {status}: nDCG@10 challenger {headline['challenger']:.4f}, champion "
                       f"{headline['champion']:.4f} ({champion.version}), v0 {headline['v0']:.4f}")  # fmt: skip
            _finish(conn, run_id, status, message, counts, version=version, champion=champion.version,
                    metrics={"headline": headline, "gate": metrics["gate"], "timings": timings})  # fmt: skip
        conn.commit()
        logger.info(message)
        return RetrainOutcome(status, message, run_id, version, champion.version, counts, metrics, timings)
    except Exception as exc:
        conn.rollback()
        _finish(conn, run_id, "failed", f"{type(exc).__name__}: {exc}", counts)
        conn.commit()
        raise


def last_runs(conn: psycopg.Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The latest re-training runs, newest first."""
    return conn.execute(LAST_RUNS, {"limit": limit}).fetchall()
